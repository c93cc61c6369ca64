//! `protobuf::decode_one_pass` (one pass, generated from the schema) against
//! `protobuf::decode` (the `required` walk, then prost): the same values and
//! the same `required` errors for every input.
//!
//! Inputs: every event and call captured from Mesos 1.12 (JSON ones turned
//! into protobuf by our JSON reader), damaged copies of them, hand-made
//! messages that lack required fields, and arbitrary bytes.

mod common;

use common::{fixtures, records};
use mesos_proto::protobuf::{decode, decode_one_pass};
use mesos_proto::v1::{TaskInfo, TaskStatus, executor, scheduler};
use mesos_proto::{ContentType, Error, json};
use proptest::prelude::*;
use prost::Message;
use std::path::{Path, PathBuf};

/// Both decoders agree on `bytes`: equal values, or both errors, and equal
/// errors when a required field is missing. Returns whether it decoded.
fn agree<T>(bytes: &[u8]) -> bool
where
    T: prost::Message + prost::Name + Default + PartialEq + std::fmt::Debug + 'static,
{
    let two = decode::<T>(bytes);
    let one = decode_one_pass::<T>(bytes);
    match (&two, &one) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "values differ for {bytes:02x?}"),
        (Err(Error::MissingRequired(a)), Err(Error::MissingRequired(b))) => {
            assert_eq!(a, b, "missing fields differ for {bytes:02x?}")
        }
        (Err(Error::Protobuf(_)), Err(Error::Protobuf(_))) => {}
        _ => panic!(
            "{} disagree on {bytes:02x?}: {two:?} vs {one:?}",
            T::full_name()
        ),
    }
    one.is_ok()
}

/// The protobuf bytes of every captured scheduler event (and, for executor
/// streams, executor event), with their type.
fn captured_events() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut scheduler_events = Vec::new();
    let mut executor_events = Vec::new();
    let root = fixtures();
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let executor = dir.file_name().is_some_and(|n| n == "executor");
        let streams: Vec<PathBuf> = if executor {
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|run| run.unwrap().path().join("subscribe.recordio"))
                .filter(|p| p.is_file())
                .collect()
        } else {
            std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .map(|f| f.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "recordio"))
                .collect()
        };
        for stream in streams {
            let protobuf = stream.to_string_lossy().contains("scheduler-protobuf");
            for record in records(&stream) {
                let bytes = match (protobuf, executor) {
                    (true, _) => record,
                    (false, false) => match json::from_slice::<scheduler::Event>(&record) {
                        Ok(event) => event.encode_to_vec(),
                        Err(_) => continue, // e.g. the error body of a refused SUBSCRIBE
                    },
                    (false, true) => json::from_slice::<executor::Event>(&record)
                        .expect("captured executor event")
                        .encode_to_vec(),
                };
                if executor {
                    executor_events.push(bytes);
                } else {
                    scheduler_events.push(bytes);
                }
            }
        }
    }
    (scheduler_events, executor_events)
}

#[test]
fn every_captured_event_decodes_the_same() {
    let (scheduler_events, executor_events) = captured_events();
    assert!(scheduler_events.len() > 10 && executor_events.len() > 3);
    for bytes in &scheduler_events {
        assert!(agree::<scheduler::Event>(bytes));
    }
    for bytes in &executor_events {
        assert!(agree::<executor::Event>(bytes));
    }
}

#[test]
fn every_captured_call_decodes_the_same() {
    let calls = fixtures().join("scheduler-protobuf/calls");
    let mut seen = 0;
    for entry in std::fs::read_dir(calls).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            assert!(agree::<scheduler::Call>(&std::fs::read(&path).unwrap()));
            seen += 1;
        }
    }
    let subscribe = fixtures().join("scheduler-protobuf/subscribe.request.bin");
    assert!(agree::<scheduler::Call>(&std::fs::read(subscribe).unwrap()));
    assert!(seen > 0);
}

#[test]
fn damaged_events_decode_the_same() {
    // Every truncation of a few events and every single-byte change of one:
    // lengths that run past the end, keys that turn into other fields or
    // wire types, strings that stop being UTF-8, enums that become unknown.
    let (events, _) = captured_events();
    let mut decoded = 0;
    for bytes in events.iter().take(6) {
        for end in 0..bytes.len() {
            agree::<scheduler::Event>(&bytes[..end]);
        }
    }
    let offers = events
        .iter()
        .find(|e| {
            decode::<scheduler::Event>(e)
                .is_ok_and(|e| e.r#type() == scheduler::event::Type::Offers)
        })
        .expect("an OFFERS event among the fixtures");
    for at in 0..offers.len() {
        for value in [0x00, 0x01, 0x08, 0x0a, 0x10, 0x12, 0x7f, 0x80, 0xc3, 0xff] {
            let mut damaged = offers.clone();
            damaged[at] = value;
            decoded += usize::from(agree::<scheduler::Event>(&damaged));
        }
    }
    assert!(decoded > 0, "some damaged copies still decode");
}

#[test]
fn missing_required_fields_are_named_the_same() {
    // Call{type: SUBSCRIBE, subscribe: {}}: no framework_info.
    let call = [0x10, 0x01, 0x1a, 0x00];
    assert_eq!(
        decode_one_pass::<scheduler::Call>(&call).unwrap_err(),
        Error::MissingRequired(vec!["subscribe.framework_info".into()])
    );
    assert!(!agree::<scheduler::Call>(&call));
    // TaskStatus{task_id{value:"t"}, state: 99}: an unknown value of a
    // required enum counts as missing.
    let status = [0x0a, 0x03, 0x0a, 0x01, b't', 0x10, 99];
    assert_eq!(
        decode_one_pass::<TaskStatus>(&status).unwrap_err(),
        Error::MissingRequired(vec!["state".into()])
    );
    // The same with a known value first: the last value is the one kept.
    let known_then_unknown = [0x0a, 0x03, 0x0a, 0x01, b't', 0x10, 0x01, 0x10, 99];
    assert!(!agree::<TaskStatus>(&known_then_unknown));
    // TaskInfo.limits with an entry that has no value: the empty
    // Value.Scalar lacks `value` (map values are walked after prost).
    let mut task = vec![
        0x0a, 0x01, b'n', 0x12, 0x03, 0x0a, 0x01, b't', 0x1a, 0x03, 0x0a, 0x01, b'a',
    ];
    task.extend([0x7a, 0x06, 0x0a, 0x04, b'c', b'p', b'u', b's']);
    assert!(matches!(
        decode_one_pass::<TaskInfo>(&task).unwrap_err(),
        Error::MissingRequired(p) if p[0].starts_with("limits")
    ));
    assert!(!agree::<TaskInfo>(&task));
    // Every fuzz regression input.
    for name in [
        "protobuf_call-enum-known-then-unknown.bin",
        "protobuf_call-map-entry-without-value.bin",
        "protobuf_call-unknown-enum.bin",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions")
            .join(name);
        agree::<scheduler::Call>(&std::fs::read(path).unwrap());
    }
}

#[test]
fn too_deep_nesting_is_an_error_in_both() {
    use mesos_proto::v1::ContainerId;
    // ContainerID.parent nests without end; 64 levels are the limit.
    let nested = |levels: usize| {
        let mut id = ContainerId {
            value: "c".into(),
            parent: None,
        };
        for _ in 0..levels {
            id = ContainerId {
                value: "c".into(),
                parent: Some(Box::new(id)),
            };
        }
        id.encode_to_vec()
    };
    assert!(agree::<ContainerId>(&nested(60)));
    assert!(!agree::<ContainerId>(&nested(80)));
    assert_eq!(
        decode_one_pass::<ContainerId>(&nested(80)).unwrap_err(),
        Error::Protobuf("message nested too deeply".into())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_decode_the_same(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        agree::<scheduler::Call>(&data);
        agree::<scheduler::Event>(&data);
        agree::<executor::Call>(&data);
    }
}

#[test]
fn content_type_protobuf_is_unchanged() {
    // ContentType::decode still goes through `decode`: both agree anyway.
    let (events, _) = captured_events();
    for bytes in events.iter().take(3) {
        assert_eq!(
            ContentType::Protobuf
                .decode::<scheduler::Event>(bytes)
                .unwrap(),
            decode_one_pass::<scheduler::Event>(bytes).unwrap()
        );
    }
}
