//! A small batch framework for the fault matrix: it runs N jobs as command tasks through
//! [`mesos_client::SchedulerDriver`], retries every job whose task ends in anything but
//! `TASK_FINISHED`, and keeps a [`Ledger`] of everything it saw, so a test can check that
//! nothing was lost whatever fault it injected meanwhile.
//!
//! What "nothing lost" means ([`Ledger::assert_nothing_lost`]):
//! - every task the framework launched reached a terminal state, and the framework saw it;
//! - every status update that carried a uuid (a reliable one) was acknowledged with a
//!   `202` (acknowledgement is manual here, so each one is counted);
//! - every job finished, at the first attempt or after retries.
//!
//! [`assert_agents_drained`] checks the same from the agents' side: no executor of the
//! framework is left with an update waiting for its acknowledgement.
//!
//! The framework does what a careful real one does: it reconciles its unfinished tasks
//! after every (re)subscription, treats a launch whose ACCEPT failed in transit as
//! "maybe launched" until reconciliation says otherwise, handles duplicate updates
//! idempotently, and gives offers it cannot use back.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod ledger;

pub use ledger::{Ledger, assert_agents_drained};

use mesos_client::credentials::Credentials;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::TaskBuilder;
use mesos_client::{
    Error, FailedCall, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode,
};
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{
    AgentId, Filters, FrameworkInfo, Offer, OfferId, TaskId, TaskState, TaskStatus,
};

/// Called with each offer just before the framework ACCEPTs it (fault injection hook).
pub type OfferHook = Box<dyn FnMut(&Offer) + Send>;

/// What to run and where.
pub struct JobsConfig {
    /// Comma-separated master URLs (as [`SchedulerConfig::masters`]).
    pub masters: String,
    /// How many jobs.
    pub jobs: usize,
    /// The shell command of every attempt; `{job}` is replaced by the job number.
    pub command: String,
    /// Attempts per job before it counts as failed for good.
    pub max_attempts: u32,
    /// HTTP basic-auth credentials, if the master wants them.
    pub credentials: Option<Credentials>,
    /// CA certificates for an https master.
    pub ca_file: Option<PathBuf>,
    /// Heartbeat intervals without any event before the driver resubscribes.
    pub missed_heartbeats: u32,
    /// Called with each offer right before it is accepted.
    pub before_accept: Option<OfferHook>,
}

impl JobsConfig {
    /// `jobs` jobs of `command` against `masters`, 5 attempts each, 5 missed heartbeats.
    pub fn new(masters: impl Into<String>, jobs: usize, command: &str) -> JobsConfig {
        JobsConfig {
            masters: masters.into(),
            jobs,
            command: command.to_string(),
            max_attempts: 5,
            credentials: None,
            ca_file: None,
            missed_heartbeats: 5,
            before_accept: None,
        }
    }
}

/// A running job framework.
pub struct Runner {
    handle: SchedulerHandle,
    ledger: Arc<Mutex<Ledger>>,
    jobs: usize,
    thread: Option<JoinHandle<mesos_client::Result<()>>>,
}

fn lock(l: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

impl Runner {
    /// Starts the driver on its own thread with test timings: backoff 50-500 ms,
    /// calls time out after 5 s, failover timeout 60 s.
    pub fn start(config: JobsConfig) -> Runner {
        let info = FrameworkInfo {
            user: "root".into(),
            name: "fault-matrix".into(),
            failover_timeout: Some(60.0),
            principal: config
                .credentials
                .as_ref()
                .map(|c| c.principal().to_string()),
            ..Default::default()
        };
        let mut sc = SchedulerConfig::new(config.masters.clone(), info);
        sc.auto_acknowledge = false;
        sc.credentials = config.credentials.clone();
        sc.ca_file = config.ca_file.clone();
        sc.missed_heartbeats = config.missed_heartbeats;
        sc.backoff_min = Duration::from_millis(50);
        sc.backoff_max = Duration::from_millis(500);
        sc.request_timeout = Duration::from_secs(5);
        let mut driver = SchedulerDriver::new(sc).expect("driver configuration");
        let handle = driver.handle();
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let jobs = config.jobs;
        let mut sched = Jobs {
            ledger: ledger.clone(),
            pending: (0..config.jobs).collect(),
            active: BTreeMap::new(),
            config,
        };
        let thread = std::thread::Builder::new()
            .name("jobs-driver".into())
            .spawn(move || driver.run(&mut sched))
            .expect("spawn driver thread");
        Runner {
            handle,
            ledger,
            jobs,
            thread: Some(thread),
        }
    }

    /// A copy of the ledger now.
    pub fn ledger(&self) -> Ledger {
        lock(&self.ledger).clone()
    }

    /// The driver's handle (to make calls from the test).
    pub fn handle(&self) -> &SchedulerHandle {
        &self.handle
    }

    /// Waits until `pred` holds for the ledger; panics with the ledger after `within`,
    /// or if the driver ended.
    pub fn wait_until(
        &self,
        within: Duration,
        what: &str,
        pred: impl Fn(&Ledger) -> bool,
    ) -> Ledger {
        let deadline = Instant::now() + within;
        loop {
            let l = self.ledger();
            if pred(&l) {
                return l;
            }
            if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                panic!("the driver ended while waiting for {what}: {l:#?}");
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {within:?}: {l:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every job is done and everything is acknowledged, then stops the
    /// driver (failover mode: the framework stays registered, so the agents' state can
    /// still be checked) and returns the final ledger.
    pub fn finish(mut self, within: Duration) -> Ledger {
        let jobs = self.jobs;
        self.wait_until(within, "completion", |l| l.complete(jobs));
        self.handle.stop(StopMode::Failover);
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if t.is_finished() {
                let result = t.join().expect("driver thread");
                assert!(result.is_ok(), "driver: {result:?}");
            }
        }
        self.ledger()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.handle.stop(StopMode::Failover);
    }
}

/// The scheduler behind [`Runner`].
struct Jobs {
    ledger: Arc<Mutex<Ledger>>,
    config: JobsConfig,
    /// Jobs waiting for an offer.
    pending: VecDeque<usize>,
    /// Unfinished tasks: task id -> (job, agent id).
    active: BTreeMap<String, (usize, String)>,
}

const TASK: (f64, f64) = (0.1, 32.0);

impl Jobs {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }

    /// Asks the master about every unfinished task (explicit reconciliation).
    /// An ACCEPT of the tasks `ids` failed with `e`. Refused, or never sent:
    /// nothing was launched, the jobs wait again. Lost in transit: the master
    /// may or may not have it; reconciliation (now, and after the next
    /// subscription) tells.
    fn not_launched(&mut self, handle: &SchedulerHandle, ids: &[String], e: &Error) {
        let mut l = self.ledger();
        l.call_errors.push(format!("ACCEPT: {e}"));
        if !matches!(e, Error::Http { .. } | Error::NotSubscribed) {
            l.uncertain.extend(ids.iter().cloned());
            drop(l);
            self.reconcile_active(handle);
            return;
        }
        for id in ids {
            l.launched.remove(id);
        }
        drop(l);
        for id in ids.iter().rev() {
            if let Some((job, _)) = self.active.remove(id) {
                self.pending.push_front(job);
            }
        }
    }

    fn reconcile_active(&self, handle: &SchedulerHandle) {
        let tasks: Vec<call::reconcile::Task> = self
            .active
            .iter()
            .map(|(t, (_, a))| call::reconcile::Task {
                task_id: TaskId { value: t.clone() },
                agent_id: Some(AgentId { value: a.clone() }),
            })
            .collect();
        if tasks.is_empty() {
            return;
        }
        if let Err(e) = handle.reconcile_tasks(tasks) {
            self.ledger().call_errors.push(format!("RECONCILE: {e}"));
        }
    }

    /// A task ended: the job is done, or goes back to the queue for another attempt.
    fn task_ended(&mut self, handle: &SchedulerHandle, task: &str, state: TaskState) {
        let Some((job, _)) = self.active.remove(task) else {
            return;
        };
        let mut l = self.ledger();
        l.uncertain.remove(task);
        if l.done.contains_key(&job) {
            return;
        }
        if state == TaskState::TaskFinished {
            l.done.insert(job, task.to_string());
            return;
        }
        // Another attempt of this job may already be running (a duplicate after a
        // reconciliation answer): only requeue if none is.
        if self.active.values().any(|(j, _)| *j == job) || self.pending.contains(&job) {
            return;
        }
        if l.attempts.get(&job).copied().unwrap_or(0) >= self.config.max_attempts {
            l.given_up.insert(job);
            return;
        }
        drop(l);
        self.pending.push_back(job);
        let _ = handle.revive(Vec::new());
    }
}

impl Scheduler for Jobs {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        {
            let mut l = self.ledger();
            l.framework_id = Some(subscribed.framework_id.value.clone());
            l.subscriptions += 1;
        }
        // What happened to our tasks while we were away? Updates the agents still hold
        // come by themselves; this covers tasks the master itself decided about.
        self.reconcile_active(handle);
        // Jobs still waiting need offers, whatever filters the old subscription set.
        if !self.pending.is_empty()
            && let Err(e) = handle.revive(Vec::new())
        {
            self.ledger().call_errors.push(format!("REVIVE: {e}"));
        }
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        let need = Resources::new(TASK.0, TASK.1);
        let mut unused: Vec<OfferId> = Vec::new();
        for offer in offers {
            let mut left = RemainingResources::from_offer(offer);
            let mut tasks = Vec::new();
            let mut jobs = Vec::new();
            while let Some(&job) = self.pending.front() {
                let Some(res) = left.take(&need) else { break };
                self.pending.pop_front();
                let attempt = {
                    let mut l = self.ledger();
                    let a = l.attempts.entry(job).or_insert(0);
                    *a += 1;
                    *a
                };
                let id = format!("job-{job}-attempt-{attempt}");
                let cmd = self.config.command.replace("{job}", &job.to_string());
                let task = TaskBuilder::command(offer, &cmd)
                    .name(&id)
                    .id(&id)
                    .resources(res)
                    .build();
                tasks.push(task);
                jobs.push((id, job));
            }
            if tasks.is_empty() {
                unused.push(offer.id.clone());
                continue;
            }
            if let Some(hook) = self.config.before_accept.as_mut() {
                hook(offer);
            }
            let agent = offer.agent_id.value.clone();
            {
                let mut l = self.ledger();
                for (id, job) in &jobs {
                    l.launched.insert(id.clone(), (*job, agent.clone()));
                }
            }
            for (id, job) in &jobs {
                self.active.insert(id.clone(), (*job, agent.clone()));
            }
            let filters = Some(Filters {
                refuse_seconds: Some(0.0),
            });
            // Queued: a refusal, or a call lost in transit, comes back
            // through `call_failed`.
            if let Err(e) = handle.launch_offers(vec![offer.id.clone()], tasks, filters) {
                let ids: Vec<String> = jobs.iter().map(|(id, _)| id.clone()).collect();
                self.not_launched(handle, &ids, &e);
            }
        }
        // With nothing to run, refuse the resources for long: an idle framework should
        // not be offered the same resources every allocation interval. A requeued job
        // REVIVEs offers.
        let refuse = if self.pending.is_empty() { 3600.0 } else { 0.5 };
        if !unused.is_empty()
            && let Err(e) = handle.decline_offers(unused, Some(refuse))
        {
            self.ledger().call_errors.push(format!("DECLINE: {e}"));
        }
        Ok(())
    }

    fn rescind(
        &mut self,
        _handle: &SchedulerHandle,
        _offer_id: &OfferId,
    ) -> mesos_client::Result<()> {
        self.ledger().rescinds += 1;
        Ok(())
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        let task = status.task_id.value.clone();
        let state = status.state();
        let first_time = {
            let mut l = self.ledger();
            if !l.launched.contains_key(&task) {
                l.strangers.push(format!("{task} {state:?}"));
            }
            l.states.entry(task.clone()).or_default().push(state);
            let mut first_time = true;
            if let Some(uuid) = &status.uuid {
                first_time = l.reliable.insert(uuid.clone());
                if !first_time {
                    l.duplicates += 1;
                }
            }
            if first_time && state.is_terminal() && !l.terminal.contains_key(&task) {
                l.terminal.insert(task.clone(), state);
            }
            first_time
        };
        if first_time && state.is_terminal() {
            self.task_ended(handle, &task, state);
        }
        // Acknowledge only after the update is recorded (here: in the ledger), and also
        // duplicates: the agent resends until an acknowledgement gets through.
        if let Some(uuid) = &status.uuid {
            match handle.acknowledge(status) {
                Ok(()) => {
                    self.ledger().acked.insert(uuid.clone());
                }
                Err(e) => self
                    .ledger()
                    .ack_errors
                    .push(format!("{task} {state:?}: {e}")),
            }
        }
        Ok(())
    }

    fn failure(
        &mut self,
        _handle: &SchedulerHandle,
        _failure: &event::Failure,
    ) -> mesos_client::Result<()> {
        self.ledger().failures += 1;
        Ok(())
    }

    fn error(&mut self, _handle: &SchedulerHandle, message: &str) -> mesos_client::Result<()> {
        self.ledger().errors.push(message.to_string());
        Ok(())
    }

    fn disconnected(&mut self, _handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.ledger().disconnections.push(Instant::now());
        Ok(())
    }

    fn call_failed(
        &mut self,
        handle: &SchedulerHandle,
        failed: &FailedCall,
    ) -> mesos_client::Result<()> {
        if failed.kind == call::Type::Decline {
            self.ledger()
                .call_errors
                .push(format!("DECLINE: {}", failed.error));
            return Ok(());
        }
        let ids: Vec<String> = failed.task_ids.iter().map(|t| t.value.clone()).collect();
        self.not_launched(handle, &ids, &failed.error);
        Ok(())
    }
}
