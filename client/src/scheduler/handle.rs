//! The handle through which a scheduler talks back to the master.
//!
//! Every call except SUBSCRIBE is an HTTP POST to the master that holds the
//! subscription, carrying the framework id in the body and the
//! `Mesos-Stream-Id` header of that subscription (fact sheet §1.6), on
//! keep-alive connections separate from the event stream (§1.2).
//!
//! Calls are queued to the driver's two sending threads (see `pipeline`):
//! acknowledgements to `mesos-acks`, which sends them in order, several
//! requests per write (HTTP/1.1 pipelining), TEARDOWN behind them; every
//! other call to `mesos-calls`, in order. ACCEPT, DECLINE and the
//! acknowledgements return once queued; every other call waits for its own
//! answer, so it returns the master's status as a plain synchronous call
//! would.
//!
//! The handle is `Clone + Send + Sync`: callbacks get a reference, and a copy
//! can be given to another thread (a web UI, a test) that wants to launch,
//! kill or stop.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crossbeam_channel::{Receiver, Sender, bounded};
use mesos_proto::ContentType;
use mesos_proto::v1::FrameworkId;
use mesos_proto::v1::scheduler::{Call, call};

use super::background::FailedCall;
use super::pipeline::{Failure, Msg, Pipeline, Refused, Reply, Target};
use crate::error::{Error, Result};
use crate::masters::Endpoint;
use crate::transport::Transport;

/// How [`SchedulerHandle::stop`] ends the framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Send TEARDOWN: the master kills every task of the framework and
    /// forgets it; its id can never be used again. For a run that is done.
    Teardown,
    /// Just close the subscription. The master keeps the framework and its
    /// tasks for `failover_timeout` seconds, so a new scheduler process can
    /// re-subscribe with the same id (see `framework_id_file`) and carry on.
    Failover,
}

/// Lets callbacks (and other threads) make calls and stop the driver.
/// Cheap to clone; all clones talk to the same driver.
#[derive(Clone)]
pub struct SchedulerHandle {
    shared: Arc<Shared>,
}

struct Shared {
    transport: Arc<Transport>,
    content_type: ContentType,
    session: Mutex<Session>,
    stop: Sender<StopMode>,
    /// The queues to the `mesos-acks` and `mesos-calls` threads; their
    /// failures; the state all sides see (live subscription, torn down).
    pipeline: Pipeline,
}

/// What the current subscription looks like; the driver updates it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Session {
    /// Known once SUBSCRIBED arrived (or read from the framework-id file).
    pub framework_id: Option<FrameworkId>,
    /// Where calls go while a subscription is live, `None` while
    /// (re)connecting.
    pub target: Option<Arc<Target>>,
    /// The generation of the last subscription (0: none yet).
    pub generation: u64,
}

impl std::fmt::Debug for SchedulerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerHandle")
            .field("session", &*self.session())
            .finish_non_exhaustive()
    }
}

impl SchedulerHandle {
    pub(crate) fn new(
        transport: Transport,
        content_type: ContentType,
        framework_id: Option<FrameworkId>,
        stop: Sender<StopMode>,
        queue_capacity: usize,
    ) -> Result<Self> {
        let transport = Arc::new(transport);
        let pipeline = Pipeline::start(transport.clone(), content_type, queue_capacity)?;
        let session = Session {
            framework_id,
            ..Session::default()
        };
        let shared = Arc::new(Shared {
            transport,
            content_type,
            session: Mutex::new(session),
            stop,
            pipeline,
        });
        let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded by the drivers alive now: dropped ones are swept out here.
        live.retain(|weak| weak.strong_count() > 0);
        live.push(Arc::downgrade(&shared));
        Ok(SchedulerHandle { shared })
    }

    /// The framework id, once the master has assigned one (or the one read
    /// from the framework-id file).
    pub fn framework_id(&self) -> Option<FrameworkId> {
        self.session().framework_id.clone()
    }

    /// `true` while a subscription is live (calls can be made).
    pub fn is_subscribed(&self) -> bool {
        self.session().target.is_some()
    }

    /// The encoding used for calls and events.
    pub fn content_type(&self) -> ContentType {
        self.shared.content_type
    }

    /// Whether this handle sent a TEARDOWN that the master accepted.
    pub fn is_torn_down(&self) -> bool {
        self.shared.pipeline.state.torn_down.load(Ordering::SeqCst)
    }

    /// Asks the driver to stop; [`SchedulerDriver::run`](super::SchedulerDriver::run)
    /// returns `Ok(())` soon after (once the current callback returns).
    ///
    /// With [`StopMode::Teardown`] the driver first sends TEARDOWN; if no
    /// subscription is live at that moment it cannot, and `run` returns
    /// [`Error::NotSubscribed`] (the master removes the framework by itself
    /// once `failover_timeout` expires).
    ///
    /// Either way, calls queued before `run` returns (acknowledgements) are
    /// sent first, and TEARDOWN after them.
    ///
    /// A stop requested while a SUBSCRIBE request is under way takes effect
    /// when that request returns (at most `request_timeout`). After `run`
    /// returns, the event stream's connection is closed by its reader thread
    /// as soon as the next event (at the latest the next heartbeat) arrives:
    /// a blocking read cannot be interrupted from another thread.
    pub fn stop(&self, mode: StopMode) {
        // Fails only if the driver is gone, and then there is nothing to stop.
        let _ = self.shared.stop.send(mode);
    }

    /// Sends TEARDOWN now (the master kills all tasks and removes the
    /// framework), then stops the driver. Acknowledgements queued before it
    /// are sent first; none is sent after it. Returns the TEARDOWN's error,
    /// in which case the driver is *not* stopped.
    pub fn teardown(&self) -> Result<()> {
        self.call(simple_call(call::Type::Teardown))?;
        // Torn down already: the driver only needs to leave, which is what
        // a Failover stop does.
        self.stop(StopMode::Failover);
        Ok(())
    }

    /// Sends any call but SUBSCRIBE (the driver makes those).
    ///
    /// `framework_id` is filled in if unset. Calls go out in the order they
    /// are made, acknowledgements on one connection, every other call on
    /// another (the order between an acknowledgement and another call means
    /// nothing to Mesos).
    ///
    /// * ACKNOWLEDGE and ACKNOWLEDGE_OPERATION_STATUS return `Ok(())` once
    ///   queued (a failure is handled by the driver, see the
    ///   [module docs](crate::scheduler)).
    /// * ACCEPT and DECLINE return `Ok(())` once queued; if the master
    ///   refuses one, or it cannot be sent, the driver calls
    ///   [`Scheduler::call_failed`](super::Scheduler::call_failed).
    /// * Every other call waits for the master's answer (after the answers
    ///   to the calls made before it): it succeeds on `202 Accepted` (`200
    ///   OK` for UPDATE_FRAMEWORK), and any other status gives
    ///   [`Error::Http`] with Mesos' reason. TEARDOWN is sent after every
    ///   call made before it, acknowledgements included.
    ///
    /// Fails with [`Error::NotSubscribed`] while no subscription is live, and
    /// with [`Error::Stopped`] after an accepted TEARDOWN. Blocks while the
    /// call's queue is full (`SchedulerConfig::max_queued_calls`
    /// acknowledgements, 16 other calls).
    pub fn call(&self, mut call: Call) -> Result<()> {
        let kind = call.r#type();
        if matches!(kind, call::Type::Subscribe | call::Type::Unknown) {
            return Err(Error::Config(format!(
                "{} cannot be sent with SchedulerHandle::call",
                kind.as_str_name()
            )));
        }
        let (framework_id, target) = {
            let session = self.session();
            (session.framework_id.clone(), session.target.clone())
        };
        let Some(target) = target else {
            return Err(Error::NotSubscribed);
        };
        if self.is_torn_down() {
            return Err(Error::Stopped);
        }
        if call.framework_id.is_none() {
            call.framework_id = framework_id;
        }
        // Encoded here, on the caller's thread: a queued acknowledgement is
        // then a few hundred bytes, not a whole `Call`.
        let body = self.shared.content_type.encode(&call);
        let pipeline = &self.shared.pipeline;
        let msg = |reply| Msg::Call {
            kind,
            body,
            target,
            reply,
        };
        match kind {
            call::Type::Acknowledge | call::Type::AcknowledgeOperationStatus => {
                send(&pipeline.acks, msg(Reply::Report))
            }
            call::Type::Accept | call::Type::Decline => {
                let about = FailedCall::of(&call).ok_or_else(|| {
                    Error::Config(format!("{} without its payload", kind.as_str_name()))
                })?;
                send(&pipeline.calls, msg(Reply::Background(Box::new(about))))
            }
            call::Type::Teardown => {
                // After every call made before it: the other lane's first,
                // then in the acknowledgements' queue, behind them.
                flush(&pipeline.calls);
                wait(&pipeline.acks, msg)
            }
            _ => wait(&pipeline.calls, msg),
        }
    }

    /// Waits until every call queued so far has been sent and answered (or
    /// dropped, if its subscription is gone).
    pub(crate) fn flush(&self) {
        flush(&self.shared.pipeline.calls);
        flush(&self.shared.pipeline.acks);
    }

    /// Makes `target` the live subscription: calls go there from now on.
    pub(crate) fn set_live(&self, endpoint: Endpoint, stream_id: String) {
        let mut session = self.session();
        session.generation += 1;
        let generation = session.generation;
        session.target = Some(Arc::new(Target {
            endpoint,
            stream_id,
            generation,
        }));
        self.shared
            .pipeline
            .state
            .live
            .store(generation, Ordering::SeqCst);
    }

    /// The subscription is gone: calls fail with [`Error::NotSubscribed`]
    /// and queued ones are dropped, not sent.
    pub(crate) fn clear_live(&self) {
        self.session().target = None;
        self.shared.pipeline.state.live.store(0, Ordering::SeqCst);
    }

    /// The generation of the live subscription (0: none).
    pub(crate) fn live_generation(&self) -> u64 {
        self.shared.pipeline.state.live.load(Ordering::SeqCst)
    }

    /// Failed acknowledgements, for the driver.
    pub(crate) fn failures(&self) -> &Receiver<Failure> {
        &self.shared.pipeline.failures
    }

    /// Failed background calls (ACCEPT, DECLINE), for the driver.
    pub(crate) fn refused(&self) -> &Receiver<Refused> {
        &self.shared.pipeline.refused
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while holding this lock cannot leave the session
        // half-updated (every update is one assignment), so poisoning is
        // safe to ignore.
        self.shared
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every driver of this process, so that a Ctrl-C handler can ask them all
/// to return from `run` instead of ending the process under them.
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Asks every scheduler driver of this process to stop as
/// [`StopMode::Failover`] would (no TEARDOWN: after Ctrl-C the framework may
/// want to come back), so that each `run` returns `Ok(())`. Returns how many
/// drivers were asked. Used by `--master local`'s Ctrl-C handler.
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) fn stop_all_drivers() -> usize {
    let live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    let mut asked = 0;
    for shared in live.iter().filter_map(Weak::upgrade) {
        if shared.stop.send(StopMode::Failover).is_ok() {
            asked += 1;
        }
    }
    asked
}

/// Puts `msg` on `queue`, blocking while it is full (backpressure).
fn send(queue: &Sender<Msg>, msg: Msg) -> Result<()> {
    queue.send(msg).map_err(|_| Error::Stopped)
}

/// Queues the call `msg` makes with a reply channel and waits for its answer.
fn wait(queue: &Sender<Msg>, msg: impl FnOnce(Reply) -> Msg) -> Result<()> {
    let (tx, rx) = bounded(1);
    send(queue, msg(Reply::Wait(tx)))?;
    // The thread always answers; it is gone only if it panicked.
    rx.recv().unwrap_or(Err(Error::Stopped))
}

/// Waits until everything queued on `queue` so far has been answered.
fn flush(queue: &Sender<Msg>) {
    let (tx, rx) = bounded(1);
    if queue.send(Msg::Flush(tx)).is_ok() {
        let _ = rx.recv();
    }
}

/// A call of `kind` with no payload (TEARDOWN, REVIVE, SUPPRESS, ...).
pub(crate) fn simple_call(kind: call::Type) -> Call {
    let mut call = Call::default();
    call.set_type(kind);
    call
}
