//! Pictures of the conversation: sequence diagrams of a recorded timeline.
//!
//! A framework is a conversation between four parties: scheduler, master, agent and
//! executor. devcluster records it (`timeline/`: the calls and events of each framework,
//! the messages between the master and its agents (`RunTaskMessage`,
//! `StatusUpdateMessage`, ...), between executors and their agents, and the faults
//! injected meanwhile); this module turns such a record into a sequence diagram, one lane
//! per party (each framework, the leading master, each agent followed by its executors),
//! an arrow per message, the faults drawn on the lanes they struck and heartbeats folded.
//! A command task has no executor lane: devcluster's agent plays the command executor
//! itself, so no executor messages exist (a custom executor, as in
//! `chapters/05-custom-executor`, has its lane).
//!
//! Three ways to get one:
//! - library: [`Timeline::parse`] a recorded timeline, then [`render_svg`] (a standalone
//!   SVG: no script, no external font, readable as an image on a code host) or
//!   [`Sequence::from_timeline`] and [`Sequence::to_text`] (the stable form, below);
//! - HTTP, on every master: `GET /devcluster/diagram.svg`, `/devcluster/diagram.txt` and
//!   `/devcluster/diagram.json` (the recorded timeline in the form [`Timeline::parse`]
//!   reads), each for all frameworks or `?framework_id=F`; `.svg` takes `&stable=1`;
//! - CLI: `devcluster diagram --from timeline.json --out run.svg` (`--from` also takes a
//!   master URL, `--text` prints the stable form, `--stable` leaves out times and ids).
//!
//! The live page draws the same picture with the same rules in JavaScript
//! (`ui/sequence.js`), following the cluster as it runs.
//!
//! **The stable form, for tests.** [`Sequence::to_text`] is one line per message, with
//! every id replaced by a short name given in order of appearance (`F1` for the first
//! framework, `A1`, `E1`, `T1` for agents, executors and tasks; `M` is the leading
//! master), no times and no heartbeats (how many fall between two messages depends on
//! timing):
//!
//! ```text
//! party F1 framework "hello"
//! party M master
//! party A1 agent
//! party E1 executor on A1
//! F1 -> M: SUBSCRIBE
//! M -> F1: SUBSCRIBED
//! M -> F1: OFFERS
//! F1 -> M: ACCEPT LAUNCH T1
//! M -> A1: RunTaskMessage T1
//! E1 -> A1: SUBSCRIBE
//! A1 -> E1: SUBSCRIBED
//! A1 -> E1: LAUNCH T1
//! E1 -> A1: UPDATE T1 TASK_RUNNING
//! A1 -> M: StatusUpdateMessage T1 TASK_RUNNING
//! A1 -> E1: ACKNOWLEDGED T1 TASK_RUNNING
//! M -> F1: UPDATE T1 TASK_RUNNING
//! F1 -> M: ACKNOWLEDGE T1 TASK_RUNNING
//! M -> A1: StatusUpdateAcknowledgementMessage T1 TASK_RUNNING
//! fault cut-streams at F1 M
//! ```
//!
//! This text is one run's order, and much of that order is timing: messages of different
//! pairs of parties that cross in flight come in either order from run to run (above,
//! the agent's ACKNOWLEDGED to the executor and its StatusUpdateMessage to the master),
//! more OFFERS come as the allocator runs, and an agent resends an update nobody
//! acknowledged in time. One pair's conversation keeps more of its order
//! ([`Sequence::between`]), but not all of it (a driver acknowledges beside its other
//! calls).
//!
//! **Checked-in pictures.** [`Normalized`] is the form that stays the same from run to
//! run and still changes when the program talks differently: per task, executor or
//! framework and per direction, in order, with acknowledgements as a set and offers,
//! declines, heartbeats and resent updates left out (its documentation has the rules).
//! Each chapter step's test keeps its run's picture (`sequence.svg`, drawn with
//! [`RenderOptions::stable`]) and normalized form (`sequence.txt`) in the step's folder,
//! compares each new run with the text, never the SVG's bytes, and redraws both when
//! asked: [`check_diagram!`](crate::check_diagram) and [`check_step`]; the command is
//! `UPDATE_DIAGRAMS=1 cargo test -p ch05-custom-executor`.

mod check;
mod endpoint;
mod model;
mod normal;
mod svg;

pub use check::{SLOT, SLOT_END, UPDATE_VAR, check_files, check_step, record, settled};
pub(crate) use endpoint::handle;
pub use model::{Arrow, FaultMark, Party, PartyKind, Sequence, Step};
pub use normal::Normalized;
pub use svg::{RenderOptions, render_sequence, render_svg, render_svg_with};

use serde_json::Value;

/// Which way a recorded message went (the `direction` of a timeline entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A call, framework -> master (`call`).
    Call,
    /// An event, master -> framework (`event`).
    Event,
    /// An injected fault (`fault`).
    Fault,
    /// A call, executor -> agent (`executor_call`).
    ExecutorCall,
    /// An event, agent -> executor (`executor_event`).
    ExecutorEvent,
    /// A message, master -> agent (`to_agent`; `RunTaskMessage`, ...).
    ToAgent,
    /// A message, agent -> master (`from_agent`; `StatusUpdateMessage`, ...).
    FromAgent,
}

impl Direction {
    /// The name used in the timeline's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Call => "call",
            Direction::Event => "event",
            Direction::Fault => "fault",
            Direction::ExecutorCall => "executor_call",
            Direction::ExecutorEvent => "executor_event",
            Direction::ToAgent => "to_agent",
            Direction::FromAgent => "from_agent",
        }
    }

    fn parse(s: &str) -> Option<Direction> {
        Some(match s {
            "call" => Direction::Call,
            "event" => Direction::Event,
            "fault" => Direction::Fault,
            "executor_call" => Direction::ExecutorCall,
            "executor_event" => Direction::ExecutorEvent,
            "to_agent" => Direction::ToAgent,
            "from_agent" => Direction::FromAgent,
            _ => return None,
        })
    }
}

/// One recorded message or fault (an entry of `GET /devcluster/timeline`).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Cluster-wide sequence number: the order of everything recorded.
    pub seq: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// Which way it went.
    pub direction: Direction,
    /// The Mesos type name (`SUBSCRIBE`, `UPDATE`, ...) or `FAULT`.
    pub kind: String,
    /// The one-line summary.
    pub summary: String,
    /// The agent of an agent-executor message.
    pub agent_id: Option<String>,
    /// The executor of an agent-executor message.
    pub executor_id: Option<String>,
    /// The fault's name, for a fault.
    pub fault: Option<String>,
    /// The message in full (Mesos JSON), when the record has it.
    pub message: Option<Value>,
}

/// The recorded timeline of one framework.
#[derive(Debug, Clone, Default)]
pub struct FrameworkLog {
    /// The framework id.
    pub id: String,
    /// Its name (from its SUBSCRIBE).
    pub name: String,
    /// Entries the recorder dropped (its ring buffer is bounded).
    pub dropped: u64,
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
}

/// A recorded timeline: the conversations of one or more frameworks.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// One log per framework.
    pub frameworks: Vec<FrameworkLog>,
}

/// Why a recorded timeline could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl Timeline {
    /// Reads a recorded timeline from text, in any of the forms devcluster writes:
    /// - `GET /devcluster/diagram.json`: `{"frameworks": [{framework_id, name, dropped,
    ///   entries}, ...]}`;
    /// - `GET /devcluster/timeline?framework_id=F`: `{framework_id, name, dropped, entries}`;
    /// - `GET /devcluster/timeline.ndjson?framework_id=F`: one entry per line (the framework
    ///   id is then taken from its SUBSCRIBED event, if recorded).
    pub fn parse(text: &str) -> Result<Timeline, ParseError> {
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(ParseError("The timeline is empty".into()));
        }
        match serde_json::from_str::<Value>(trimmed) {
            Ok(v) => Timeline::from_json(&v),
            // Not one JSON document: newline-delimited entries.
            Err(_) => {
                let mut entries = Vec::new();
                for (i, line) in trimmed.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(line).map_err(|e| {
                        ParseError(format!("Line {}: not JSON ({e}); expecting a timeline (JSON) or its NDJSON log", i + 1))
                    })?;
                    entries.push(
                        parse_entry(&v).map_err(|e| ParseError(format!("Line {}: {e}", i + 1)))?,
                    );
                }
                Ok(Timeline {
                    frameworks: vec![log_without_id(entries)],
                })
            }
        }
    }

    /// Reads a recorded timeline from JSON (see [`Timeline::parse`] for the forms).
    pub fn from_json(v: &Value) -> Result<Timeline, ParseError> {
        if let Some(list) = v.get("frameworks").and_then(Value::as_array) {
            let mut frameworks = Vec::new();
            for (i, f) in list.iter().enumerate() {
                if f.get("entries").is_none() {
                    return Err(ParseError(format!(
                        "Framework {i} has no 'entries' (this looks like the timeline index: \
                         fetch /devcluster/diagram.json instead)"
                    )));
                }
                frameworks
                    .push(parse_log(f).map_err(|e| ParseError(format!("Framework {i}: {e}")))?);
            }
            return Ok(Timeline { frameworks });
        }
        if v.get("entries").is_some() {
            return Ok(Timeline {
                frameworks: vec![parse_log(v)?],
            });
        }
        // An NDJSON log of one line is one entry.
        if v.get("seq").is_some() && v.get("direction").is_some() {
            let entry = parse_entry(v).map_err(|e| ParseError(format!("Entry 0: {e}")))?;
            return Ok(Timeline {
                frameworks: vec![log_without_id(vec![entry])],
            });
        }
        if v.is_array() {
            let list: &Vec<Value> = v.as_array().expect("checked");
            let entries = list
                .iter()
                .enumerate()
                .map(|(i, e)| parse_entry(e).map_err(|m| ParseError(format!("Entry {i}: {m}"))))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Timeline {
                frameworks: vec![log_without_id(entries)],
            });
        }
        Err(ParseError(
            "Expecting a recorded timeline: an object with 'frameworks' or 'entries', or a list \
             of entries"
                .into(),
        ))
    }
}

fn parse_log(v: &Value) -> Result<FrameworkLog, ParseError> {
    let Some(list) = v.get("entries").and_then(Value::as_array) else {
        return Err(ParseError("Expecting 'entries' to be a list".into()));
    };
    let entries = list
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(e).map_err(|m| ParseError(format!("Entry {i}: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let id = v
        .get("framework_id")
        .or_else(|| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut log = match id {
        Some(id) => FrameworkLog {
            id,
            entries,
            ..Default::default()
        },
        None => log_without_id(entries),
    };
    log.name = v["name"].as_str().unwrap_or_default().to_string();
    log.dropped = v["dropped"].as_u64().unwrap_or(0);
    Ok(log)
}

/// A log whose framework id comes from its SUBSCRIBED event (the NDJSON download has
/// no header), or `framework` when that was not recorded.
fn log_without_id(entries: Vec<Entry>) -> FrameworkLog {
    let id = entries
        .iter()
        .filter(|e| e.direction == Direction::Event && e.kind == "SUBSCRIBED")
        .find_map(|e| {
            let m = e.message.as_ref()?;
            m["subscribed"]["framework_id"]["value"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "framework".to_string());
    let name = entries
        .iter()
        .filter(|e| e.direction == Direction::Call && e.kind == "SUBSCRIBE")
        .find_map(|e| {
            let m = e.message.as_ref()?;
            m["subscribe"]["framework_info"]["name"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default();
    FrameworkLog {
        id,
        name,
        dropped: 0,
        entries,
    }
}

fn parse_entry(v: &Value) -> Result<Entry, String> {
    let seq = v["seq"].as_u64().ok_or("Expecting 'seq' to be a number")?;
    let time = v["time"]
        .as_f64()
        .ok_or("Expecting 'time' to be a number")?;
    let dir = v["direction"]
        .as_str()
        .ok_or("Expecting 'direction' to be a string")?;
    let direction = Direction::parse(dir).ok_or_else(|| {
        format!(
            "Unknown direction '{dir}' (expecting call, event, fault, executor_call, \
             executor_event, to_agent or from_agent)"
        )
    })?;
    let kind = v["type"]
        .as_str()
        .ok_or("Expecting 'type' to be a string")?
        .to_string();
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if matches!(
        direction,
        Direction::ExecutorCall | Direction::ExecutorEvent
    ) && (text("agent_id").is_none() || text("executor_id").is_none())
    {
        return Err("Expecting 'agent_id' and 'executor_id' in an executor message".into());
    }
    if matches!(direction, Direction::ToAgent | Direction::FromAgent) && text("agent_id").is_none()
    {
        return Err("Expecting 'agent_id' in a master-agent message".into());
    }
    Ok(Entry {
        seq,
        time,
        direction,
        kind,
        summary: text("summary").unwrap_or_default(),
        agent_id: text("agent_id"),
        executor_id: text("executor_id"),
        fault: text("fault"),
        message: v.get("message").filter(|m| !m.is_null()).cloned(),
    })
}
