//! Property tests of the JSON and protobuf decoders: whatever the input,
//! an error and never a panic; whatever we encode, we read back.

use mesos_proto::v1::scheduler::{Call, Event};
use mesos_proto::v1::{TaskId, TaskStatus, task_status};
use mesos_proto::{ContentType, json};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ContentType::Json.decode::<Call>(&data);
        let _ = ContentType::Protobuf.decode::<Call>(&data);
        let _ = ContentType::Protobuf.decode::<Event>(&data);
    }

    #[test]
    fn arbitrary_json_never_panics(text in "[{}\\[\\]\",:a-z0-9 .-]{0,200}") {
        let _ = json::from_slice::<Call>(text.as_bytes());
    }

    #[test]
    fn task_status_round_trips(task in "[a-zA-Z0-9._-]{1,40}", message in ".{0,40}",
                               data in prop::collection::vec(any::<u8>(), 0..64),
                               timestamp in 0.0f64..2e9, state in 0i32..14) {
        let mut status = TaskStatus {
            task_id: TaskId { value: task },
            message: Some(message),
            data: Some(data),
            timestamp: Some(timestamp),
            uuid: Some(mesos_proto::uuid::new_v4()),
            ..Default::default()
        };
        status.state = state;
        status.set_source(task_status::Source::SourceAgent);
        for content in [ContentType::Json, ContentType::Protobuf] {
            let back: TaskStatus = content.decode(&content.encode(&status)).unwrap();
            prop_assert_eq!(&back, &status);
        }
    }
}
