//! From one [`Event`] to one [`Scheduler`] method, plus the automatic
//! acknowledgements.

use mesos_proto::v1::scheduler::{Event, event};

use super::Scheduler;
use super::config::SchedulerConfig;
use super::handle::SchedulerHandle;
use crate::error::{Error, Result};

/// Calls the scheduler method for `event`.
///
/// Returns an error only for an ERROR event, which ends the subscription
/// for good (after [`Scheduler::error`] has seen it). An event of a type we
/// do not know, or without its payload, is logged and skipped: the master
/// may be newer than this crate, and skipping is what Mesos' own clients do.
pub(crate) fn dispatch<S: Scheduler + ?Sized>(
    scheduler: &mut S,
    handle: &SchedulerHandle,
    config: &SchedulerConfig,
    event: Event,
) -> Result<()> {
    let kind = event.r#type();
    log::trace!("event {}", kind.as_str_name());
    let missing = || log::warn!("{} event without its payload; skipped", kind.as_str_name());
    match kind {
        event::Type::Subscribed => match &event.subscribed {
            Some(subscribed) => scheduler.subscribed(handle, subscribed),
            None => missing(),
        },
        event::Type::Offers => match &event.offers {
            Some(offers) => scheduler.offers(handle, &offers.offers),
            None => missing(),
        },
        event::Type::InverseOffers => match &event.inverse_offers {
            Some(offers) => scheduler.inverse_offers(handle, &offers.inverse_offers),
            None => missing(),
        },
        event::Type::Rescind => match &event.rescind {
            Some(rescind) => scheduler.rescind(handle, &rescind.offer_id),
            None => missing(),
        },
        event::Type::RescindInverseOffer => match &event.rescind_inverse_offer {
            Some(rescind) => scheduler.rescind_inverse_offer(handle, &rescind.inverse_offer_id),
            None => missing(),
        },
        event::Type::Update => match &event.update {
            Some(update) => {
                scheduler.update(handle, &update.status);
                // Only after the scheduler has seen it: an update must not be
                // acknowledged before it is handled. `acknowledge` only queues
                // the call (the `mesos-calls` thread sends it, in order; this
                // blocks only while the queue is full) and skips updates
                // without a uuid (the master's own, never acked). After a
                // TEARDOWN from the callback there is nothing left to
                // acknowledge: the master has removed the framework.
                if config.auto_acknowledge
                    && update.status.uuid.is_some()
                    && !handle.is_torn_down()
                    && let Err(err) = handle.acknowledge(&update.status)
                {
                    // Only queueing can fail here (no subscription any more,
                    // or torn down meanwhile): the master re-sends the update
                    // after the next SUBSCRIBED, and it is acknowledged then.
                    log::warn!("could not acknowledge an update: {err}");
                }
            }
            None => missing(),
        },
        event::Type::UpdateOperationStatus => match &event.update_operation_status {
            Some(update) => {
                scheduler.update_operation_status(handle, &update.status);
                if config.auto_acknowledge
                    && update.status.uuid.is_some()
                    && let Err(err) = handle.acknowledge_operation_status(&update.status)
                {
                    log::warn!("could not acknowledge an operation status: {err}");
                }
            }
            None => missing(),
        },
        event::Type::Message => match &event.message {
            Some(message) => scheduler.message(handle, message),
            None => missing(),
        },
        event::Type::Failure => match &event.failure {
            Some(failure) => scheduler.failure(handle, failure),
            None => missing(),
        },
        event::Type::Error => {
            let message = event
                .error
                .map(|error| error.message)
                .unwrap_or_else(|| "ERROR event without a message".into());
            scheduler.error(handle, &message);
            if message.contains("has been removed") {
                log::error!(
                    "the master has removed this framework; its id cannot be used \
                     again (delete the framework id file, if any, to register anew)"
                );
            }
            return Err(Error::Subscription(message));
        }
        event::Type::Heartbeat => scheduler.heartbeat(handle),
        event::Type::Unknown => log::debug!("skipping an event of unknown type"),
    }
    Ok(())
}
