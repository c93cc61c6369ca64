//! # Step 17: the default executor: a failed task takes its group down
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources::describe;
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, default_user};
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::TaskState::{TaskFailed, TaskKilled};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskStatus};

/// Step 17: a group of two tasks; one fails, and the default executor kills the other.
#[derive(clap::Parser, Debug)]
pub struct Args {
    #[command(flatten)]
    pub connection: Connection,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: log::LevelFilter,
}

/// Our scheduler: events it does not handle keep the trait's defaults (see its docs).
#[derive(Default)]
struct Framework {
    launched: bool,
    ended: usize,
}

/// What the tasks of the group run: the first fails after a second.
const COMMANDS: [&str; 2] = ["sleep 1; exit 1", "sleep 60"];

impl Scheduler for Framework {
    fn subscribed(&mut self, _: &SchedulerHandle, info: &event::Subscribed) -> Result<()> {
        log::info!("subscribed as framework {}", info.framework_id.value);
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        for offer in offers {
            let resources = describe(&offer.resources);
            log::info!("offer from {}: {resources}", offer.hostname);
            // Cut the tasks, and the group's executor, out of the offer; ACCEPT with a
            // LAUNCH_GROUP: the tasks start together, on one default executor of Mesos.
            let mut left = RemainingResources::from_offer(offer);
            let need = Resources::new(0.1, 32.0);
            if !self.launched
                && let (Some(a), Some(b)) = (left.take(&need), left.take(&need))
                // The executor's own resources: Mesos wants disk too, not only cpus and mem.
                && let Some(own) = left.take(&need.with_disk(32.0))
            {
                let executor = ExecutorBuilder::default_executor("ch17-group");
                let tasks = vec![
                    TaskBuilder::command(offer, COMMANDS[0])
                        .id("fails")
                        .resources(a)
                        .build(),
                    TaskBuilder::command(offer, COMMANDS[1])
                        .id("sleeps")
                        .resources(b)
                        .build(),
                ];
                handle.launch_group(offer, executor.resources(own).build(), tasks)?;
                self.launched = true;
                continue;
            }
            // Every offer must be answered. We need nothing more: refuse for two minutes
            // (offers are events too, and every second they would hide a dead connection).
            handle.decline(offer, 120.0)?;
        }
        Ok(())
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
        let (id, state) = (&status.task_id.value, status.state().as_str_name());
        let source = status.source().as_str_name();
        let reason = status.reason.map_or("-", |_| status.reason().as_str_name());
        log::info!(
            "{id} is {state} (from {source}, reason {reason}) {}",
            status.message()
        );
        // Handled: now acknowledge. An update with a uuid is reliable: the agent sends it
        // again, and holds back the task's next one, until we do. Others must not be.
        if status.uuid.is_some() {
            handle.acknowledge(status)?;
        }
        // A task of the group failed: the default executor kills the others (KILLED).
        // Exactly that, or the run stops with an error (exit 1).
        let end = if id == "fails" {
            TaskFailed
        } else {
            TaskKilled
        };
        mesos_client::tasks::expect_end(status, &[end])?;
        self.ended += usize::from(status.state().is_terminal());
        if self.ended == COMMANDS.len() {
            // TEARDOWN removes the framework from the master and stops the driver.
            handle.teardown()?;
        }
        Ok(())
    }
}

/// Subscribes, launches the group, tears the framework down once both tasks have ended.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch17-default-executor".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (mut config, _cluster) = args.connection.scheduler_config(info)?;
    config.auto_acknowledge = false; // `update` acknowledges, once it has handled the update
    SchedulerDriver::new(config)?.run(&mut Framework::default())
}
