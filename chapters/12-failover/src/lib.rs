//! # Step 12: failover: a stored framework id, `failover_timeout`, a new leading master
//!
//! What you will learn: two things can fail over. The *master*: Mesos runs several, one
//! leads; when the leader dies another is elected, the old stream breaks, and the driver
//! tries the masters in turn (a non-leader answers `307` pointing at the leader) and
//! SUBSCRIBEs there with the same framework id. The *scheduler*: it can exit without
//! TEARDOWN; the master keeps its framework and tasks for `failover_timeout` seconds, and
//! a new scheduler process that SUBSCRIBEs with the stored framework id (here a file)
//! takes them over, then reconciles to learn what it has. The local cluster has a single
//! master, so there the "new leader" is the same master restarted; the test uses three.
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch12-scheduler
//! cargo run --bin ch12-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch12-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: `subscribed as framework <id> on master <host:port>`, both tasks
//! running, `injecting fault fail-over-leader`, `disconnected (1)`, `subscribed ... on
//! master <another one>`; `exiting without TEARDOWN`, `--- scheduler restarted ---`,
//! `subscribed as framework <the same id>`, both tasks `TASK_RUNNING`; `torn down`.
//! With masters `--master m1:5050,m2:5050,m3:5050 --no-faults`, stop the leader yourself.
//! (The first `cargo run` builds the executor too. The agents fetch it from this process
//! on 127.0.0.1: fine for a local cluster, not for agents on other machines.)
//!
//! Next: step 13 stops offers it does not need, and asks for them again.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

pub mod executor;

use mesos_client::artifact::ArtifactServer;
use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::transport::{Transport, TransportConfig};
use mesos_client::{
    Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode,
};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{AgentId, FrameworkInfo, Offer, Resource};
use mesos_proto::v1::{TaskState, TaskStatus, task_status::Reason};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The executor program. Default (empty): `ch12-executor` next to this program.
    pub executor: PathBuf,
    /// Inject the faults through devcluster's fault endpoint. Default: true; turn it off
    /// for a real master, and break the connection yourself.
    pub faults: bool,
    /// Where the framework id is kept between scheduler processes.
    /// Default: `ch12-framework.id` in the system temp directory.
    pub framework_id_file: PathBuf,
    /// The filter sent with every DECLINE, in seconds. Default: 120, long: offers are
    /// events too, and offers every second would never let the connection fall silent.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            executor: PathBuf::new(),
            faults: true,
            framework_id_file: std::env::temp_dir().join("ch12-framework.id"),
            refuse_seconds: 120.0,
        }
    }
}

/// What happened, for the reader and for the test.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The id the master gave the framework.
    pub framework_id: String,
    /// The heartbeat interval the master announced, in seconds.
    pub heartbeat_interval_seconds: f64,
    /// Ids of the tasks launched.
    pub launched: Vec<String>,
    /// SUBSCRIBED events, in both lives of the scheduler.
    pub subscriptions: usize,
    /// The master (`host:port` from SUBSCRIBED's `master_info`) of each subscription.
    pub masters: Vec<String>,
    /// Every framework id SUBSCRIBED gave us (one: reconnections keep the id).
    pub framework_ids: BTreeSet<String>,
    /// Times the driver reported the connection lost.
    pub disconnections: usize,
    /// Answers to the RECONCILE of the restarted scheduler: task id -> state.
    pub implicit_answers: BTreeMap<String, String>,
    /// Every state each task went through, in order (e.g. `TASK_RUNNING`).
    pub states: BTreeMap<String, Vec<String>>,
    /// Updates we acknowledged (those with a uuid).
    pub acknowledged: usize,
    /// Updates without a uuid (nothing to acknowledge).
    pub without_uuid: usize,
    /// Whether the run ended with an accepted TEARDOWN.
    pub torn_down: bool,
}

/// Our scheduler. Events we do not handle keep the trait's safe defaults (offers are
/// declined, updates acknowledged and logged).
struct Framework {
    config: Config,
    /// Where the agents fetch the executor from.
    executor_url: String,
    /// The agent our executor runs on, once launched.
    agent: Option<AgentId>,
    /// Where to send faults (any master of the cluster takes them).
    master_url: String,
    ids: TaskIdGenerator,
    outcome: Outcome,
}

/// What one task asks for: 0.1 cpu and 32 MB; the executor asks for as much again.
const TASK: Resources = Resources {
    cpus: 0.1,
    mem: 32.0,
    disk: 0.0,
    ports: 0,
};

impl Scheduler for Framework {
    fn subscribed(&mut self, handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        let master = (subscribed.master_info.as_ref())
            .map_or("?".into(), |m| format!("{}:{}", m.hostname(), m.port));
        println!(
            "subscribed as framework {} on master {master}",
            self.outcome.framework_id
        );
        self.outcome.masters.push(master);
        self.outcome.subscriptions += 1;
        self.outcome
            .framework_ids
            .insert(self.outcome.framework_id.clone());
        if self.outcome.subscriptions == 2 {
            // With the new leader. Now the scheduler goes away without TEARDOWN: the master
            // keeps the framework and its tasks for `failover_timeout`.
            println!("exiting without TEARDOWN");
            handle.stop(StopMode::Failover);
        } else if self.outcome.subscriptions == 3 {
            // The restarted scheduler. What tasks do we have, and how are they?
            println!("reconciling");
            if let Err(err) = handle.reconcile_all() {
                eprintln!("could not reconcile: {err}");
            }
        }
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        for offer in offers {
            // Cut the task's resources out of the offer (keeping the offer's roles).
            let wanted = self.outcome.launched.is_empty();
            let mut left = RemainingResources::from_offer(offer);
            // Two tasks and one executor for them, all from this one offer.
            match (left.take(&TASK), left.take(&TASK), left.take(&TASK)) {
                (Some(a), Some(b), Some(executor)) if wanted => {
                    self.launch(handle, offer, vec![a, b], executor)
                }
                // Not needed, or too small: every offer must be answered.
                _ => {
                    let refuse = Some(self.config.refuse_seconds);
                    if let Err(err) = handle.decline(vec![offer.id.clone()], refuse) {
                        eprintln!("could not decline {}: {err}", offer.id.value);
                    }
                }
            }
        }
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) {
        let (id, state) = (status.task_id.value.clone(), status.state());
        let reason = status.reason.map_or("-", |_| status.reason().as_str_name());
        let history = self.outcome.states.entry(id.clone()).or_default();
        history.push(state.as_str_name().to_string());
        // Handle the update first (here: record it), then acknowledge. A reliable update
        // acknowledged before it was handled could be lost if we crashed in between.
        let ack = if status.uuid.is_none() {
            self.outcome.without_uuid += 1;
            "no uuid: not acknowledged"
        } else if let Err(err) = handle.acknowledge(status) {
            eprintln!("could not acknowledge: {err}");
            "acknowledgement failed"
        } else {
            self.outcome.acknowledged += 1;
            "acknowledged"
        };
        let source = status.source().as_str_name();
        println!(
            "{id} is {} (from {source}, reason {reason}, {ack})",
            state.as_str_name()
        );
        if !status.message().is_empty() {
            println!("  message: {}", status.message());
        }
        // Answers to RECONCILE come as updates without uuid, with this reason.
        if status.reason.is_some() && status.reason() == Reason::ReasonReconciliation {
            self.reconciled(handle, id, state);
            return;
        }
        // Both running (they started together): the leading master goes away.
        let last_states = self.outcome.states.values().filter_map(|h| h.last());
        let running = last_states.filter(|s| *s == "TASK_RUNNING").count();
        if running == 2 && self.outcome.subscriptions == 1 && self.outcome.disconnections == 0 {
            self.inject("fail-over-leader");
        }
    }

    fn disconnected(&mut self, _handle: &SchedulerHandle) {
        // Offers are void now and calls fail until `subscribed` is called again.
        self.outcome.disconnections += 1;
        println!(
            "disconnected ({}); re-subscribing after a backoff",
            self.outcome.disconnections
        );
    }
}

impl Framework {
    /// Both tasks reported on to the restarted scheduler: done.
    fn reconciled(&mut self, handle: &SchedulerHandle, id: String, state: TaskState) {
        let state = state.as_str_name().to_string();
        self.outcome.implicit_answers.insert(id, state);
        if self.outcome.implicit_answers.len() == 2 {
            self.finish(handle); // TEARDOWN kills both tasks
        }
    }

    /// Asks devcluster for a fault: `POST <master>/devcluster/faults/<fault>`.
    fn inject(&self, fault: &str) {
        if !self.config.faults {
            return;
        }
        println!("injecting fault {fault}");
        let url = format!("{}/devcluster/faults/{fault}", self.master_url);
        let timeout = Duration::from_secs(10);
        let (request_timeout, stream_idle_timeout) = (timeout, timeout);
        let config = TransportConfig {
            request_timeout,
            stream_idle_timeout,
            ca_file: None,
            credentials: None,
        };
        match Transport::new(&config).and_then(|http| http.post(&url, "text/plain", &[], b"")) {
            Ok(response) if response.status == 200 => {}
            Ok(response) => eprintln!(
                "fault {fault}: HTTP {}: {}",
                response.status,
                response.text()
            ),
            Err(err) => eprintln!("fault {fault}: {err}"),
        }
    }

    /// ACCEPTs `offer` with one LAUNCH; what the task does not use goes back to the master.
    fn launch(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        tasks: Vec<Vec<Resource>>,
        executor: Vec<Resource>,
    ) {
        // The agent fetches the URI into the sandbox, makes it executable and runs the
        // command there. Tasks naming the same executor id share one executor process.
        let executor = ExecutorBuilder::custom("ch12-executor", shell_command("./ch12-executor"))
            .uri(uri(&self.executor_url, true, false))
            .resources(executor)
            .build();
        let tasks: Vec<_> = (tasks.into_iter())
            .map(|resources| {
                TaskBuilder::executor(executor.clone())
                    .task_id(self.ids.next_id())
                    .offer(offer)
                    .resources(resources)
                    .build()
                    .expect("the offer sets the agent id")
            })
            .collect();
        let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
        println!("launching {ids:?} on agent {}", offer.agent_id.value);
        match handle.launch(vec![offer.id.clone()], tasks, None) {
            Ok(()) => {
                self.outcome.launched = ids;
                self.agent = Some(offer.agent_id.clone());
            }
            Err(err) => eprintln!("could not launch {ids:?}: {err}"),
        }
    }

    /// Done: TEARDOWN removes the framework (killing its tasks) and stops the driver, which
    /// makes `run` return. If TEARDOWN fails we still stop; the master then forgets the
    /// framework once its `failover_timeout` (0 s by default) has passed.
    fn finish(&mut self, handle: &SchedulerHandle) {
        match handle.teardown() {
            Ok(()) => {
                self.outcome.torn_down = true;
                println!("torn down");
            }
            Err(err) => {
                eprintln!("teardown failed: {err}");
                handle.stop(StopMode::Failover);
            }
        }
    }
}

/// The first master of a list, as an URL (`host:port` means `http://host:port`).
fn fault_url(masters: &str) -> String {
    let first = masters
        .split(',')
        .next()
        .unwrap_or(masters)
        .trim_end_matches('/');
    match first.contains("://") {
        true => first.to_string(),
        false => format!("http://{first}"),
    }
}

/// Runs two tasks, changes leader, restarts the scheduler, reconciles, tears down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        // While we are away the master keeps our tasks for this long (default: 0 s).
        failover_timeout: Some(60.0),
        name: "ch12-failover".into(),
        ..Default::default()
    };
    // The agents fetch the executor over HTTP from this process, for as long as `server` lives.
    let program = match config.executor.as_os_str().is_empty() {
        true => mesos_client::local::find_executor("ch12-executor")?,
        false => config.executor.clone(),
    };
    let server = ArtifactServer::serve_file(&program)?;
    println!("serving the executor at {}", server.url());
    let mut scheduler_config = SchedulerConfig::new(master.clone(), info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    // The id SUBSCRIBED gives us is written here; a driver that finds it re-subscribes.
    // (This demo starts afresh every run: a real scheduler keeps the file.)
    let _ = std::fs::remove_file(&config.framework_id_file);
    scheduler_config.framework_id_file = Some(config.framework_id_file.clone());
    scheduler_config.backoff_max = Duration::from_secs(2);
    let mut driver = SchedulerDriver::new(scheduler_config.clone())?;
    let mut framework = Framework {
        config,
        executor_url: server.url(),
        agent: None,
        master_url: fault_url(&master),
        ids: TaskIdGenerator::new("ch12"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    println!("--- scheduler restarted ---");
    // A new driver, as a new scheduler process would make: it reads the framework id file.
    // (`framework` keeps what it knew, but reconciliation alone would tell it its tasks.)
    SchedulerDriver::new(scheduler_config)?.run(&mut framework)?;
    // Torn down: the id is dead, the file useless.
    let _ = std::fs::remove_file(&framework.config.framework_id_file);
    Ok(framework.outcome)
}
