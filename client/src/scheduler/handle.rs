//! The handle through which a scheduler talks back to the master.
//!
//! Every call except SUBSCRIBE is its own HTTP POST to the master that holds
//! the subscription, carrying the framework id in the body and the
//! `Mesos-Stream-Id` header of that subscription (fact sheet §1.6). The
//! transport keeps one keep-alive connection for them, separate from the
//! event stream (§1.2).
//!
//! The handle is `Clone + Send + Sync`: callbacks get a reference, and a copy
//! can be given to another thread (a web UI, a test) that wants to launch,
//! kill or stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crossbeam_channel::Sender;
use mesos_proto::ContentType;
use mesos_proto::v1::FrameworkId;
use mesos_proto::v1::scheduler::{Call, call};

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
    transport: Transport,
    content_type: ContentType,
    session: Mutex<Session>,
    stop: Sender<StopMode>,
    /// Set once TEARDOWN was accepted: the framework is gone, so there is
    /// nothing left to acknowledge (the master would answer 400).
    torn_down: AtomicBool,
}

/// What the current subscription looks like; the driver updates it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Session {
    /// Known once SUBSCRIBED arrived (or read from the framework-id file).
    pub framework_id: Option<FrameworkId>,
    /// Set while a subscription is live, `None` while (re)connecting.
    pub stream_id: Option<String>,
    /// The master holding the subscription: calls go there.
    pub endpoint: Option<Endpoint>,
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
    ) -> Self {
        let session = Session {
            framework_id,
            ..Session::default()
        };
        let shared = Arc::new(Shared {
            transport,
            content_type,
            session: Mutex::new(session),
            stop,
            torn_down: AtomicBool::new(false),
        });
        let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded by the drivers alive now: dropped ones are swept out here.
        live.retain(|weak| weak.strong_count() > 0);
        live.push(Arc::downgrade(&shared));
        SchedulerHandle { shared }
    }

    /// The framework id, once the master has assigned one (or the one read
    /// from the framework-id file).
    pub fn framework_id(&self) -> Option<FrameworkId> {
        self.session().framework_id.clone()
    }

    /// `true` while a subscription is live (calls can be made).
    pub fn is_subscribed(&self) -> bool {
        self.session().stream_id.is_some()
    }

    /// The encoding used for calls and events.
    pub fn content_type(&self) -> ContentType {
        self.shared.content_type
    }

    /// Whether this handle sent a TEARDOWN that the master accepted.
    pub fn is_torn_down(&self) -> bool {
        self.shared.torn_down.load(Ordering::SeqCst)
    }

    /// Asks the driver to stop; [`SchedulerDriver::run`](super::SchedulerDriver::run)
    /// returns `Ok(())` soon after (once the current callback returns).
    ///
    /// With [`StopMode::Teardown`] the driver first sends TEARDOWN; if no
    /// subscription is live at that moment it cannot, and `run` returns
    /// [`Error::NotSubscribed`] (the master removes the framework by itself
    /// once `failover_timeout` expires).
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
    /// framework), then stops the driver. Returns the TEARDOWN's error, in
    /// which case the driver is *not* stopped.
    pub fn teardown(&self) -> Result<()> {
        self.call(simple_call(call::Type::Teardown))?;
        self.shared.torn_down.store(true, Ordering::SeqCst);
        // Torn down already: the driver only needs to leave, which is what
        // a Failover stop does.
        self.stop(StopMode::Failover);
        Ok(())
    }

    /// Sends any call but SUBSCRIBE (the driver makes those) and waits for
    /// the master's answer.
    ///
    /// `framework_id` is filled in if unset. Succeeds on `202 Accepted`
    /// (`200 OK` for UPDATE_FRAMEWORK); any other status gives
    /// [`Error::Http`] with Mesos' reason. Fails with
    /// [`Error::NotSubscribed`] while no subscription is live.
    pub fn call(&self, mut call: Call) -> Result<()> {
        let kind = call.r#type();
        if matches!(kind, call::Type::Subscribe | call::Type::Unknown) {
            return Err(Error::Config(format!(
                "{} cannot be sent with SchedulerHandle::call",
                kind.as_str_name()
            )));
        }
        let Session {
            framework_id,
            stream_id,
            endpoint,
        } = self.session().clone();
        let (Some(stream_id), Some(endpoint)) = (stream_id, endpoint) else {
            return Err(Error::NotSubscribed);
        };
        if call.framework_id.is_none() {
            call.framework_id = framework_id;
        }
        let content_type = self.shared.content_type;
        let body = content_type.encode(&call);
        let response = self.shared.transport.post(
            &endpoint.url(),
            content_type.mime(),
            &[("Mesos-Stream-Id", &stream_id)],
            &body,
        )?;
        log::debug!("{} -> {}", kind.as_str_name(), response.status);
        let expected = match kind {
            call::Type::UpdateFramework => 200,
            _ => 202,
        };
        if response.status == expected {
            Ok(())
        } else {
            Err(Error::Http {
                status: response.status,
                body: response.text(),
            })
        }
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

/// A call of `kind` with no payload (TEARDOWN, REVIVE, SUPPRESS, ...).
pub(crate) fn simple_call(kind: call::Type) -> Call {
    let mut call = Call::default();
    call.set_type(kind);
    call
}
