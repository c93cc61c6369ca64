//! What the cluster saw: the lessons' tests read a framework's conversation with the master
//! from devcluster's own record (its timeline), not from counters the lesson keeps.
//!
//! A chapter step is a plain framework: it subscribes, answers offers, launches, tears down.
//! Its test starts a [`Cluster`] in the test's process, runs the step against it on a thread
//! ([`run_step`], with a deadline so a bug fails instead of hanging), then asks the cluster
//! what happened ([`Seen::of`]): every call the master accepted from the framework and every
//! event it sent, in order, decoded back into the `mesos_proto` types.
//!
//! The record is read in process, through [`Cluster::timeline`] (what
//! `GET /devcluster/timeline` answers, without HTTP), so it works for a cluster that speaks
//! only TLS or wants a password just as for a plain one.
//!
//! The same record draws the step's picture: [`check_diagram!`] (once the step has run)
//! compares the run with the step's checked-in `sequence.txt` and, with
//! `UPDATE_DIAGRAMS=1`, redraws `sequence.svg` and `sequence.txt` for its README
//! (see `devcluster::diagram::Normalized` for what is compared).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod by_hand;

/// Checks the step's checked-in sequence diagram against this run (or redraws it with
/// `UPDATE_DIAGRAMS=1`): `observe::check_diagram!(&cluster)` at the end of a step's test.
pub use devcluster::check_diagram;

use std::collections::BTreeMap;
use std::time::Duration;

use devcluster::{Cluster, ClusterConfig};
use mesos_proto::v1::scheduler::{Call, Event, call, event};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{TaskInfo, TaskState, TaskStatus, offer};

/// How long a step may take before its test fails.
pub const STEP_DEADLINE: Duration = Duration::from_secs(30);

/// Entries asked for per framework: devcluster keeps at most 5,000 (its bound), a lesson
/// makes a few dozen.
const ENTRY_LIMIT: usize = 5000;

/// A cluster with `agents` agents and the short test timings of
/// [`ClusterConfig::for_tests`].
pub fn cluster(agents: usize) -> Cluster {
    Cluster::start(ClusterConfig::for_tests(agents)).expect("devcluster starts")
}

/// Runs `step` on its own thread and returns its result, or fails the test when it has not
/// ended within [`STEP_DEADLINE`] (a deadline to fail by, not a timing the test checks).
pub fn run_step<E: std::fmt::Display>(
    step: impl FnOnce() -> Result<(), E> + Send + 'static,
) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The receiver is gone only if the test already failed.
        let _ = tx.send(step().map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(STEP_DEADLINE) {
        Ok(result) => result,
        Err(_) => panic!("the step did not finish within {STEP_DEADLINE:?}"),
    }
}

/// One thing in a framework's conversation with the master.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A call the master accepted from the framework.
    Call(Box<Call>),
    /// An event the master put on the framework's stream.
    Event(Box<Event>),
    /// A fault injected into the cluster meanwhile (e.g. `stall-heartbeats`).
    Fault {
        /// The fault's name, as `devcluster fault` spells it.
        name: String,
        /// Whether the cluster applied it.
        ok: bool,
    },
}

impl Entry {
    /// The entry's kind as Mesos names it (`SUBSCRIBE`, `OFFERS`, ...), or `FAULT`.
    pub fn kind(&self) -> String {
        match self {
            Entry::Call(c) => c.r#type().as_str_name().to_string(),
            Entry::Event(e) => e.r#type().as_str_name().to_string(),
            Entry::Fault { .. } => "FAULT".to_string(),
        }
    }
}

/// A framework's conversation with the master, as the cluster recorded it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The framework's id.
    pub framework_id: String,
    /// The name it subscribed with.
    pub name: String,
    /// Calls, events and faults, oldest first.
    pub entries: Vec<Entry>,
}

impl Seen {
    /// Every framework the cluster has a record of, oldest subscription first.
    pub fn all(cluster: &Cluster) -> Vec<Seen> {
        let index = cluster.timeline(None, 0).expect("the timeline's index");
        let mut seen: Vec<Ordered> = index["frameworks"]
            .as_array()
            .expect("a list of frameworks")
            .iter()
            .filter_map(|f| f["id"].as_str())
            .map(|id| Seen::read(cluster, id))
            .collect();
        seen.sort_by_key(|s| s.first_seq);
        seen.into_iter().map(|s| s.seen).collect()
    }

    /// The one framework the cluster saw; fails the test if there were none or several.
    pub fn of(cluster: &Cluster) -> Seen {
        let mut all = Seen::all(cluster);
        assert_eq!(all.len(), 1, "frameworks seen: {all:#?}");
        all.remove(0)
    }

    fn read(cluster: &Cluster, framework_id: &str) -> Ordered {
        let v = cluster
            .timeline(Some(framework_id), ENTRY_LIMIT)
            .unwrap_or_else(|| panic!("no timeline of framework {framework_id}"));
        let raw = v["entries"].as_array().expect("entries");
        let first_seq = raw.first().and_then(|e| e["seq"].as_u64()).unwrap_or(0);
        let entries = raw
            .iter()
            // The scheduler's side of the conversation: its calls, its events and the
            // faults; the agents' and executors' messages are left out.
            .filter_map(|e| {
                let message = &e["message"];
                match e["direction"].as_str() {
                    Some("call") => Some(Entry::Call(Box::new(
                        mesos_proto::json::from_value(message).expect("a recorded call decodes"),
                    ))),
                    Some("event") => Some(Entry::Event(Box::new(
                        mesos_proto::json::from_value(message).expect("a recorded event decodes"),
                    ))),
                    Some("fault") => Some(Entry::Fault {
                        name: message["name"].as_str().unwrap_or_default().to_string(),
                        ok: message["ok"].as_bool().unwrap_or(false),
                    }),
                    _ => None,
                }
            })
            .collect();
        Ordered {
            first_seq,
            seen: Seen {
                framework_id: framework_id.to_string(),
                name: v["name"].as_str().unwrap_or_default().to_string(),
                entries,
            },
        }
    }

    /// The kinds of all entries, in order (`SUBSCRIBE`, `SUBSCRIBED`, `OFFERS`, ...).
    pub fn kinds(&self) -> Vec<String> {
        self.entries.iter().map(Entry::kind).collect()
    }

    /// Whether `kinds` occur in this order (not necessarily next to each other).
    pub fn in_order(&self, kinds: &[&str]) -> bool {
        let mut want = kinds.iter().peekable();
        for kind in self.kinds() {
            if want.peek().is_some_and(|k| **k == kind) {
                want.next();
            }
        }
        want.peek().is_none()
    }

    /// The calls the master accepted, in order.
    pub fn calls(&self) -> Vec<&Call> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Call(c) => Some(&**c),
                _ => None,
            })
            .collect()
    }

    /// The events the master sent, in order.
    pub fn events(&self) -> Vec<&Event> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Event(e) => Some(&**e),
                _ => None,
            })
            .collect()
    }

    /// How many calls of this type the master accepted.
    pub fn calls_of(&self, kind: call::Type) -> usize {
        self.calls().iter().filter(|c| c.r#type() == kind).count()
    }

    /// How many events of this type the master sent.
    pub fn events_of(&self, kind: event::Type) -> usize {
        self.events().iter().filter(|e| e.r#type() == kind).count()
    }

    /// The names of the faults injected while the framework was subscribed.
    pub fn faults(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Fault { name, ok: true } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The framework ids of every SUBSCRIBED event (a resubscription keeps the id).
    pub fn subscribed_ids(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter_map(|e| e.subscribed.as_ref())
            .map(|s| s.framework_id.value.clone())
            .collect()
    }

    /// The tasks launched, through LAUNCH or LAUNCH_GROUP operations of ACCEPT calls.
    pub fn launched(&self) -> Vec<TaskInfo> {
        self.operations()
            .into_iter()
            .flat_map(|op| {
                let single = op.launch.iter().flat_map(|l| l.task_infos.clone());
                let group = op
                    .launch_group
                    .iter()
                    .flat_map(|g| g.task_group.tasks.clone());
                single.chain(group).collect::<Vec<_>>()
            })
            .collect()
    }

    /// The ids of the tasks launched, in order.
    pub fn launched_ids(&self) -> Vec<String> {
        self.launched()
            .into_iter()
            .map(|t| t.task_id.value)
            .collect()
    }

    /// The last `n` answers the master gave to reconciliation (reason RECONCILIATION), as
    /// (task id, state), sorted by task id: what the scheduler learned last about its tasks.
    pub fn last_reconciled(&self, n: usize) -> Vec<(String, TaskState)> {
        let answers: Vec<_> = self
            .updates()
            .into_iter()
            .filter(|s| s.reason.is_some() && s.reason() == Reason::ReasonReconciliation)
            .map(|s| (s.task_id.value.clone(), s.state()))
            .collect();
        let mut last = answers[answers.len().saturating_sub(n)..].to_vec();
        last.sort();
        last
    }

    /// Every operation of every ACCEPT, in order.
    pub fn operations(&self) -> Vec<offer::Operation> {
        self.calls()
            .iter()
            .filter_map(|c| c.accept.as_ref())
            .flat_map(|a| a.operations.clone())
            .collect()
    }

    /// The `refuse_seconds` of every DECLINE (`None` where no filter was sent).
    pub fn declines(&self) -> Vec<Option<f64>> {
        self.calls()
            .iter()
            .filter_map(|c| c.decline.as_ref())
            .map(|d| d.filters.as_ref().and_then(|f| f.refuse_seconds))
            .collect()
    }

    /// Every status update the master sent, in order.
    pub fn updates(&self) -> Vec<TaskStatus> {
        self.events()
            .iter()
            .filter_map(|e| e.update.as_ref())
            .map(|u| u.status.clone())
            .collect()
    }

    /// The states each task went through, as the updates said, in order.
    pub fn states(&self) -> BTreeMap<String, Vec<TaskState>> {
        let mut states: BTreeMap<String, Vec<TaskState>> = BTreeMap::new();
        for status in self.updates() {
            states
                .entry(status.task_id.value.clone())
                .or_default()
                .push(status.state());
        }
        states
    }

    /// The last state the updates gave `task`.
    pub fn last_state(&self, task: &str) -> Option<TaskState> {
        self.states().get(task).and_then(|s| s.last().copied())
    }

    /// The uuids of the updates acknowledged, in order.
    pub fn acknowledged(&self) -> Vec<Vec<u8>> {
        self.calls()
            .iter()
            .filter_map(|c| c.acknowledge.as_ref())
            .map(|a| a.uuid.clone())
            .collect()
    }

    /// Whether every update that carried a uuid was acknowledged.
    pub fn acknowledged_every_reliable_update(&self) -> bool {
        let acked = self.acknowledged();
        self.updates()
            .iter()
            .filter_map(|s| s.uuid.as_ref())
            .all(|uuid| acked.contains(uuid))
    }

    /// The data of the MESSAGE calls the framework sent to executors.
    pub fn messages_sent(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter_map(|c| c.message.as_ref())
            .map(|m| String::from_utf8_lossy(&m.data).into_owned())
            .collect()
    }

    /// The data of the MESSAGE events executors sent to the framework.
    pub fn messages_received(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter_map(|e| e.message.as_ref())
            .map(|m| String::from_utf8_lossy(&m.data).into_owned())
            .collect()
    }

    /// The ids of the tasks the framework asked to KILL.
    pub fn kills(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter_map(|c| c.kill.as_ref())
            .map(|k| k.task_id.value.clone())
            .collect()
    }

    /// The task ids named by each RECONCILE call (an empty list is an implicit one).
    pub fn reconciles(&self) -> Vec<Vec<String>> {
        self.calls()
            .iter()
            .filter_map(|c| c.reconcile.as_ref())
            .map(|r| r.tasks.iter().map(|t| t.task_id.value.clone()).collect())
            .collect()
    }
}

/// A framework's record with the cluster-wide number of its first entry, for ordering.
struct Ordered {
    first_seq: u64,
    seen: Seen,
}
