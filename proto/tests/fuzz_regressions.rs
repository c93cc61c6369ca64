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
    round_trip(include_bytes!(
        "fuzz-regressions/protobuf_call-unknown-enum.bin"
    ));
}

/// `protobuf_call`: a TaskInfo.limits map entry with a key and no value.
/// The empty `Value.Scalar` lacks its required `value`, so like Mesos we
/// now refuse the protobuf instead of accepting what our JSON reader refuses.
#[test]
fn protobuf_call_with_a_map_entry_missing_its_value_is_refused() {
    let bytes = include_bytes!("fuzz-regressions/protobuf_call-map-entry-without-value.bin");
    assert!(
        ContentType::Protobuf
            .decode::<scheduler::Call>(bytes)
            .is_err()
    );
    round_trip(bytes);
}

/// `protobuf_call`: a required enum (`Resource.type`) given twice, a known
/// value and then an unknown one. prost keeps the last (unknown) value, so
/// the field has no usable value: now refused, like a missing field.
#[test]
fn protobuf_call_with_a_known_then_unknown_required_enum_is_refused() {
    let bytes = include_bytes!("fuzz-regressions/protobuf_call-enum-known-then-unknown.bin");
    assert!(
        ContentType::Protobuf
            .decode::<scheduler::Call>(bytes)
            .is_err()
    );
    round_trip(bytes);
}

/// The property of the `protobuf_call` fuzz target.
fn round_trip(bytes: &[u8]) {
    if let Ok(call) = ContentType::Protobuf.decode::<scheduler::Call>(bytes) {
        let json = ContentType::Json.encode(&call);
        let _: scheduler::Call = ContentType::Json
            .decode(&json)
            .expect("our JSON reads back");
    }
}
