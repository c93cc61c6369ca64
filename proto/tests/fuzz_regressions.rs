//! Inputs the fuzzers (`fuzz/`) once found a problem with, kept so it
//! stays fixed. Each runs the same property as its fuzz target.

use mesos_proto::ContentType;
use mesos_proto::v1::scheduler;

/// `protobuf_call`: a Call whose enum fields held numbers our schema does
/// not name. Its JSON form used to carry the bare number, which our own
/// JSON reader (like Mesos') refuses. Now unknown enum values behave like
/// proto2 unknown fields: absent.
#[test]
fn protobuf_call_with_unknown_enum_values_round_trips_through_json() {
    let bytes = include_bytes!("fuzz-regressions/protobuf_call-unknown-enum.bin");
    if let Ok(call) = ContentType::Protobuf.decode::<scheduler::Call>(bytes) {
        let json = ContentType::Json.encode(&call);
        let _: scheduler::Call = ContentType::Json.decode(&json).expect("our JSON reads back");
    }
}
