//! The normalized sequence: the part of a recorded run that stays the same from run to
//! run, and that a checked-in picture is compared by (see [`Normalized`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::model::{TaskNames, UpdateStates, acknowledged_uuid, detail, status_of, uuid_key};
use super::{Direction, Entry, Timeline};

/// The messages of a recorded run in a form that does not depend on timing, so that two
/// runs of the same program give the same text, and a program that talks differently
/// gives a different one.
///
/// A run's record has one order of messages, but much of that order is timing: the
/// allocator's offers, heartbeats, an agent resending an update nobody acknowledged yet,
/// the scheduler's acknowledgements (sent by its driver while it goes on with other
/// calls), two tasks' updates crossing, which of two agents a task lands on. The
/// normalized form keeps what the program decides:
///
/// - **Parties** get short names: `F1`, `F2` for frameworks and `E1`, `E2` for executors
///   (by framework and executor id, numbered in the order their tasks are launched), in
///   order of first appearance; `M` is the leading master; every agent is `A` (which
///   agent's offer a task takes is the allocator's choice; an executor id started on two
///   agents is then one `E`, with two of each of its messages). Tasks are `T1`, `T2` in
///   order of first appearance (the order the scheduler launches them).
/// - **Subjects.** Each message is filed under what it is about: a task (`[T1]`; a message
///   about several tasks under each), else an executor (`[E1]`: its subscription,
///   messages, shutdown, exit, FAILURE), else the framework itself (no prefix).
/// - **Order** is kept per subject and per direction (`F1 -> M`, `M -> F1`, `M -> A`,
///   ...): what one party sends about one subject, it sends in program order. The order
///   between directions and between subjects is not compared.
/// - **Acknowledgements** (ACKNOWLEDGE, ACKNOWLEDGED, `StatusUpdateAcknowledgementMessage`,
///   each naming the state it acknowledges) are compared as a set per subject and
///   direction, listed in the order of the updates they acknowledge: a driver sends them
///   beside its other calls.
/// - **Resent updates** (the same uuid again) and their repeated acknowledgements count
///   once.
/// - **Not compared:** heartbeats, OFFERS, RESCIND, DECLINE and an ACCEPT that launches
///   nothing (how many offers come, and so how many are declined, is the allocator's
///   timing), how the launches are grouped into ACCEPTs (each task shows its own
///   `ACCEPT LAUNCH Tn`; a LAUNCH_GROUP keeps its group), and the ERROR a master sends to
///   a stream that a new SUBSCRIBE of the same framework replaced (whether that stream was
///   still open is timing).
/// - **Faults** are listed by name in the order injected.
///
/// A change in what the program says changes the text: a task more or fewer, an
/// acknowledgement left out, a state more, a call in another order, a message more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The parties (`party F1 framework "name"`, ...) and then the messages, one per line.
    pub lines: Vec<String>,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Subject {
    /// The framework as a whole (subscription, teardown, an implicit reconciliation).
    Framework,
    /// An executor, by number (`E1` is 1).
    Executor(usize),
    /// A task, by number.
    Task(usize),
}

/// A party as the normalized form names it; ordered as the lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Who {
    Framework(usize),
    Master,
    Agent,
    Executor(usize),
}

impl Who {
    fn name(self) -> String {
        match self {
            Who::Framework(n) => format!("F{n}"),
            Who::Master => "M".into(),
            Who::Agent => "A".into(),
            Who::Executor(n) => format!("E{n}"),
        }
    }
}

/// Where a direction sits in a subject's story: down from the framework to the
/// executor (launches), then back up (updates).
fn hop(from: Who, to: Who) -> u8 {
    match (from, to) {
        (Who::Framework(_), _) => 0,
        (Who::Master, Who::Agent) => 1,
        (Who::Agent, Who::Executor(_)) => 2,
        (Who::Executor(_), _) => 3,
        (Who::Agent, _) => 4,
        _ => 5,
    }
}

/// One message, filed.
struct Filed {
    subject: Subject,
    from: Who,
    to: Who,
    text: String,
    /// The uuid of the update it carries (resent updates have the same).
    update: Option<String>,
    /// The uuid of the update it acknowledges.
    ack: Option<String>,
}

/// Names in order of first appearance.
#[derive(Default)]
struct Numbering {
    numbers: HashMap<String, usize>,
}

impl Numbering {
    fn number(&mut self, key: &str) -> usize {
        let n = self.numbers.len() + 1;
        *self.numbers.entry(key.to_string()).or_insert(n)
    }
}

/// The executor id a message between the master, an agent and a framework names.
fn executor_named(e: &Entry) -> Option<String> {
    if let Some(x) = &e.executor_id {
        return Some(x.clone());
    }
    let m = e.message.as_ref()?;
    let named = match (e.direction, e.kind.as_str()) {
        (Direction::Call, "MESSAGE") | (Direction::Event, "MESSAGE") => {
            &m["message"]["executor_id"]["value"]
        }
        (Direction::Call, "SHUTDOWN") => &m["shutdown"]["executor_id"]["value"],
        (Direction::Event, "FAILURE") => &m["failure"]["executor_id"]["value"],
        (Direction::ToAgent | Direction::FromAgent, k)
            if k != "RunTaskGroupMessage" && k != "RunTaskMessage" =>
        {
            &m["executor_id"]
        }
        _ => return None,
    };
    named.as_str().map(str::to_string)
}

/// The task ids a message names, in the order it names them.
fn tasks_named(e: &Entry) -> Vec<String> {
    let Some(m) = &e.message else {
        return Vec::new();
    };
    let id = |v: &Value| v["value"].as_str().map(str::to_string);
    let list = |v: &Value, field: &str| -> Vec<String> {
        v.as_array()
            .map(|l| l.iter().filter_map(|t| id(&t[field])).collect())
            .unwrap_or_default()
    };
    if let Some(s) = status_of(e) {
        return id(&s["task_id"]).into_iter().collect();
    }
    match (e.direction, e.kind.as_str()) {
        (Direction::Call, "ACCEPT") => m["accept"]["operations"]
            .as_array()
            .map(|ops| {
                ops.iter()
                    .flat_map(|op| {
                        let mut ids = list(&op["launch"]["task_infos"], "task_id");
                        ids.extend(list(&op["launch_group"]["task_group"]["tasks"], "task_id"));
                        ids
                    })
                    .collect()
            })
            .unwrap_or_default(),
        (Direction::Call, "ACKNOWLEDGE") => id(&m["acknowledge"]["task_id"]).into_iter().collect(),
        (Direction::Call, "KILL") => id(&m["kill"]["task_id"]).into_iter().collect(),
        (Direction::Call, "RECONCILE") => list(&m["reconcile"]["tasks"], "task_id"),
        (Direction::ExecutorEvent, "LAUNCH") => {
            id(&m["launch"]["task"]["task_id"]).into_iter().collect()
        }
        (Direction::ExecutorEvent, "LAUNCH_GROUP") => {
            list(&m["launch_group"]["task_group"]["tasks"], "task_id")
        }
        (Direction::ExecutorEvent, "KILL") => id(&m["kill"]["task_id"]).into_iter().collect(),
        (Direction::ExecutorEvent, "ACKNOWLEDGED") => {
            id(&m["acknowledged"]["task_id"]).into_iter().collect()
        }
        (Direction::ToAgent, "RunTaskMessage") => id(&m["task"]["task_id"]).into_iter().collect(),
        (Direction::ToAgent, "RunTaskGroupMessage") => list(&m["task_group"]["tasks"], "task_id"),
        (Direction::ToAgent, "KillTaskMessage" | "StatusUpdateAcknowledgementMessage") => {
            m["task_id"]
                .as_str()
                .map(str::to_string)
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The ACCEPT's lines, one per launched task (`ACCEPT LAUNCH T3`) or group
/// (`ACCEPT LAUNCH_GROUP T1,T2`, filed under each of its tasks): which launches share an
/// ACCEPT depends on which offers were outstanding.
fn accept_lines(e: &Entry, tasks: &mut TaskNames) -> Vec<(Vec<String>, String)> {
    let Some(m) = &e.message else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for op in m["accept"]["operations"].as_array().into_iter().flatten() {
        let ids = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|t| t["task_id"]["value"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        match op["type"].as_str() {
            Some("LAUNCH") => {
                for id in ids(&op["launch"]["task_infos"]) {
                    let name = tasks.name(&id);
                    out.push((vec![id], format!("ACCEPT LAUNCH {name}")));
                }
            }
            Some("LAUNCH_GROUP") => {
                let group = ids(&op["launch_group"]["task_group"]["tasks"]);
                let names: Vec<String> = group.iter().map(|id| tasks.name(id)).collect();
                out.push((group, format!("ACCEPT LAUNCH_GROUP {}", names.join(","))));
            }
            _ => {}
        }
    }
    out
}

/// Whether `e` is the ERROR a master sends to the stream that a new SUBSCRIBE of the
/// same framework replaced: an ERROR between a SUBSCRIBE call and its SUBSCRIBED event.
fn replaced_stream_errors(entries: &[(&str, &Entry)]) -> HashSet<u64> {
    let mut out = HashSet::new();
    let mut subscribing: HashSet<&str> = HashSet::new();
    for (fw, e) in entries {
        match (e.direction, e.kind.as_str()) {
            (Direction::Call, "SUBSCRIBE") => {
                subscribing.insert(fw);
            }
            (Direction::Event, "SUBSCRIBED") => {
                subscribing.remove(fw);
            }
            (Direction::Event, "ERROR") if subscribing.contains(fw) => {
                out.insert(e.seq);
            }
            _ => {}
        }
    }
    out
}

impl Normalized {
    /// The normalized form of a recorded timeline (all its frameworks).
    pub fn from_timeline(t: &Timeline) -> Normalized {
        let mut all: Vec<(&str, &Entry)> = t
            .frameworks
            .iter()
            .flat_map(|f| f.entries.iter().map(move |e| (f.id.as_str(), e)))
            .collect();
        all.sort_by_key(|(_, e)| e.seq);
        // A fault is in every framework's record: once.
        all.dedup_by_key(|(_, e)| e.seq);
        let names: HashMap<&str, &str> = t
            .frameworks
            .iter()
            .map(|f| (f.id.as_str(), f.name.as_str()))
            .collect();
        let states = UpdateStates::of(all.iter().map(|(_, e)| *e));
        let replaced = replaced_stream_errors(&all);

        let mut frameworks = Numbering::default();
        let mut executors = Numbering::default();
        let mut task_numbers = Numbering::default();
        let mut tasks = TaskNames::default();
        let mut filed: Vec<Filed> = Vec::new();
        let mut faults: Vec<String> = Vec::new();
        for (fw, e) in &all {
            if e.direction == Direction::Fault {
                let name = e.fault.clone().unwrap_or_else(|| {
                    let head = e.summary.split(':').next().unwrap_or("");
                    head.split(' ').next().unwrap_or("fault").to_string()
                });
                faults.push(format!("fault {name}"));
                continue;
            }
            let f = Who::Framework(frameworks.number(fw));
            if e.kind == "HEARTBEAT" || replaced.contains(&e.seq) {
                continue;
            }
            if matches!(
                e.kind.as_str(),
                "OFFERS"
                    | "RESCIND"
                    | "RESCIND_INVERSE_OFFER"
                    | "DECLINE"
                    | "DECLINE_INVERSE_OFFERS"
            ) && matches!(e.direction, Direction::Call | Direction::Event)
            {
                continue;
            }
            // Executors are numbered in the order their tasks are launched where the
            // launch names them (two executors subscribe in either order).
            if let Some(m) = &e.message {
                let launched = match e.kind.as_str() {
                    "RunTaskMessage" => m["task"]["executor"]["executor_id"]["value"].as_str(),
                    "RunTaskGroupMessage" => m["executor_id"].as_str(),
                    _ => None,
                };
                if let Some(x) = launched {
                    executors.number(&format!("{fw}/{x}"));
                }
            }
            let executor =
                executor_named(e).map(|x| Who::Executor(executors.number(&format!("{fw}/{x}"))));
            let (from, to) = match e.direction {
                Direction::Call => (f, Who::Master),
                Direction::Event => (Who::Master, f),
                Direction::ToAgent => (Who::Master, Who::Agent),
                Direction::FromAgent => (Who::Agent, Who::Master),
                Direction::ExecutorCall => (executor.unwrap_or(Who::Executor(0)), Who::Agent),
                Direction::ExecutorEvent => (Who::Agent, executor.unwrap_or(Who::Executor(0))),
                Direction::Fault => continue,
            };
            // Tasks are numbered in order of first appearance, as in the picture.
            let ids = tasks_named(e);
            let subjects = |ids: &[String], numbers: &mut Numbering| -> Vec<Subject> {
                ids.iter()
                    .map(|id| Subject::Task(numbers.number(id)))
                    .collect()
            };
            if e.direction == Direction::Call && e.kind == "ACCEPT" {
                // Launches only; an ACCEPT that launches nothing answers an offer.
                for (ids, text) in accept_lines(e, &mut tasks) {
                    for s in subjects(&ids, &mut task_numbers) {
                        filed.push(Filed {
                            subject: s,
                            from,
                            to,
                            text: text.clone(),
                            update: None,
                            ack: None,
                        });
                    }
                }
                continue;
            }
            let mut text = e.kind.clone();
            let d = detail(e, &mut tasks, &states);
            if !d.is_empty() {
                text.push(' ');
                text.push_str(&d);
            }
            let status = status_of(e);
            if status.is_some_and(|s| s["reason"].as_str() == Some("REASON_RECONCILIATION")) {
                text.push_str(" (reconciliation)");
            }
            let update = status.and_then(|s| uuid_key(&s["uuid"]));
            let ack = acknowledged_uuid(e);
            let mut about = subjects(&ids, &mut task_numbers);
            if about.is_empty() {
                about.push(match executor {
                    Some(Who::Executor(n)) => Subject::Executor(n),
                    _ => Subject::Framework,
                });
            }
            for s in about {
                filed.push(Filed {
                    subject: s,
                    from,
                    to,
                    text: text.clone(),
                    update: update.clone(),
                    ack: ack.clone(),
                });
            }
        }

        // Group by subject and direction; in each, messages in order (resent ones once),
        // then the acknowledgements in the order of the updates they acknowledge.
        type Key = (Subject, u8, Who, Who);
        // Per group: the messages, and the acknowledgements with their update's position.
        type Said = (Vec<String>, Vec<(usize, String)>);
        let mut groups: BTreeMap<Key, Said> = BTreeMap::new();
        let mut seen: HashSet<(Key, String, bool)> = HashSet::new();
        for m in filed {
            let key = (m.subject, hop(m.from, m.to), m.from, m.to);
            let (said, acks) = groups.entry(key).or_default();
            if let Some(u) = &m.ack {
                if seen.insert((key, u.clone(), true)) {
                    acks.push((states.position(u), m.text));
                }
                continue;
            }
            if let Some(u) = &m.update
                && !seen.insert((key, u.clone(), false))
            {
                continue;
            }
            said.push(m.text);
        }

        let mut lines = Vec::new();
        let mut fw_ids: Vec<(&usize, &String)> =
            frameworks.numbers.iter().map(|(k, v)| (v, k)).collect();
        fw_ids.sort();
        for (n, id) in fw_ids {
            let name = names.get(id.as_str()).copied().unwrap_or("");
            lines.push(format!("party F{n} framework {name:?}"));
        }
        lines.push("party M master".into());
        if groups
            .keys()
            .any(|(_, _, a, b)| *a == Who::Agent || *b == Who::Agent)
        {
            lines.push("party A agent".into());
        }
        for n in 1..=executors.numbers.len() {
            lines.push(format!("party E{n} executor"));
        }
        for ((subject, _, from, to), (said, mut acks)) in groups {
            let prefix = match subject {
                Subject::Framework => String::new(),
                Subject::Executor(n) => format!("[E{n}] "),
                Subject::Task(n) => format!("[T{n}] "),
            };
            acks.sort();
            let arrow = format!("{} -> {}", from.name(), to.name());
            for text in said.into_iter().chain(acks.into_iter().map(|(_, t)| t)) {
                lines.push(format!("{prefix}{arrow}: {text}"));
            }
        }
        lines.extend(faults);
        Normalized { lines }
    }

    /// Reads the text [`Normalized::to_text`] wrote (lines starting with `#` are comments).
    pub fn parse(text: &str) -> Normalized {
        Normalized {
            lines: text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect(),
        }
    }

    /// One line per party and message.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            let _ = writeln!(out, "{l}");
        }
        out
    }

    /// `None` when both are the same; else the lines that differ, `-` for lines only in
    /// `self` (e.g. the checked-in form) and `+` for lines only in `other` (this run),
    /// with two lines of context.
    pub fn diff(&self, other: &Normalized) -> Option<String> {
        (self != other).then(|| line_diff(&self.lines, &other.lines, 2))
    }
}

/// A line diff (longest common subsequence): `-` old, `+` new, ` ` context lines, `...`
/// where unchanged lines were left out. Inputs are a few hundred lines; the table is
/// bounded by [`MAX_DIFF_CELLS`], past which the two are listed whole.
fn line_diff(old: &[String], new: &[String], context: usize) -> String {
    let (n, m) = (old.len(), new.len());
    if (n + 1) * (m + 1) > MAX_DIFF_CELLS {
        let mut out = String::new();
        for l in old {
            let _ = writeln!(out, "-{l}");
        }
        for l in new {
            let _ = writeln!(out, "+{l}");
        }
        return out;
    }
    // lcs[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            ops.push((' ', &old[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', &new[j]));
            j += 1;
        } else {
            ops.push(('-', &old[i]));
            i += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(context);
        let hi = (k + context).min(ops.len() - 1);
        ops[lo..=hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, l)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("...\n");
                skipped = false;
            }
            let _ = writeln!(out, "{c}{l}");
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push_str("...\n");
    }
    out
}

/// The most cells of the diff's table (about 4 MB).
const MAX_DIFF_CELLS: usize = 1 << 20;
