//! Scheduler and executor calls from arbitrary bytes as protobuf, including
//! the required-field scan that runs before prost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::ContentType;
use mesos_proto::v1::{executor, scheduler};

fuzz_target!(|data: &[u8]| {
    if let Ok(call) = ContentType::Protobuf.decode::<scheduler::Call>(data) {
        // Anything that decodes can be written as JSON and read back.
        let json = ContentType::Json.encode(&call);
        let _: scheduler::Call = ContentType::Json
            .decode(&json)
            .expect("our JSON reads back");
    }
    let _ = ContentType::Protobuf.decode::<executor::Call>(data);
});
