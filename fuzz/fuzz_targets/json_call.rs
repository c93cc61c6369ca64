//! Scheduler and executor calls from arbitrary bytes as JSON: the decoder
//! must answer with an error or a message, never panic. What decodes must
//! encode again and decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::ContentType;
use mesos_proto::v1::{executor, scheduler};

fuzz_target!(|data: &[u8]| {
    if let Ok(call) = ContentType::Json.decode::<scheduler::Call>(data) {
        let again: scheduler::Call = ContentType::Json
            .decode(&ContentType::Json.encode(&call))
            .expect("what we wrote we can read");
        assert_eq!(
            ContentType::Json.encode(&again),
            ContentType::Json.encode(&call),
            "JSON round trip is stable"
        );
    }
    let _ = ContentType::Json.decode::<executor::Call>(data);
});
