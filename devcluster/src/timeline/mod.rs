//! The conversation between each framework and the master: the calls it made, the events
//! it received, the faults injected meanwhile, the messages between its executors and
//! their agents (executor calls and events) and between the master and its agents
//! (`RunTaskMessage`, `StatusUpdateMessage`, ...; both recorded by `agent/`), for the live page (`/`) and for
//! `GET /devcluster/timeline?framework_id=...` (JSON) and `/devcluster/timeline.ndjson`.
//!
//! Why it looks like this: benchmarks push 10,000 tasks through the master, so recording
//! must stay cheap. A call or event entry keeps the message as protobuf bytes (the bytes
//! the call came in or the event goes out as; several times smaller in memory than the
//! decoded struct, and an OFFERS event for many agents is large). A master-agent entry
//! keeps typed ids and the TaskInfo or TaskStatus its sender already shares (`Arc`): three
//! of those go by per task, and encoding each was a tenth of the cluster's work. Either is
//! decoded or turned into JSON only when someone asks.
//!
//! Bounds (all in [`crate::Bounds`], options of `devcluster`): each framework keeps at most
//! `timeline_max_entries` entries, the whole timeline at most `timeline_max_bytes` bytes
//! (the oldest entries of the cluster go first), and a message larger than
//! `timeline_max_message_bytes` is kept as that many leading bytes plus its size (a
//! client may send 16 MiB calls; the page does not need them whole). Only
//! [`MAX_FRAMEWORKS`] frameworks are kept. The timeline lives in the cluster's shared
//! state, not in a master, so it survives a master failover (which is worth watching).
//!
//! Readers never render under the lock: the bytes and records are shared (`Arc`), so a
//! snapshot is a copy of pointers and a few ids; decoding and JSON happen after the lock is released, and the long
//! answers (`full` entries, the ndjson log) are streamed in chunks, so a reader of a
//! large timeline holds neither the lock nor the whole answer in memory.

mod agent;
mod summary;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use mesos_proto::v1::executor;
use mesos_proto::v1::scheduler::{Call, Event};
use prost::Message as _;
use serde_json::{Value, json};

use crate::config::Bounds;
use crate::master::now_secs;

/// Frameworks kept; the one recorded longest ago is forgotten first.
pub(crate) const MAX_FRAMEWORKS: usize = 64;
/// Faults kept in the cluster-wide list.
const MAX_FAULTS: usize = 200;
/// What an entry costs besides its message bytes (sequence, time, queue slot), counted
/// against `timeline_max_bytes` so that many tiny entries are bounded too.
const ENTRY_OVERHEAD: usize = 64;

/// Whether an entry went to the master or came from it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Call,
    Event,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Call => "call",
            Direction::Event => "event",
        }
    }
}

/// What an entry holds: the message as it was (protobuf wire bytes), rendered lazily.
#[derive(Clone)]
enum Payload {
    /// A whole message.
    Message(Direction, Arc<[u8]>),
    /// A message larger than `timeline_max_message_bytes`: its type and summary (taken
    /// when it was recorded), its size and its first bytes.
    Truncated {
        direction: Direction,
        kind: String,
        summary: String,
        size: usize,
        prefix: Arc<[u8]>,
    },
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
        executor_id: String,
        kind: &'static str,
        body: Body,
    },
    /// An event an agent put on an executor's stream.
    ExecutorEvent {
        agent_id: String,
        executor_id: String,
        kind: &'static str,
        body: Body,
    },
    /// A message between the leading master and an agent: its typed ids and the task,
    /// group or status it carries (see `agent.rs`).
    Agent {
        agent_id: Arc<str>,
        sent: agent::Sent,
    },
}

/// A message's protobuf bytes: whole, or (over `timeline_max_message_bytes`) the first
/// bytes and the size of the whole, like [`Payload::Truncated`].
#[derive(Clone)]
pub(super) struct Body {
    bytes: Arc<[u8]>,
    size: usize,
}

impl Body {
    /// `bytes` whole, or over `max` bytes their first `max` bytes and the size.
    pub(super) fn of(bytes: Vec<u8>, max: usize) -> Body {
        let size = bytes.len();
        let bytes: Arc<[u8]> = if size <= max {
            bytes.into()
        } else {
            bytes[..max].into()
        };
        Body { bytes, size }
    }

    /// The whole message, or `None` when only a prefix was kept.
    pub(super) fn whole(&self) -> Option<&[u8]> {
        (self.bytes.len() == self.size).then_some(&self.bytes[..])
    }

    /// `(direction, type, summary, message)` of an entry holding a message of type `M`:
    /// decoded when whole (our own encoding, so decoding cannot fail; if it ever did the
    /// entry shows defaults), else its size and prefix.
    fn render<M: prost::Message + prost::Name + Default>(
        &self,
        direction: &'static str,
        kind: &str,
        summarize: fn(&M) -> String,
        full: bool,
    ) -> (&'static str, String, String, Option<Value>) {
        match self.whole() {
            Some(bytes) => {
                let m = M::decode(bytes).unwrap_or_default();
                (
                    direction,
                    kind.to_string(),
                    summarize(&m),
                    full.then(|| mesos_proto::json::to_value(&m)),
                )
            }
            None => (
                direction,
                kind.to_string(),
                format!("[{} bytes, truncated]", self.size),
                full.then(|| self.truncated_json()),
            ),
        }
    }

    /// How the entry of a truncated message shows its message.
    fn truncated_json(&self) -> Value {
        json!({
            "truncated": true,
            "size": self.size,
            "prefix_base64": base64::engine::general_purpose::STANDARD.encode(&self.bytes[..]),
        })
    }
}

impl Payload {
    /// What the entry counts against `timeline_max_bytes`.
    fn cost(&self) -> usize {
        ENTRY_OVERHEAD
            + match self {
                Payload::Message(_, b) => b.len(),
                Payload::ExecutorCall {
                    agent_id,
                    executor_id,
                    body,
                    ..
                }
                | Payload::ExecutorEvent {
                    agent_id,
                    executor_id,
                    body,
                    ..
                } => agent_id.len() + executor_id.len() + body.bytes.len(),
                Payload::Agent { agent_id, sent } => agent_id.len() + sent.cost(),
                Payload::Truncated {
                    kind,
                    summary,
                    prefix,
                    ..
                } => kind.len() + summary.len() + prefix.len(),
                Payload::Fault { name, arg, result } => {
                    name.len()
                        + arg.as_ref().map_or(0, String::len)
                        + match result {
                            Some(Ok(m) | Err(m)) => m.len(),
                            None => 0,
                        }
                }
            }
    }
}

#[derive(Clone)]
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
    /// The sum of the entries' costs.
    bytes: usize,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    frameworks: BTreeMap<String, FrameworkLog>,
    faults: VecDeque<Entry>,
    /// The sum of every framework's `bytes`.
    bytes: usize,
}

/// Where a fault was recorded, to fill in its outcome.
pub(crate) struct FaultRecord {
    entries: Vec<(String, u64)>,
    global: u64,
}

/// The recorder (one per cluster).
pub(crate) struct Timeline {
    state: Mutex<State>,
    max_entries: usize,
    max_bytes: usize,
    max_message_bytes: usize,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline::new(&Bounds::default())
    }
}

/// A copy of one framework's entries, taken under the lock and rendered after it.
pub(crate) struct Snapshot {
    framework_id: String,
    name: String,
    dropped: u64,
    entries: Vec<Entry>,
}

impl Timeline {
    /// An empty timeline with the given bounds.
    pub(crate) fn new(bounds: &Bounds) -> Timeline {
        Timeline {
            state: Mutex::new(State::default()),
            max_entries: bounds.timeline_max_entries.max(1),
            max_bytes: bounds.timeline_max_bytes,
            max_message_bytes: bounds.timeline_max_message_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, framework_id: &str, payload: Payload, name: Option<&str>) {
        let cost = payload.cost();
        let time = now_secs();
        let mut st = self.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        // One lookup by &str when the framework is known (nearly always): `entry` would
        // allocate the key on every push.
        if !st.frameworks.contains_key(framework_id) {
            if st.frameworks.len() >= MAX_FRAMEWORKS {
                let oldest = st
                    .frameworks
                    .iter()
                    .min_by_key(|(_, f)| f.touched)
                    .map(|(id, _)| id.clone());
                if let Some(id) = oldest
                    && let Some(gone) = st.frameworks.remove(&id)
                {
                    st.bytes -= gone.bytes;
                }
            }
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
        log.bytes += cost;
        log.entries.push_back(Entry { seq, time, payload });
        // Entries pushed out are freed after the lock is released: every master, agent
        // and call thread records here, and freeing an entry is a dozen `free`s.
        let mut evicted = None;
        let mut freed = 0;
        if log.entries.len() > self.max_entries
            && let Some(e) = log.entries.pop_front()
        {
            let c = e.payload.cost();
            log.bytes -= c;
            log.dropped += 1;
            freed = c;
            evicted = Some(e);
        }
        let mut evicted_more = Vec::new();
        st.bytes = st.bytes + cost - freed;
        // Over the byte bound: drop the cluster's oldest entries (by sequence) until it
        // fits. Each step looks at the front of at most MAX_FRAMEWORKS queues.
        while st.bytes > self.max_bytes {
            let oldest = st
                .frameworks
                .iter()
                .filter_map(|(id, f)| f.entries.front().map(|e| (e.seq, id)))
                .min()
                .map(|(_, id)| id.clone());
            let Some(id) = oldest else { break };
            let Some(log) = st.frameworks.get_mut(&id) else {
                break;
            };
            let Some(e) = log.entries.pop_front() else {
                break;
            };
            let c = e.payload.cost();
            log.bytes -= c;
            log.dropped += 1;
            st.bytes -= c;
            evicted_more.push(e);
        }
        drop(st);
        drop(evicted);
        drop(evicted_more);
    }

    /// The payload for a message: whole, or its prefix when it is over the bound.
    fn payload(
        &self,
        direction: Direction,
        bytes: &[u8],
        describe: impl FnOnce() -> (String, String),
    ) -> Payload {
        if bytes.len() <= self.max_message_bytes {
            return Payload::Message(direction, bytes.into());
        }
        let (kind, summary) = describe();
        Payload::Truncated {
            direction,
            kind,
            summary,
            size: bytes.len(),
            prefix: bytes[..self.max_message_bytes].into(),
        }
    }

    /// The bytes of a message to keep: whole, or its prefix when over the bound.
    fn body(&self, bytes: Vec<u8>) -> Body {
        Body::of(bytes, self.max_message_bytes)
    }

    /// A call the master accepted from `framework_id`.
    pub(crate) fn call(&self, framework_id: &str, c: &Call) {
        let name = c.subscribe.as_ref().map(|s| s.framework_info.name.as_str());
        let payload = self.payload(Direction::Call, &c.encode_to_vec(), || {
            (c.r#type().as_str_name().to_string(), summary::call(c))
        });
        self.push(framework_id, payload, name);
    }

    /// An event put on `framework_id`'s subscription stream.
    pub(crate) fn event(&self, framework_id: &str, e: &Event) {
        self.event_encoded(framework_id, e, &e.encode_to_vec());
    }

    /// [`Timeline::event`] for an event the caller has already encoded as protobuf
    /// (the master does, for the stream): each event is encoded once, not twice.
    pub(crate) fn event_encoded(&self, framework_id: &str, e: &Event, protobuf: &[u8]) {
        let payload = self.payload(Direction::Event, protobuf, || {
            (e.r#type().as_str_name().to_string(), summary::event(e))
        });
        self.push(framework_id, payload, None);
    }

    /// [`Timeline::call`] for a call (not a SUBSCRIBE) that arrived as protobuf: its body
    /// is kept as it came (or its prefix, over the bound) instead of encoding the decoded
    /// call again.
    pub(crate) fn call_encoded(&self, framework_id: &str, c: &Call, protobuf: &[u8]) {
        let payload = self.payload(Direction::Call, protobuf, || {
            (c.r#type().as_str_name().to_string(), summary::call(c))
        });
        self.push(framework_id, payload, None);
    }

    /// A call executor -> agent (SUBSCRIBE, UPDATE, MESSAGE), in its framework's timeline.
    pub(crate) fn executor_call(&self, agent_id: &str, c: &executor::Call) {
        let payload = Payload::ExecutorCall {
            agent_id: agent_id.to_string(),
            executor_id: c.executor_id.value.clone(),
            kind: c.r#type().as_str_name(),
            body: self.body(c.encode_to_vec()),
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
            kind: e.r#type().as_str_name(),
            body: self.body(e.encode_to_vec()),
        };
        self.push(framework_id, payload, None);
    }

    /// A message the master sent to agent `agent_id` (recorded by the agent on receipt;
    /// see `agent.rs`).
    pub(crate) fn master_to_agent(&self, agent_id: &Arc<str>, m: &crate::messages::ToAgent) {
        if let Some((fw, payload)) = agent::master_to_agent(agent_id, m, self.max_message_bytes) {
            self.push(fw, payload, None);
        }
    }

    /// A message agent `agent_id` sent to the leading master (see `agent.rs`).
    pub(crate) fn agent_to_master(&self, agent_id: &Arc<str>, m: &crate::messages::ToMaster) {
        if let Some((fw, payload)) = agent::agent_to_master(agent_id, m, self.max_message_bytes) {
            self.push(fw, payload, None);
        }
    }

    /// A fault about to be applied: it goes into every framework's timeline (a fault
    /// concerns them all) and into the cluster-wide list, before what it causes; its
    /// outcome follows with [`Timeline::fault_done`].
    pub(crate) fn fault_begin(&self, name: &str, arg: Option<&str>) -> FaultRecord {
        // The name and argument come from a client: keep a bounded piece of them.
        let arg = arg.map(|a| a.chars().take(256).collect::<String>());
        let ids: Vec<String> = self.lock().frameworks.keys().cloned().collect();
        let make = || Payload::Fault {
            name: name.chars().take(256).collect(),
            arg: arg.clone(),
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
        let (frameworks, faults): (Vec<Value>, Vec<Entry>) = {
            let st = self.lock();
            let frameworks = st
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
            (frameworks, st.faults.iter().cloned().collect())
        };
        let faults: Vec<Value> = faults.iter().map(|e| entry_json(e, "", true)).collect();
        json!({ "frameworks": frameworks, "faults": faults })
    }

    /// A copy of the entries of one framework with `seq > since`, at most `limit` of the
    /// newest. `None` for an unknown framework. Only pointers are copied under the lock.
    pub(crate) fn snapshot(
        &self,
        framework_id: &str,
        since: Option<u64>,
        limit: usize,
    ) -> Option<Snapshot> {
        let st = self.lock();
        let log = st.frameworks.get(framework_id)?;
        // Entries are in sequence order: find the first newer one by binary search.
        let first = since.map_or(0, |s| log.entries.partition_point(|e| e.seq <= s));
        let newer = log.entries.len() - first;
        let skip = first + newer.saturating_sub(limit);
        Some(Snapshot {
            framework_id: framework_id.to_string(),
            name: log.name.clone(),
            dropped: log.dropped,
            entries: log.entries.range(skip..).cloned().collect(),
        })
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
        let snap = self.snapshot(framework_id, since, limit)?;
        let entries: Vec<Value> = snap
            .entries
            .iter()
            .map(|e| entry_json(e, &snap.framework_id, !brief))
            .collect();
        Some(json!({
            "framework_id": snap.framework_id,
            "name": snap.name,
            "dropped": snap.dropped,
            "entries": entries,
        }))
    }

    /// One entry in full (the page shows it when clicked).
    pub(crate) fn entry(&self, framework_id: &str, seq: u64) -> Option<Value> {
        let e = {
            let st = self.lock();
            let log = st.frameworks.get(framework_id)?;
            let i = log.entries.binary_search_by_key(&seq, |e| e.seq).ok()?;
            log.entries[i].clone()
        };
        Some(entry_json(&e, framework_id, true))
    }

    /// The whole timeline of one framework as newline-delimited JSON, one full entry
    /// per line (the downloadable log).
    #[cfg(test)]
    pub(crate) fn ndjson(&self, framework_id: &str) -> Option<Vec<u8>> {
        let snap = self.snapshot(framework_id, None, usize::MAX)?;
        Some(snap.ndjson_pieces().flatten().collect())
    }

    /// The bytes the timeline holds now (messages and per-entry overhead).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Snapshot {
    /// The log as newline-delimited JSON, one piece per entry, rendered as it is consumed.
    pub(crate) fn ndjson_pieces(self) -> impl Iterator<Item = Vec<u8>> + Send + 'static {
        let framework_id = self.framework_id;
        self.entries.into_iter().map(move |e| {
            let mut line = entry_json(&e, &framework_id, true).to_string().into_bytes();
            line.push(b'\n');
            line
        })
    }

    /// The answer of `GET /devcluster/timeline?framework_id=F` as JSON text, one piece per
    /// entry (the same document [`Timeline::entries_json`] gives), rendered as consumed.
    pub(crate) fn json_pieces(self, brief: bool) -> impl Iterator<Item = Vec<u8>> + Send + 'static {
        let head = format!(
            "{{\"framework_id\":{},\"name\":{},\"dropped\":{},\"entries\":[",
            Value::from(self.framework_id.as_str()),
            Value::from(self.name),
            self.dropped
        )
        .into_bytes();
        let framework_id = self.framework_id;
        let entries = self.entries.into_iter().enumerate().map(move |(i, e)| {
            let mut piece = if i == 0 { Vec::new() } else { vec![b','] };
            piece.extend(
                entry_json(&e, &framework_id, !brief)
                    .to_string()
                    .into_bytes(),
            );
            piece
        });
        std::iter::once(head)
            .chain(entries)
            .chain(std::iter::once(b"]}".to_vec()))
    }
}

/// One entry: `{seq, time, direction, type, summary[, message]}`; an agent-executor
/// message (`direction` `executor_call` or `executor_event`) also has `agent_id` and
/// `executor_id`, a master-agent message (`to_agent`, `from_agent`; `type` is its Mesos
/// name, e.g. `RunTaskMessage`) `agent_id`. `framework_id` is the timeline the entry is
/// in (master-agent entries show it among their ids).
fn entry_json(e: &Entry, framework_id: &str, full: bool) -> Value {
    let mut ids = None;
    let mut ids_of = None;
    let (direction, kind, summary, message) = match &e.payload {
        // The bytes are our own encoding, so decoding cannot fail; if it ever did, the
        // entry shows as UNKNOWN rather than breaking the page.
        Payload::Message(Direction::Call, bytes) => {
            let c = Call::decode(&bytes[..]).unwrap_or_default();
            (
                "call",
                c.r#type().as_str_name().to_string(),
                summary::call(&c),
                full.then(|| mesos_proto::json::to_value(&c)),
            )
        }
        Payload::Message(Direction::Event, bytes) => {
            let ev = Event::decode(&bytes[..]).unwrap_or_default();
            (
                "event",
                ev.r#type().as_str_name().to_string(),
                summary::event(&ev),
                full.then(|| mesos_proto::json::to_value(&ev)),
            )
        }
        Payload::Truncated {
            direction,
            kind,
            summary,
            size,
            prefix,
        } => (
            direction.as_str(),
            kind.clone(),
            format!("{summary} [{size} bytes, truncated]"),
            full.then(|| {
                json!({
                    "truncated": true,
                    "size": size,
                    "prefix_base64": base64::engine::general_purpose::STANDARD.encode(prefix),
                })
            }),
        ),
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
        Payload::ExecutorCall {
            agent_id,
            executor_id,
            kind,
            body,
        } => {
            ids = Some((agent_id.clone(), executor_id.clone()));
            body.render::<executor::Call>("executor_call", kind, summary::executor_call, full)
        }
        Payload::ExecutorEvent {
            agent_id,
            executor_id,
            kind,
            body,
        } => {
            ids = Some((agent_id.clone(), executor_id.clone()));
            body.render::<executor::Event>("executor_event", kind, summary::executor_event, full)
        }
        Payload::Agent { agent_id, sent } => {
            ids_of = Some(agent_id.to_string());
            agent::render(sent, framework_id, full)
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

    const MAX_ENTRIES: usize = 50;

    fn small() -> Timeline {
        Timeline::new(&Bounds {
            timeline_max_entries: MAX_ENTRIES,
            ..Bounds::default()
        })
    }

    fn call_of(t: call::Type) -> Call {
        let mut c = Call::default();
        c.set_type(t);
        c
    }

    fn message_call(bytes: usize) -> Call {
        let mut c = call_of(call::Type::Message);
        c.message = Some(call::Message {
            data: vec![7u8; bytes],
            ..Default::default()
        });
        c
    }

    #[test]
    fn ring_buffer_is_bounded_and_ordered() {
        let tl = small();
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
        let tl = small();
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

    /// Row 1 of issue 17: 40 calls of 11 MB were all kept in full. Now a large message
    /// keeps its prefix and size, and the whole timeline stays under its byte bound.
    #[test]
    fn large_messages_keep_a_prefix_and_bytes_are_bounded() {
        let tl = Timeline::new(&Bounds {
            timeline_max_bytes: 64 << 10,
            timeline_max_message_bytes: 1024,
            ..Bounds::default()
        });
        for i in 0..40 {
            tl.call(&format!("fw{}", i % 3), &message_call(200_000));
        }
        assert!(tl.bytes() <= 64 << 10, "{} bytes", tl.bytes());
        let v = tl.entries_json("fw0", None, 1000, false).unwrap();
        let last = v["entries"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["type"], "MESSAGE");
        assert_eq!(last["message"]["truncated"], true);
        let size = last["message"]["size"].as_u64().unwrap();
        assert!(size > 200_000, "{size}");
        let prefix = base64::engine::general_purpose::STANDARD
            .decode(last["message"]["prefix_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(prefix.len(), 1024);
        assert!(last["summary"].as_str().unwrap().contains("truncated"));
        // Small messages still fill the byte bound, and the oldest go first.
        for _ in 0..5000 {
            tl.call("fw9", &call_of(call::Type::Revive));
        }
        assert!(tl.bytes() <= 64 << 10, "{} bytes", tl.bytes());
        let v = tl.entries_json("fw9", None, usize::MAX, true).unwrap();
        assert!(v["dropped"].as_u64().unwrap() > 0);
        assert!(
            tl.entries_json("fw0", None, 10, true)
                .is_none_or(|v| v["entries"].as_array().unwrap().is_empty())
        );
    }

    /// Executor messages (an executor's MESSAGE may be as large as a scheduler's) are
    /// bounded the same way: a prefix, its size, and the type still shown.
    #[test]
    fn large_executor_messages_keep_a_prefix() {
        use mesos_proto::v1::executor::call as ecall;
        let tl = Timeline::new(&Bounds {
            timeline_max_bytes: 64 << 10,
            timeline_max_message_bytes: 512,
            ..Bounds::default()
        });
        let mut c = executor::Call::default();
        c.set_type(ecall::Type::Message);
        c.framework_id.value = "fw".into();
        c.executor_id.value = "ex".into();
        c.message = Some(ecall::Message {
            data: vec![1u8; 300_000],
        });
        for _ in 0..20 {
            tl.executor_call("agent-S0", &c);
        }
        assert!(tl.bytes() <= 64 << 10, "{} bytes", tl.bytes());
        let v = tl.entries_json("fw", None, 10, false).unwrap();
        let last = v["entries"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["type"], "MESSAGE");
        assert_eq!(last["executor_id"], "ex");
        assert_eq!(last["message"]["truncated"], true);
        assert!(last["message"]["size"].as_u64().unwrap() > 300_000);
    }

    /// Row 2 of issue 17: answers were rendered holding the timeline's lock, so one large
    /// GET stalled every call and event (a call records itself there). Now a render in
    /// progress holds no lock: recording goes on between its pieces (a lock held by the
    /// iterator would deadlock this thread).
    #[test]
    fn rendering_holds_no_lock() {
        let tl = small();
        for _ in 0..10 {
            tl.call("fw", &message_call(100));
        }
        let mut json = tl.snapshot("fw", None, 100).unwrap().json_pieces(false);
        let mut ndjson = tl.snapshot("fw", None, 100).unwrap().ndjson_pieces();
        let mut doc = json.next().unwrap();
        assert!(ndjson.next().is_some());
        tl.call("fw", &call_of(call::Type::Revive));
        let record = tl.fault_begin("cut-streams", None);
        tl.fault_done(record, &Ok("ok".into()));
        assert_eq!(tl.index_json()["frameworks"][0]["entries"], 12);
        // The renders go on, with the entries of their snapshots.
        doc.extend(json.flatten());
        let v: Value = serde_json::from_slice(&doc).unwrap();
        assert_eq!(v["entries"].as_array().unwrap().len(), 10);
        assert_eq!(ndjson.count(), 9);
    }

    /// The streamed JSON answer is the document `entries_json` gives.
    #[test]
    fn streamed_json_is_the_same_document() {
        let tl = small();
        tl.call("fw", &call_of(call::Type::Revive));
        tl.call("fw", &message_call(10));
        let whole = tl.entries_json("fw", None, 10, false).unwrap();
        let pieces: Vec<u8> = tl
            .snapshot("fw", None, 10)
            .unwrap()
            .json_pieces(false)
            .flatten()
            .collect();
        let streamed: Value = serde_json::from_slice(&pieces).unwrap();
        assert_eq!(streamed, whole);
    }
}
