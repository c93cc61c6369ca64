//! # Step 16: task groups (LAUNCH_GROUP) on the default executor
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources::describe;
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, default_user};
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskState, TaskStatus};

/// Step 16: two command tasks as one group on Mesos' default executor; no program of ours.
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
    running: usize,
}

/// What the tasks of the group run.
const COMMANDS: [&str; 2] = ["sleep 60", "sleep 60"];

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
                let executor = ExecutorBuilder::default_executor("ch16-group");
                let tasks = vec![
                    TaskBuilder::command(offer, COMMANDS[0])
                        .resources(a)
                        .build(),
                    TaskBuilder::command(offer, COMMANDS[1])
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
        mesos_client::tasks::expect_end(status, &[])?; // no end expected: both must run
        self.running += usize::from(status.state() == TaskState::TaskRunning);
        if self.running == COMMANDS.len() {
            // TEARDOWN removes the framework from the master and stops the driver.
            handle.teardown()?;
        }
        Ok(())
    }
}

/// Subscribes, launches the group, tears the framework down once both tasks run.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch16-task-groups".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (mut config, _cluster) = args.connection.scheduler_config(info)?;
    config.auto_acknowledge = false; // `update` acknowledges, once it has handled the update
    SchedulerDriver::new(config)?.run(&mut Framework::default())
}
