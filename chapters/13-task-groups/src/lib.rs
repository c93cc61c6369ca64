//! # Step 13: task groups (LAUNCH_GROUP) and the default executor
//!
//! What you will learn: some tasks belong together (an app and its sidecar): LAUNCH_GROUP
//! starts a *task group* all at once on one agent, or not at all. A group runs on an
//! executor; Mesos' built-in *default executor* (`ExecutorInfo.type = DEFAULT`, no command,
//! resources of its own) runs each task's command in its own container and watches them
//! together: when one task fails, it kills the rest of the group. Here the first group's two
//! tasks both finish; in the second, one task fails and its long-running sibling is killed.
//!
//! Run it (an embedded devcluster, `--master local`, is the default):
//!
//! ```text
//! cargo run --bin ch13-scheduler
//! cargo run --bin ch13-scheduler -- --master 192.168.33.10:5050   # a real master
//! ```
//!
//! What you should see: `launching group ["ch13-1", "ch13-2"] on executor ch13-group-1`,
//! both `TASK_FINISHED`; then the second group: `ch13-3 is TASK_FAILED`, and `ch13-4 is
//! TASK_KILLED` although it had 30 s to go; `torn down`.
//!
//! This is the last step: `skeleton/` has every callback of a scheduler and an executor.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};

use mesos_client::StopMode;
use mesos_client::executor::is_terminal;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{ExecutorId, ExecutorInfo, FrameworkInfo, Offer, Resource};
use mesos_proto::v1::{TaskGroupInfo, TaskState, TaskStatus, executor_info, offer};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port` of a master, a comma-separated list, or `local` for an embedded cluster.
    pub master: String,
    /// One task group per list, one task per command. Default: two that succeed, then one
    /// that fails after a second and one that would run for 30 s.
    pub groups: Vec<Vec<String>>,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            master: master.into(),
            groups: vec![
                vec!["echo one".into(), "echo two".into()],
                vec!["sleep 1; exit 1".into(), "sleep 30".into()],
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
    /// The executor each task ran on, by task id.
    pub executors: BTreeMap<String, String>,
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
    /// How many of `config.groups` were launched.
    groups_launched: usize,
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
        println!("subscribed as framework {}", self.outcome.framework_id);
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        for offer in offers {
            // Cut the task's resources out of the offer (keeping the offer's roles).
            let group = self.config.groups.get(self.groups_launched).cloned();
            let mut left = RemainingResources::from_offer(offer);
            // One share per task, and one for the default executor: all or nothing.
            let shares: Option<Vec<_>> = (0..=group.as_ref().map_or(0, Vec::len))
                .map(|_| left.take(&TASK))
                .collect();
            match (group, shares) {
                (Some(group), Some(shares)) => self.launch_group(handle, offer, &group, shares),
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
        if let Some(executor) = &status.executor_id {
            self.outcome
                .executors
                .insert(id.clone(), executor.value.clone());
        }
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
        if self.outcome.finished.len() + self.outcome.failed.len()
            >= self.config.groups.iter().map(Vec::len).sum()
        {
            self.finish(handle);
        }
    }
}

impl Framework {
    /// ACCEPTs `offer` with one LAUNCH_GROUP: the tasks of `commands` on a new default
    /// executor. `shares` holds one share of resources per task, then the executor's.
    fn launch_group(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        commands: &[String],
        mut shares: Vec<Vec<Resource>>,
    ) {
        self.groups_launched += 1;
        let mut executor = ExecutorInfo {
            executor_id: ExecutorId {
                value: format!("ch13-group-{}", self.groups_launched),
            },
            resources: shares.pop().unwrap_or_default(),
            ..Default::default()
        };
        executor.set_type(executor_info::Type::Default);
        let tasks: Vec<_> = (commands.iter().zip(shares))
            .map(|(command, resources)| {
                // A command, no executor: the group's executor runs it.
                TaskBuilder::command(command)
                    .task_id(self.ids.next_id())
                    .offer(offer)
                    .resources(resources)
                    .build()
                    .expect("the offer sets the agent id")
            })
            .collect();
        let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
        let executor_id = executor.executor_id.value.clone();
        println!("launching group {ids:?} on executor {executor_id}");
        let mut operation = offer::Operation {
            launch_group: Some(offer::operation::LaunchGroup {
                executor,
                task_group: TaskGroupInfo { tasks },
            }),
            ..Default::default()
        };
        operation.set_type(offer::operation::Type::LaunchGroup);
        match handle.accept(vec![offer.id.clone()], vec![operation], None) {
            Ok(()) => self.outcome.launched.extend(ids),
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

/// Launches each group on a default executor, waits for every task to end, tears down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch13-task-groups".into(),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        groups_launched: 0,
        ids: TaskIdGenerator::new("ch13"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
