//! The JSON rules, one test per rule of the module documentation.

use super::*;
use crate::v1::scheduler::{Call, Event, call, event};
use crate::v1::{
    CommandInfo, FrameworkInfo, Resource, TaskId, TaskState, TaskStatus, TimeInfo, Value,
    task_status, value,
};
use serde_json::json;

fn call_from(value: serde_json::Value) -> Result<Call> {
    from_value(&value)
}

#[test]
fn keys_are_proto_names_and_enums_are_names() {
    let mut status = TaskStatus {
        task_id: TaskId { value: "t1".into() },
        ..Default::default()
    };
    status.set_state(TaskState::TaskRunning);
    status.set_source(task_status::Source::SourceExecutor);
    let out = to_value(&status);
    assert_eq!(
        out,
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR"})
    );
}

#[test]
fn explicit_defaults_are_written_but_deprecated_ones_are_not() {
    let info = FrameworkInfo {
        user: "u".into(),
        name: "n".into(),
        ..Default::default()
    };
    // failover_timeout and checkpoint have defaults; role's is deprecated.
    assert_eq!(
        String::from_utf8(to_vec(&info)).unwrap(),
        r#"{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false}"#
    );
    let command = CommandInfo {
        value: Some("true".into()),
        ..Default::default()
    };
    assert_eq!(to_value(&command), json!({"shell":true,"value":"true"}));
}

#[test]
fn sixty_four_bit_integers_are_numbers_and_bytes_are_padded_base64() {
    let time = TimeInfo {
        nanoseconds: 1_704_067_200_512_000_000,
    };
    assert_eq!(
        String::from_utf8(to_vec(&time)).unwrap(),
        r#"{"nanoseconds":1704067200512000000}"#
    );
    let status = TaskStatus {
        uuid: Some(vec![0xfb, 0xff]),
        ..Default::default()
    };
    assert_eq!(to_value(&status)["uuid"], json!("+/8="));
}

#[test]
fn integral_doubles_keep_their_fraction() {
    let event = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: crate::v1::FrameworkId { value: "f".into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    };
    let text = String::from_utf8(to_vec(&event)).unwrap();
    assert!(
        text.contains(r#""heartbeat_interval_seconds":15.0"#),
        "{text}"
    );
}

#[test]
fn unknown_keys_are_ignored_and_camel_case_is_unknown() {
    let call =
        call_from(json!({"type":"TEARDOWN","frameworkId":{"value":"x"},"extra":[1,2]})).unwrap();
    assert_eq!(call.r#type(), call::Type::Teardown);
    assert!(
        call.framework_id.is_none(),
        "lowerCamelCase keys are not recognised"
    );
}

#[test]
fn numbers_may_be_strings_and_single_values_stand_for_lists() {
    let value: Value = from_value(&json!({
        "type": "RANGES",
        "ranges": {"range": {"begin": "31000", "end": 32000}}
    }))
    .unwrap();
    assert_eq!(value.r#type(), value::Type::Ranges);
    let range = &value.ranges.unwrap().range;
    assert_eq!(
        (range.len(), range[0].begin, range[0].end),
        (1, 31000, 32000)
    );

    let scalar: value::Scalar = from_value(&json!({"value": "Infinity"})).unwrap();
    assert!(scalar.value.is_infinite());
    let info: FrameworkInfo =
        from_value(&json!({"user":"u","name":"n","checkpoint":"true","failover_timeout":"3.5"}))
            .unwrap();
    assert_eq!(
        (info.checkpoint, info.failover_timeout),
        (Some(true), Some(3.5))
    );
}

#[test]
fn null_means_unset() {
    let call = call_from(json!({"type":"TEARDOWN","framework_id":null})).unwrap();
    assert!(call.framework_id.is_none());
}

#[test]
fn an_unknown_enum_name_is_dropped_on_optional_fields() {
    // As in Mesos: the type is dropped, which later fails call validation.
    let call = call_from(json!({"type":"NO_SUCH_TYPE"})).unwrap();
    assert!(call.r#type.is_none());
}

#[test]
fn an_unknown_enum_name_on_a_required_field_is_an_error() {
    let err = from_value::<Resource>(&json!({"name":"cpus","type":"SCALARISH"})).unwrap_err();
    assert_eq!(err, Error::MissingRequired(vec!["type".into()]));
}

#[test]
fn enum_numbers_are_rejected() {
    let err = call_from(json!({"type": 1})).unwrap_err();
    assert!(
        matches!(err, Error::Json(ref m) if m.contains("'type'")),
        "{err}"
    );
}

#[test]
fn arrays_for_singular_fields_are_rejected() {
    let err = call_from(json!({"type":"TEARDOWN","framework_id":[{"value":"x"}]})).unwrap_err();
    assert!(
        matches!(err, Error::Json(ref m) if m.contains("array")),
        "{err}"
    );
}

#[test]
fn the_top_level_must_be_an_object() {
    assert!(matches!(from_slice::<Call>(b"[1]"), Err(Error::Json(_))));
    assert!(matches!(
        from_slice::<Call>(b"\"SUBSCRIBE\""),
        Err(Error::Json(_))
    ));
    assert!(matches!(
        from_slice::<Call>(b"{not json"),
        Err(Error::Json(_))
    ));
}

#[test]
fn missing_required_fields_are_all_named() {
    let err = call_from(json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{}}})).unwrap_err();
    assert_eq!(
        err,
        Error::MissingRequired(vec![
            "subscribe.framework_info.user".into(),
            "subscribe.framework_info.name".into()
        ])
    );
}

#[test]
fn base64_follows_mesos_rules() {
    let ack = |uuid: &str| {
        call_from(json!({"type":"ACKNOWLEDGE","framework_id":{"value":"f"},
            "acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":uuid}}))
    };
    // Checklist item 34: the JSON string "bad-uuid" fails in base64.
    assert_eq!(
        ack("bad-uuid").unwrap_err().to_string(),
        "Failed to base64 decode bytes field 'uuid': Invalid character '-'"
    );
    let bytes = |c: Call| c.acknowledge.unwrap().uuid;
    assert_eq!(bytes(ack("YmFkLXV1aWQ=").unwrap()), b"bad-uuid");
    // Padding optional, whitespace ignored, decoding stops at '='.
    assert_eq!(bytes(ack("YmFk LXV1\naWQ").unwrap()), b"bad-uuid");
    assert_eq!(bytes(ack("YWJj=garbage").unwrap()), b"abc");
    assert!(ack("ab_c").is_err(), "URL-safe alphabet is rejected");
}

#[test]
fn maps_are_objects() {
    let info: FrameworkInfo = from_value(&json!({"user":"u","name":"n","offer_filters":{
        "dev":{"min_allocatable_resources":{"quantities":[{"quantities":{"cpus":{"value":1.0}}}]}}
    }}))
    .unwrap();
    let out = to_value(&info);
    assert_eq!(
        out["offer_filters"]["dev"]["min_allocatable_resources"]["quantities"][0]["quantities"]["cpus"]
            ["value"],
        json!(1.0)
    );
}

#[test]
fn wrong_value_types_are_errors_not_panics() {
    for body in [
        json!({"type":"SUBSCRIBE","subscribe":"x"}),
        json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":5,"name":"n"}}}),
        json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":{}}}}),
        json!({"type":"KILL","framework_id":{"value":"f"},"kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":1.5}}}}),
        json!({"type":"RECONCILE","framework_id":{"value":"f"},"reconcile":{"tasks":[{"task_id":{"value":true}}]}}),
    ] {
        assert!(call_from(body.clone()).is_err(), "{body}");
    }
}

// ---------------------------------------------------------------------------
// The fast codecs against the reflective reference implementation.
// ---------------------------------------------------------------------------

mod against_the_oracle {
    use super::super::{oracle_decode, reflect};
    use crate::descriptors::descriptor_of;
    use crate::recordio::Decoder;
    use crate::v1::{executor, scheduler};
    use proptest::prelude::*;
    use prost_reflect::DynamicMessage;
    use std::path::Path;

    fn oracle_encode<T: prost::Message + prost::Name>(message: &T) -> Vec<u8> {
        let dynamic =
            DynamicMessage::decode(descriptor_of::<T>(), message.encode_to_vec().as_slice())
                .unwrap();
        serde_json::to_vec(&reflect::message_to_value(&dynamic)).unwrap()
    }

    fn oracle_decode<T: prost::Message + prost::Name + Default>(
        json: &serde_json::Value,
    ) -> Option<T> {
        let dynamic = oracle_decode::value_to_message(descriptor_of::<T>(), json).ok()?;
        crate::protobuf::check_required(&dynamic).ok()?;
        T::decode(prost::Message::encode_to_vec(&dynamic).as_slice()).ok()
    }

    fn check<T: prost::Message + prost::Name + Default + PartialEq + std::fmt::Debug>(
        record: &[u8],
    ) {
        let json: serde_json::Value = serde_json::from_slice(record).unwrap();
        let fast: T = super::from_value(&json).unwrap();
        assert_eq!(Some(&fast), oracle_decode::<T>(&json).as_ref());
        assert_eq!(super::to_vec(&fast), oracle_encode(&fast));
    }

    fn fixture_records(relative: &str) -> Vec<Vec<u8>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/mesos-1.12")
            .join(relative);
        let file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
        Decoder::new(file).map(Result::unwrap).collect()
    }

    #[test]
    fn both_codecs_agree_on_every_captured_event() {
        for record in fixture_records("scheduler-json/subscribe.recordio") {
            check::<scheduler::Event>(&record);
        }
        for record in fixture_records("executor/run2-launch-group/subscribe.recordio") {
            check::<executor::Event>(&record);
        }
    }

    proptest! {
        /// Random edits of a real event: both decoders accept or refuse
        /// together, and agree on the result.
        #[test]
        fn both_decoders_agree_on_mutated_events(cut in 0usize..4000, insert in "[a-z0-9\"{}\\[\\],:]{0,4}") {
            let records = fixture_records("scheduler-json/subscribe.recordio");
            let record = &records[2];
            let cut = cut.min(record.len());
            let mut text = record[..cut].to_vec();
            text.extend_from_slice(insert.as_bytes());
            text.extend_from_slice(&record[cut..]);
            if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&text) {
                let fast = super::from_value::<scheduler::Event>(&json).ok();
                prop_assert_eq!(fast, oracle_decode::<scheduler::Event>(&json));
            }
        }
    }
}
