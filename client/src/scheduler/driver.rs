//! [`SchedulerDriver`]: subscribes, reads events, calls your [`Scheduler`],
//! and reconnects when the connection is lost.
//!
//! The whole life of a driver is the loop in [`SchedulerDriver::run`]. It is
//! written to be read top to bottom; the helpers below it are small.

use std::path::Path;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, after, at, select_biased, unbounded};
use mesos_proto::v1::FrameworkId;
use mesos_proto::v1::scheduler::{Call, call, event};

use super::Scheduler;
use super::config::SchedulerConfig;
use super::dispatch::{self, dispatch};
use super::handle::{SchedulerHandle, StopMode, simple_call};
use super::pipeline::{Refused, ends_subscription};
use super::subscription::{self, Subscription};
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::masters::Masters;
use crate::transport::{Transport, TransportConfig};

/// Mesos' scheduler heartbeat interval (fixed at 15 s in Mesos), used until
/// SUBSCRIBED tells us the real one.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// Runs a [`Scheduler`] against a Mesos master.
///
/// Create it with [`SchedulerDriver::new`], take [`handles`](Self::handle)
/// for other threads if you need them, then call [`run`](Self::run), which
/// returns when the framework is stopped (see [`SchedulerHandle::stop`]) or
/// cannot go on.
#[derive(Debug)]
pub struct SchedulerDriver {
    config: SchedulerConfig,
    masters: Masters,
    handle: SchedulerHandle,
    stop: Receiver<StopMode>,
}

impl SchedulerDriver {
    /// Checks the configuration and prepares the connection; nothing is sent
    /// yet. Reads the framework-id file if one is configured and exists.
    /// With `zk://` masters it starts watching ZooKeeper and waits (up to
    /// `zk_timeout`) until ZooKeeper names a leading master.
    pub fn new(config: SchedulerConfig) -> Result<SchedulerDriver> {
        let masters = Masters::from_spec(&config.masters, config.zk_timeout)?;
        let info = &config.framework_info;
        if info.user.is_empty() || info.name.is_empty() {
            return Err(Error::Config(
                "framework_info.user and framework_info.name must be set".into(),
            ));
        }
        if config.missed_heartbeats == 0 {
            return Err(Error::Config("missed_heartbeats must be at least 1".into()));
        }
        let transport = Transport::new(&TransportConfig {
            request_timeout: config.request_timeout,
            // A read may wait as long as the heartbeat timeout allows, so a
            // reader stuck on a dead connection ends by itself.
            stream_idle_timeout: (DEFAULT_HEARTBEAT * config.missed_heartbeats)
                .max(config.request_timeout),
            ca_file: config.ca_file.clone(),
            credentials: config.credentials.clone(),
        })?;
        let framework_id = match &config.framework_id_file {
            Some(path) => read_framework_id(path)?,
            None => None,
        }
        .or_else(|| config.framework_info.id.clone());
        if config.max_queued_calls == 0 {
            return Err(Error::Config("max_queued_calls must be at least 1".into()));
        }
        let (stop_tx, stop) = unbounded();
        let handle = SchedulerHandle::new(
            transport,
            config.content_type,
            framework_id,
            stop_tx,
            config.max_queued_calls,
        )?;
        Ok(SchedulerDriver {
            config,
            masters,
            handle,
            stop,
        })
    }

    /// A handle for other threads: make calls, read the framework id, stop.
    pub fn handle(&self) -> SchedulerHandle {
        self.handle.clone()
    }

    /// Subscribes and feeds events to `scheduler` until stopped.
    ///
    /// Returns `Ok(())` after [`SchedulerHandle::stop`] (or
    /// [`SchedulerHandle::teardown`]). Returns an error when going on is
    /// pointless: an ERROR event ([`Error::Subscription`]: refused, removed,
    /// or another scheduler took over), a 4xx answer to SUBSCRIBE
    /// ([`Error::Http`]: bad credentials or framework info), or more failed
    /// attempts in a row than `max_reconnect_attempts` allows (the last error),
    /// or an error of the framework's own from a callback, such as
    /// [`Error::UnexpectedTaskState`] from
    /// [`tasks::expect_end`](crate::tasks::expect_end) (a task that did not
    /// end as it should). A refused acknowledgement ends nothing (see the
    /// [module docs](crate::scheduler)).
    ///
    /// Calls still queued when `run` returns have been sent (or, if their
    /// subscription is gone, dropped) by then.
    pub fn run<S: Scheduler + ?Sized>(&mut self, scheduler: &mut S) -> Result<()> {
        let result = self.run_loop(scheduler);
        // Normally a no-op (finish() flushed); after an error it waits for the
        // calls threads to drop what can no longer be sent.
        self.handle.clear_live();
        self.handle.flush();
        // `run` is ending with an error: no more callbacks, but not silently.
        for refused in self.handle.refused().try_iter() {
            log::warn!(
                "{} of {} task(s) failed, not reported to the scheduler (the driver stopped): {}",
                refused.call.kind.as_str_name(),
                refused.call.task_ids.len(),
                refused.call.error
            );
        }
        result
    }

    fn run_loop<S: Scheduler + ?Sized>(&mut self, scheduler: &mut S) -> Result<()> {
        let handle = self.handle.clone();
        let call_failures = handle.failures().clone();
        let refused = handle.refused().clone();
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        // Failures since the last SUBSCRIBED; compared with max_reconnect_attempts.
        let mut failures: u32 = 0;
        // News from ZooKeeper about the leader (never, for a list of masters).
        let leader_news = self.masters.changes();

        loop {
            // Each pass is one subscription attempt; `lost` says why it ended.
            let lost: Error = 'attempt: {
                // 1. SUBSCRIBE. The framework id (if we have one) goes in
                //    both Call.framework_id and framework_info.id: that is how
                //    Mesos tells a re-subscription from a new framework.
                //    `subscribe` follows 307s and, on failure, moves on to
                //    the next master.
                let call = self.subscribe_call();
                let subscription = match subscription::subscribe(
                    handle.transport(),
                    &mut self.masters,
                    self.config.content_type,
                    &call,
                    self.config.max_record_size,
                ) {
                    Ok(subscription) => subscription,
                    // A 4xx means the request itself is wrong: retrying is futile.
                    Err(err) if is_refusal(&err) => return Err(err),
                    Err(err) => break 'attempt err,
                };

                // 2. The events of this subscription. Wait for whichever
                //    comes first: a stop request, an event, or the deadline
                //    by which *some* event must arrive (`request_timeout`
                //    until SUBSCRIBED, then `missed_heartbeats` intervals).
                let mut silence_limit = self.config.request_timeout;
                let mut deadline = Instant::now() + silence_limit;
                let lost = 'events: loop {
                    select_biased! {
                        recv(self.stop) -> mode => {
                            return self.finish(scheduler, mode.unwrap_or(StopMode::Failover));
                        }
                        recv(subscription.events) -> item => match item {
                            Ok(Ok(batch)) => {
                                // Failed ACCEPTs and DECLINEs first: under
                                // load there is always an event ready, and
                                // they must not wait for a quiet moment.
                                for failed in refused.try_iter() {
                                    if let Some(lost) = self.on_refused(scheduler, &handle, failed)? {
                                        break 'events lost;
                                    }
                                }
                                for event in batch {
                                    // A stop request overtakes the rest of
                                    // the batch, as it overtakes queued events.
                                    if let Some(mode) = stop_requested(&self.stop) {
                                        return self.finish(scheduler, mode);
                                    }
                                    // Any event is a sign of life (counted
                                    // per event: callbacks take time).
                                    deadline = Instant::now() + silence_limit;
                                    if let Some(subscribed) = &event.subscribed {
                                        silence_limit = self.on_subscribed(&subscription, subscribed);
                                        deadline = Instant::now() + silence_limit;
                                        backoff.reset();
                                        failures = 0;
                                    }
                                    // To the scheduler (and acknowledge updates).
                                    // Only an ERROR event fails: that ends `run`.
                                    if let Err(err) = dispatch(scheduler, &handle, &self.config, event) {
                                        handle.clear_live();
                                        return Err(err);
                                    }
                                }
                            }
                            // The stream broke (bad framing, read error).
                            Ok(Err(err)) => break err,
                            // The reader ended: the master closed the stream.
                            Err(_) => break Error::Transport("the master closed the event stream".into()),
                        },
                        recv(call_failures) -> failure => {
                            // An acknowledgement failed (the calls thread
                            // already logged it). Failures of an older
                            // subscription are old news.
                            if let Ok(failure) = failure
                                && failure.generation == handle.live_generation()
                                // 403 (the master no longer has this stream:
                                // it was cut, or fell behind), 307 (no longer
                                // the leader), 5xx, a broken connection: as
                                // after a lost connection. Re-subscribe; the
                                // master re-sends what was not acknowledged.
                                // Any other refusal ends nothing: the update
                                // stays unacknowledged, so its agent sends it
                                // again.
                                && ends_subscription(&failure.error)
                            {
                                break failure.error;
                            }
                        }
                        recv(refused) -> failed => {
                            if let Ok(failed) = failed
                                && let Some(lost) = self.on_refused(scheduler, &handle, failed)?
                            {
                                break lost;
                            }
                        }
                        recv(at(deadline)) -> _ => {
                            break Error::Transport(format!(
                                "no event for {silence_limit:?} ({} heartbeat intervals)",
                                self.config.missed_heartbeats
                            ));
                        }
                        recv(leader_news) -> _ => {
                            // ZooKeeper names another leader (or none): this
                            // master has lost leadership, go to the new one.
                            match self.masters.refresh() {
                                Err(err) => break err,
                                Ok(()) if *self.masters.current() != subscription.endpoint => {
                                    break Error::Transport(format!(
                                        "the leading master is now {}",
                                        self.masters.current()
                                    ));
                                }
                                Ok(()) => {}
                            }
                        }
                    }
                };

                // 3. The subscription is gone. Calls fail until we are back,
                //    outstanding offers are void, the scheduler is told.
                //    Dropping `subscription` lets its reader thread end.
                handle.clear_live();
                self.masters.failed();
                dispatch::callback_outcome("disconnected", scheduler.disconnected(&handle))?;
                lost
            };

            // 4. Back off before the next attempt (capped exponential delay
            //    with jitter), unless we have failed too often, or are asked
            //    to stop meanwhile. News of a leader cuts the wait short.
            failures += 1;
            if let Some(max) = self.config.max_reconnect_attempts
                && failures > max
            {
                log::error!("giving up after {failures} failed attempt(s): {lost}");
                return Err(lost);
            }
            let delay = backoff.next_delay();
            log::warn!("subscription failed or lost ({lost}); retrying in {delay:?}");
            select_biased! {
                recv(self.stop) -> mode => if let Ok(mode) = mode {
                    return self.finish(scheduler, mode);
                },
                recv(leader_news) -> _ => log::info!("the leader changed; retrying now"),
                recv(after(delay)) -> _ => {}
            }
        }
    }

    /// The SUBSCRIBE call for now: with our framework id if we have one.
    fn subscribe_call(&self) -> Call {
        let framework_id = self.handle.framework_id();
        let mut framework_info = self.config.framework_info.clone();
        framework_info.id = framework_id.clone();
        let mut call = simple_call(call::Type::Subscribe);
        call.framework_id = framework_id;
        call.subscribe = Some(call::Subscribe {
            framework_info,
            suppressed_roles: self.config.suppressed_roles.clone(),
            offer_constraints: None,
        });
        call
    }

    /// Records a new subscription: calls may now be made. Returns how long
    /// the stream may stay silent before we call it dead.
    fn on_subscribed(
        &self,
        subscription: &Subscription,
        subscribed: &event::Subscribed,
    ) -> Duration {
        let framework_id = subscribed.framework_id.clone();
        log::info!(
            "subscribed at {} as framework {}",
            subscription.endpoint,
            framework_id.value
        );
        // The stream id lets whoever holds it make calls as this framework: not for
        // everyday logs.
        log::debug!("stream id {}", subscription.stream_id);
        if let Some(path) = &self.config.framework_id_file
            && let Err(err) = write_framework_id(path, &framework_id)
        {
            // Not fatal: this run goes on, only a restart cannot fail over.
            log::error!("cannot write framework id file {}: {err}", path.display());
        }
        self.handle.session().framework_id = Some(framework_id);
        self.handle.set_live(
            subscription.endpoint.clone(),
            subscription.stream_id.clone(),
        );
        let interval = subscribed
            .heartbeat_interval_seconds
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_HEARTBEAT, Duration::from_secs_f64);
        interval * self.config.missed_heartbeats
    }

    /// Tells the scheduler that a background call failed; returns the error
    /// that ends the subscription, if it does. An error of the framework's
    /// own from the callback stops `run`, as from any callback.
    fn on_refused<S: Scheduler + ?Sized>(
        &self,
        scheduler: &mut S,
        handle: &SchedulerHandle,
        refused: Refused,
    ) -> Result<Option<Error>> {
        let Refused { generation, call } = refused;
        let outcome = scheduler.call_failed(handle, &call);
        if let Err(err) = dispatch::callback_outcome("call_failed", outcome) {
            handle.clear_live();
            return Err(err);
        }
        // A call dropped because its subscription was lost (NotSubscribed)
        // is news of a loss already handled, not a new one.
        let lost = generation == handle.live_generation()
            && !matches!(call.error, Error::NotSubscribed)
            && ends_subscription(&call.error);
        Ok(lost.then_some(call.error))
    }

    /// Stops as asked: TEARDOWN first if wanted and possible. Either way the
    /// queued calls are sent first, while the subscription is still live,
    /// and the scheduler hears of background calls that failed meanwhile.
    fn finish<S: Scheduler + ?Sized>(&self, scheduler: &mut S, mode: StopMode) -> Result<()> {
        let result = match mode {
            // `SchedulerHandle::teardown` sent TEARDOWN already.
            StopMode::Failover if self.handle.is_torn_down() => {
                log::info!("stopping after TEARDOWN; the framework is removed");
                Ok(())
            }
            StopMode::Failover => {
                log::info!("stopping; the framework stays registered for failover");
                self.handle.flush();
                Ok(())
            }
            // Queued behind every call made before it, so they go first.
            StopMode::Teardown if self.handle.is_torn_down() => Ok(()),
            StopMode::Teardown => {
                log::info!("stopping with TEARDOWN");
                self.handle.call(simple_call(call::Type::Teardown))
            }
        };
        self.handle.clear_live();
        // The subscription is no longer live, so none of these ends it.
        for refused in self.handle.refused().try_iter() {
            if let Err(err) = self.on_refused(scheduler, &self.handle, refused)
                && result.is_ok()
            {
                return Err(err);
            }
        }
        result
    }
}

/// A stop request waiting on `stop`, if any (a closed channel counts as one,
/// as it does for the `select!` in `run_loop`).
fn stop_requested(stop: &Receiver<StopMode>) -> Option<StopMode> {
    match stop.try_recv() {
        Ok(mode) => Some(mode),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) => Some(StopMode::Failover),
    }
}

/// A 4xx answer: the request itself is wrong (bad credentials, invalid
/// framework info), so it would fail on every master and every retry.
fn is_refusal(err: &Error) -> bool {
    matches!(
        err,
        Error::Http {
            status: 400..=499,
            ..
        }
    )
}

/// The id saved by an earlier run, if the file exists and is not empty.
fn read_framework_id(path: &Path) -> Result<Option<FrameworkId>> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            let value = text.trim().to_string();
            log::info!("resuming framework {value} (from {})", path.display());
            Ok(Some(FrameworkId { value }))
        }
        Ok(_) => Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::Io(err)),
    }
}

/// Writes the id atomically (temp file + rename), so a crash mid-write
/// cannot leave a half-written id behind.
fn write_framework_id(path: &Path, id: &FrameworkId) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{}\n", id.value))?;
    std::fs::rename(&tmp, path)
}
