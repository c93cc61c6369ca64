//! # Step 07: kill a task
//!
//! What you will learn: a scheduler can end work early. KILL names one task (and, to help
//! the master find it, its agent): the master passes it to the agent, the agent to the
//! task's executor, which stops the task's work and reports TASK_KILLED, an update like any
//! other. Here two tasks that never end by themselves share one executor (src/executor.rs):
//! we KILL the first; the second keeps running until TEARDOWN ends everything.
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch07-scheduler
//! cargo run --bin ch07-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch07-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: both tasks `TASK_RUNNING`, `killing ch07-1`, `ch07-1 is
//! TASK_KILLED (from SOURCE_EXECUTOR, ...)`, then `torn down` (ch07-2 was still running).
//! (The first `cargo run` builds the executor too. The agents fetch it from this process
//! on 127.0.0.1: fine for a local cluster, not for agents on other machines.)
//!
//! Next: step 08 shuts the whole executor down, and hears how it ended.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub mod executor;

use mesos_client::StopMode;
use mesos_client::artifact::ArtifactServer;
use mesos_client::connect::Connection;
use mesos_client::executor::is_terminal;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{AgentId, FrameworkInfo, Offer, Resource};
use mesos_proto::v1::{TaskId, TaskState, TaskStatus};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The executor program. Default (empty): `ch07-executor` next to this program.
    pub executor: PathBuf,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            executor: PathBuf::new(),
            refuse_seconds: 1.0,
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
    /// Ids of the tasks that reached TASK_FINISHED.
    pub finished: BTreeSet<String>,
    /// Ids of the tasks that ended any other way (failed, lost, ...).
    pub failed: BTreeSet<String>,
    /// The task we sent KILL for.
    pub killed_task: Option<String>,
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
    fn subscribed(&mut self, _handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        println!(
            "subscribed as framework {} (heartbeat every {}s)",
            self.outcome.framework_id, self.outcome.heartbeat_interval_seconds
        );
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
        if state == TaskState::TaskRunning {
            // Both running (they started together): KILL the first, once.
            let last_states = self.outcome.states.values().filter_map(|h| h.last());
            let running = last_states.filter(|s| *s == "TASK_RUNNING").count();

            if running == 2 && self.outcome.killed_task.is_none() {
                let first = TaskId {
                    value: self.outcome.launched[0].clone(),
                };
                println!("killing {}", first.value);
                if let Err(err) = handle.kill(first.clone(), self.agent.clone()) {
                    eprintln!("could not kill {}: {err}", first.value);
                }
                self.outcome.killed_task = Some(first.value);
            }
        }
        if !is_terminal(state) {
            return;
        }
        if state == TaskState::TaskFinished {
            self.outcome.finished.insert(id);
        } else {
            self.outcome.failed.insert(id);
        }
        // The killed task is gone; TEARDOWN ends the other one (and the executor).
        if self.outcome.killed_task.as_ref() == Some(&status.task_id.value) {
            self.finish(handle);
        }
    }
}

impl Framework {
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
        let executor = ExecutorBuilder::custom("ch07-executor", shell_command("./ch07-executor"))
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

/// Runs two tasks on our executor, kills one, tears the framework down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch07-kill-task".into(),
        ..Default::default()
    };
    // The agents fetch the executor over HTTP from this process, for as long as `server` lives.
    let program = match config.executor.as_os_str().is_empty() {
        true => mesos_client::local::find_executor("ch07-executor")?,
        false => config.executor.clone(),
    };
    let server = ArtifactServer::serve_file(&program)?;
    println!("serving the executor at {}", server.url());
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        executor_url: server.url(),
        agent: None,
        ids: TaskIdGenerator::new("ch07"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
