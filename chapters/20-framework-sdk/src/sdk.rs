//! The scheduler that drives the managers: reconcile saved tasks, match
//! offers to pending instances, follow updates, save the state.

use std::time::{Duration, Instant};

use mesos_client::offers::RemainingResources;
use mesos_client::tasks::{TaskBuilder, shell_command, uri};
use mesos_client::{Error, FailedCall, Scheduler, SchedulerHandle, StopMode};
use mesos_proto::v1::container_info::{self, DockerInfo};
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{AgentId, ContainerInfo, Filters, Offer, TaskId, TaskInfo, TaskStatus};

use crate::manager::{Phase, TaskManager, misfit, need};
use crate::placement::{NotRunning, Placement, Stuck};
use crate::state::StateFile;

/// The scheduler's state.
pub(crate) struct Sdk {
    pub manager: TaskManager,
    pub state_file: StateFile,
    pub framework_id: Option<String>,
    /// Makes task ids unique per scheduler start.
    pub run_id: String,
    pub refuse_seconds: f64,
    /// Stop (keeping the framework) after this many launches: a crash, for tests.
    pub stop_after_launches: Option<usize>,
    /// TEARDOWN once every instance runs.
    pub teardown_when_running: bool,
    /// How long an instance must run to count as running.
    pub grace: std::time::Duration,
    pub launches: usize,
    pub reconciled: usize,
    /// What waiting instances saw of the offers, reported once per interval each.
    pub placement: Placement,
    /// With `teardown_when_running`: when to give up, and the deadline as given.
    pub deadline: Option<(Instant, Duration)>,
}

impl Scheduler for Sdk {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        self.framework_id = Some(subscribed.framework_id.value.clone());
        self.save();
        // Ask about every task a previous run left behind; their instances
        // launch nothing until the answer arrives.
        let tasks: Vec<call::reconcile::Task> = self
            .manager
            .to_reconcile()
            .into_iter()
            .map(|(task_id, agent_id)| call::reconcile::Task {
                task_id: TaskId { value: task_id },
                agent_id: Some(AgentId { value: agent_id }),
            })
            .collect();
        if !tasks.is_empty() {
            log::info!("reconciling {} saved task(s)", tasks.len());
            self.reconciled = tasks.len();
            if let Err(err) = handle.reconcile_tasks(tasks) {
                log::warn!("reconciliation failed: {err}");
            }
        }
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        // Offers keep coming while resources are free: a clock for the
        // stop condition.
        if self.stop_if_settled(handle) {
            return Ok(());
        }
        for offer in offers {
            let (tasks, instances) = self.match_offer(offer);
            if tasks.is_empty() {
                let _ = handle.decline(offer, self.refuse_seconds);
                continue;
            }
            let filters = Filters {
                refuse_seconds: Some(self.refuse_seconds),
            };
            match handle.launch_offers(vec![offer.id.clone()], tasks, Some(filters)) {
                Ok(()) => self.launches += instances.len(),
                Err(err) => {
                    log::warn!("launch not sent: {err}");
                    for i in instances {
                        self.manager.not_launched(i, Instant::now());
                    }
                }
            }
            self.save();
            if self.stop_after_launches.is_some_and(|n| self.launches >= n) {
                log::warn!(
                    "stopping after {} launch(es), keeping the framework",
                    self.launches
                );
                handle.stop(StopMode::Failover);
                return Ok(());
            }
        }
        self.watch(handle)
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        log::info!(
            "{} is {}",
            status.task_id.value,
            status.state().as_str_name()
        );
        if self.manager.update(status, Instant::now()) {
            self.save();
        }
        self.stop_if_settled(handle);
        self.watch(handle)
    }

    fn heartbeat(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.stop_if_settled(handle);
        self.watch(handle)
    }

    fn call_failed(
        &mut self,
        _handle: &SchedulerHandle,
        failed: &FailedCall,
    ) -> mesos_client::Result<()> {
        match &failed.error {
            // Refused, or never sent: nothing runs, the instances wait again.
            Error::NotSubscribed | Error::Http { .. } => {
                log::warn!("launch refused: {}", failed.error);
                for task_id in &failed.task_ids {
                    if let Some(i) = self.manager.instance_of(&task_id.value) {
                        self.manager.not_launched(i, Instant::now());
                    }
                }
                self.save();
            }
            err => log::warn!("launch uncertain (reconciled on reconnect): {err}"),
        }
        Ok(())
    }
}

impl Sdk {
    /// Pending instances whose attribute filters the offer meets and whose
    /// resources still fit, as tasks; and their instance numbers.
    fn match_offer(&mut self, offer: &Offer) -> (Vec<TaskInfo>, Vec<usize>) {
        let mut remaining = RemainingResources::from_offer(offer);
        let (mut tasks, mut instances) = (Vec::new(), Vec::new());
        let now = Instant::now();
        for i in self.manager.pending(now) {
            let spec = self.manager.spec(i).clone();
            // Why not, for the report of instances that cannot be placed.
            if let Some(misfit) = misfit(offer, &remaining, &spec) {
                self.placement.misfit(i, offer, misfit, now);
                continue;
            }
            let Some(resources) = remaining.take(&need(&spec)) else {
                continue;
            };
            self.placement.placed(i);
            let name = self.manager.instances()[i].name.clone();
            let mut command = shell_command(&spec.command);
            command.uris = spec.uris.iter().map(|u| uri(u, false, true)).collect();
            let mut builder = TaskBuilder::command_info(offer, command)
                .id(format!(
                    "{name}.{}.{}",
                    self.run_id,
                    self.launches + tasks.len()
                ))
                .name(name)
                .resources(resources);
            for (key, value) in &spec.labels {
                builder = builder.label(key, value);
            }
            if let Some(image) = &spec.image {
                let mut container = ContainerInfo {
                    docker: Some(DockerInfo {
                        image: image.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                container.set_type(container_info::Type::Docker);
                builder = builder.container(container);
            }
            let task = builder.build();
            self.manager
                .launched(i, &task.task_id.value, &offer.agent_id.value);
            tasks.push(task);
            instances.push(i);
            if self
                .stop_after_launches
                .is_some_and(|n| self.launches + tasks.len() >= n)
            {
                break;
            }
        }
        (tasks, instances)
    }

    /// With `teardown_when_running`: TEARDOWN once the app is settled.
    /// Returns whether it stopped.
    fn stop_if_settled(&mut self, handle: &SchedulerHandle) -> bool {
        if !self.teardown_when_running || !self.manager.settled(Instant::now(), self.grace) {
            return false;
        }
        log::info!("every instance is running (or finished, or given up): tearing down");
        self.teardown_when_running = false;
        if let Err(err) = handle.teardown() {
            log::error!("teardown failed: {err}");
            handle.stop(StopMode::Failover);
        }
        true
    }

    /// Reports the instances that wait for a place (once per interval each), and with a
    /// deadline for `teardown_when_running`, gives up once it has passed: TEARDOWN, and
    /// an error naming what is not running and why.
    fn watch(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        let now = Instant::now();
        let waiting: Vec<(usize, String)> = self
            .manager
            .pending(now)
            .into_iter()
            .map(|i| (i, self.manager.instances()[i].name.clone()))
            .collect();
        let passed = self
            .deadline
            .filter(|(at, _)| now >= *at)
            .map(|(_, after)| after);
        let Some(after) = passed.filter(|_| self.teardown_when_running) else {
            for report in self.placement.due(&waiting, now) {
                log::warn!("{report}");
            }
            return Ok(());
        };
        if self.manager.settled(now, self.grace) {
            return Ok(()); // done in time: `stop_if_settled` tears down
        }
        let stuck = self
            .manager
            .instances()
            .iter()
            .enumerate()
            .filter(|(_, i)| !matches!(i.phase, Phase::Running | Phase::Finished | Phase::GaveUp))
            .map(|(n, i)| Stuck {
                instance: i.name.clone(),
                phase: i.phase,
                placement: self.placement.current(n, &i.name, now),
            })
            .collect();
        self.teardown_when_running = false;
        if let Err(err) = handle.teardown() {
            log::error!("teardown failed: {err}");
        }
        Err(Error::other(NotRunning { after, stuck }))
    }

    fn save(&self) {
        self.state_file
            .save(&self.manager.saved(self.framework_id.clone()));
    }
}
