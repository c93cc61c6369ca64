//! [`ExecutorDriver`]: subscribes to the agent and runs the event loop.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded, select, unbounded};
use mesos_proto::ContentType;
use mesos_proto::v1::executor::{Event, event};

use super::Executor;
use super::connection::{Connection, StreamItem, is_retryable};
use super::env::ExecutorEnv;
use super::handle::ExecutorHandle;
use crate::error::{Error, Result};

/// Runs an [`Executor`] against the agent named in its environment.
///
/// Built from the `MESOS_*` variables ([`from_env`](Self::from_env)), tuned
/// with the builder methods, and started with [`run`](Self::run), which
/// returns when the executor is done:
///
/// * after SHUTDOWN: [`Executor::shutdown`] is called, then the driver waits
///   until no task is live and the agent has acknowledged every update, but
///   never past the grace period (`MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`,
///   less a safety margin of a fifth, at most 1 s) -> `Ok(())`;
/// * after [`ExecutorHandle::stop`]: once every update is acknowledged, or
///   after the [drain timeout](Self::drain_timeout) -> `Ok(())`;
/// * when the agent goes away and the framework does not checkpoint, or does
///   but the agent is not back within `MESOS_RECOVERY_TIMEOUT` -> `Err`;
/// * when the agent refuses the subscription (any 4xx but 404) -> `Err`.
#[derive(Clone, Debug)]
pub struct ExecutorDriver {
    env: ExecutorEnv,
    content_type: ContentType,
    heartbeat_interval: Duration,
    request_timeout: Duration,
    subscribe_timeout: Duration,
    drain_timeout: Duration,
}

/// Why and until when the loop is winding down.
struct Finishing {
    deadline: Instant,
    /// SHUTDOWN waits for live tasks too; `stop()` only for acknowledgements.
    wait_for_tasks: bool,
}

impl ExecutorDriver {
    /// A driver for the environment the agent gave this process.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every missing or malformed `MESOS_*`
    /// variable (see [`ExecutorEnv::from_env`]).
    pub fn from_env() -> Result<ExecutorDriver> {
        Ok(ExecutorDriver::new(ExecutorEnv::from_env()?))
    }

    /// A driver for an environment you parsed yourself.
    pub fn new(env: ExecutorEnv) -> ExecutorDriver {
        ExecutorDriver {
            env,
            content_type: ContentType::Json,
            // What the Mesos executor library does (fact sheet §1.9).
            heartbeat_interval: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(75),
            // The agent's default --executor_registration_timeout: after
            // that long it gives up on us anyway.
            subscribe_timeout: Duration::from_secs(60),
            // The HTTP command executor waits as long for its last ack.
            drain_timeout: Duration::from_secs(60),
        }
    }

    /// Encoding of calls and events: JSON (default, readable in logs) or
    /// protobuf (smaller).
    pub fn content_type(mut self, content_type: ContentType) -> Self {
        self.content_type = content_type;
        self
    }

    /// How often to send a HEARTBEAT call to the agent. Default 30 min.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Timeout for connecting and for each non-streaming call. Default 75 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long the *first* SUBSCRIBE keeps being retried while the agent is
    /// unreachable or answers 503/404. Default 60 s (the agent's default
    /// registration timeout). Re-subscriptions use `MESOS_RECOVERY_TIMEOUT`.
    pub fn subscribe_timeout(mut self, timeout: Duration) -> Self {
        self.subscribe_timeout = timeout;
        self
    }

    /// After [`ExecutorHandle::stop`], how long to wait for the agent to
    /// acknowledge outstanding updates. Default 60 s.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// The environment this driver uses.
    pub fn env(&self) -> &ExecutorEnv {
        &self.env
    }

    /// Subscribes to the agent and calls `executor` for every event until
    /// the executor is done (see the type's documentation for when).
    ///
    /// # Errors
    ///
    /// The first subscription failed, the agent was lost for good, or it
    /// refused a re-subscription.
    pub fn run<E: Executor + ?Sized>(self, executor: &mut E) -> Result<()> {
        let connection = Connection::new(
            self.env.executor_api_url(),
            self.content_type,
            self.env.authentication_token.as_deref(),
            self.request_timeout,
            self.env.ca_file.as_deref(),
        )?;
        let (stop_tx, stop_rx) = unbounded();
        let handle = ExecutorHandle::new(self.env.clone(), connection, stop_tx);

        log::info!(
            "executor {} subscribing to {}",
            self.env.executor_id.value,
            self.env.executor_api_url()
        );
        let deadline = after(self.subscribe_timeout);
        let Some(mut events) = self.subscribe(&handle, &stop_rx, deadline, false)? else {
            return Ok(()); // stopped before we ever got in
        };

        let mut finishing: Option<Finishing> = None;
        let mut next_heartbeat = after(self.heartbeat_interval);
        loop {
            // 1. Done winding down?
            if let Some(f) = &finishing {
                if handle.is_drained(f.wait_for_tasks) {
                    log::info!("executor finished: nothing left to acknowledge");
                    return Ok(());
                }
                if Instant::now() >= f.deadline {
                    log::warn!("executor finished with updates not acknowledged in time");
                    return Ok(());
                }
            }
            // 2. Sleep until an event, a stop request, or the next timer.
            let wake = finishing
                .as_ref()
                .map_or(next_heartbeat, |f| f.deadline.min(next_heartbeat));
            select! {
                recv(events) -> item => match item {
                    Ok(StreamItem::Event(event)) => {
                        let started = Instant::now();
                        if dispatch(executor, &handle, *event)? && finishing.is_none() {
                            finishing = Some(Finishing {
                                deadline: started
                                    .checked_add(shutdown_budget(self.env.shutdown_grace_period))
                                    .unwrap_or(started),
                                wait_for_tasks: true,
                            });
                        }
                    }
                    Ok(StreamItem::Closed(why)) => {
                        log::warn!("disconnected from the agent: {why}");
                        if finishing.is_some() {
                            return Ok(()); // we were leaving anyway
                        }
                        outcome("disconnected", executor.disconnected(&handle))?;
                        if !self.env.checkpoint {
                            return Err(Error::Transport(format!(
                                "{why}; the framework does not checkpoint, so the executor exits"
                            )));
                        }
                        // 3. Recovery: the agent may be restarting. Resend
                        // what it has not acknowledged when it is back.
                        let deadline = after(self.env.recovery_timeout);
                        match self.subscribe(&handle, &stop_rx, deadline, true) {
                            Ok(Some(fresh)) => events = fresh,
                            Ok(None) => return Ok(()),
                            Err(err) if is_retryable(&err) => {
                                return Err(Error::Transport(format!(
                                    "the agent did not come back within MESOS_RECOVERY_TIMEOUT \
                                     ({:?}): {err}",
                                    self.env.recovery_timeout
                                )));
                            }
                            Err(err) => return Err(err),
                        }
                    }
                    // The reader always sends Closed before it goes; this
                    // only happens if its thread died.
                    Err(_) => return Err(Error::Transport("event reader thread died".into())),
                },
                recv(stop_rx) -> _ => {
                    log::info!("executor stop requested; waiting for acknowledgements");
                    let deadline = after(self.drain_timeout);
                    match &mut finishing {
                        Some(f) => f.deadline = f.deadline.min(deadline),
                        None => finishing = Some(Finishing { deadline, wait_for_tasks: false }),
                    }
                }
                default(wake.saturating_duration_since(Instant::now())) => {}
            }
            // 4. Heartbeat call, if due. A failure is only logged: a broken
            // agent shows up on the event stream.
            if Instant::now() >= next_heartbeat {
                if let Err(err) = handle.heartbeat() {
                    log::warn!("HEARTBEAT call failed: {err}");
                }
                next_heartbeat = after(self.heartbeat_interval);
            }
        }
    }

    /// Sends SUBSCRIBE (with everything unacknowledged) until it works, a
    /// non-retryable answer comes, or `deadline` passes. Between attempts it
    /// waits a random delay in `[0, MESOS_SUBSCRIPTION_BACKOFF_MAX]`, as the
    /// agent expects (fact sheet §3.3); `wait_first` also waits before the
    /// first attempt. Returns `None` if [`ExecutorHandle::stop`] was called
    /// while waiting.
    fn subscribe(
        &self,
        handle: &ExecutorHandle,
        stop: &Receiver<()>,
        deadline: Instant,
        mut wait_first: bool,
    ) -> Result<Option<Receiver<StreamItem>>> {
        loop {
            if wait_first {
                let delay = random_delay(self.env.subscription_backoff_max)
                    .min(deadline.saturating_duration_since(Instant::now()));
                if stop.recv_timeout(delay).is_ok() {
                    return Ok(None);
                }
            }
            wait_first = true;
            // Bounded: a stalled executor slows the reader (and so the agent)
            // down instead of growing memory without limit.
            let (tx, rx) = bounded(256);
            let call = handle.subscribe_call();
            match handle.connection().subscribe(&call, tx) {
                Ok(()) => return Ok(Some(rx)),
                Err(err) if is_retryable(&err) && Instant::now() < deadline => {
                    log::info!("SUBSCRIBE failed ({err}); retrying");
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Hands one event to the matching callback. Returns true for SHUTDOWN, and
/// an error when the callback's error must end `run` (see [`outcome`]).
fn dispatch<E: Executor + ?Sized>(
    executor: &mut E,
    handle: &ExecutorHandle,
    event: Event,
) -> Result<bool> {
    use event::Type;
    let kind = event.r#type();
    let missing = || {
        log::warn!("ignoring a {kind:?} event without its payload");
        Ok(())
    };
    let handled = match kind {
        Type::Subscribed => match event.subscribed {
            Some(subscribed) => executor.subscribed(handle, subscribed),
            None => missing(),
        },
        Type::Launch => match event.launch {
            Some(launch) => {
                handle.record_launch(&launch.task);
                executor.launch(handle, launch.task)
            }
            None => missing(),
        },
        Type::LaunchGroup => match event.launch_group {
            Some(launch) => {
                for task in &launch.task_group.tasks {
                    handle.record_launch(task);
                }
                executor.launch_group(handle, launch.task_group)
            }
            None => missing(),
        },
        Type::Kill => match event.kill {
            Some(kill) => executor.kill(handle, kill.task_id, kill.kill_policy),
            None => missing(),
        },
        Type::Acknowledged => match event.acknowledged {
            Some(ack) => {
                handle.record_acknowledged(&ack.task_id, &ack.uuid);
                executor.acknowledged(handle, ack.task_id, ack.uuid)
            }
            None => missing(),
        },
        Type::Message => match event.message {
            Some(message) => {
                log::debug!("MESSAGE of {} bytes", message.data.len());
                executor.message(handle, message.data)
            }
            None => missing(),
        },
        Type::Error => {
            let message = event.error.map(|e| e.message).unwrap_or_default();
            log::warn!("ERROR event from the agent: {message}");
            executor.error(handle, message)
        }
        Type::Shutdown => {
            log::info!("SHUTDOWN received");
            // Winding down happens whatever the callback says.
            if let Err(err) = executor.shutdown(handle) {
                log::warn!("the shutdown callback failed: {err}");
            }
            return Ok(true);
        }
        Type::Heartbeat => {
            log::debug!("HEARTBEAT event");
            Ok(())
        }
        // An event type newer than our schema: skip it, as clients must.
        Type::Unknown => {
            log::debug!("ignoring an event of unknown type");
            Ok(())
        }
    };
    outcome(kind.as_str_name(), handled)?;
    Ok(false)
}

/// What a callback's `Err` does: a failed call to the agent is logged
/// (updates are kept and resent once the driver is back), an error of the
/// executor's own ends [`ExecutorDriver::run`] with that error.
fn outcome(event: &str, handled: Result<()>) -> Result<()> {
    match handled {
        Err(err) if err.is_call_failure() => {
            log::warn!("the {event} callback failed ({err}); going on");
            Ok(())
        }
        Err(err) => {
            log::error!("the {event} callback failed: {err}; the executor stops");
            Err(err)
        }
        Ok(()) => Ok(()),
    }
}

/// `now + duration`, or a far-away instant if that overflows (durations come
/// from the environment and from callers; neither may make us panic).
fn after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// How much of the grace period we use: all but a fifth of it (at most 1 s),
/// so we are gone before the agent destroys the container.
fn shutdown_budget(grace: Duration) -> Duration {
    grace.saturating_sub((grace / 5).min(Duration::from_secs(1)))
}

/// A random delay in `[0, max]` (at least 10 ms, so a zero maximum does not
/// spin against a dead agent).
fn random_delay(max: Duration) -> Duration {
    let max_nanos = max.as_nanos().min(u64::MAX as u128) as u64;
    // 128 random bits from a v4 uuid: no extra dependency for one number.
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    let nanos = random.checked_rem(max_nanos.saturating_add(1)).unwrap_or(0);
    Duration::from_nanos(nanos).max(Duration::from_millis(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_delays_stay_within_bounds() {
        for _ in 0..200 {
            let d = random_delay(Duration::from_secs(2));
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_secs(2));
        }
        assert_eq!(random_delay(Duration::ZERO), Duration::from_millis(10));
    }

    #[test]
    fn huge_durations_do_not_overflow() {
        assert!(after(Duration::MAX) > Instant::now());
    }

    #[test]
    fn shutdown_budget_keeps_a_margin() {
        assert_eq!(
            shutdown_budget(Duration::from_secs(5)),
            Duration::from_secs(4)
        );
        assert_eq!(
            shutdown_budget(Duration::from_secs(1)),
            Duration::from_millis(800)
        );
        assert_eq!(shutdown_budget(Duration::ZERO), Duration::ZERO);
    }
}
