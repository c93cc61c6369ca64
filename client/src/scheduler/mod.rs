//! The scheduler side: the [`Scheduler`] trait you implement and the
//! [`SchedulerDriver`] that runs it against a Mesos master.
//!
//! ```no_run
//! use mesos_client::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
//! use mesos_proto::v1::FrameworkInfo;
//!
//! struct Hello;
//! impl Scheduler for Hello {
//!     fn subscribed(
//!         &mut self,
//!         handle: &SchedulerHandle,
//!         _subscribed: &mesos_proto::v1::scheduler::event::Subscribed,
//!     ) -> mesos_client::Result<()> {
//!         println!("subscribed as {:?}", handle.framework_id());
//!         // Every other method keeps its default: offers are declined.
//!         handle.teardown()
//!     }
//! }
//!
//! let info = FrameworkInfo {
//!     user: "nobody".into(),
//!     name: "hello".into(),
//!     ..Default::default()
//! };
//! let mut driver = SchedulerDriver::new(SchedulerConfig::new("127.0.0.1:5050", info))?;
//! driver.run(&mut Hello)?;
//! # Ok::<(), mesos_client::Error>(())
//! ```
//!
//! Layout: [`config`] (what you can tune), `driver` (the run loop),
//! `subscription` (SUBSCRIBE and the reader thread), `handle` and `calls`
//! (how callbacks talk back to the master), `pipeline` (the threads that
//! send the calls), `background` (what a failed ACCEPT or DECLINE reports).
//!
//! # How calls are sent
//!
//! The thread that runs your callbacks does not wait a round trip for an
//! acknowledgement or an answer to an offer, and an ACCEPT does not wait
//! behind thousands of acknowledgements. Nothing changes in your code:
//!
//! * **ACKNOWLEDGE** and **ACKNOWLEDGE_OPERATION_STATUS** (the automatic ones
//!   and [`SchedulerHandle::acknowledge`]) are put on a bounded queue and
//!   return. A thread of the driver (`mesos-acks`) writes whatever is queued
//!   (up to 64 requests) to the master in one go on its own keep-alive
//!   connection, then reads the answers in order (HTTP/1.1 pipelining), and
//!   repeats.
//! * **ACCEPT** and **DECLINE** ([`SchedulerHandle::launch`], `decline`,
//!   `launch_group`, `accept`, ...) are put on a second bounded queue (16
//!   calls) and return, as the book's driver did. A second thread
//!   (`mesos-calls`) sends that queue the same way on a second keep-alive
//!   connection. Mesos answers a well-formed ACCEPT `202` whatever becomes
//!   of its tasks (a task or offer it refuses comes back as a `TASK_ERROR`,
//!   `TASK_DROPPED` or `TASK_LOST` update), so an answer other than `202` is
//!   rare; the driver then calls [`Scheduler::call_failed`] with the call's
//!   offers and tasks and the error.
//! * **Every other call** (`kill`, `reconcile`, `revive`, `message`, ...)
//!   goes into the same queue as ACCEPT and DECLINE, in the order made, and
//!   waits for its own answer: `Ok` on `202`, the status and Mesos' reason as
//!   [`Error::Http`](crate::Error::Http) otherwise. So a KILL made after a
//!   LAUNCH reaches the master after it. These calls overtake
//!   acknowledgements still queued (the order between an acknowledgement
//!   and another call means nothing to Mesos). Calls from several threads
//!   take turns.
//! * **TEARDOWN** waits for its answer too, but after every call made
//!   before it: the second queue is sent first, then TEARDOWN goes into the
//!   acknowledgements' queue, behind them.
//!
//! The protocol's contract is kept this way (`tests/scheduler_pipeline.rs`
//! checks each point):
//!
//! * **After the callback.** The driver queues the acknowledgement of an
//!   update only once [`Scheduler::update`] has returned for it.
//! * **Exactly once, in order.** One acknowledgement per delivered update
//!   with a uuid (none for the master's own updates without one), sent in the
//!   order the updates came. If the master delivers an update again (after a
//!   reconnection, because the first acknowledgement did not reach it), that
//!   delivery is acknowledged again, once.
//! * **Never after TEARDOWN.** TEARDOWN waits in the same queue, behind
//!   every acknowledgement queued before it (and after every other call
//!   made before it); once the master has accepted it nothing more is sent,
//!   and an update whose callback called [`SchedulerHandle::teardown`] is
//!   not acknowledged.
//! * **Flushed.** What is queued is sent before TEARDOWN and before
//!   [`SchedulerDriver::run`] returns (`run` waits for the answers). Calls
//!   of a subscription that was lost are dropped instead of sent: the master
//!   would refuse their `Mesos-Stream-Id`, and it re-sends the updates that
//!   were not acknowledged once the driver has re-subscribed.
//! * **Failures are reported.** A call that waits gets its error, as ever.
//!   A failed ACCEPT or DECLINE goes to [`Scheduler::call_failed`] (also
//!   one dropped because its subscription was lost before it could be sent),
//!   on the thread that runs the callbacks, between events; a failure that
//!   ends the subscription (below) ends it after that callback. A failed
//!   acknowledgement is logged (warn) and handed to the driver: a
//!   `403` (the master no longer has this stream: it was cut, or its reader
//!   fell too far behind), a `307` (that master is no longer the leader), a
//!   `503` or other 5xx, or a broken connection (its fate is unknown) ends
//!   the subscription as a lost connection does
//!   ([`Scheduler::disconnected`], then a new SUBSCRIBE, following redirects
//!   and trying the next master; the master re-sends what was not
//!   acknowledged); any other 4xx (the master refuses it, and would refuse it
//!   again) ends nothing, as any refused call: the update stays
//!   unacknowledged and its agent sends it again.
//! * **Bounded.** The acknowledgements' queue holds at most
//!   [`SchedulerConfig::max_queued_calls`] calls (4096 by default, about
//!   1 MiB), the other queue 16 (an ACCEPT of 40 tasks is ~25 KB of JSON);
//!   at most 64 acknowledgements and 16 other calls more are on the wire
//!   (their bodies freed once written). When a queue is full, the
//!   call (the automatic acknowledgement after `update`, and so the next
//!   event; or the next `launch`) waits: a scheduler that launches faster
//!   than the master answers is slowed down, not given more memory. At most
//!   1,024 failed ACCEPTs and DECLINEs wait for [`Scheduler::call_failed`];
//!   beyond that a failure is logged (error) and not kept.
//!
//! Every request carries the `Mesos-Stream-Id` of the subscription it was
//! made in. Over https the connection uses the CA of
//! [`SchedulerConfig::ca_file`]; without a CA file (the web PKI roots) calls
//! go through ureq one at a time, in the same order and with the same
//! contract, only slower.

mod background;
mod calls;
pub mod config;
mod dispatch;
mod driver;
mod handle;
mod pipeline;
mod subscription;

pub use background::FailedCall;
pub use config::SchedulerConfig;
pub use driver::SchedulerDriver;
#[cfg(feature = "local")]
pub(crate) use handle::stop_all_drivers;
pub use handle::{SchedulerHandle, StopMode};

use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{InverseOffer, Offer, OfferId, OperationStatus, TaskStatus};

use crate::error::Result;

/// What a framework does when the master tells it something: one method per
/// v1 scheduler event, in the order of `scheduler.proto`, plus
/// [`Scheduler::disconnected`].
///
/// The [`SchedulerDriver`] calls these methods, one at a time, on the thread
/// that called [`SchedulerDriver::run`]. Every method has a default that is
/// safe for a cluster (it declines what it is offered and logs the rest), so
/// you implement only what your framework cares about.
///
/// Each method receives a [`SchedulerHandle`] through which it makes calls
/// (launch, decline, kill, acknowledge, stop ...). Launches, declines and
/// acknowledgements return as soon as they are queued (a failure comes back
/// through [`Scheduler::call_failed`] or is handled by the driver); other
/// calls return once the master has answered `202 Accepted`. Either way the
/// master's `202` means "queued", not "done": the result arrives later as
/// another event (see [the module docs](self#how-calls-are-sent)).
///
/// Keep callbacks short. While one runs no other event is handled, and the
/// heartbeat clock keeps running (a callback that blocks for longer than the
/// heartbeat timeout does not cause a disconnection by itself, because events
/// that queued up meanwhile count as signs of life, but offers go stale).
///
/// # Errors in callbacks
///
/// Every method returns [`Result<()>`](crate::Result), so a callback makes
/// its calls with `?` (`handle.launch(offer, vec![task])?`). What an `Err`
/// does depends on what went wrong:
///
/// - **A call failed** ([`Error::is_call_failure`](crate::Error::is_call_failure)):
///   the master refused it (an HTTP 4xx/5xx) or could not be reached. The
///   error is logged and the driver goes on, as the book's driver did when a
///   call failed: the rest of that callback is skipped, nothing else. Most
///   refusals are races with the subscription (a call on a stream another
///   scheduler has just taken over gets a 400), and the event stream tells
///   the driver what happened (ERROR, a disconnection, after which it
///   re-subscribes). An update whose callback failed is not acknowledged,
///   so the agent sends it again.
/// - **An error of your own** ([`Error::other`](crate::Error::other), an
///   [`Error::Io`](crate::Error::Io) from `?` on a file, an
///   [`Error::Config`](crate::Error::Config)): [`SchedulerDriver::run`]
///   stops and returns that error, as `?` in `main` would. The framework is
///   not torn down: like a crashed scheduler it stays registered until its
///   `failover_timeout` runs out.
/// - **A task did not end as it should** ([`Error::UnexpectedTaskState`](crate::Error::UnexpectedTaskState),
///   made by [`tasks::expect_end`](crate::tasks::expect_end) in
///   [`Scheduler::update`]): an error of the framework's own, so `run`
///   stops with it and `main` exits non-zero, naming the task, its state
///   and Mesos' source, reason and message. One line turns a `TASK_ERROR`
///   (the master refused the task), a `TASK_LOST`/`TASK_DROPPED` (it never
///   ran) or a failure where success was due into a failed run, instead of
///   a scheduler that waits forever or reports success.
///
/// The "upstream" line of each method names the v0 driver callback it
/// replaces (Python `mesos.interface.Scheduler`, as in *Mesos in Action*) and
/// the section of `docs/mesos-v1-http-api.md` describing the event.
pub trait Scheduler {
    /// Called when the master has accepted the subscription: first after
    /// [`SchedulerDriver::run`] starts, then after every reconnection.
    ///
    /// `subscribed.framework_id` is the framework's id (the same one after a
    /// reconnection); it is also available as [`SchedulerHandle::framework_id`]
    /// and, if configured, written to the framework-id file. Offers made
    /// before a reconnection are gone: expect fresh ones.
    ///
    /// You may: start reconciliation ([`SchedulerHandle::reconcile_all`]) after
    /// a reconnection, to learn what happened to your tasks meanwhile.
    ///
    /// Default: logs the framework id at info level.
    ///
    /// Upstream: v0 `registered` (first time) and `reregistered` (later);
    /// event `SUBSCRIBED`, fact sheet §1.5, §1.10, §2.4.
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> Result<()> {
        let _ = handle;
        log::info!("subscribed as framework {}", subscribed.framework_id.value);
        Ok(())
    }

    /// Called with resources the master offers to this framework.
    ///
    /// You must answer every offer, once: use it with
    /// [`SchedulerHandle::launch`] (or [`SchedulerHandle::launch_group`],
    /// [`SchedulerHandle::accept`]), or give it back with
    /// [`SchedulerHandle::decline`]. An offer left
    /// alone holds its resources until the master rescinds it.
    ///
    /// Default: declines them all with the default filter (the master offers
    /// the same resources again after 5 s).
    ///
    /// Upstream: v0 `resourceOffers`; event `OFFERS`, fact sheet §2.4, §7.
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        log::debug!(
            "declining {} offer(s) (default Scheduler::offers)",
            offers.len()
        );
        let ids: Vec<OfferId> = offers.iter().map(|offer| offer.id.clone()).collect();
        handle.decline_offers(ids, None)
    }

    /// Called when the master asks for resources back before maintenance
    /// (inverse offers).
    ///
    /// You must answer each one: accept (you will be off the agent in time)
    /// or decline, with [`SchedulerHandle::call`] or
    /// [`SchedulerHandle::decline_inverse_offers`].
    ///
    /// Default: declines them all.
    ///
    /// Upstream: no v0 callback (pymesos `inverseOffers`); event
    /// `INVERSE_OFFERS`, fact sheet §2.4.
    fn inverse_offers(
        &mut self,
        handle: &SchedulerHandle,
        inverse_offers: &[InverseOffer],
    ) -> Result<()> {
        let ids: Vec<OfferId> = inverse_offers.iter().map(|o| o.id.clone()).collect();
        log::debug!("declining {} inverse offer(s)", ids.len());
        handle.decline_inverse_offers(ids, None)
    }

    /// Called when an offer is withdrawn (its agent went away, it timed out,
    /// ...). Forget the offer: using it now makes the launch fail with
    /// `TASK_LOST`/`TASK_DROPPED`.
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: v0 `offerRescinded`; event `RESCIND`, fact sheet §2.4.
    fn rescind(&mut self, handle: &SchedulerHandle, offer_id: &OfferId) -> Result<()> {
        let _ = handle;
        log::debug!("offer {} rescinded", offer_id.value);
        Ok(())
    }

    /// Called when an inverse offer is withdrawn. Forget it.
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: no v0 callback (pymesos `inverseOfferRescinded`); event
    /// `RESCIND_INVERSE_OFFER`, fact sheet §2.4.
    fn rescind_inverse_offer(
        &mut self,
        handle: &SchedulerHandle,
        inverse_offer_id: &OfferId,
    ) -> Result<()> {
        let _ = handle;
        log::debug!("inverse offer {} rescinded", inverse_offer_id.value);
        Ok(())
    }

    /// Called when a task changes state, or to answer a reconciliation.
    ///
    /// Acknowledgements: an update that carries `status.uuid` is *reliable*:
    /// the agent resends it, and holds back the task's next update, until it
    /// is acknowledged. With `auto_acknowledge` on (the default) the driver
    /// queues the ACKNOWLEDGE for you right after this method returns (sent
    /// in order, once; see [the module docs](self#how-calls-are-sent)). If you
    /// turned it off, call [`SchedulerHandle::acknowledge`] yourself once the
    /// update is safely handled. Updates without a uuid (made by the master:
    /// reconciliation answers, invalid launches) must not be acknowledged;
    /// both the driver and [`SchedulerHandle::acknowledge`] skip them.
    ///
    /// The same update (same uuid) can arrive twice; handle it idempotently.
    ///
    /// To stop on an end you do not expect:
    /// `mesos_client::tasks::expect_end(status, &[TaskState::TaskFinished])?;`
    /// (see [`tasks::expect_end`](crate::tasks::expect_end) and "Errors in
    /// callbacks" above).
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: v0 `statusUpdate`; event `UPDATE`, fact sheet §2.4, §3.4, §8.
    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
        let _ = handle;
        log::debug!("task {} is {:?}", status.task_id.value, status.state());
        Ok(())
    }

    /// Called with feedback for an offer operation that set an operation id.
    ///
    /// Like [`Scheduler::update`], one with `status.uuid` is acknowledged for
    /// you (ACKNOWLEDGE_OPERATION_STATUS) when `auto_acknowledge` is on.
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: no v0 callback; event `UPDATE_OPERATION_STATUS`, fact sheet
    /// §2.4.
    fn update_operation_status(
        &mut self,
        handle: &SchedulerHandle,
        status: &OperationStatus,
    ) -> Result<()> {
        let _ = handle;
        log::debug!("operation status {:?}", status.state());
        Ok(())
    }

    /// Called with bytes an executor sent to this scheduler (unreliable:
    /// messages can be lost or overtake status updates).
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: v0 `frameworkMessage`; event `MESSAGE`, fact sheet §2.4.
    fn message(&mut self, handle: &SchedulerHandle, message: &event::Message) -> Result<()> {
        let _ = handle;
        log::debug!(
            "{} byte(s) from executor {} on agent {}",
            message.data.len(),
            message.executor_id.value,
            message.agent_id.value
        );
        Ok(())
    }

    /// Called when an agent is lost (only `agent_id` set) or an executor
    /// other than the command executor exited (`executor_id` and `status`, a
    /// raw wait status: exit code 3 is 768).
    ///
    /// The tasks concerned get their own [`Scheduler::update`]s; use this to
    /// stop using the agent or to relaunch the executor.
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: v0 `slaveLost` / `executorLost`; event `FAILURE`, fact sheet
    /// §2.4.
    fn failure(&mut self, handle: &SchedulerHandle, failure: &event::Failure) -> Result<()> {
        let _ = handle;
        log::debug!("failure: {failure:?}");
        Ok(())
    }

    /// Called when the master ends the subscription with an error: the
    /// subscription was refused (bad role, ...), another scheduler took over
    /// this framework id, or the framework was removed.
    ///
    /// After this method returns, [`SchedulerDriver::run`] returns the typed
    /// reason ([`Error::FrameworkRemoved`](crate::Error::FrameworkRemoved),
    /// [`Error::FailedOver`](crate::Error::FailedOver), or
    /// [`Error::Subscription`](crate::Error::Subscription) with the master's
    /// words for a refusal): re-subscribing could not help. An `Err` returned
    /// from here is logged; `run` returns the reason above either way.
    ///
    /// Default: logs at error level.
    ///
    /// Upstream: v0 `error`; event `ERROR`, fact sheet §1.10, §2.4.
    fn error(&mut self, handle: &SchedulerHandle, message: &str) -> Result<()> {
        let _ = handle;
        log::error!("the master ended the subscription: {message}");
        Ok(())
    }

    /// Called for every heartbeat (every 15 s). The driver already uses them
    /// to detect a dead connection; this is for schedulers that want a tick.
    ///
    /// Default: logs at debug level.
    ///
    /// Upstream: none in v0 (pymesos `processHeartBeat`); event `HEARTBEAT`,
    /// fact sheet §1.9.
    fn heartbeat(&mut self, handle: &SchedulerHandle) -> Result<()> {
        let _ = handle;
        log::debug!("heartbeat");
        Ok(())
    }

    /// Called when an ACCEPT or DECLINE that the driver sent in the
    /// background ([`SchedulerHandle::launch`] and friends return once the
    /// call is queued) did not succeed: the master refused it (an HTTP 4xx
    /// or 5xx; Mesos answers a well-formed ACCEPT `202` even when its tasks
    /// are invalid, and reports those as `TASK_ERROR` updates), it was
    /// dropped because the subscription was lost first, or the connection
    /// broke while it was on the wire. [`FailedCall`] names its offers and
    /// the tasks it would have launched, so a framework can put them back
    /// in its queue (after a broken connection the call may have reached the
    /// master: reconcile those tasks to know).
    ///
    /// Called on the thread that runs the callbacks, between events, in the
    /// order the calls failed. If the failure ends the subscription (a
    /// `403`, `307`, 5xx or broken connection), [`Scheduler::disconnected`]
    /// follows and the driver re-subscribes.
    ///
    /// Default: logs at warn level.
    ///
    /// Upstream: v0 `error` for a failed `launchTasks` (the native driver
    /// sent calls in the background too).
    fn call_failed(&mut self, handle: &SchedulerHandle, failed: &FailedCall) -> Result<()> {
        let _ = handle;
        log::warn!(
            "{} of {} offer(s) and {} task(s) failed: {}",
            failed.kind.as_str_name(),
            failed.offer_ids.len(),
            failed.task_ids.len(),
            failed.error
        );
        Ok(())
    }

    /// Called when the subscription is lost: the stream ended or broke, or
    /// no event came for the configured number of heartbeat intervals. The
    /// driver then re-subscribes with the same framework id, after a backoff;
    /// [`Scheduler::subscribed`] follows when that succeeds.
    ///
    /// Until then calls fail with
    /// [`Error::NotSubscribed`](crate::Error::NotSubscribed), and all
    /// outstanding offers are void. Tasks keep running for as long as the
    /// framework's `failover_timeout` allows.
    ///
    /// Default: logs at warn level.
    ///
    /// Upstream: v0 `disconnected`; fact sheet §1.9, §2.4 (end).
    fn disconnected(&mut self, handle: &SchedulerHandle) -> Result<()> {
        let _ = handle;
        log::warn!("disconnected from the master; will re-subscribe");
        Ok(())
    }
}
