//! The one-pass reader (`stream.rs`) against the tree walk (`decode.rs`):
//! on captured, generated and mutated JSON, whenever the one-pass reader
//! answers, the tree walk gives the same protobuf bytes; whenever it gives
//! up, its reason holds; and `from_slice` (one pass, else the tree) answers
//! exactly what the tree walk alone answers, errors included.

use super::stream::{self, GiveUp};
use super::{from_slice, from_slice_by_value, value_to_wire};
use crate::error::Result;
use crate::plan::{Kind, Label, Plans, plan_of, plans};
use crate::recordio::Decoder;
use crate::v1::{executor, scheduler};
use crate::wire::MAX_DEPTH;
use proptest::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The message types JSON documents are read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Doc {
    SchedulerCall,
    SchedulerEvent,
    ExecutorCall,
    ExecutorEvent,
}

impl Doc {
    const ALL: [Doc; 4] = [
        Doc::SchedulerCall,
        Doc::SchedulerEvent,
        Doc::ExecutorCall,
        Doc::ExecutorEvent,
    ];

    fn plan(self) -> usize {
        match self {
            Doc::SchedulerCall => plan_of::<scheduler::Call>(),
            Doc::SchedulerEvent => plan_of::<scheduler::Event>(),
            Doc::ExecutorCall => plan_of::<executor::Call>(),
            Doc::ExecutorEvent => plan_of::<executor::Event>(),
        }
    }

    /// Checks the property on `text`; the one-pass reader's own answer.
    fn agree(self, text: &[u8]) -> std::result::Result<(), GiveUp> {
        match self {
            Doc::SchedulerCall => agree::<scheduler::Call>(text),
            Doc::SchedulerEvent => agree::<scheduler::Event>(text),
            Doc::ExecutorCall => agree::<executor::Call>(text),
            Doc::ExecutorEvent => agree::<executor::Event>(text),
        }
    }
}

/// The property, for one document read as `T`. Panics (with the document)
/// when it does not hold; returns what the one-pass reader did.
fn agree<T>(text: &[u8]) -> std::result::Result<(), GiveUp>
where
    T: prost::Message + prost::Name + Default + PartialEq + fmt::Debug,
{
    let shown = String::from_utf8_lossy(text);
    let plan = plan_of::<T>();
    let fast = stream::encode(plans(), plan, text);
    let tree = serde_json::from_slice::<Json>(text);
    match &fast {
        Ok(bytes) => {
            let tree = tree
                .unwrap_or_else(|e| panic!("one pass read what serde_json refuses ({e}): {shown}"));
            let tree_bytes = value_to_wire(plan, &tree).unwrap_or_else(|e| {
                panic!("one pass read what the tree walk refuses ({e}): {shown}")
            });
            // Compared as prost writes them again: a NaN is not equal to itself.
            let message = |bytes: &[u8]| {
                T::decode(bytes)
                    .map(|m| m.encode_to_vec())
                    .map_err(|e| e.to_string())
            };
            assert_eq!(message(bytes), message(&tree_bytes), "{shown}");
            // Same bytes, not only the same message, unless a map repeats a
            // key (then the tree has one entry, the text several, and prost
            // keeps the last of them: the same value).
            if !has_duplicate_keys(text) {
                assert_eq!(bytes, &tree_bytes, "{shown}");
            }
        }
        Err(GiveUp::Syntax) => {
            assert!(tree.is_err(), "one pass gave up on valid JSON: {shown}");
        }
        Err(GiveUp::Invalid | GiveUp::MissingRequired) => {
            // Refused by the tree too, unless a key given twice put another
            // value in the tree than the first one the text has.
            let refused = tree.map_or(true, |tree| value_to_wire(plan, &tree).is_err());
            assert!(
                refused || has_duplicate_keys(text),
                "one pass refused ({fast:?}) what the tree walk reads: {shown}"
            );
        }
        Err(GiveUp::DuplicateKey) => {
            // (A text serde_json refuses may have been cut short after the
            // repetition: then the tree has no say.)
            assert!(
                tree.is_err() || has_duplicate_keys(text),
                "no key is repeated: {shown}"
            );
        }
        Err(GiveUp::MapKey) => {}
    }
    // The public reader: always the tree walk's answer, error text included.
    let public: Result<Vec<u8>> = from_slice::<T>(text).map(|m| m.encode_to_vec());
    let tree: Result<Vec<u8>> = from_slice_by_value::<T>(text).map(|m| m.encode_to_vec());
    assert_eq!(public, tree, "{shown}");
    fast.map(|_| ())
}

// ---------------------------------------------------------------------------
// Duplicate keys: the tree (an index map) holds fewer keys than the text.
// ---------------------------------------------------------------------------

/// Whether any object of the document, at any depth, repeats a key.
fn has_duplicate_keys(text: &[u8]) -> bool {
    let Ok(tree) = serde_json::from_slice::<Json>(text) else {
        return false;
    };
    let mut parser = serde_json::Deserializer::from_slice(text);
    let in_text = CountKeys
        .deserialize(&mut parser)
        .expect("serde_json parsed it once");
    in_text != keys_in_tree(&tree)
}

fn keys_in_tree(json: &Json) -> usize {
    match json {
        Json::Object(map) => map.len() + map.values().map(keys_in_tree).sum::<usize>(),
        Json::Array(items) => items.iter().map(keys_in_tree).sum(),
        _ => 0,
    }
}

/// Counts the keys of every object in the text.
struct CountKeys;

impl<'de> DeserializeSeed<'de> for CountKeys {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> std::result::Result<usize, D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountKeys {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<usize, E> {
        Ok(0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<usize, A::Error> {
        let mut total = 0;
        while let Some(n) = seq.next_element_seed(CountKeys)? {
            total += n;
        }
        Ok(total)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<usize, A::Error> {
        let mut total = 0;
        while map.next_key::<String>()?.is_some() {
            total += 1 + map.next_value_seed(CountKeys)?;
        }
        Ok(total)
    }
}

// ---------------------------------------------------------------------------
// Captured documents.
// ---------------------------------------------------------------------------

/// Every JSON message in `fixtures/mesos-1.12/`: the records of the JSON
/// RecordIO streams, the pretty-printed events and the request bodies.
fn corpus() -> &'static [(Doc, Vec<u8>)] {
    static CORPUS: OnceLock<Vec<(Doc, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mesos-1.12");
        let mut files = Vec::new();
        walk(&root, &mut files);
        files.sort();
        let mut corpus = Vec::new();
        for path in files {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let executor = relative.starts_with("executor/");
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if relative.starts_with("endpoints/") || relative.starts_with("scheduler-protobuf/") {
                continue;
            }
            if name.ends_with(".recordio") {
                let doc = if executor {
                    Doc::ExecutorEvent
                } else {
                    Doc::SchedulerEvent
                };
                let file = std::fs::File::open(&path).unwrap();
                for record in Decoder::new(file) {
                    corpus.push((doc, record.unwrap()));
                }
            } else if name.ends_with(".json") {
                let call = name.ends_with(".request.json");
                let doc = match (executor, call) {
                    (false, true) => Doc::SchedulerCall,
                    (false, false) => Doc::SchedulerEvent,
                    (true, true) => Doc::ExecutorCall,
                    (true, false) => Doc::ExecutorEvent,
                };
                corpus.push((doc, std::fs::read(&path).unwrap()));
            }
        }
        assert!(
            corpus.len() > 300,
            "the fixtures hold {} JSON documents",
            corpus.len()
        );
        corpus
    })
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[test]
fn every_captured_document_is_read_in_one_pass_as_the_tree_reads_it() {
    let mut one_pass = 0;
    for (doc, text) in corpus() {
        let tree_accepts = match doc {
            Doc::SchedulerCall => from_slice_by_value::<scheduler::Call>(text).is_ok(),
            Doc::SchedulerEvent => from_slice_by_value::<scheduler::Event>(text).is_ok(),
            Doc::ExecutorCall => from_slice_by_value::<executor::Call>(text).is_ok(),
            Doc::ExecutorEvent => from_slice_by_value::<executor::Event>(text).is_ok(),
        };
        let fast = doc.agree(text);
        // What Mesos sends is never left to the slow path.
        if tree_accepts {
            assert_eq!(fast, Ok(()), "{doc:?}: {}", String::from_utf8_lossy(text));
            one_pass += 1;
        }
    }
    assert!(one_pass > 300, "{one_pass} documents read in one pass");
}

#[test]
fn the_documented_rules_hold_in_one_pass() {
    // Each of these is read by the one-pass reader itself (not left to the
    // tree), and agrees with the tree.
    for text in [
        r#"{"type":"TEARDOWN","frameworkId":{"value":"x"},"extra":[1,{"a":[2.5,null]}]}"#,
        r#"{"type":"TEARDOWN","framework_id":null}"#,
        r#"{"type":"NO_SUCH_TYPE"}"#,
        r#"{"type":"RECONCILE","framework_id":{"value":"f"},"reconcile":{"tasks":{"task_id":{"value":"t"}}}}"#,
        r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"YmFk LXV1\naWQ"}}"#,
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","checkpoint":"true","failover_timeout":"3.5","offer_filters":{"dev":{"min_allocatable_resources":{"quantities":[{"quantities":{"cpus":{"value":"Infinity"}}}]}}}}}}"#,
        r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"offer_ids":[{"value":"o1"},{"value":"o\u00e9\"2"}],"filters":{"refuse_seconds":"5"}}}"#,
        r#"{"type":"KILL","framework_id":{"value":"f"},"kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":" 17 "}}}}"#,
    ] {
        assert_eq!(Doc::SchedulerCall.agree(text.as_bytes()), Ok(()), "{text}");
    }
}

#[test]
fn errors_and_rare_shapes_are_left_to_the_tree_with_its_answer() {
    for (text, why) in [
        (r#"{"type":"TEARDOWN""#, GiveUp::Syntax),
        (r#"{"type":"TEARDOWN"} x"#, GiveUp::Syntax),
        (r#"{"type":"TEARDOWN","extra":1e400}"#, GiveUp::Syntax),
        (r#"{"type":1}"#, GiveUp::Invalid),
        (r#"[1]"#, GiveUp::Invalid),
        (
            r#"{"type":"TEARDOWN","framework_id":[{"value":"x"}]}"#,
            GiveUp::Invalid,
        ),
        (
            r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{}}}"#,
            GiveUp::MissingRequired,
        ),
        (r#"{"type":"TEARDOWN","type":"KILL"}"#, GiveUp::DuplicateKey),
        (r#"{"type":1,"type":"KILL"}"#, GiveUp::Invalid),
        (r#"{"type":"KILL","type":null}"#, GiveUp::DuplicateKey),
    ] {
        assert_eq!(
            Doc::SchedulerCall.agree(text.as_bytes()),
            Err(why),
            "{text}"
        );
    }
    // ContainerID.parent is a ContainerID: messages nested to the limit
    // (MAX_DEPTH below the root) are read, one more is refused.
    let chain = |levels: usize| {
        let mut text = r#"{"value":"c"}"#.to_string();
        for _ in 0..levels {
            text = format!(r#"{{"value":"c","parent":{text}}}"#);
        }
        text
    };
    assert_eq!(
        agree::<crate::v1::ContainerId>(chain(MAX_DEPTH).as_bytes()),
        Ok(())
    );
    assert_eq!(
        agree::<crate::v1::ContainerId>(chain(MAX_DEPTH + 1).as_bytes()),
        Err(GiveUp::Invalid)
    );
    assert!(from_slice::<crate::v1::ContainerId>(chain(MAX_DEPTH + 1).as_bytes()).is_err());
    // Deeper than serde_json's own limit, under a key nobody knows.
    let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
    assert_eq!(
        Doc::SchedulerCall.agree(deep.as_bytes()),
        Err(GiveUp::Syntax)
    );
}

// ---------------------------------------------------------------------------
// Generated documents: JSON for a message type, written from its plan with
// every leniency and, at a chosen rate, every kind of mistake.
// ---------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*): proptest picks the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Writes JSON for the message at `plan`. `bad` is the chance of each
/// mistake (a wrong type, a missing required field, a repeated key...).
struct Generator<'p> {
    plans: &'p Plans,
    rng: Rng,
    bad: f64,
    out: String,
}

impl Generator<'_> {
    fn space(&mut self) {
        if self.rng.chance(0.05) {
            self.out.push_str(self.rng.pick(&[" ", "\n  ", "\t"]));
        }
    }

    fn message(&mut self, plan: usize, depth: usize) {
        let message = &self.plans.messages[plan];
        self.out.push('{');
        let mut first = true;
        let mut keys = Vec::new();
        for field in &message.fields {
            let wanted = if field.required {
                !self.rng.chance(self.bad)
            } else {
                depth < 5 && self.rng.chance(0.35)
            };
            if wanted && depth < 12 {
                keys.push(field);
            }
        }
        if self.rng.chance(0.2) {
            // Keys in any order: the tree keeps the text's order too.
            for i in (1..keys.len()).rev() {
                let j = self.rng.below(i + 1);
                keys.swap(i, j);
            }
        }
        let repeat = if !keys.is_empty() && self.rng.chance(self.bad) {
            Some(self.rng.below(keys.len()))
        } else {
            None
        };
        let mut i = 0;
        while i < keys.len() {
            let field = keys[i];
            if !first {
                self.out.push(',');
            }
            first = false;
            self.space();
            if self.rng.chance(0.05) {
                // An unknown key, with anything under it.
                let unknown = self.rng.pick(&["unknown", "frameworkId", "taskId", "x"]);
                write!(self.out, "\"{unknown}\":").unwrap();
                self.junk(3);
                self.out.push(',');
            }
            write!(self.out, "\"{}\":", field.name).unwrap();
            self.space();
            // `null` unsets the field: a mistake for a required one.
            let null = if field.required { self.bad / 2.0 } else { 0.03 };
            if self.rng.chance(null) {
                self.out.push_str("null");
            } else {
                self.field_value(field.kind, field.label, field.required, depth);
            }
            if repeat == Some(i) {
                // The same key again, later in the object.
                repeat_later(&mut keys, i, &mut self.rng);
            }
            i += 1;
        }
        self.space();
        self.out.push('}');
    }

    fn field_value(&mut self, kind: Kind, label: Label, required: bool, depth: usize) {
        match label {
            Label::Single => {
                if self.rng.chance(self.bad / 2.0) {
                    self.out.push('[');
                    self.value(kind, required, depth);
                    self.out.push(']');
                } else {
                    self.value(kind, required, depth);
                }
            }
            Label::Repeated => {
                if self.rng.chance(0.2) {
                    // A lone value for a one-element list.
                    self.value(kind, false, depth);
                } else {
                    self.out.push('[');
                    let n = if depth < 4 {
                        self.rng.below(4)
                    } else {
                        self.rng.below(2)
                    };
                    for i in 0..n {
                        if i > 0 {
                            self.out.push(',');
                        }
                        if self.rng.chance(self.bad / 4.0) {
                            self.out.push_str(self.rng.pick(&["null", "[]"]));
                        } else {
                            self.value(kind, false, depth);
                        }
                    }
                    self.out.push(']');
                }
            }
            Label::Map { key, value } => {
                if self.rng.chance(self.bad / 4.0) {
                    self.out.push_str("[]");
                    return;
                }
                self.out.push('{');
                let n = self.rng.below(3);
                for i in 0..n {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let odd = self.rng.chance(self.bad);
                    let name = match (key, odd) {
                        (Kind::String, _) => {
                            self.rng.pick(&["cpus", "mem", "a\\u0062", "cpus", ""])
                        }
                        (Kind::Bool, false) => self.rng.pick(&["true", "false"]),
                        (Kind::Bool, true) => "yes",
                        (_, false) => self.rng.pick(&["1", "0", "-2"]),
                        (_, true) => self.rng.pick(&["01", "+3", "x"]),
                    };
                    write!(self.out, "\"{name}\":").unwrap();
                    if self.rng.chance(self.bad / 4.0) {
                        self.out.push_str("null");
                    } else {
                        self.value(value, false, depth);
                    }
                }
                self.out.push('}');
            }
        }
    }

    /// A value of `kind`; an unknown enum name only where one is dropped
    /// without a trace (not for a `required` field).
    fn value(&mut self, kind: Kind, required: bool, depth: usize) {
        if self.rng.chance(self.bad / 3.0) {
            // A value of the wrong type, or a mistake within the right one.
            self.out.push_str(self.rng.pick(&[
                "{}",
                "\"x\"",
                "1",
                "true",
                "1.5",
                "\"-\"",
                "\"YW_j\"",
                "[1]",
                "4294967296",
                "-1",
                "\"TASK_RUNNING\"",
                "1e19",
            ]));
            return;
        }
        match kind {
            Kind::Message(plan) => self.message(plan, depth + 1),
            Kind::Enum(plan) => {
                let names: Vec<&String> = self.plans.enums[plan].by_name.keys().collect();
                if (!required && self.rng.chance(0.05)) || names.is_empty() {
                    self.out.push_str("\"NO_SUCH_VALUE\"");
                } else {
                    let name = names[self.rng.below(names.len())];
                    write!(self.out, "\"{name}\"").unwrap();
                }
            }
            Kind::String => self.out.push_str(self.rng.pick(&[
                "\"t1\"",
                "\"\"",
                "\"a\\\"b\\\\c\"",
                "\"\\u00e9t\\u00e9\"",
                "\"\u{e9}\u{1f600}\"",
                "\"\\ud83d\\ude00\"",
                "\"line\\nbreak\"",
                "\"*\"",
            ])),
            Kind::Bytes => self.out.push_str(self.rng.pick(&[
                "\"YWJj\"",
                "\"YWJjZA==\"",
                "\"YWJjZA\"",
                "\" YW\\nJj \"",
                "\"\"",
                "\"YWJj=xx\"",
                "\"+/8=\"",
            ])),
            Kind::Bool => {
                self.out
                    .push_str(self.rng.pick(&["true", "false", "\"true\"", "\"false\""]))
            }
            Kind::Double | Kind::Float => self.out.push_str(self.rng.pick(&[
                "1.5",
                "3",
                "-2",
                "0.1",
                "\"2.5\"",
                "\" 4 \"",
                "\"Infinity\"",
                "\"-Infinity\"",
                "\"NaN\"",
                "1e300",
                "-0",
                "0.0",
                "1795473764.9081565",
                "18446744073709551616",
            ])),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => self.out.push_str(self.rng.pick(&[
                "0",
                "5",
                "\"42\"",
                "\" 7 \"",
                "1.0",
                "2e3",
                "-3",
                "2147483647",
                "\"-2147483648\"",
            ])),
            Kind::Uint32 | Kind::Fixed32 => self.out.push_str(self.rng.pick(&[
                "0",
                "5",
                "\"42\"",
                "\" 7 \"",
                "1.0",
                "2e3",
                "4294967295",
            ])),
            Kind::Uint64 | Kind::Fixed64 => self.out.push_str(self.rng.pick(&[
                "0",
                "\"42\"",
                "1700000000000000000",
                "\"18446744073709551615\"",
                "1e18",
                "18446744073709551615",
            ])),
            _ => self.out.push_str(self.rng.pick(&[
                "0",
                "5",
                "\"42\"",
                "\" 7 \"",
                "1.0",
                "2e3",
                "1700000000000000000",
                "\"1700000000000000000\"",
                "-3",
                "-9223372036854775808",
                "9223372036854775807",
                "-1.5e3",
            ])),
        }
    }

    /// Any JSON, for an unknown key.
    fn junk(&mut self, depth: usize) {
        match self.rng.below(if depth == 0 { 5 } else { 7 }) {
            0 => self.out.push_str("null"),
            1 => self.out.push_str("-12.5e-3"),
            2 => self.out.push_str("\"\\u00e9\\t\""),
            3 => self.out.push_str("18446744073709551615"),
            4 => self.out.push_str("false"),
            5 => {
                self.out.push('[');
                self.junk(depth - 1);
                self.out.push(',');
                self.junk(depth - 1);
                self.out.push(']');
            }
            _ => {
                self.out.push_str("{\"k\":");
                self.junk(depth - 1);
                self.out.push('}');
            }
        }
    }
}

/// Puts `keys[i]` once more at a later place (or right after it).
fn repeat_later<T: Copy>(keys: &mut Vec<T>, i: usize, rng: &mut Rng) {
    let at = i + 1 + rng.below(keys.len() - i);
    keys.insert(at, keys[i]);
}

fn generate(doc: Doc, seed: u64, bad: f64) -> String {
    let mut generator = Generator {
        plans: plans(),
        rng: Rng(seed | 1),
        bad,
        out: String::new(),
    };
    generator.message(doc.plan(), 0);
    generator.out
}

#[test]
fn most_generated_documents_without_mistakes_are_read_in_one_pass() {
    // The generator itself, checked: with no mistakes asked for, what it
    // writes is valid (else the properties below would test little).
    let mut read = 0;
    for seed in 0..200u64 {
        for doc in Doc::ALL {
            let text = generate(doc, seed * 4 + doc as u64, 0.0);
            if doc.agree(text.as_bytes()).is_ok() {
                read += 1;
            }
        }
    }
    assert!(
        read > 760,
        "{read} of 800 generated documents read in one pass"
    );
}

// ---------------------------------------------------------------------------
// Mutated documents: captured ones, edited as a tree and as text.
// ---------------------------------------------------------------------------

/// Replaces the `target`-th node (pre-order) of `json` by an edit of it.
fn mutate(json: &mut Json, target: &mut usize, edit: usize) -> bool {
    if *target == 0 {
        let old = json.take();
        *json = match edit % 14 {
            0 => Json::Null,
            1 => Json::Bool(true),
            2 => Json::String("true".into()),
            3 => serde_json::json!(7),
            4 => Json::String(" 7 ".into()),
            5 => serde_json::json!(-3),
            6 => serde_json::json!(1.5),
            7 => Json::String("Infinity".into()),
            8 => Json::String("TASK_RUNNING".into()),
            9 => Json::Array(vec![old]),
            10 => Json::Array(vec![old.clone(), old]),
            11 => match old {
                Json::Array(mut items) if !items.is_empty() => items.swap_remove(0),
                Json::Object(map) => Json::Object(map.into_iter().skip(1).collect()),
                other => Json::String(other.to_string()),
            },
            12 => serde_json::json!({}),
            _ => serde_json::json!([]),
        };
        return true;
    }
    *target -= 1;
    match json {
        Json::Object(map) => map.values_mut().any(|v| mutate(v, target, edit)),
        Json::Array(items) => items.iter_mut().any(|v| mutate(v, target, edit)),
        _ => false,
    }
}

fn nodes(json: &Json) -> usize {
    1 + match json {
        Json::Object(map) => map.values().map(nodes).sum(),
        Json::Array(items) => items.iter().map(nodes).sum(),
        _ => 0,
    }
}

/// The text of `json` with the `target`-th object's first entry written
/// once more at its end (a repeated key).
fn with_repeated_key(json: &Json, target: &mut usize, out: &mut String) {
    match json {
        Json::Object(map) => {
            let here = *target == 0;
            *target = target.wrapping_sub(1);
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write!(out, "{}:", Json::String(key.clone())).unwrap();
                with_repeated_key(value, target, out);
            }
            if let (true, Some((key, value))) = (here, map.iter().next()) {
                write!(out, ",{}:{}", Json::String(key.clone()), value).unwrap();
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                with_repeated_key(item, target, out);
            }
            out.push(']');
        }
        other => write!(out, "{other}").unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Generated documents, with mistakes at several rates.
    #[test]
    fn the_readers_agree_on_generated_documents(seed in any::<u64>(), doc in 0usize..4, bad in prop::sample::select(vec![0.0, 0.01, 0.05, 0.2])) {
        let doc = Doc::ALL[doc];
        let text = generate(doc, seed, bad);
        let _ = doc.agree(text.as_bytes());
    }

    /// A captured document with one node replaced (a wrong type, a string
    /// for a number, a list for a value and back, `null`...).
    #[test]
    fn the_readers_agree_on_edited_trees(which in any::<prop::sample::Index>(), node in any::<prop::sample::Index>(), edit in 0usize..14, pretty in any::<bool>()) {
        let (doc, text) = which.get(corpus());
        let mut json: Json = serde_json::from_slice(text).unwrap();
        let mut target = node.index(nodes(&json));
        mutate(&mut json, &mut target, edit);
        let text = if pretty { serde_json::to_vec_pretty(&json) } else { serde_json::to_vec(&json) }.unwrap();
        let _ = doc.agree(&text);
    }

    /// A captured document with one key repeated at the end of its object.
    #[test]
    fn the_readers_agree_on_repeated_keys(which in any::<prop::sample::Index>(), object in any::<prop::sample::Index>()) {
        let (doc, text) = which.get(corpus());
        let json: Json = serde_json::from_slice(text).unwrap();
        let mut target = object.index(nodes(&json));
        let mut out = String::new();
        with_repeated_key(&json, &mut target, &mut out);
        let _ = doc.agree(out.as_bytes());
    }

    /// A captured document with a few bytes cut or inserted anywhere.
    #[test]
    fn the_readers_agree_on_edited_text(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), remove in 0usize..3, insert in "[a-z0-9\"{}\\[\\],:.eE+ -]{0,4}") {
        let (doc, text) = which.get(corpus());
        let at = cut.index(text.len() + 1);
        let mut edited = text[..at].to_vec();
        edited.extend_from_slice(insert.as_bytes());
        edited.extend_from_slice(&text[(at + remove).min(text.len())..]);
        let _ = doc.agree(&edited);
    }
}

#[test]
fn long_messages_get_longer_length_prefixes() {
    // Sub-messages of 1, 2 and 3 length bytes, nested (each level's length
    // is fixed after its content is written).
    for size in [10, 100, 200, 20_000, 3_000_000] {
        let text = format!(
            r#"{{"type":"MESSAGE","framework_id":{{"value":"f"}},"message":{{"agent_id":{{"value":"{}"}},"executor_id":{{"value":"e"}},"data":"{}"}}}}"#,
            "a".repeat(size),
            "QUJD".repeat(size / 4 + 1),
        );
        assert_eq!(Doc::SchedulerCall.agree(text.as_bytes()), Ok(()), "{size}");
    }
}
