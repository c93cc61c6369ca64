//! The scheduler: offers become job attempts, updates settle them, and a
//! reconnection (leader change, broken stream) is followed by a
//! reconciliation so that no job is lost.
//!
//! Why reconcile: status updates are reliable (the agent resends them to
//! whichever master leads, until we acknowledge), but a LAUNCH the old
//! leader accepted just before it went away may never have reached an
//! agent. Nobody would ever report on that task, and its job would wait
//! forever. Asking the new leader about every task we think is live turns
//! that silence into a TASK_LOST, after which the job is retried.
//!
//! With `--ha` the same reconciliation adopts the tasks of the leader before
//! us, and every change of a job goes to the job table in ZooKeeper
//! (`store/`) before it has effects outside: before the LAUNCH, and before
//! the ACKNOWLEDGE of the update that ended the task. A write that fails
//! means another instance leads now: this one stops at once.

use std::time::{Duration, Instant};

use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::{Error, FailedCall, Scheduler, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{AgentId, Filters, Offer, TaskId, TaskState, TaskStatus, task_status};

use crate::jobs::{JobState, Jobs};
use crate::store::{Fenced, JobStore};
use crate::task::TaskTemplate;

/// The runner's scheduler state.
pub(crate) struct Runner {
    pub jobs: Jobs,
    pub template: TaskTemplate,
    pub need: Resources,
    /// Makes task ids unique per runner start.
    pub run_id: String,
    pub refuse_seconds: f64,
    /// How long after a re-subscription to reconcile: agents need a moment
    /// to re-register with a new leader before it knows their tasks.
    pub reconcile_delay: Duration,
    pub framework_id: String,
    pub subscriptions: usize,
    /// Clear, human-readable reports of what went wrong.
    pub problems: Vec<String>,
    /// Whether a Docker launch failure was reported already.
    pub docker_reported: bool,
    /// The job table in ZooKeeper (`--ha`), written before every effect.
    pub store: Option<JobStore>,
    /// Set once a write to the table was refused: another instance leads.
    pub deposed: bool,
}

impl Scheduler for Runner {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        self.framework_id = subscribed.framework_id.value.clone();
        self.subscriptions += 1;
        log::info!(
            "subscribed as {} (subscription {})",
            self.framework_id,
            self.subscriptions
        );
        // Before any launch: the next leader must come back as this framework.
        if let Some(store) = &mut self.store
            && let Err(fenced) = store.save_framework_id(&self.framework_id)
        {
            self.depose(handle, &fenced);
            return Ok(());
        }
        // After a reconnection, and after taking over from another leader:
        // live tasks, if any, are asked about.
        self.reconcile_later(handle);
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        for offer in offers {
            let tasks = self.attempts_for(handle, offer);
            if tasks.is_empty() {
                if let Err(err) = handle.decline(offer, self.refuse_seconds) {
                    log::debug!("decline failed: {err}");
                }
                continue;
            }
            let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
            log::info!("launching {ids:?} on {}", offer.hostname);
            // What the tasks leave of the offer is declined with our filter
            // (Mesos' default would hide this agent for 5 s).
            let filters = Filters {
                refuse_seconds: Some(self.refuse_seconds),
            };
            // Queued: a refusal comes back through `call_failed`.
            if let Err(err) = handle.launch_offers(vec![offer.id.clone()], tasks, Some(filters)) {
                self.not_launched(handle, &ids, &err);
            }
        }
        Ok(())
    }

    fn call_failed(
        &mut self,
        handle: &SchedulerHandle,
        failed: &FailedCall,
    ) -> mesos_client::Result<()> {
        let ids: Vec<String> = failed.task_ids.iter().map(|t| t.value.clone()).collect();
        self.not_launched(handle, &ids, &failed.error);
        Ok(())
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        let id = status.task_id.value.as_str();
        let state = status.state();
        log::debug!("{id} is {}", state.as_str_name());
        // TASK_UNKNOWN (a reconciliation answer) for a live task means the
        // launch never arrived: as good as lost.
        let over = state.is_terminal() || state == TaskState::TaskUnknown;
        if self.deposed {
            // Not ours to settle any more: unacknowledged, it goes to the new leader.
            return Ok(());
        }
        if !over || !self.jobs.is_live(id) {
            acknowledge(handle, status);
            return Ok(());
        }
        if status.reason() == task_status::Reason::ReasonReconciliation {
            // Make sure it really is gone before the job runs again.
            let agent = status.agent_id.clone();
            let _ = handle.kill_on(status.task_id.clone(), agent);
        }
        let Some(job) = self.jobs.ended(status, Instant::now()).cloned() else {
            return Ok(());
        };
        // Recorded first, acknowledged after: if we die in between, the
        // update is sent again to the next leader.
        if !self.persist(handle, job.index) {
            return Ok(());
        }
        acknowledge(handle, status);
        let attempt = job.attempts.last().expect("ended() records the attempt");
        match &job.state {
            JobState::Done => log::info!("job {} done ({id})", job.index),
            JobState::Waiting { .. } => log::warn!(
                "job {} attempt {} ended {}: {}; will retry",
                job.index,
                job.attempts.len(),
                state.as_str_name(),
                attempt.message
            ),
            JobState::GaveUp => {
                let text = format!(
                    "job {} gave up after {} attempt(s); last: {} {} {}",
                    job.index,
                    job.attempts.len(),
                    state.as_str_name(),
                    attempt.reason.as_deref().unwrap_or("(no reason)"),
                    attempt.message
                );
                log::error!("{text}");
                self.problems.push(text);
            }
            JobState::Running { .. } => {}
        }
        // Said once: every job would fail the same way.
        if !self.docker_reported
            && let Some(text) = docker_problem(self.template.image.as_deref(), job.index, status)
        {
            log::error!("{text}");
            self.problems.push(text);
            self.docker_reported = true;
        }
        if self.jobs.settled() {
            log::info!("every job is settled: tearing down");
            if let Err(err) = handle.teardown() {
                log::error!("teardown failed: {err}");
                handle.stop(mesos_client::StopMode::Failover);
            }
        }
        Ok(())
    }
}

impl Runner {
    /// A launch of `ids` that was not sent, or refused: nothing runs, the
    /// jobs wait again. If the connection broke while it was on the wire
    /// the master may have it: the tasks stay live, and reconciliation after
    /// the reconnection settles them.
    fn not_launched(&mut self, handle: &SchedulerHandle, ids: &[String], err: &Error) {
        if !matches!(err, Error::NotSubscribed | Error::Http { .. }) {
            log::warn!("launch of {ids:?} uncertain: {err}");
            return;
        }
        log::warn!("launch of {ids:?} refused: {err}");
        for id in ids {
            let job = self.jobs.job_of(id);
            self.jobs.not_launched(id, Instant::now());
            if let Some(index) = job {
                self.persist(handle, index);
            }
        }
    }

    /// Records job `index` in the job table, if there is one; `false` (and
    /// scheduling stops) if this instance no longer leads.
    fn persist(&mut self, handle: &SchedulerHandle, index: usize) -> bool {
        let Some(store) = &mut self.store else {
            return true;
        };
        match store.save(self.jobs.job(index)) {
            Ok(()) => true,
            Err(fenced) => {
                self.depose(handle, &fenced);
                false
            }
        }
    }

    /// Another instance leads: stop scheduling now, leave the tasks running.
    fn depose(&mut self, handle: &SchedulerHandle, why: &Fenced) {
        if !self.deposed {
            log::error!("no longer the leader ({why}): scheduling stops now");
            self.deposed = true;
            handle.stop(StopMode::Failover);
        }
    }

    /// Job attempts that fit in `offer`, as the batch rules allow, each
    /// recorded in the job table before it is returned for launching.
    fn attempts_for(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
    ) -> Vec<mesos_proto::v1::TaskInfo> {
        if self.deposed {
            return Vec::new();
        }
        let mut remaining = RemainingResources::from_offer(offer);
        let mut tasks = Vec::new();
        let now = Instant::now();
        while remaining.fits(&self.need) {
            let Some(index) = self.jobs.next_to_launch(now) else {
                break;
            };
            let Some(resources) = remaining.take(&self.need) else {
                break;
            };
            let attempt = self.jobs.jobs()[index].attempts.len() + 1;
            match self
                .template
                .task(&self.run_id, index, attempt, offer, resources)
            {
                Ok(task) => {
                    self.jobs
                        .launched(index, &task.task_id.value, &offer.agent_id.value);
                    if !self.persist(handle, index) {
                        self.jobs.not_launched(&task.task_id.value, now);
                        break;
                    }
                    tasks.push(task);
                }
                Err(err) => {
                    log::error!("cannot build the task of job {index}: {err}");
                    break;
                }
            }
        }
        tasks
    }

    /// Reconciles the live tasks after `reconcile_delay`, from a helper
    /// thread so the event loop goes on meanwhile.
    fn reconcile_later(&self, handle: &SchedulerHandle) {
        let tasks: Vec<call::reconcile::Task> = self
            .jobs
            .live_tasks()
            .into_iter()
            .map(|(task_id, agent_id)| call::reconcile::Task {
                task_id: TaskId { value: task_id },
                agent_id: Some(AgentId { value: agent_id }),
            })
            .collect();
        if tasks.is_empty() {
            return;
        }
        let handle = handle.clone();
        let delay = self.reconcile_delay;
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            log::info!("reconciling {} live task(s)", tasks.len());
            if let Err(err) = handle.reconcile_tasks(tasks) {
                log::warn!("reconciliation failed: {err}");
            }
        });
    }
}

/// Acknowledges `status` if it needs it (one with a uuid).
fn acknowledge(handle: &SchedulerHandle, status: &TaskStatus) {
    if let Err(err) = handle.acknowledge(status) {
        log::debug!("acknowledging {} failed: {err}", status.task_id.value);
    }
}

/// The report for a task of job `job` that failed because the agent could
/// not start its Docker container: Mesos says TASK_FAILED with
/// REASON_CONTAINER_LAUNCH_FAILED. `None` for anything else.
pub(crate) fn docker_problem(
    image: Option<&str>,
    job: usize,
    status: &TaskStatus,
) -> Option<String> {
    let image = image?;
    if status.state() != TaskState::TaskFailed
        || status.reason() != task_status::Reason::ReasonContainerLaunchFailed
    {
        return None;
    }
    Some(format!(
        "job {job}: the agent could not start Docker image '{image}' \
         (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED: {}). Docker tasks need agents \
         started with --containerizers=docker,mesos and a running Docker daemon.",
        status.message()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_launch_failure_with_an_image_is_explained() {
        let mut status = TaskStatus::default();
        status.set_state(TaskState::TaskFailed);
        status.set_reason(task_status::Reason::ReasonContainerLaunchFailed);
        status.message = Some("Unsupported container type".into());
        let text = docker_problem(Some("busybox"), 2, &status).unwrap();
        assert!(text.contains("job 2"), "{text}");
        assert!(text.contains("Docker image 'busybox'"), "{text}");
        assert!(text.contains("--containerizers=docker,mesos"), "{text}");
        // Without an image, or for an ordinary failure: nothing to explain.
        assert!(docker_problem(None, 2, &status).is_none());
        status.set_reason(task_status::Reason::ReasonCommandExecutorFailed);
        assert!(docker_problem(Some("busybox"), 2, &status).is_none());
    }
}
