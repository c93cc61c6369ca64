//! The conversation between each framework and the master: the calls it made, the events
//! it received, the faults injected meanwhile, the messages between its executors and
//! their agents (executor calls and events) and between the master and its agents
//! (`RunTaskMessage`, `StatusUpdateMessage`, ...; both recorded by `agent/`), for the live page (`/`) and for
//! `GET /devcluster/timeline?framework_id=...` (JSON) and `/devcluster/timeline.ndjson`.
//!
//! Why it looks like this: benchmarks push 10,000 tasks through the master, so recording
//! must stay cheap. An entry keeps the message as protobuf bytes (one encode, several
//! times smaller in memory than the decoded struct; an OFFERS event for many agents is
//! large); it is decoded and turned into JSON only when someone asks. Each framework has
//! a bounded ring buffer ([`MAX_ENTRIES`]), and only [`MAX_FRAMEWORKS`] frameworks are
//! kept, so a long run holds a fixed amount of memory. The timeline lives in the cluster's shared
//! state, not in a master, so it survives a master failover (which is worth watching).

mod agent;
mod summary;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use mesos_proto::v1::executor;
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
    /// `result` is `None` while the fault is being applied: it is recorded before, so
    /// that it comes before what it causes.
    Fault {
        name: String,
        arg: Option<String>,
        result: Option<Result<String, String>>,
    },
    /// An executor's call to its agent (the call names framework and executor).
    ExecutorCall {
        agent_id: String,
        bytes: Vec<u8>,
    },
    /// An event an agent put on an executor's stream.
    ExecutorEvent {
        agent_id: String,
        executor_id: String,
        bytes: Vec<u8>,
    },
    /// A message between the leading master and an agent: its ids (small JSON) and, for
    /// the large ones, the TaskInfo, TaskGroupInfo or TaskStatus as protobuf bytes.
    Agent {
        agent_id: String,
        kind: agent::AgentMessage,
        ids: Value,
        bytes: Vec<u8>,
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

/// Where a fault was recorded, to fill in its outcome.
pub(crate) struct FaultRecord {
    entries: Vec<(String, u64)>,
    global: u64,
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
        let log = st.frameworks.entry(framework_id.to_string()).or_default();
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

    /// A call executor -> agent (SUBSCRIBE, UPDATE, MESSAGE), in its framework's timeline.
    pub(crate) fn executor_call(&self, agent_id: &str, c: &executor::Call) {
        let payload = Payload::ExecutorCall {
            agent_id: agent_id.to_string(),
            bytes: c.encode_to_vec(),
        };
        self.push(&c.framework_id.value, payload, None);
    }

    /// An event agent -> executor (SUBSCRIBED, LAUNCH, KILL, ACKNOWLEDGED, ...).
    pub(crate) fn executor_event(
        &self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        e: &executor::Event,
    ) {
        let payload = Payload::ExecutorEvent {
            agent_id: agent_id.to_string(),
            executor_id: executor_id.to_string(),
            bytes: e.encode_to_vec(),
        };
        self.push(framework_id, payload, None);
    }

    /// A message the master sent to agent `agent_id` (recorded by the agent on receipt;
    /// see `agent.rs`).
    pub(crate) fn master_to_agent(&self, agent_id: &str, m: &crate::messages::ToAgent) {
        if let Some((fw, payload)) = agent::master_to_agent(agent_id, m) {
            self.push(fw, payload, None);
        }
    }

    /// A message agent `agent_id` sent to the leading master (see `agent.rs`).
    pub(crate) fn agent_to_master(&self, agent_id: &str, m: &crate::messages::ToMaster) {
        if let Some((fw, payload)) = agent::agent_to_master(agent_id, m) {
            self.push(fw, payload, None);
        }
    }

    /// A fault about to be applied: it goes into every framework's timeline (a fault
    /// concerns them all) and into the cluster-wide list, before what it causes; its
    /// outcome follows with [`Timeline::fault_done`].
    pub(crate) fn fault_begin(&self, name: &str, arg: Option<&str>) -> FaultRecord {
        let ids: Vec<String> = self.lock().frameworks.keys().cloned().collect();
        let make = || Payload::Fault {
            name: name.to_string(),
            arg: arg.map(str::to_string),
            result: None,
        };
        let mut entries = Vec::new();
        for id in ids {
            self.push(&id, make(), None);
            if let Some(e) = self
                .lock()
                .frameworks
                .get(&id)
                .and_then(|f| f.entries.back())
            {
                entries.push((id, e.seq));
            }
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
        FaultRecord {
            entries,
            global: seq,
        }
    }

    /// The outcome of a fault recorded with [`Timeline::fault_begin`].
    pub(crate) fn fault_done(&self, record: FaultRecord, result: &Result<String, String>) {
        let mut st = self.lock();
        let set = |list: &mut VecDeque<Entry>, seq: u64| {
            if let Ok(i) = list.binary_search_by_key(&seq, |e| e.seq)
                && let Payload::Fault { result: r, .. } = &mut list[i].payload
            {
                *r = Some(result.clone());
            }
        };
        for (id, seq) in record.entries {
            if let Some(f) = st.frameworks.get_mut(&id) {
                set(&mut f.entries, seq);
            }
        }
        set(&mut st.faults, record.global);
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

/// One entry: `{seq, time, direction, type, summary[, message]}`; an agent-executor
/// message (`direction` `executor_call` or `executor_event`) also has `agent_id` and
/// `executor_id`, a master-agent message (`to_agent`, `from_agent`; `type` is its Mesos
/// name, e.g. `RunTaskMessage`) `agent_id`.
fn entry_json(e: &Entry, full: bool) -> Value {
    let mut ids = None;
    let mut ids_of = None;
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
                Some(Ok(m)) => m.clone(),
                Some(Err(m)) => format!("rejected: {m}"),
                None => "being applied".to_string(),
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
                    || json!({"name": name, "arg": arg, "ok": result.as_ref().map(|r| r.is_ok()), "result": outcome}),
                ),
            )
        }
        Payload::ExecutorCall { agent_id, bytes } => {
            let c = executor::Call::decode(bytes.as_slice()).unwrap_or_default();
            ids = Some((agent_id.clone(), c.executor_id.value.clone()));
            (
                "executor_call",
                c.r#type().as_str_name().to_string(),
                summary::executor_call(&c),
                full.then(|| mesos_proto::json::to_value(&c)),
            )
        }
        Payload::ExecutorEvent {
            agent_id,
            executor_id,
            bytes,
        } => {
            let ev = executor::Event::decode(bytes.as_slice()).unwrap_or_default();
            ids = Some((agent_id.clone(), executor_id.clone()));
            (
                "executor_event",
                ev.r#type().as_str_name().to_string(),
                summary::executor_event(&ev),
                full.then(|| mesos_proto::json::to_value(&ev)),
            )
        }
        Payload::Agent {
            agent_id,
            kind,
            ids,
            bytes,
        } => {
            ids_of = Some(agent_id.clone());
            agent::render(*kind, ids, bytes, full)
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
    if let Some((agent_id, executor_id)) = ids {
        v["agent_id"] = json!(agent_id);
        v["executor_id"] = json!(executor_id);
    }
    if let Some(agent_id) = ids_of {
        v["agent_id"] = json!(agent_id);
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
    fn executor_messages_name_agent_and_executor() {
        use mesos_proto::v1::executor::{call as ecall, event as eevent};
        let tl = Timeline::default();
        let mut c = executor::Call::default();
        c.set_type(ecall::Type::Subscribe);
        c.framework_id.value = "fw".into();
        c.executor_id.value = "ex".into();
        c.subscribe = Some(ecall::Subscribe::default());
        tl.executor_call("agent-S0", &c);
        let mut e = executor::Event::default();
        e.set_type(eevent::Type::Shutdown);
        tl.executor_event("fw", "agent-S0", "ex", &e);
        let v = tl.entries_json("fw", None, 10, false).unwrap();
        let (a, b) = (&v["entries"][0], &v["entries"][1]);
        assert_eq!(a["direction"], "executor_call");
        assert_eq!(a["type"], "SUBSCRIBE");
        assert_eq!(a["agent_id"], "agent-S0");
        assert_eq!(a["executor_id"], "ex");
        assert_eq!(a["message"]["framework_id"]["value"], "fw");
        assert_eq!(b["direction"], "executor_event");
        assert_eq!(b["type"], "SHUTDOWN");
        assert_eq!(b["executor_id"], "ex");
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
        let record = tl.fault_begin("cut-streams", None);
        tl.call("fw1", &call_of(call::Type::Revive));
        tl.fault_done(record, &Ok("Fault 'cut-streams' injected".into()));
        let v = tl.entries_json("fw1", None, 10, false).unwrap();
        assert_eq!(v["entries"][1]["type"], "FAULT");
        assert_eq!(v["entries"][1]["fault"], "cut-streams");
        // Recorded before what it caused, with its outcome filled in after.
        assert_eq!(v["entries"][2]["type"], "REVIVE");
        assert_eq!(v["entries"][1]["message"]["ok"], true);
        assert_eq!(
            v["entries"][1]["message"]["result"],
            "Fault 'cut-streams' injected"
        );
        assert_eq!(tl.index_json()["faults"].as_array().unwrap().len(), 1);
        let lines = tl.ndjson("fw1").unwrap();
        assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), 3);
    }
}
