//! [`Election`]: several instances of one scheduler, one of which leads.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, select};
use zookeeper::{Acl, CreateMode, ZkError, ZooKeeper, ZooKeeperExt};

use super::ZkUrl;
use super::session::{connect, lock, retrying, waker};
use crate::error::{Error, Result};

/// The name prefix of a scheduler instance's member znode.
pub const CANDIDATE_PREFIX: &str = "candidate_";

/// The persistent znode (under the election path) holding the framework id.
pub const FRAMEWORK_ID_NODE: &str = "framework_id";

/// Where an instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Another instance leads; wait.
    Following,
    /// This instance leads: subscribe and schedule.
    Leading,
    /// This instance's member is gone (session lost or deleted): stop
    /// scheduling now. Final: join again to stand again.
    Lost,
}

/// One scheduler instance's candidacy in an election among instances of the
/// same scheduler. Dropping it withdraws (deletes the member at once) and
/// closes the session.
///
/// A framework that must survive its own crash runs two (or more) scheduler
/// instances; the leader subscribes and schedules, the others wait. They use
/// ZooKeeper the same way the masters do: each instance creates an ephemeral
/// sequential member `candidate_<10 digits>` under a path of its own (e.g.
/// `zk://zk1:2181/etl`); the lowest sequence leads. When the leader's session
/// ends (crash, stop, network partition longer than the session timeout)
/// ZooKeeper deletes its member and the next instance leads.
///
/// The leader keeps the framework id in the persistent znode
/// `<path>/framework_id`, so the next leader re-subscribes as the *same*
/// framework and gets its tasks back (within `failover_timeout`):
///
/// ```no_run
/// # use std::time::Duration;
/// # use mesos_client::zk::{Election, Standing};
/// # fn main() -> mesos_client::Result<()> {
/// let election = Election::join("zk://127.0.0.1:2181/etl", Duration::from_secs(10), b"host-a")?;
/// if election.wait_for_leadership(None) == Standing::Leading {
///     let framework_id = election.framework_id()?; // None the very first time
///     // ... SchedulerConfig with framework_info.id = framework_id, run the
///     // driver, call election.save_framework_id(..) in `subscribed`, and
///     // stop the driver when election.changes() says leadership is lost.
/// }
/// # Ok(()) }
/// ```
///
/// Every instance watches the member list (not just its predecessor, as the
/// ZooKeeper recipe does to avoid a herd): simpler, and fine for a handful
/// of instances. If two instances ever both believe they lead (a partitioned
/// old leader), the master settles it: the second SUBSCRIBE with the same
/// framework id ends the first one's subscription ("Framework failed over").
pub struct Election {
    zk: Arc<ZooKeeper>,
    url: ZkUrl,
    znode: String,
    shared: Arc<Shared>,
    changes: Receiver<()>,
    stop: Option<Sender<()>>,
    watcher: Option<JoinHandle<()>>,
}

struct Shared {
    standing: Mutex<Standing>,
    changed: Condvar,
    notify: Sender<()>,
}

fn zk_error(what: &str, url: &ZkUrl, err: ZkError) -> Error {
    Error::Transport(format!("ZooKeeper at {url}: {what}: {err}"))
}

impl Election {
    /// Joins the election at `url` (`zk://host:2181/path`; the path is
    /// created if missing) with sessions of `session_timeout`. `data` is
    /// stored in the member, for people looking (e.g. the host name).
    pub fn join(url: &str, session_timeout: Duration, data: &[u8]) -> Result<Election> {
        let url = ZkUrl::parse(url)?;
        let (wake_tx, wake) = bounded::<()>(1);
        let zk = Arc::new(connect(&url, session_timeout, &wake_tx).map_err(Error::Transport)?);
        retrying(session_timeout, || zk.ensure_path(&url.path))
            .map_err(|e| zk_error("creating the path", &url, e))?;
        // Not retried: a retry after a lost answer could create a second member.
        let znode = zk
            .create(
                &url.child(CANDIDATE_PREFIX),
                data.to_vec(),
                Acl::open_unsafe().clone(),
                CreateMode::EphemeralSequential,
            )
            .map_err(|e| zk_error("joining", &url, e))?;
        let first = retrying(session_timeout, || standing(&zk, &url, &znode, &wake_tx))
            .map_err(|e| zk_error("reading the members", &url, e))?;
        log::info!("joined the election at {url} as {znode}: {first:?}");
        let (notify, changes) = bounded(1);
        let shared = Arc::new(Shared {
            standing: Mutex::new(first),
            changed: Condvar::new(),
            notify,
        });
        let (stop, stopped) = bounded::<()>(0);
        let watcher = {
            let (zk, url, znode, shared) = (zk.clone(), url.clone(), znode.clone(), shared.clone());
            thread::Builder::new()
                .name("mesos-zk-election".into())
                .spawn(move || {
                    loop {
                        select! {
                            recv(stopped) -> _ => return,
                            recv(wake) -> _ => {}
                        }
                        // A short disconnection keeps the session (and the
                        // member): only an error that lasts means it is gone.
                        let now =
                            retrying(session_timeout, || standing(&zk, &url, &znode, &wake_tx))
                                .unwrap_or(Standing::Lost);
                        shared.publish(now);
                        if now == Standing::Lost {
                            return;
                        }
                    }
                })?
        };
        Ok(Election {
            zk,
            url,
            znode,
            shared,
            changes,
            stop: Some(stop),
            watcher: Some(watcher),
        })
    }

    /// Where this instance stands now.
    pub fn standing(&self) -> Standing {
        *lock(&self.shared.standing)
    }

    /// Whether this instance leads now.
    pub fn is_leader(&self) -> bool {
        self.standing() == Standing::Leading
    }

    /// Waits while this instance follows (at most `timeout`, if given);
    /// returns where it stands then.
    pub fn wait_for_leadership(&self, timeout: Option<Duration>) -> Standing {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut standing = lock(&self.shared.standing);
        while *standing == Standing::Following {
            let wait = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => break,
                },
                None => Duration::from_secs(3600),
            };
            standing = self
                .shared
                .changed
                .wait_timeout(standing, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *standing
    }

    /// Receives `()` after [`Election::standing`] changed (e.g. to
    /// [`Standing::Lost`]: stop the driver then).
    pub fn changes(&self) -> Receiver<()> {
        self.changes.clone()
    }

    /// This instance's member znode, e.g. `/etl/candidate_0000000001`.
    pub fn znode(&self) -> &str {
        &self.znode
    }

    /// The ZooKeeper session this candidacy lives in, for a leader that
    /// keeps more state beside the election (e.g. the ETL runner's jobs).
    ///
    /// Writes through it are *not* fenced by the session: once the session
    /// has expired the `zookeeper` crate quietly opens a new one, in which
    /// writes succeed again. Fence them yourself, e.g. with znode versions
    /// (`set_data(path, data, Some(version))`) that a new leader bumps when
    /// it takes over.
    pub fn zookeeper(&self) -> &ZooKeeper {
        &self.zk
    }

    /// The leading candidate now (by the same rule as [`Election::standing`]): its
    /// member name, and what it said about itself (the `data` it joined with) if that
    /// could still be read; `None` while there is no candidate.
    ///
    /// # Errors
    ///
    /// The candidates cannot be listed.
    pub fn leader(&self) -> Result<Option<(String, Option<Vec<u8>>)>> {
        let children = self
            .zk
            .get_children(&self.url.path, false)
            .map_err(|err| zk_error("listing the candidates", &self.url, err))?;
        Ok(lowest_candidate(&children).map(|name| {
            let data = self.zk.get_data(&self.url.child(name), false).ok();
            (name.to_string(), data.map(|(data, _)| data))
        }))
    }

    /// The framework id a leader saved, if any.
    pub fn framework_id(&self) -> Result<Option<String>> {
        let path = self.url.child(FRAMEWORK_ID_NODE);
        match retrying(Duration::from_secs(5), || self.zk.get_data(&path, false)) {
            Ok((data, _)) => {
                let id = String::from_utf8_lossy(&data).trim().to_string();
                Ok(Some(id).filter(|id| !id.is_empty()))
            }
            Err(ZkError::NoNode) => Ok(None),
            Err(err) => Err(zk_error("reading the framework id", &self.url, err)),
        }
    }

    /// Saves the framework id for the next leader (call it as the leader,
    /// from `Scheduler::subscribed`).
    pub fn save_framework_id(&self, id: &str) -> Result<()> {
        let path = self.url.child(FRAMEWORK_ID_NODE);
        let data = id.as_bytes().to_vec();
        let saved = retrying(Duration::from_secs(5), || {
            match self.zk.set_data(&path, data.clone(), None) {
                Err(ZkError::NoNode) => {
                    let open = Acl::open_unsafe().clone();
                    match self
                        .zk
                        .create(&path, data.clone(), open, CreateMode::Persistent)
                    {
                        // Created meanwhile by someone else: set it next time round.
                        Err(ZkError::NodeExists) => Err(ZkError::ConnectionLoss),
                        other => other.map(drop),
                    }
                }
                other => other.map(drop),
            }
        });
        saved.map_err(|e| zk_error("saving the framework id", &self.url, e))
    }
}

impl Shared {
    fn publish(&self, now: Standing) {
        let mut standing = lock(&self.standing);
        // Lost is final; anything else may change.
        if *standing != now && *standing != Standing::Lost {
            log::info!("election standing: {now:?}");
            *standing = now;
            self.changed.notify_all();
            let _ = self.notify.try_send(());
        }
    }
}

impl fmt::Debug for Election {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Election")
            .field("url", &self.url)
            .field("znode", &self.znode)
            .field("standing", &self.standing())
            .finish()
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        match self.zk.delete(&self.znode, None) {
            Ok(()) | Err(ZkError::NoNode) => log::info!("left the election ({})", self.znode),
            Err(err) => log::warn!("could not delete {}: {err}", self.znode),
        }
    }
}

/// The leading candidate among `children`: the lowest sequence number.
fn lowest_candidate(children: &[String]) -> Option<&str> {
    let sequence = |name: &str| -> Option<u64> {
        let digits = name.strip_prefix(CANDIDATE_PREFIX)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    children
        .iter()
        .filter_map(|name| Some((sequence(name)?, name.as_str())))
        .min()
        .map(|(_, name)| name)
}

/// Reads the candidates (setting a watch) and works out our standing.
fn standing(
    zk: &ZooKeeper,
    url: &ZkUrl,
    znode: &str,
    wake: &Sender<()>,
) -> zookeeper::ZkResult<Standing> {
    let children = zk.get_children_w(&url.path, waker(wake))?;
    let ours = znode.rsplit('/').next().unwrap_or_default();
    Ok(match lowest_candidate(&children) {
        _ if !children.iter().any(|c| c == ours) => Standing::Lost,
        Some(lowest) if lowest == ours => Standing::Leading,
        _ => Standing::Following,
    })
}
