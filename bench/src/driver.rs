//! The end-to-end scheduler: minimal-scheduler's shape on our driver (mesos-client).
//!
//! It does what a reader of `minimal/` would write: the [`Scheduler`] trait, one ACCEPT
//! per offer holding as many tasks as fit (0.1 cpu, 32 MB each), command tasks, the
//! driver's automatic acknowledgements, TEARDOWN once every task has ended. The code is
//! what every example of the toolkit writes. The driver queues the acknowledgements and
//! the answers to offers (ACCEPT, DECLINE) and pipelines them on two connections of its
//! own (see the module docs of `mesos_client::scheduler`), which is where its speed comes
//! from.

use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{TaskBuilder, default_user};
use mesos_client::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::ContentType;
use mesos_proto::v1::{Filters, FrameworkInfo, Offer, TaskState, TaskStatus};

use crate::raw::{TASK_CPUS, TASK_MEM};

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Bench {
    wanted: usize,
    command: String,
    launched: usize,
    ended: usize,
}

impl Scheduler for Bench {
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        for offer in offers {
            let need = Resources::new(TASK_CPUS, TASK_MEM);
            let mut left = RemainingResources::from_offer(offer);
            let mut tasks = Vec::new();
            while self.launched + tasks.len() < self.wanted {
                let Some(resources) = left.take(&need) else {
                    break;
                };
                let id = format!("e2e-{}", self.launched + tasks.len());
                let task = TaskBuilder::command(offer, &self.command)
                    .id(&id)
                    .resources(resources)
                    .build();
                tasks.push(task);
            }
            let result = if tasks.is_empty() {
                handle.decline(offer, 3600.0)
            } else {
                self.launched += tasks.len();
                let filters = Filters {
                    refuse_seconds: Some(0.0),
                };
                handle.launch_offers(vec![offer.id.clone()], tasks, Some(filters))
            };
            if let Err(err) = result {
                log::warn!("call failed: {err}");
            }
        }
        Ok(())
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        if status.state().is_terminal() {
            self.ended += 1;
            if status.state() != TaskState::TaskFinished {
                log::warn!("task {} is {:?}", status.task_id.value, status.state());
            }
            if self.ended >= self.wanted {
                handle.stop(StopMode::Teardown);
            }
        }
        Ok(())
    }
}

/// Runs `tasks` tasks of `command` on the master `master`, then TEARDOWN.
pub fn run(master: &str, tasks: usize, command: &str, protobuf: bool) -> Result<(), Error> {
    let info = FrameworkInfo {
        user: default_user(),
        name: "bench-driver".into(),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(master, info);
    if protobuf {
        config.content_type = ContentType::Protobuf;
    }
    config.max_reconnect_attempts = Some(3);
    let mut scheduler = Bench {
        wanted: tasks,
        command: command.to_string(),
        launched: 0,
        ended: 0,
    };
    SchedulerDriver::new(config)?.run(&mut scheduler)?;
    Ok(())
}
