//! The scheduler: offers go to the backend, its answer becomes a LAUNCH (or
//! a DECLINE), status updates go to the status queue.
//!
//! The backend is asked synchronously, from the `offers` callback, as the
//! original did: an offer is only useful while it is fresh, and a slow
//! backend is cut off by the request timeout. Status reports, which must
//! all arrive but need not arrive at once, go through [`Reporter`] instead.

use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{TaskBuilder, expect_end};
use mesos_client::{FailedCall, Scheduler, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{Filters, Offer, TaskInfo, TaskState, TaskStatus};

use crate::backend::{Backend, BadAnswer};
use crate::blacklist::Blacklist;
use crate::status::Reporter;
use crate::summary::offer_summary;
use crate::{Declined, Outcome};

/// Why an offer was declined.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclineReason {
    /// The backend answered `[]`: nothing to run there now.
    NothingToRun,
    /// The offer's host is in the blacklist.
    Blacklisted,
    /// The backend's answer could not be used.
    BadAnswer(BadAnswer),
    /// The ACCEPT could not be sent (the text says why; a refusal by the
    /// master comes later, see `Scheduler::call_failed`).
    LaunchFailed(String),
}

/// The proxy's scheduler state.
pub(crate) struct Proxy {
    pub backend: Backend,
    pub blacklist: Blacklist,
    pub reporter: Reporter,
    pub refuse_seconds: f64,
    pub exit_after: Option<usize>,
    pub outcome: Outcome,
    /// Whether SUBSCRIBED came before (then reconcile, to resume).
    pub subscribed_before: bool,
}

impl Scheduler for Proxy {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        let id = subscribed.framework_id.value.clone();
        log::info!("subscribed as framework {id}");
        // A resumed framework (state file) or a reconnection: ask the master
        // for the state of every task, so the backend hears about changes it
        // missed while we were away.
        if (self.subscribed_before || self.outcome.resumed)
            && let Err(err) = handle.reconcile_all()
        {
            log::warn!("reconciliation failed: {err}");
        }
        self.subscribed_before = true;
        self.outcome.framework_id = id;
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        // One `stat` per batch: picks up an edited blacklist.
        self.blacklist.refresh();
        for offer in offers {
            self.outcome.offers += 1;
            let tasks = match self.tasks_for(offer) {
                Ok(tasks) if tasks.is_empty() => Err(DeclineReason::NothingToRun),
                other => other,
            };
            let reason = match tasks {
                Ok(tasks) => {
                    let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
                    // The rest of the offer is declined with our filter
                    // (Mesos' default would hide this agent for 5 s).
                    let filters = Filters {
                        refuse_seconds: Some(self.refuse_seconds),
                    };
                    match handle.launch_offers(vec![offer.id.clone()], tasks, Some(filters)) {
                        Ok(()) => {
                            log::info!("launched {ids:?} on {}", offer.hostname);
                            self.outcome.launched.extend(ids);
                            continue;
                        }
                        Err(err) => DeclineReason::LaunchFailed(err.to_string()),
                    }
                }
                Err(reason) => reason,
            };
            self.decline(handle, offer, reason);
        }
        Ok(())
    }

    fn call_failed(
        &mut self,
        handle: &SchedulerHandle,
        failed: &FailedCall,
    ) -> mesos_client::Result<()> {
        // The master refused the ACCEPT (or it never got there): its tasks
        // never ran, which the run's exit status says, and its offers go back.
        for task_id in &failed.task_ids {
            log::warn!("{} was not launched: {}", task_id.value, failed.error);
            self.outcome.launched.retain(|id| *id != task_id.value);
            self.outcome.not_finished.push(format!(
                "task '{}' was not launched: {}",
                task_id.value, failed.error
            ));
        }
        if failed.kind == mesos_proto::v1::scheduler::call::Type::Accept
            && let Err(err) =
                handle.decline_offers(failed.offer_ids.clone(), Some(self.refuse_seconds))
        {
            log::warn!("could not decline the offers of a failed launch: {err}");
        }
        Ok(())
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        let (id, state) = (status.task_id.value.as_str(), status.state());
        log::info!("{id} is {}", state.as_str_name());
        self.outcome.updates.push((id.to_string(), state));
        self.reporter.report(id, state);
        if state.is_terminal() {
            self.outcome.terminal += 1;
            // The backend decides what runs; whether it ran is still worth a word: a
            // TASK_ERROR or TASK_LOST means it never did, and the run's exit status says so.
            if let Err(err) = expect_end(status, &[TaskState::TaskFinished]) {
                log::warn!("{err}");
                self.outcome.not_finished.push(err.to_string());
            }
            if self.exit_after.is_some_and(|n| self.outcome.terminal >= n) {
                log::info!("{} task(s) ended: stopping", self.outcome.terminal);
                if let Err(err) = handle.teardown() {
                    log::error!("teardown failed: {err}");
                    handle.stop(mesos_client::StopMode::Failover);
                }
            }
        }
        Ok(())
    }
}

impl Proxy {
    /// Asks the backend and turns its answer into tasks that fit the offer.
    fn tasks_for(&self, offer: &Offer) -> Result<Vec<TaskInfo>, DeclineReason> {
        if self.blacklist.contains(&offer.hostname) {
            return Err(DeclineReason::Blacklisted);
        }
        let requests = self
            .backend
            .offer(&offer_summary(offer))
            .map_err(DeclineReason::BadAnswer)?;
        // Cut each task's share out of the offer; any that does not fit
        // makes the whole answer bad (the backend misread the offer).
        let mut remaining = RemainingResources::from_offer(offer);
        let mut tasks = Vec::with_capacity(requests.len());
        for request in requests {
            let need = Resources::new(request.cpus, request.mem);
            let Some(resources) = remaining.take(&need) else {
                let why = format!(
                    "task {} wants cpus {} mem {}, the offer has {} left",
                    request.id,
                    request.cpus,
                    request.mem,
                    mesos_client::resources::describe(remaining.resources())
                );
                return Err(DeclineReason::BadAnswer(BadAnswer::TooBig(why)));
            };
            let task = TaskBuilder::command(offer, &request.cmd)
                .id(request.id.clone())
                .name(request.id.clone())
                .resources(resources)
                .build();
            tasks.push(task);
        }
        Ok(tasks)
    }

    fn decline(&mut self, handle: &SchedulerHandle, offer: &Offer, reason: DeclineReason) {
        match &reason {
            DeclineReason::NothingToRun => {
                log::debug!("declining {}: nothing to run", offer.id.value)
            }
            DeclineReason::Blacklisted => {
                log::info!(
                    "declining {}: host {} is blacklisted",
                    offer.id.value,
                    offer.hostname
                )
            }
            DeclineReason::BadAnswer(bad) => log::warn!("declining {}: {bad}", offer.id.value),
            DeclineReason::LaunchFailed(e) => log::warn!("declining {}: {e}", offer.id.value),
        }
        if let Err(err) = handle.decline(offer, self.refuse_seconds) {
            log::warn!("could not decline {}: {err}", offer.id.value);
        }
        self.outcome.declined.push(Declined {
            offer_id: offer.id.value.clone(),
            hostname: offer.hostname.clone(),
            reason,
        });
    }
}
