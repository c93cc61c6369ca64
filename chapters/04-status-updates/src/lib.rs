//! # Step 04: status updates, and acknowledging them yourself
//!
//! What you will learn: an UPDATE carries a `TaskStatus`: the state, who sent it (`source`),
//! why (`reason`, `message`) and, when it came from the agent, a `uuid`. An update with a
//! uuid is *reliable*: the agent sends it again, and holds back the task's next one, until
//! the scheduler ACKNOWLEDGEs it. Here automatic acknowledgement is off, and `update`
//! acknowledges each reliable update itself, after handling it (updates the master makes
//! up, without a uuid, must not be acknowledged). One task succeeds, one fails.
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch04-scheduler
//! cargo run --bin ch04-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch04-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: for each update a line like `ch04-1 is TASK_RUNNING (from
//! SOURCE_EXECUTOR, reason -, acknowledged)`; the second task ends `TASK_FAILED` with the
//! message `Command exited with status 3`; then `torn down`.
//!
//! Next: step 05 runs tasks on an executor of our own.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};

use mesos_client::StopMode;
use mesos_client::connect::Connection;
use mesos_client::executor::is_terminal;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, Resource, TaskState, TaskStatus};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// One task per command. Default: one that succeeds and one that exits with 3.
    pub commands: Vec<String>,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            commands: vec![
                "echo hello from Mesos".into(),
                "echo failing; exit 3".into(),
            ],
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
    ids: TaskIdGenerator,
    outcome: Outcome,
}

/// What one task asks for: 0.1 cpu and 32 MB.
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
            let wanted = self.outcome.launched.len() < self.config.commands.len();
            match RemainingResources::from_offer(offer).take(&TASK) {
                Some(resources) if wanted => self.launch(handle, offer, resources),
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
        if !is_terminal(state) {
            return;
        }
        if state == TaskState::TaskFinished {
            self.outcome.finished.insert(id);
        } else {
            self.outcome.failed.insert(id);
        }
        if self.outcome.finished.len() + self.outcome.failed.len() >= self.config.commands.len() {
            self.finish(handle);
        }
    }
}

impl Framework {
    /// ACCEPTs `offer` with one LAUNCH; what the task does not use goes back to the master.
    fn launch(&mut self, handle: &SchedulerHandle, offer: &Offer, resources: Vec<Resource>) {
        let command = &self.config.commands[self.outcome.launched.len()];
        let task = TaskBuilder::command(command)
            .task_id(self.ids.next_id())
            .offer(offer)
            .resources(resources)
            .build()
            .expect("the offer sets the agent id");
        let id = task.task_id.value.clone();
        println!("launching {id} on agent {}", offer.agent_id.value);
        match handle.launch(vec![offer.id.clone()], vec![task], None) {
            Ok(()) => self.outcome.launched.push(id),
            Err(err) => eprintln!("could not launch {id}: {err}"),
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

/// Launches one task per command, acknowledges every update, tears the framework down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch04-status-updates".into(),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        ids: TaskIdGenerator::new("ch04"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
