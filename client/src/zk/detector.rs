//! [`LeaderDetector`]: the leading master, kept up to date from ZooKeeper.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, select};
use zookeeper::{ZkError, ZooKeeper};

use super::session::{connect, lock, retrying, waker};
use super::{ZkUrl, leading_member, master_endpoint};
use crate::error::Result;
use crate::masters::Endpoint;

/// What ZooKeeper says about the leader right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// Not known yet: the first look at ZooKeeper has not finished.
    Pending,
    /// No leader: no master is registered, ZooKeeper cannot be reached, or
    /// the leader's data is unusable. The text says which.
    NoLeader(String),
    /// The leading master's scheduler endpoint.
    Leader(Endpoint),
}

/// Watches ZooKeeper for the leading master (see the [module docs](crate::zk)).
///
/// Cheap to clone; the watching thread and its ZooKeeper session end when
/// the last clone is dropped.
#[derive(Clone)]
pub struct LeaderDetector {
    inner: Arc<Inner>,
}

/// Owned by the handles only: dropping it disconnects `_stop`, which tells
/// the thread to end.
struct Inner {
    url: ZkUrl,
    shared: Arc<Shared>,
    changes: Receiver<()>,
    _stop: Sender<()>,
}

/// Shared with the thread.
struct Shared {
    detection: Mutex<Detection>,
    changed: Condvar,
    notify: Sender<()>,
}

impl LeaderDetector {
    /// Starts watching `url` with ZooKeeper sessions of `session_timeout`
    /// (Mesos' default is 10 s). Returns at once; see [`Self::wait`].
    pub fn start(url: ZkUrl, session_timeout: Duration) -> Result<LeaderDetector> {
        let (notify, changes) = bounded(1);
        let (stop_tx, stop) = bounded(0);
        let shared = Arc::new(Shared {
            detection: Mutex::new(Detection::Pending),
            changed: Condvar::new(),
            notify,
        });
        let thread_shared = Arc::clone(&shared);
        let thread_url = url.clone();
        thread::Builder::new()
            .name("mesos-zk-detector".into())
            .spawn(move || watch(&thread_url, session_timeout, &thread_shared, &stop))?;
        Ok(LeaderDetector {
            inner: Arc::new(Inner {
                url,
                shared,
                changes,
                _stop: stop_tx,
            }),
        })
    }

    /// The URL being watched.
    pub fn url(&self) -> &ZkUrl {
        &self.inner.url
    }

    /// The current detection.
    pub fn detection(&self) -> Detection {
        lock(&self.inner.shared.detection).clone()
    }

    /// The current leader, if there is one.
    pub fn leader(&self) -> Option<Endpoint> {
        match self.detection() {
            Detection::Leader(endpoint) => Some(endpoint),
            _ => None,
        }
    }

    /// Waits up to `timeout` for a leader; returns the detection at the end.
    pub fn wait(&self, timeout: Duration) -> Detection {
        let deadline = Instant::now() + timeout;
        let mut detection = lock(&self.inner.shared.detection);
        loop {
            let now = Instant::now();
            if matches!(*detection, Detection::Leader(_)) || now >= deadline {
                return detection.clone();
            }
            detection = self
                .inner
                .shared
                .changed
                .wait_timeout(detection, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Receives `()` after the detection changed (several changes may be
    /// folded into one). Read [`Self::detection`] then.
    pub fn changes(&self) -> Receiver<()> {
        self.inner.changes.clone()
    }
}

impl fmt::Debug for LeaderDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaderDetector")
            .field("url", &self.inner.url)
            .field("detection", &self.detection())
            .finish()
    }
}

impl Shared {
    fn publish(&self, detection: Detection) {
        let mut current = lock(&self.detection);
        if *current != detection {
            log::info!("ZooKeeper leader detection: {detection:?}");
            *current = detection;
            self.changed.notify_all();
            let _ = self.notify.try_send(());
        }
    }
}

/// The detector thread: a session, reads after every wake-up, a new session
/// after the old one is lost; ends when `stop` disconnects.
///
/// Like Mesos' detector, a ZooKeeper outage shorter than the session timeout
/// changes nothing (the masters keep their sessions too); after that the
/// leader is reported gone.
fn watch(url: &ZkUrl, session_timeout: Duration, shared: &Shared, stop: &Receiver<()>) {
    let retry = (session_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
    // Since when ZooKeeper could not be read, if it cannot now.
    let mut trouble_since: Option<Instant> = None;
    loop {
        // Watches, session events and state changes all just wake us up:
        // we then read everything again. One slot folds bursts together.
        let (wake_tx, wake) = bounded::<()>(1);
        let trouble = match connect(url, session_timeout, &wake_tx) {
            Ok(zk) => loop {
                // A short disconnection keeps the session: read again on it.
                match retrying(session_timeout, || read_leader(&zk, url, &wake_tx)) {
                    Ok(detection) => {
                        trouble_since = None;
                        shared.publish(detection);
                    }
                    Err(err) => break format!("ZooKeeper error at {url}: {err}"),
                }
                select! {
                    recv(stop) -> _ => return,
                    recv(wake) -> _ => {}
                }
            },
            Err(why) => why,
        };
        log::warn!("{trouble}");
        let since = *trouble_since.get_or_insert_with(Instant::now);
        let pending = *lock(&shared.detection) == Detection::Pending;
        if pending || since.elapsed() >= session_timeout {
            shared.publish(Detection::NoLeader(trouble));
        }
        // Nothing is ever sent on `stop`: it only disconnects, when the
        // last handle is dropped. Anything but a timeout means "end".
        if stop.recv_timeout(retry) != Err(RecvTimeoutError::Timeout) {
            return;
        }
    }
}

/// One look at the members: lists them (setting a watch), reads the leader.
fn read_leader(zk: &ZooKeeper, url: &ZkUrl, wake: &Sender<()>) -> Result<Detection, ZkError> {
    loop {
        let children = match zk.get_children_w(&url.path, waker(wake)) {
            Ok(children) => children,
            Err(ZkError::NoNode) => {
                // No master has ever registered: watch for the path.
                if zk.exists_w(&url.path, waker(wake))?.is_some() {
                    continue;
                }
                let why = format!("{} does not exist (no master registered yet)", url.path);
                return Ok(Detection::NoLeader(why));
            }
            Err(err) => return Err(err),
        };
        let Some(leader) = leading_member(&children) else {
            let why = format!("no master is registered under {}", url.path);
            return Ok(Detection::NoLeader(why));
        };
        match zk.get_data(&url.child(leader), false) {
            Ok((data, _)) => {
                return Ok(match master_endpoint(&data) {
                    Ok(endpoint) => Detection::Leader(endpoint),
                    Err(err) => Detection::NoLeader(format!("{leader}: {err}")),
                });
            }
            // The leader left between the two reads: look again.
            Err(ZkError::NoNode) => continue,
            Err(err) => return Err(err),
        }
    }
}
