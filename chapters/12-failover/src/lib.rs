//! # Step 12: failover: a new leading master, a restarted scheduler, one framework id
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

pub mod executor;

use mesos_client::StopMode;
use mesos_client::artifact::ExecutorSource;
use mesos_client::connect::Connection;
use mesos_client::faults::{Fault, cause};
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources::describe;
use mesos_client::tasks::{TaskBuilder, default_user};
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, Offer, TaskId, TaskStatus};

/// Step 12: runs two tasks; the leading master fails over, then the scheduler restarts.
#[derive(clap::Parser, Debug)]
pub struct Args {
    #[command(flatten)]
    pub connection: Connection,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: log::LevelFilter,
    #[command(flatten)]
    pub executor: ExecutorSource,
    /// Where the framework id is kept, for the scheduler that takes over.
    #[arg(long, default_value = "ch12-framework.id")]
    pub framework_id_file: std::path::PathBuf,
}

/// Our scheduler: events it does not handle keep the trait's defaults (see its docs).
#[derive(Default)]
struct Framework {
    executor: ExecutorInfo,
    launched: usize,
    asked: bool,
    answers: usize,
    subscriptions: usize,
}

/// The tasks' data, for the executor.
const MESSAGES: [&str; 2] = ["Hello from ch12!", "Mesos in Action"];

impl Scheduler for Framework {
    fn subscribed(&mut self, handle: &SchedulerHandle, info: &event::Subscribed) -> Result<()> {
        log::info!("subscribed as framework {}", info.framework_id.value);
        self.subscriptions += 1;
        // Each time back with the same id (the driver waited a backoff delay before it).
        if self.subscriptions == 2 {
            // Back, on the new leader. Now we go away without TEARDOWN: the master keeps
            // the framework and its tasks for `failover_timeout`.
            handle.stop(StopMode::Failover);
        } else if self.subscriptions == 3 {
            handle.reconcile_all()?; // the scheduler that took over: what do we have?
        }
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        for offer in offers {
            let resources = describe(&offer.resources);
            log::info!("offer from {}: {resources}", offer.hostname);
            // Cut what a task, and its executor, need out of the offer; ACCEPT with a LAUNCH.
            let mut left = RemainingResources::from_offer(offer);
            if self.launched < MESSAGES.len()
                && let Some(resources) = left.take(&Resources::new(0.1, 32.0))
                && let Some(own) = left.take(&Resources::new(0.1, 32.0))
            {
                let mut executor = self.executor.clone();
                executor.resources = own;
                let task = TaskBuilder::executor(offer, executor).data(MESSAGES[self.launched]);
                handle.launch(offer, vec![task.resources(resources).build()])?;
                self.launched += 1;
                continue;
            }
            // Every offer must be answered. We need nothing more: refuse for two minutes
            // (offers are events too, and every second they would hide a dead connection).
            handle.decline(offer, 120.0)?;
        }
        Ok(())
    }

    fn message(&mut self, handle: &SchedulerHandle, message: &event::Message) -> Result<()> {
        let text = String::from_utf8_lossy(&message.data);
        let (task, shout) = text.split_once(' ').unwrap_or_default();
        log::info!("{task} says: {shout}");
        // Once both run, ask the master about that task and one it never heard of.
        if !self.asked && self.launched == MESSAGES.len() {
            let ids = [task, "ghost"].map(|t| TaskId { value: t.into() });
            handle.reconcile(&ids)?;
            self.asked = true;
        }
        Ok(())
    }

    // The stream ended: the driver tries the masters (one that does not lead answers 307,
    // naming the leader) and subscribes again. Offers are void until `subscribed`.
    fn disconnected(&mut self, _: &SchedulerHandle) -> Result<()> {
        log::warn!("disconnected");
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
        // The master's answers: reason RECONCILIATION, no uuid (nothing to acknowledge).
        if status.reason() != Reason::ReasonReconciliation {
            return mesos_client::tasks::expect_end(status, &[]); // ours run until TEARDOWN
        }
        self.answers += 1;
        if self.answers > 4 {
            mesos_client::tasks::expect_end(status, &[])?; // still running after the faults?
        }
        if self.answers == 2 {
            handle.reconcile_all()?; // implicit: one answer per task the master knows
        } else if self.answers == 4 {
            cause(handle, &Fault::FailOverLeader)?; // another master leads
        } else if self.answers == 6 {
            // TEARDOWN removes the framework from the master and stops the driver.
            handle.teardown()?;
        }
        Ok(())
    }
}

/// Subscribes, ships the executor and runs the framework above, which tears itself down.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        failover_timeout: Some(60.0), // while we are away, the master keeps our tasks this long
        name: "ch12-failover".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (mut config, _cluster) = args.connection.scheduler_config(info)?;
    config.auto_acknowledge = false; // `update` acknowledges, once it has handled the update
    config.missed_heartbeats = 2; // silent intervals before the connection counts as dead
    // SUBSCRIBED's id is kept in this file; a driver that finds it subscribes with it.
    // (This demo starts afresh on every run: a real scheduler keeps the file.)
    let _ = std::fs::remove_file(&args.framework_id_file);
    config.framework_id_file = Some(args.framework_id_file.clone());
    // The agents fetch the executor (src/executor.rs) into the sandbox, then start it.
    let shipped = args.executor.ship("ch12-executor", &config.masters)?;
    let executor = shipped.executor("ch12-executor", "").build();
    let mut framework = Framework {
        executor,
        ..Default::default()
    };
    SchedulerDriver::new(config.clone())?.run(&mut framework)?;
    log::info!("the scheduler starts again: a new driver, the framework id from the file");
    SchedulerDriver::new(config)?.run(&mut framework)
}
