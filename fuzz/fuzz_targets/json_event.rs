//! Scheduler and executor events from arbitrary bytes as JSON (what a
//! client reads from a master or agent it should not have to trust).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::ContentType;
use mesos_proto::v1::{executor, scheduler};

fuzz_target!(|data: &[u8]| {
    let _ = ContentType::Json.decode::<scheduler::Event>(data);
    let _ = ContentType::Json.decode::<executor::Event>(data);
});
