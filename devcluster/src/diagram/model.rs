//! The sequence model: parties (lanes) and steps (arrows, folded heartbeats, faults),
//! built from a recorded timeline. The SVG renderer and the stable text form both read it.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::{Direction, Entry, Timeline};

/// What kind of party a lane stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartyKind {
    /// A framework (its scheduler).
    Framework,
    /// The leading master (one lane, whichever master leads).
    Master,
    /// An agent.
    Agent,
    /// An executor (on an agent).
    Executor,
}

impl PartyKind {
    /// `framework`, `master`, `agent`, `executor`.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Framework => "framework",
            PartyKind::Master => "master",
            PartyKind::Agent => "agent",
            PartyKind::Executor => "executor",
        }
    }
}

/// One lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// What it is.
    pub kind: PartyKind,
    /// Its id (framework, agent or executor id; `master` for the master).
    pub id: String,
    /// Its short name, given in order of appearance: `F1`, `M`, `A1`, `E1`.
    pub short: String,
    /// A framework's name; for an executor, the short name of its agent.
    pub note: String,
    /// An executor's agent (a lane index).
    pub agent: Option<usize>,
}

/// One message between two lanes.
#[derive(Debug, Clone)]
pub struct Arrow {
    /// Sender lane.
    pub from: usize,
    /// Receiver lane.
    pub to: usize,
    /// Which way it went (call, event, executor call, executor event).
    pub direction: Direction,
    /// The Mesos type name.
    pub kind: String,
    /// The recorder's one-line summary (ids in full).
    pub summary: String,
    /// The stable detail: task ids shortened (`T1`) and states, from the full message.
    pub detail: String,
    /// The entry's sequence number (to fetch it in full).
    pub seq: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// The framework whose timeline holds the entry.
    pub framework_id: String,
}

/// An injected fault, drawn across the lanes it struck.
#[derive(Debug, Clone)]
pub struct FaultMark {
    /// The fault's name (`fail-over-leader`, `lose-agent`, ...).
    pub name: String,
    /// The recorder's summary (name, argument and outcome).
    pub summary: String,
    /// The lanes it struck (sorted).
    pub lanes: Vec<usize>,
    /// The entry's sequence number.
    pub seq: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// The framework whose timeline holds the entry (a fault is in all of them).
    pub framework_id: String,
}

/// One row of the diagram.
#[derive(Debug, Clone)]
pub enum Step {
    /// A message.
    Message(Arrow),
    /// Consecutive heartbeats, folded into one row.
    Heartbeats {
        /// How many.
        count: usize,
        /// The lanes they went between (sorted).
        lanes: Vec<usize>,
        /// Time of the first.
        time: f64,
    },
    /// A fault.
    Fault(FaultMark),
}

/// A conversation as lanes and rows.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    /// The lanes, left to right: frameworks, the master, then each agent followed by its
    /// executors.
    pub parties: Vec<Party>,
    /// The rows, in the order recorded.
    pub steps: Vec<Step>,
    /// Entries the recorder had dropped before this record (older ones).
    pub dropped: u64,
    /// Time of the first entry (times are drawn relative to it).
    pub start_time: f64,
}

/// Two recordings of the same fault (it goes into every framework's timeline) are this
/// close in time; a second injection of the same fault is a person pressing a button.
const SAME_FAULT_SECS: f64 = 0.25;

type Key = (PartyKind, String);

/// Lanes by key, in order of first appearance (sorted into their final order later).
#[derive(Default)]
struct Lanes {
    order: Vec<Key>,
    index: HashMap<Key, usize>,
    executor_agent: HashMap<Key, String>,
    notes: HashMap<Key, String>,
}

impl Lanes {
    fn add(&mut self, kind: PartyKind, id: &str) -> Key {
        let key = (kind, id.to_string());
        if !self.index.contains_key(&key) {
            self.index.insert(key.clone(), self.order.len());
            self.order.push(key.clone());
        }
        key
    }
}

/// An executor lane's id: executor ids are unique per framework, so the lane is keyed by
/// framework, agent and executor.
fn executor_key(framework: &str, agent: &str, executor: &str) -> String {
    format!("{framework}/{agent}/{executor}")
}

impl Sequence {
    /// Builds the sequence of a recorded timeline: entries of all frameworks in recorded
    /// order, a fault once (the recorder puts it in every framework's timeline),
    /// consecutive heartbeats folded into one row.
    pub fn from_timeline(t: &Timeline) -> Sequence {
        let mut all: Vec<(&str, &Entry)> = t
            .frameworks
            .iter()
            .flat_map(|f| f.entries.iter().map(move |e| (f.id.as_str(), e)))
            .collect();
        all.sort_by_key(|(_, e)| e.seq);
        let names: HashMap<&str, &str> = t
            .frameworks
            .iter()
            .map(|f| (f.id.as_str(), f.name.as_str()))
            .collect();

        // Pass 1: the lanes, in order of appearance.
        let mut lanes = Lanes::default();
        for (fw, e) in &all {
            match e.direction {
                Direction::Call | Direction::Event => {
                    lanes.add(PartyKind::Framework, fw);
                    lanes.add(PartyKind::Master, "master");
                }
                Direction::ExecutorCall | Direction::ExecutorEvent => {
                    let agent = e.agent_id.as_deref().unwrap_or("");
                    let exec = e.executor_id.as_deref().unwrap_or("");
                    lanes.add(PartyKind::Agent, agent);
                    let k = lanes.add(PartyKind::Executor, &executor_key(fw, agent, exec));
                    lanes.executor_agent.insert(k.clone(), agent.to_string());
                    lanes.notes.insert(k, exec.to_string());
                }
                Direction::ToAgent | Direction::FromAgent => {
                    lanes.add(PartyKind::Master, "master");
                    lanes.add(PartyKind::Agent, e.agent_id.as_deref().unwrap_or(""));
                }
                Direction::Fault => {}
            }
        }
        // Faults strike lanes that may not have spoken yet (an agent lost before any of
        // its executors spoke): add those lanes too.
        let agents_seen: Vec<String> = lanes
            .order
            .iter()
            .filter(|(k, _)| *k == PartyKind::Agent)
            .map(|(_, id)| id.clone())
            .collect();
        let mut struck: Vec<Vec<Key>> = Vec::new();
        for (fw, e) in &all {
            if e.direction == Direction::Fault {
                let keys = fault_lanes(e, fw, &agents_seen, &lanes);
                for (kind, id) in &keys {
                    lanes.add(*kind, id);
                }
                struck.push(keys);
            }
        }

        // The final order: frameworks, master, then each agent followed by its executors.
        let mut keys: Vec<Key> = lanes.order.clone();
        let first = |k: &Key| lanes.index[k];
        let agent_of = |k: &Key| -> Option<usize> {
            let a = lanes.executor_agent.get(k)?;
            lanes.index.get(&(PartyKind::Agent, a.clone())).copied()
        };
        keys.sort_by_key(|k| match k.0 {
            PartyKind::Framework => (0, first(k), 0, 0),
            PartyKind::Master => (1, 0, 0, 0),
            PartyKind::Agent => (2, first(k), 0, 0),
            PartyKind::Executor => (2, agent_of(k).unwrap_or(usize::MAX), 1, first(k)),
        });
        let position: HashMap<Key, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let mut counters: HashMap<PartyKind, usize> = HashMap::new();
        let mut parties: Vec<Party> = keys
            .iter()
            .map(|k| {
                let n = counters.entry(k.0).or_default();
                *n += 1;
                let short = match k.0 {
                    PartyKind::Framework => format!("F{n}"),
                    PartyKind::Master => "M".to_string(),
                    PartyKind::Agent => format!("A{n}"),
                    PartyKind::Executor => format!("E{n}"),
                };
                let (id, note) = match k.0 {
                    PartyKind::Framework => (
                        k.1.clone(),
                        names.get(k.1.as_str()).copied().unwrap_or("").to_string(),
                    ),
                    PartyKind::Executor => (
                        lanes.notes.get(k).cloned().unwrap_or_default(),
                        String::new(),
                    ),
                    _ => (k.1.clone(), String::new()),
                };
                Party {
                    kind: k.0,
                    id,
                    short,
                    note,
                    agent: lanes
                        .executor_agent
                        .get(k)
                        .and_then(|a| position.get(&(PartyKind::Agent, a.clone())).copied()),
                }
            })
            .collect();
        for i in 0..parties.len() {
            if let Some(a) = parties[i].agent {
                parties[i].note = parties[a].short.clone();
            }
        }

        // Pass 2: the rows.
        let lane = |kind: PartyKind, id: &str| position[&(kind, id.to_string())];
        let mut tasks = TaskNames::default();
        let states = UpdateStates::of(all.iter().map(|(_, e)| *e));
        let mut steps: Vec<Step> = Vec::new();
        let mut struck = struck.into_iter();
        for (fw, e) in &all {
            let (from, to) = match e.direction {
                Direction::Fault => {
                    let keys = struck.next().unwrap_or_default();
                    let duplicate = steps.iter().rev().find_map(|s| match s {
                        Step::Fault(f) => Some(f),
                        _ => None,
                    });
                    if duplicate.is_some_and(|f| {
                        fault_head(&f.summary) == fault_head(&e.summary)
                            && (e.time - f.time).abs() < SAME_FAULT_SECS
                    }) {
                        continue;
                    }
                    let mut struck_lanes: Vec<usize> = keys.iter().map(|k| position[k]).collect();
                    struck_lanes.sort_unstable();
                    struck_lanes.dedup();
                    steps.push(Step::Fault(FaultMark {
                        name: e.fault.clone().unwrap_or_else(|| fault_name(e)),
                        summary: e.summary.clone(),
                        lanes: struck_lanes,
                        seq: e.seq,
                        time: e.time,
                        framework_id: fw.to_string(),
                    }));
                    continue;
                }
                Direction::Call => (
                    lane(PartyKind::Framework, fw),
                    lane(PartyKind::Master, "master"),
                ),
                Direction::Event => (
                    lane(PartyKind::Master, "master"),
                    lane(PartyKind::Framework, fw),
                ),
                Direction::ToAgent | Direction::FromAgent => {
                    let m = lane(PartyKind::Master, "master");
                    let a = lane(PartyKind::Agent, e.agent_id.as_deref().unwrap_or(""));
                    if e.direction == Direction::ToAgent {
                        (m, a)
                    } else {
                        (a, m)
                    }
                }
                Direction::ExecutorCall | Direction::ExecutorEvent => {
                    let agent = e.agent_id.as_deref().unwrap_or("");
                    let exec = e.executor_id.as_deref().unwrap_or("");
                    let a = lane(PartyKind::Agent, agent);
                    let x = lane(PartyKind::Executor, &executor_key(fw, agent, exec));
                    if e.direction == Direction::ExecutorCall {
                        (x, a)
                    } else {
                        (a, x)
                    }
                }
            };
            if e.kind == "HEARTBEAT" {
                if let Some(Step::Heartbeats { count, lanes, .. }) = steps.last_mut() {
                    *count += 1;
                    for l in [from, to] {
                        if let Err(i) = lanes.binary_search(&l) {
                            lanes.insert(i, l);
                        }
                    }
                } else {
                    let mut lanes = vec![from.min(to), from.max(to)];
                    lanes.dedup();
                    steps.push(Step::Heartbeats {
                        count: 1,
                        lanes,
                        time: e.time,
                    });
                }
                continue;
            }
            steps.push(Step::Message(Arrow {
                from,
                to,
                direction: e.direction,
                kind: e.kind.clone(),
                summary: e.summary.clone(),
                detail: detail(e, &mut tasks, &states),
                seq: e.seq,
                time: e.time,
                framework_id: fw.to_string(),
            }));
        }
        Sequence {
            parties,
            steps,
            dropped: t.frameworks.iter().map(|f| f.dropped).sum(),
            start_time: all.first().map_or(0.0, |(_, e)| e.time),
        }
    }

    /// The stable form: the parties, then one line per message and fault, ids replaced by
    /// short names (`F1`, `M`, `A1`, `E1`, `T1`), no times, no heartbeats. Tests compare
    /// it instead of the SVG's bytes (see the module documentation).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for p in &self.parties {
            let _ = match p.kind {
                PartyKind::Framework => writeln!(out, "party {} framework {:?}", p.short, p.note),
                PartyKind::Executor => writeln!(out, "party {} executor on {}", p.short, p.note),
                k => writeln!(out, "party {} {}", p.short, k.as_str()),
            };
        }
        for s in &self.steps {
            match s {
                Step::Message(a) => {
                    let from = &self.parties[a.from].short;
                    let to = &self.parties[a.to].short;
                    let _ = write!(out, "{from} -> {to}: {}", a.kind);
                    if !a.detail.is_empty() {
                        let _ = write!(out, " {}", a.detail);
                    }
                    out.push('\n');
                }
                Step::Fault(f) => {
                    let at: Vec<&str> = f
                        .lanes
                        .iter()
                        .map(|l| self.parties[*l].short.as_str())
                        .collect();
                    let _ = writeln!(out, "fault {} at {}", f.name, at.join(" "));
                }
                Step::Heartbeats { .. } => {}
            }
        }
        out
    }

    /// The messages between two parties (by short name, `F1`, `M`, `A1`, ...), in order,
    /// as [`Sequence::to_text`] writes them: one pair's conversation keeps its order from
    /// run to run even where messages of different pairs cross in flight.
    pub fn between(&self, a: &str, b: &str) -> Vec<String> {
        let pair = |x: usize, y: usize| {
            let (x, y) = (&self.parties[x].short, &self.parties[y].short);
            (x == a && y == b) || (x == b && y == a)
        };
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Message(m) if pair(m.from, m.to) => {
                    let mut line = format!(
                        "{} -> {}: {}",
                        self.parties[m.from].short, self.parties[m.to].short, m.kind
                    );
                    if !m.detail.is_empty() {
                        line.push(' ');
                        line.push_str(&m.detail);
                    }
                    Some(line)
                }
                _ => None,
            })
            .collect()
    }

    /// How many messages the steps stand for (folded heartbeats counted one by one).
    pub fn message_count(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Message(_) => 1,
                Step::Heartbeats { count, .. } => *count,
                Step::Fault(_) => 0,
            })
            .sum()
    }
}

/// A fault's name and argument: its summary without the outcome (a record taken while the
/// fault was being applied says so instead of the outcome).
fn fault_head(summary: &str) -> &str {
    summary.split(": ").next().unwrap_or(summary)
}

/// A fault's name from its summary (`name (arg): outcome`) when the entry lacks `fault`.
fn fault_name(e: &Entry) -> String {
    let s = e.summary.split(':').next().unwrap_or("");
    s.split(' ').next().unwrap_or("fault").to_string()
}

/// The fault's argument: from the full message, else from the summary.
fn fault_arg(e: &Entry) -> Option<String> {
    if let Some(a) = e.message.as_ref().and_then(|m| m["arg"].as_str()) {
        return Some(a.to_string());
    }
    let open = e.summary.find(" (")?;
    let close = e.summary[open..].find("):")? + open;
    Some(e.summary[open + 2..close].to_string())
}

/// Where a fault struck: the master for faults of the master, the framework-master
/// streams for `cut-streams`, the agent for `lose-agent` (agent ids end in `-S<index>`),
/// the executor for `crash-executor`.
fn fault_lanes(e: &Entry, fw: &str, agents: &[String], lanes: &Lanes) -> Vec<Key> {
    let name = e.fault.clone().unwrap_or_else(|| fault_name(e));
    let master = (PartyKind::Master, "master".to_string());
    match name.as_str() {
        "cut-streams" | "cut-streams-mid-record" => {
            let mut keys: Vec<Key> = lanes
                .order
                .iter()
                .filter(|k| k.0 == PartyKind::Framework)
                .cloned()
                .collect();
            if keys.is_empty() {
                keys.push((PartyKind::Framework, fw.to_string()));
            }
            keys.push(master);
            keys
        }
        "lose-agent" => {
            let i = fault_arg(e).unwrap_or_else(|| "0".into());
            let suffix = format!("-S{i}");
            let id = agents
                .iter()
                .find(|a| a.ends_with(&suffix))
                .cloned()
                .unwrap_or_else(|| format!("agent #{i}"));
            vec![(PartyKind::Agent, id)]
        }
        "crash-executor" => {
            let arg = fault_arg(e).unwrap_or_default();
            let (f, x) = arg.split_once('/').unwrap_or((fw, arg.as_str()));
            let found = lanes.order.iter().find(|k| {
                k.0 == PartyKind::Executor
                    && k.1.starts_with(&format!("{f}/"))
                    && k.1.ends_with(&format!("/{x}"))
            });
            match found {
                Some(k) => vec![k.clone()],
                // A command task's executor never speaks the executor API: its agent ran
                // it, and the master is the one that hears about it.
                None => vec![master],
            }
        }
        _ => vec![master],
    }
}

/// Task ids by order of first appearance: `T1`, `T2`, ...
#[derive(Default)]
pub(super) struct TaskNames {
    names: HashMap<String, String>,
}

impl TaskNames {
    pub(super) fn name(&mut self, id: &str) -> String {
        let n = self.names.len() + 1;
        self.names
            .entry(id.to_string())
            .or_insert_with(|| format!("T{n}"))
            .clone()
    }
}

/// An update's uuid in one spelling: the record writes it as base64 (the JSON of protobuf
/// bytes: calls, events, `StatusUpdateMessage`) or as text (`StatusUpdateAcknowledgement
/// Message`).
pub(super) fn uuid_key(v: &Value) -> Option<String> {
    use base64::Engine as _;
    let s = v.as_str()?;
    if s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4 {
        return Some(s.to_ascii_lowercase());
    }
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(bytes) if bytes.len() == 16 => Some(mesos_proto::uuid::to_string(&bytes)),
        _ => Some(s.to_string()),
    }
}

/// The status a recorded message carries, with where it sits in the message.
pub(super) fn status_of(e: &Entry) -> Option<&Value> {
    let m = e.message.as_ref()?;
    let s = match (e.direction, e.kind.as_str()) {
        (Direction::Event | Direction::ExecutorCall, "UPDATE") => &m["update"]["status"],
        (Direction::FromAgent, "StatusUpdateMessage") => &m["status"],
        _ => return None,
    };
    s.is_object().then_some(s)
}

/// The uuid an acknowledgement names (ACKNOWLEDGE, ACKNOWLEDGED,
/// `StatusUpdateAcknowledgementMessage`).
pub(super) fn acknowledged_uuid(e: &Entry) -> Option<String> {
    let m = e.message.as_ref()?;
    match (e.direction, e.kind.as_str()) {
        (Direction::Call, "ACKNOWLEDGE") => uuid_key(&m["acknowledge"]["uuid"]),
        (Direction::ExecutorEvent, "ACKNOWLEDGED") => uuid_key(&m["acknowledged"]["uuid"]),
        (Direction::ToAgent, "StatusUpdateAcknowledgementMessage") => uuid_key(&m["uuid"]),
        _ => None,
    }
}

/// The state of every update recorded, by uuid: an acknowledgement carries only the
/// uuid, and says which state it acknowledges through this.
#[derive(Default)]
pub(super) struct UpdateStates {
    states: HashMap<String, String>,
    /// Order of first appearance, so acknowledgements can be sorted as their updates.
    order: HashMap<String, usize>,
}

impl UpdateStates {
    pub(super) fn of<'a>(entries: impl Iterator<Item = &'a Entry>) -> UpdateStates {
        let mut u = UpdateStates::default();
        for e in entries {
            let Some(s) = status_of(e) else { continue };
            if let (Some(id), Some(state)) = (uuid_key(&s["uuid"]), s["state"].as_str()) {
                let n = u.order.len();
                u.order.entry(id.clone()).or_insert(n);
                u.states.entry(id).or_insert_with(|| state.to_string());
            }
        }
        u
    }

    pub(super) fn state(&self, uuid: &str) -> Option<&str> {
        self.states.get(uuid).map(String::as_str)
    }

    /// Where the update with this uuid first appeared (`usize::MAX` if never).
    pub(super) fn position(&self, uuid: &str) -> usize {
        self.order.get(uuid).copied().unwrap_or(usize::MAX)
    }
}

/// The stable detail of a message: its tasks (shortened) and states, read from the full
/// message (an acknowledgement says the state of the update it acknowledges); empty when
/// the record has no message.
pub(super) fn detail(e: &Entry, tasks: &mut TaskNames, states: &UpdateStates) -> String {
    let Some(m) = &e.message else {
        return String::new();
    };
    let acked = |t: String| -> String {
        match acknowledged_uuid(e)
            .as_deref()
            .and_then(|u| states.state(u))
        {
            Some(state) if !t.is_empty() => format!("{t} {state}"),
            _ => t,
        }
    };
    let task = |v: &Value, tasks: &mut TaskNames| -> Option<String> {
        v["value"].as_str().map(|id| tasks.name(id))
    };
    // The shortened ids of a list of tasks (RECONCILE's, a task group's), comma-separated.
    let task_list = |list: &Value, tasks: &mut TaskNames| -> String {
        let ids: Vec<String> = list
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|t| task(&t["task_id"], tasks))
                    .collect()
            })
            .unwrap_or_default();
        ids.join(",")
    };
    let status = |s: &Value, tasks: &mut TaskNames| -> String {
        let t = task(&s["task_id"], tasks).unwrap_or_default();
        format!("{t} {}", s["state"].as_str().unwrap_or(""))
            .trim()
            .to_string()
    };
    match (e.direction, e.kind.as_str()) {
        (Direction::Call, "ACCEPT") => {
            let mut parts = Vec::new();
            let ops = m["accept"]["operations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for op in ops {
                let kind = op["type"].as_str().unwrap_or("UNKNOWN").to_string();
                let infos = op["launch"]["task_infos"]
                    .as_array()
                    .or_else(|| op["launch_group"]["task_group"]["tasks"].as_array())
                    .cloned()
                    .unwrap_or_default();
                let ids: Vec<String> = infos
                    .iter()
                    .filter_map(|t| task(&t["task_id"], tasks))
                    .collect();
                if ids.is_empty() {
                    parts.push(kind);
                } else {
                    parts.push(format!("{kind} {}", ids.join(",")));
                }
            }
            parts.join("; ")
        }
        (Direction::Call, "ACKNOWLEDGE") => {
            acked(task(&m["acknowledge"]["task_id"], tasks).unwrap_or_default())
        }
        (Direction::Call, "RECONCILE") => task_list(&m["reconcile"]["tasks"], tasks),
        (Direction::Call, "KILL") => task(&m["kill"]["task_id"], tasks).unwrap_or_default(),
        (Direction::Event, "UPDATE") | (Direction::ExecutorCall, "UPDATE") => {
            status(&m["update"]["status"], tasks)
        }
        (Direction::Event, "FAILURE") => {
            if m["failure"]["executor_id"].is_object() {
                "executor".into()
            } else {
                "agent".into()
            }
        }
        (Direction::ExecutorEvent, "LAUNCH") => {
            task(&m["launch"]["task"]["task_id"], tasks).unwrap_or_default()
        }
        (Direction::ExecutorEvent, "LAUNCH_GROUP") => {
            task_list(&m["launch_group"]["task_group"]["tasks"], tasks)
        }
        (Direction::ExecutorEvent, "KILL") => {
            task(&m["kill"]["task_id"], tasks).unwrap_or_default()
        }
        (Direction::ExecutorEvent, "ACKNOWLEDGED") => {
            acked(task(&m["acknowledged"]["task_id"], tasks).unwrap_or_default())
        }
        (Direction::ToAgent, "RunTaskMessage") => {
            task(&m["task"]["task_id"], tasks).unwrap_or_default()
        }
        (Direction::ToAgent, "RunTaskGroupMessage") => task_list(&m["task_group"]["tasks"], tasks),
        (Direction::ToAgent, "KillTaskMessage") => m["task_id"]
            .as_str()
            .map(|id| tasks.name(id))
            .unwrap_or_default(),
        (Direction::ToAgent, "StatusUpdateAcknowledgementMessage") => acked(
            m["task_id"]
                .as_str()
                .map(|id| tasks.name(id))
                .unwrap_or_default(),
        ),
        (Direction::FromAgent, "StatusUpdateMessage") => status(&m["status"], tasks),
        _ => String::new(),
    }
}
