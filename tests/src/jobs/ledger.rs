//! The [`Ledger`]: what the job framework saw and did, and the checks that nothing was
//! lost; plus the same check from the agents' side ([`assert_agents_drained`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mesos_proto::v1::TaskState;

/// Everything the framework saw and did.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// The framework id, once subscribed.
    pub framework_id: Option<String>,
    /// How many SUBSCRIBED events arrived (1 + resubscriptions).
    pub subscriptions: u32,
    /// When the driver reported the subscription lost.
    pub disconnections: Vec<Instant>,
    /// Task id -> (job, agent id) of every task sent in an ACCEPT.
    pub launched: BTreeMap<String, (usize, String)>,
    /// Tasks whose ACCEPT failed in transit: maybe launched, to be reconciled.
    pub uncertain: BTreeSet<String>,
    /// Every state seen per task, in order (duplicates included).
    pub states: BTreeMap<String, Vec<TaskState>>,
    /// The first terminal state seen per task.
    pub terminal: BTreeMap<String, TaskState>,
    /// Uuids of reliable updates seen.
    pub reliable: BTreeSet<Vec<u8>>,
    /// Uuids acknowledged with a 202.
    pub acked: BTreeSet<Vec<u8>>,
    /// How many updates arrived more than once (same uuid).
    pub duplicates: u32,
    /// Acknowledgements that failed (the update comes again).
    pub ack_errors: Vec<String>,
    /// Other calls that failed (ACCEPT, DECLINE, RECONCILE).
    pub call_errors: Vec<String>,
    /// Job -> the task that finished it.
    pub done: BTreeMap<usize, String>,
    /// Job -> attempts made.
    pub attempts: BTreeMap<usize, u32>,
    /// Jobs that ran out of attempts.
    pub given_up: BTreeSet<usize>,
    /// RESCIND events.
    pub rescinds: u32,
    /// FAILURE events (agent or executor gone).
    pub failures: u32,
    /// ERROR events.
    pub errors: Vec<String>,
    /// Updates for tasks this framework never launched.
    pub strangers: Vec<String>,
}

impl Ledger {
    /// Tasks launched whose terminal state was not seen yet.
    pub fn open_tasks(&self) -> Vec<String> {
        self.launched
            .keys()
            .filter(|t| !self.terminal.contains_key(*t))
            .cloned()
            .collect()
    }

    /// Reliable updates not acknowledged (yet).
    pub fn unacked(&self) -> usize {
        self.reliable.difference(&self.acked).count()
    }

    /// Tasks currently known to be running.
    pub fn running(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(t, s)| {
                !self.terminal.contains_key(*t) && s.last() == Some(&TaskState::TaskRunning)
            })
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Whether the run is over: every job done, every task terminal, every update acked.
    pub fn complete(&self, jobs: usize) -> bool {
        self.done.len() == jobs && self.open_tasks().is_empty() && self.unacked() == 0
    }

    /// Asserts the three "nothing lost" properties for `jobs` jobs.
    pub fn assert_nothing_lost(&self, jobs: usize) {
        assert!(self.errors.is_empty(), "ERROR events: {:?}", self.errors);
        assert!(!self.launched.is_empty(), "nothing was launched: {self:#?}");
        assert_eq!(
            self.open_tasks(),
            Vec::<String>::new(),
            "tasks without a terminal state: {self:#?}"
        );
        assert_eq!(self.unacked(), 0, "unacknowledged updates: {self:#?}");
        assert!(
            self.given_up.is_empty(),
            "jobs that never finished: {self:#?}"
        );
        let missing: Vec<usize> = (0..jobs).filter(|j| !self.done.contains_key(j)).collect();
        assert!(missing.is_empty(), "jobs not done {missing:?}: {self:#?}");
        for (job, task) in &self.done {
            assert_eq!(
                self.terminal.get(task),
                Some(&TaskState::TaskFinished),
                "job {job} counted done by {task}"
            );
        }
        assert!(
            self.strangers.is_empty(),
            "updates for unknown tasks: {:?}",
            self.strangers
        );
    }
}

/// Asserts that no agent that still answers holds an executor of `framework_id` (a
/// command task's executor stays listed until its last update is acknowledged).
pub fn assert_agents_drained(agent_urls: &[String], framework_id: &str, within: Duration) {
    let deadline = Instant::now() + within;
    for url in agent_urls {
        let addr = crate::http::host_port(url);
        // A lost agent does not answer: nothing to ask it.
        while let Ok(r) = crate::http::request(&addr, "GET", "/state", &[], None) {
            let state = r.json();
            let left: Vec<serde_json::Value> = state["frameworks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["id"] == framework_id)
                .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "agent {addr} still holds executors (unacknowledged updates?): {left:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
