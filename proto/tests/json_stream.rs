//! `json::from_slice` (the one-pass reader, with the tree walk for what it
//! leaves) against `serde_json::from_slice` + `json::from_value` (the tree
//! walk alone), through the public API only: the same message or the same
//! error, on every captured document and on edited ones; and
//! `json::from_slice_by_step` against the steps it stands for.

mod common;

use common::{files, fixtures, records};
use mesos_proto::json::Refusal;
use mesos_proto::v1::{executor, scheduler};
use mesos_proto::{ContentType, Error, json};
use proptest::prelude::*;
use std::sync::OnceLock;

/// What a document is read as.
#[derive(Clone, Copy, Debug)]
enum Doc {
    SchedulerCall,
    SchedulerEvent,
    ExecutorCall,
    ExecutorEvent,
}

/// The tree walk's answer, as `from_slice` had it before the one-pass reader.
fn by_value<T: prost::Message + prost::Name + Default>(text: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|err| Error::Json(format!("Malformed JSON: {err}")))?;
    json::from_value(&value)
}

/// Both readers, compared as the bytes prost writes (a NaN is not equal to
/// itself); `true` if the document was accepted.
fn same<T: prost::Message + prost::Name + Default + 'static>(text: &[u8]) -> bool {
    let fast = ContentType::Json
        .decode::<T>(text)
        .map(|m| m.encode_to_vec());
    let tree = by_value::<T>(text).map(|m| m.encode_to_vec());
    assert_eq!(fast, tree, "{}", String::from_utf8_lossy(text));
    // The same, step by step, as a server naming the failed step reads it.
    let by_step = json::from_slice_by_step::<T>(text).map(|m| m.encode_to_vec());
    let steps = match serde_json::from_slice::<serde_json::Value>(text) {
        Err(err) => Err(Refusal::Malformed(err.to_string())),
        Ok(value) if !value.is_object() => Err(Refusal::NotAnObject),
        Ok(value) => json::from_value::<T>(&value)
            .map(|m| m.encode_to_vec())
            .map_err(Refusal::Convert),
    };
    assert_eq!(by_step, steps, "{}", String::from_utf8_lossy(text));
    fast.is_ok()
}

impl Doc {
    fn same(self, text: &[u8]) -> bool {
        match self {
            Doc::SchedulerCall => same::<scheduler::Call>(text),
            Doc::SchedulerEvent => same::<scheduler::Event>(text),
            Doc::ExecutorCall => same::<executor::Call>(text),
            Doc::ExecutorEvent => same::<executor::Event>(text),
        }
    }
}

/// The JSON documents of `fixtures/mesos-1.12/`: records of the JSON
/// RecordIO streams, pretty-printed events, request bodies.
fn corpus() -> &'static [(Doc, Vec<u8>)] {
    static CORPUS: OnceLock<Vec<(Doc, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = fixtures();
        let mut corpus = Vec::new();
        for path in files(&root) {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if relative.starts_with("endpoints/") || relative.starts_with("scheduler-protobuf/") {
                continue;
            }
            let executor = relative.starts_with("executor/");
            if relative.ends_with(".recordio") {
                let doc = if executor {
                    Doc::ExecutorEvent
                } else {
                    Doc::SchedulerEvent
                };
                corpus.extend(records(&path).into_iter().map(|record| (doc, record)));
            } else if relative.ends_with(".json") {
                let doc = match (executor, relative.ends_with(".request.json")) {
                    (false, true) => Doc::SchedulerCall,
                    (false, false) => Doc::SchedulerEvent,
                    (true, true) => Doc::ExecutorCall,
                    (true, false) => Doc::ExecutorEvent,
                };
                corpus.push((doc, std::fs::read(&path).unwrap()));
            }
        }
        corpus
    })
}

#[test]
fn every_captured_document_reads_the_same() {
    let accepted = corpus().iter().filter(|(doc, text)| doc.same(text)).count();
    assert!(accepted > 300, "{accepted} captured documents accepted");
}

#[test]
fn errors_are_the_tree_walks_word_for_word() {
    for text in [
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{}}}"#,
        r#"{"type":1}"#,
        r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"bad-uuid"}}"#,
        r#"{"type":"TEARDOWN","framework_id":[{"value":"x"}]}"#,
        r#"{"type":"TEARDOWN""#,
        r#"{"type":1, "framework_id": {"value": "x"} garbage"#,
        r#"[1]"#,
        r#""SUBSCRIBE""#,
    ] {
        assert!(!Doc::SchedulerCall.same(text.as_bytes()), "{text}");
    }
    assert_eq!(
        json::from_slice::<scheduler::Call>(
            br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{}}}"#
        )
        .unwrap_err()
        .to_string(),
        "Missing required fields: subscribe.framework_info.user, subscribe.framework_info.name"
    );
}

proptest! {
    /// A captured document with a few bytes cut or inserted anywhere.
    #[test]
    fn edited_documents_read_the_same(which in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), remove in 0usize..4, insert in "[a-z0-9\"{}\\[\\],:.eE+ -]{0,4}") {
        let (doc, text) = which.get(corpus());
        let at = at.index(text.len() + 1);
        let mut edited = text[..at].to_vec();
        edited.extend_from_slice(insert.as_bytes());
        edited.extend_from_slice(&text[(at + remove).min(text.len())..]);
        doc.same(&edited);
    }
}
