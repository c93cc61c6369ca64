//! The conversation between each framework and the master: the calls it made, the events
//! it received and the faults injected meanwhile, for the live page (`/`) and for
//! `GET /devcluster/timeline?framework_id=...` (JSON) and `/devcluster/timeline.ndjson`.
//!
//! Why it looks like this: benchmarks push 10,000 tasks through the master, so recording
//! must stay cheap. An entry keeps the message as protobuf bytes (one encode, several
//! times smaller in memory than the decoded struct; an OFFERS event for many agents is
//! large); it is decoded and turned into JSON only when someone asks. Each framework has
//! a bounded ring buffer ([`MAX_ENTRIES`]), and only [`MAX_FRAMEWORKS`] frameworks are
//! kept, so a long run holds a fixed amount of memory. The timeline lives in the cluster's shared
//! state, not in a master, so it survives a master failover (which is worth watching).

mod summary;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use mesos_proto::v1::scheduler::{Call, Event};
use prost::Message as _;
use serde_json::{Value, json};

use crate::master::now_secs;

/// Entries kept per framework; older ones are dropped (and counted).
pub(crate) const MAX_ENTRIES: usize = 5000;
/// Frameworks kept; the one recorded longest ago is forgotten first.
pub(crate) const MAX_FRAMEWORKS: usize = 64;
/// Faults kept in the cluster-wide list.
const MAX_FAULTS: usize = 200;

/// What an entry holds: the message as it was (protobuf wire bytes), rendered lazily.
enum Payload {
    Call(Vec<u8>),
    Event(Vec<u8>),
    Fault {
        name: String,
        arg: Option<String>,
        result: Result<String, String>,
    },
}

struct Entry {
    /// Cluster-wide sequence number: orders entries and lets the page poll `?since=`.
    seq: u64,
    time: f64,
    payload: Payload,
}

#[derive(Default)]
struct FrameworkLog {
    name: String,
    entries: VecDeque<Entry>,
    dropped: u64,
    /// When the framework was last recorded, for choosing which framework to forget.
    touched: u64,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    frameworks: BTreeMap<String, FrameworkLog>,
    faults: VecDeque<Entry>,
}

/// The recorder (one per cluster).
#[derive(Default)]
pub(crate) struct Timeline {
    state: Mutex<State>,
}

impl Timeline {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, framework_id: &str, payload: Payload, name: Option<&str>) {
        let mut st = self.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        if !st.frameworks.contains_key(framework_id) && st.frameworks.len() >= MAX_FRAMEWORKS {
            let oldest = st
                .frameworks
                .iter()
                .min_by_key(|(_, f)| f.touched)
                .map(|(id, _)| id.clone());
            if let Some(id) = oldest {
                st.frameworks.remove(&id);
            }
        }
        // Looked up by &str first: `entry` would allocate the key on every push.
        if !st.frameworks.contains_key(framework_id) {
            st.frameworks
                .insert(framework_id.to_string(), FrameworkLog::default());
        }
        let Some(log) = st.frameworks.get_mut(framework_id) else {
            return;
        };
        if let Some(name) = name {
            log.name = name.to_string();
        }
        log.touched = seq;
        log.entries.push_back(Entry {
            seq,
            time: now_secs(),
            payload,
        });
        if log.entries.len() > MAX_ENTRIES {
            log.entries.pop_front();
            log.dropped += 1;
        }
    }

    /// A call the master accepted from `framework_id`.
    pub(crate) fn call(&self, framework_id: &str, c: &Call) {
        let name = c.subscribe.as_ref().map(|s| s.framework_info.name.as_str());
        self.push(framework_id, Payload::Call(c.encode_to_vec()), name);
    }

    /// An event put on `framework_id`'s subscription stream.
    pub(crate) fn event(&self, framework_id: &str, e: &Event) {
        self.push(framework_id, Payload::Event(e.encode_to_vec()), None);
    }

    /// [`Timeline::event`] for an event the caller has already encoded as protobuf
    /// (the master does, for the stream): each event is encoded once, not twice.
    pub(crate) fn event_encoded(&self, framework_id: &str, protobuf: Vec<u8>) {
        self.push(framework_id, Payload::Event(protobuf), None);
    }

    /// [`Timeline::call`] for a call (not a SUBSCRIBE) that arrived as protobuf: its body
    /// is kept as it came instead of encoding the decoded call again.
    pub(crate) fn call_encoded(&self, framework_id: &str, protobuf: Vec<u8>) {
        self.push(framework_id, Payload::Call(protobuf), None);
    }

    /// An injected fault: it goes into every framework's timeline (a fault concerns them
    /// all) and into the cluster-wide list.
    pub(crate) fn fault(&self, name: &str, arg: Option<&str>, result: &Result<String, String>) {
        let ids: Vec<String> = self.lock().frameworks.keys().cloned().collect();
        let make = || Payload::Fault {
            name: name.to_string(),
            arg: arg.map(str::to_string),
            result: result.clone(),
        };
        for id in ids {
            self.push(&id, make(), None);
        }
        let mut st = self.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        st.faults.push_back(Entry {
            seq,
            time: now_secs(),
            payload: make(),
        });
        if st.faults.len() > MAX_FAULTS {
            st.faults.pop_front();
        }
    }

    /// `{"frameworks": [{id, name, entries, dropped, last_seq}], "faults": [...]}`.
    pub(crate) fn index_json(&self) -> Value {
        let st = self.lock();
        let frameworks: Vec<Value> = st
            .frameworks
            .iter()
            .map(|(id, f)| {
                json!({
                    "id": id,
                    "name": f.name,
                    "entries": f.entries.len(),
                    "dropped": f.dropped,
                    "last_seq": f.entries.back().map_or(0, |e| e.seq),
                })
            })
            .collect();
        let faults: Vec<Value> = st.faults.iter().map(|e| entry_json(e, true)).collect();
        json!({ "frameworks": frameworks, "faults": faults })
    }

    /// The entries of one framework with `seq > since`, at most `limit` of the newest,
    /// each with its full message unless `brief`. `None` for an unknown framework.
    pub(crate) fn entries_json(
        &self,
        framework_id: &str,
        since: Option<u64>,
        limit: usize,
        brief: bool,
    ) -> Option<Value> {
        let st = self.lock();
        let log = st.frameworks.get(framework_id)?;
        let newer: Vec<&Entry> = log
            .entries
            .iter()
            .filter(|e| since.is_none_or(|s| e.seq > s))
            .collect();
        let skip = newer.len().saturating_sub(limit);
        let entries: Vec<Value> = newer[skip..]
            .iter()
            .map(|e| entry_json(e, !brief))
            .collect();
        Some(json!({
            "framework_id": framework_id,
            "name": log.name,
            "dropped": log.dropped,
            "entries": entries,
        }))
    }

    /// One entry in full (the page shows it when clicked).
    pub(crate) fn entry(&self, framework_id: &str, seq: u64) -> Option<Value> {
        let st = self.lock();
        let log = st.frameworks.get(framework_id)?;
        let i = log.entries.binary_search_by_key(&seq, |e| e.seq).ok()?;
        Some(entry_json(&log.entries[i], true))
    }

    /// The whole timeline of one framework as newline-delimited JSON, one full entry
    /// per line (the downloadable log).
    pub(crate) fn ndjson(&self, framework_id: &str) -> Option<Vec<u8>> {
        let st = self.lock();
        let log = st.frameworks.get(framework_id)?;
        let mut out = Vec::new();
        for e in &log.entries {
            out.extend(entry_json(e, true).to_string().into_bytes());
            out.push(b'\n');
        }
        Some(out)
    }
}

/// One entry: `{seq, time, direction, type, summary[, message]}`.
fn entry_json(e: &Entry, full: bool) -> Value {
    let (direction, kind, summary, message) = match &e.payload {
        // The bytes are our own encoding, so decoding cannot fail; if it ever did, the
        // entry shows as UNKNOWN rather than breaking the page.
        Payload::Call(bytes) => {
            let c = Call::decode(bytes.as_slice()).unwrap_or_default();
            (
                "call",
                c.r#type().as_str_name().to_string(),
                summary::call(&c),
                full.then(|| mesos_proto::json::to_value(&c)),
            )
        }
        Payload::Event(bytes) => {
            let ev = Event::decode(bytes.as_slice()).unwrap_or_default();
            (
                "event",
                ev.r#type().as_str_name().to_string(),
                summary::event(&ev),
                full.then(|| mesos_proto::json::to_value(&ev)),
            )
        }
        Payload::Fault { name, arg, result } => {
            let outcome = match result {
                Ok(m) => m.clone(),
                Err(m) => format!("rejected: {m}"),
            };
            let arg_text = arg
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default();
            (
                "fault",
                "FAULT".to_string(),
                format!("{name}{arg_text}: {outcome}"),
                full.then(
                    || json!({"name": name, "arg": arg, "ok": result.is_ok(), "result": outcome}),
                ),
            )
        }
    };
    let mut v = json!({
        "seq": e.seq,
        "time": e.time,
        "direction": direction,
        "type": kind,
        "summary": summary,
    });
    if let Payload::Fault { name, .. } = &e.payload {
        v["fault"] = json!(name);
    }
    if let Some(m) = message {
        v["message"] = m;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::scheduler::call;

    fn call_of(t: call::Type) -> Call {
        let mut c = Call::default();
        c.set_type(t);
        c
    }

    #[test]
    fn ring_buffer_is_bounded_and_ordered() {
        let tl = Timeline::default();
        for _ in 0..MAX_ENTRIES + 10 {
            tl.call("fw", &call_of(call::Type::Revive));
        }
        let v = tl.entries_json("fw", None, usize::MAX, true).unwrap();
        assert_eq!(v["entries"].as_array().unwrap().len(), MAX_ENTRIES);
        assert_eq!(v["dropped"], 10);
        assert_eq!(v["entries"][0]["seq"], 10);
        assert!(v["entries"][0].get("message").is_none());
        let since = tl.entries_json("fw", Some(MAX_ENTRIES as u64 + 7), 100, false);
        let since = since.unwrap();
        assert_eq!(since["entries"].as_array().unwrap().len(), 2);
        assert_eq!(since["entries"][0]["message"]["type"], "REVIVE");
        assert_eq!(tl.entry("fw", 12).unwrap()["seq"], 12);
        assert!(tl.entry("fw", 3).is_none());
    }

    #[test]
    fn frameworks_are_bounded_and_faults_reach_all() {
        let tl = Timeline::default();
        for i in 0..MAX_FRAMEWORKS + 1 {
            tl.call(&format!("fw{i}"), &call_of(call::Type::Revive));
        }
        let idx = tl.index_json();
        assert_eq!(idx["frameworks"].as_array().unwrap().len(), MAX_FRAMEWORKS);
        assert!(tl.entries_json("fw0", None, 10, true).is_none());
        tl.fault(
            "cut-streams",
            None,
            &Ok("Fault 'cut-streams' injected".into()),
        );
        let v = tl.entries_json("fw1", None, 10, false).unwrap();
        assert_eq!(v["entries"][1]["type"], "FAULT");
        assert_eq!(v["entries"][1]["fault"], "cut-streams");
        assert_eq!(tl.index_json()["faults"].as_array().unwrap().len(), 1);
        let lines = tl.ndjson("fw1").unwrap();
        assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), 2);
    }
}
