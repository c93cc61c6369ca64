//! From one [`Event`] to one [`Scheduler`] method, plus the automatic
//! acknowledgements.

use mesos_proto::v1::scheduler::{Event, event};

use super::Scheduler;
use super::config::SchedulerConfig;
use super::handle::SchedulerHandle;
use crate::error::{Error, Result};

/// Calls the scheduler method for `event`.
///
/// Returns an error when `run` must stop: for an ERROR event, which ends
/// the subscription for good (after [`Scheduler::error`] has seen it), and
/// for an error of the framework's own returned by the callback (see
/// "Errors in callbacks" on [`Scheduler`]); a failed call is logged and the
/// driver goes on. An event of a type we do not know, or without its
/// payload, is logged and skipped: the master may be newer than this crate,
/// and skipping is what Mesos' own clients do.
pub(crate) fn dispatch<S: Scheduler + ?Sized>(
    scheduler: &mut S,
    handle: &SchedulerHandle,
    config: &SchedulerConfig,
    event: Event,
) -> Result<()> {
    let kind = event.r#type();
    log::trace!("event {}", kind.as_str_name());
    let missing = || {
        log::warn!("{} event without its payload; skipped", kind.as_str_name());
        Ok(())
    };
    let outcome = match kind {
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
                let handled = scheduler.update(handle, &update.status);
                // Only after the scheduler has handled it: an update must not
                // be acknowledged before (a failed callback leaves it
                // unacknowledged, so the agent sends it again). `acknowledge`
                // only queues the call (the `mesos-acks` thread sends it, in
                // order; this blocks only while the queue is full) and skips
                // updates without a uuid (the master's own, never acked).
                // After a TEARDOWN from the callback there is nothing left to
                // acknowledge: the master has removed the framework.
                if handled.is_ok()
                    && config.auto_acknowledge
                    && update.status.uuid.is_some()
                    && !handle.is_torn_down()
                    && let Err(err) = handle.acknowledge(&update.status)
                {
                    // Only queueing can fail here (no subscription any more,
                    // or torn down meanwhile): the master re-sends the update
                    // after the next SUBSCRIBED, and it is acknowledged then.
                    log::warn!("could not acknowledge an update: {err}");
                }
                handled
            }
            None => missing(),
        },
        event::Type::UpdateOperationStatus => match &event.update_operation_status {
            Some(update) => {
                let handled = scheduler.update_operation_status(handle, &update.status);
                if handled.is_ok()
                    && config.auto_acknowledge
                    && update.status.uuid.is_some()
                    && let Err(err) = handle.acknowledge_operation_status(&update.status)
                {
                    log::warn!("could not acknowledge an operation status: {err}");
                }
                handled
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
            if let Err(err) = scheduler.error(handle, &message) {
                log::warn!("Scheduler::error failed: {err}");
            }
            // The one place that reads the message; from here on it is typed.
            let reason = Error::from_error_event(&message);
            if matches!(reason, Error::FrameworkRemoved) {
                log::error!(
                    "the master has removed this framework; its id cannot be used \
                     again (delete the framework id file, if any, to register anew)"
                );
            }
            return Err(reason);
        }
        event::Type::Heartbeat => scheduler.heartbeat(handle),
        event::Type::Unknown => {
            log::debug!("skipping an event of unknown type");
            Ok(())
        }
    };
    callback_outcome(kind.as_str_name(), outcome)
}

/// What a callback's `Err` does: a failed call (a refusal or a lost
/// connection) is logged and the driver goes on; any other error (the
/// framework's own) stops `run` with that error.
pub(crate) fn callback_outcome(event: &str, outcome: Result<()>) -> Result<()> {
    match outcome {
        Err(err) if err.is_connection_loss() => {
            log::warn!("the {event} callback failed ({err}); going on, the driver reconnects");
            Ok(())
        }
        Err(err) if err.is_call_failure() => {
            log::error!("the {event} callback failed: a call was refused ({err}); going on");
            Ok(())
        }
        Err(err) => {
            log::error!("the {event} callback failed: {err}; stopping");
            Err(err)
        }
        Ok(()) => Ok(()),
    }
}
