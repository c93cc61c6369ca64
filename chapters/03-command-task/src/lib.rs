//! # Step 03: launch command tasks with the built-in executor
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources::describe;
use mesos_client::tasks::{TaskBuilder, default_user};
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::TaskState::TaskFinished;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskStatus};

/// Step 03: runs two shell commands as tasks, waits for them to end, tears the framework down.
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
    launched: usize,
    ended: usize,
}

/// How many tasks to run.
const TASKS: usize = 2;

impl Scheduler for Framework {
    fn subscribed(&mut self, _: &SchedulerHandle, info: &event::Subscribed) -> Result<()> {
        log::info!("subscribed as framework {}", info.framework_id.value);
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        for offer in offers {
            let resources = describe(&offer.resources);
            log::info!("offer from {}: {resources}", offer.hostname);
            // Cut what a task needs out of the offer; launch it with ACCEPT and a LAUNCH.
            let mut left = RemainingResources::from_offer(offer);
            if self.launched < TASKS
                && let Some(resources) = left.take(&Resources::new(0.1, 32.0))
            {
                let task = TaskBuilder::command(offer, "echo hello from Mesos");
                handle.launch(offer, vec![task.resources(resources).build()])?;
                self.launched += 1;
                continue;
            }
            // Every offer must be answered. DECLINE gives the resources back; its filter
            // keeps the master from offering them to us again for a second.
            handle.decline(offer, 1.0)?;
        }
        Ok(())
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
        let state = status.state();
        log::info!("{} is {}", status.task_id.value, state.as_str_name());
        // Any other end (TASK_ERROR, TASK_LOST, ...) stops the run with an error: exit 1.
        mesos_client::tasks::expect_end(status, &[TaskFinished])?;
        self.ended += usize::from(state.is_terminal());
        if self.ended == TASKS {
            // TEARDOWN removes the framework from the master and stops the driver.
            handle.teardown()?;
        }
        Ok(())
    }
}

/// Subscribes, runs the tasks, tears the framework down once they have ended.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch03-command-task".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (config, _cluster) = args.connection.scheduler_config(info)?;
    SchedulerDriver::new(config)?.run(&mut Framework::default())
}
