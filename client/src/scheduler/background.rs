//! The answers to offers that the driver sends in the background, and what
//! the scheduler hears when one of them fails.
//!
//! ACCEPT and DECLINE are the calls a busy framework makes most after the
//! acknowledgements, and the ones whose latency counts: an offer answered
//! late is an offer other frameworks could not have. So
//! [`SchedulerHandle::launch`](super::SchedulerHandle::launch),
//! [`decline`](super::SchedulerHandle::decline) and their low-level forms
//! return as soon as the call is queued, as the book's driver did
//! (`driver.launchTasks` returned at once), and the master's answer is read
//! by the driver's `mesos-calls` thread. Mesos answers a well-formed ACCEPT
//! with `202` whatever becomes of its tasks (an invalid task or offer comes
//! back as a `TASK_ERROR`, `TASK_DROPPED` or `TASK_LOST` update), so a failure
//! here is rare: the call itself was malformed, the subscription was lost, or
//! the master could not be reached. Then the driver calls
//! [`Scheduler::call_failed`](super::Scheduler::call_failed) with a
//! [`FailedCall`]: which call, the offers and tasks it named, and the error.

use mesos_proto::v1::scheduler::{Call, call};
use mesos_proto::v1::{OfferId, TaskId};

use crate::error::Error;

/// An ACCEPT or DECLINE sent in the background that did not succeed; see
/// [`Scheduler::call_failed`](super::Scheduler::call_failed).
///
/// Nothing it names happened: no task of it was launched (a task the master
/// refuses after a `202` comes back as a status update instead), its offers
/// are not declined (a lost subscription voids them anyway; the master
/// offers their resources again).
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedCall {
    /// `Accept` or `Decline`.
    pub kind: call::Type,
    /// The offers it answered.
    pub offer_ids: Vec<OfferId>,
    /// The tasks it would have launched (LAUNCH and LAUNCH_GROUP, in
    /// order); empty for a DECLINE.
    pub task_ids: Vec<TaskId>,
    /// Why: [`Error::Http`] with Mesos' reason (the master refused the call),
    /// [`Error::NotSubscribed`] (the subscription was lost before it could be
    /// sent), or [`Error::Transport`] (the connection broke: the master may
    /// or may not have it; reconcile to know).
    pub error: Error,
}

impl FailedCall {
    /// What a failure of `call` would name, if it is a call sent in the
    /// background (ACCEPT or DECLINE); `None` for every other call. The
    /// error is filled in when the call fails.
    pub(crate) fn of(call: &Call) -> Option<FailedCall> {
        let (offer_ids, task_ids) = match call.r#type() {
            call::Type::Accept => {
                let accept = call.accept.as_ref()?;
                let tasks = accept.operations.iter().flat_map(|operation| {
                    let launched = operation.launch.iter().flat_map(|l| &l.task_infos);
                    let grouped = operation
                        .launch_group
                        .iter()
                        .flat_map(|g| &g.task_group.tasks);
                    launched.chain(grouped).map(|task| task.task_id.clone())
                });
                (accept.offer_ids.clone(), tasks.collect())
            }
            call::Type::Decline => (call.decline.as_ref()?.offer_ids.clone(), Vec::new()),
            _ => return None,
        };
        Some(FailedCall {
            kind: call.r#type(),
            offer_ids,
            task_ids,
            error: Error::Stopped,
        })
    }
}
