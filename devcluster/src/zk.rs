//! Registering masters in ZooKeeper the way Mesos masters do (fact sheet
//! §6.3), so any Mesos-aware tool (`zk://.../mesos`) finds devcluster's
//! leader, and a leader failover shows up in ZooKeeper.
//!
//! A Mesos master contends for leadership by creating an *ephemeral
//! sequential* znode `<path>/json.info_<10 digits>` whose data is its
//! `MasterInfo` as JSON with the keys in alphabetical order. The member with
//! the lowest sequence number leads; the others follow it (and answer
//! schedulers with a `307` to it). Ephemeral: ZooKeeper deletes the znode when
//! the master's session ends, so the next member takes over by itself.
//!
//! [`ZkRegistrar::register`] creates such a member (and the path, if
//! missing) and returns a [`ZkMembership`], which watches the members on its
//! own thread and says whether it leads, who does, and calls
//! [`ZkMembership::on_change`] callbacks when that changes. Dropping it
//! deletes the member at once (a clean failover, as when a master stops).
//!
//! A member whose ZooKeeper session is lost is not re-created: like a Mesos
//! master, which aborts when it loses its session, it is [`lost`](
//! MemberState::lost) and it is up to the cluster to stop that master.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Sender, bounded, select};
use serde_json::{Map, Value};
use zookeeper::{Acl, CreateMode, WatchedEvent, ZkError, ZooKeeper, ZooKeeperExt};

use crate::{Error, Result};

/// The name prefix of a master's member znode.
pub const MEMBER_PREFIX: &str = "json.info_";

/// Creates master members in ZooKeeper.
#[derive(Debug, Clone)]
pub struct ZkRegistrar {
    /// The ZooKeeper session timeout: how long after a crash the member
    /// stays. Default 10 s, as Mesos' `--zk_session_timeout`.
    pub session_timeout: Duration,
}

impl Default for ZkRegistrar {
    fn default() -> Self {
        ZkRegistrar {
            session_timeout: Duration::from_secs(10),
        }
    }
}

/// What a member knows about the election.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberState {
    /// This member has the lowest sequence: its master leads.
    pub leading: bool,
    /// The leading member's data (its MasterInfo JSON), if any member leads.
    pub leader_info: Option<String>,
    /// The member is gone (session lost, or the znode was deleted by someone
    /// else): this master must not lead any more.
    pub lost: bool,
}

type Callback = Box<dyn Fn(&MemberState) + Send>;

/// State shared by the membership and its watcher thread.
struct Shared {
    state: Mutex<MemberState>,
    callbacks: Mutex<Vec<Callback>>,
}

/// One master's member znode; see the [module docs](self).
pub struct ZkMembership {
    zk: Arc<ZooKeeper>,
    znode: String,
    shared: Arc<Shared>,
    stop: Option<Sender<()>>,
    watcher: Option<JoinHandle<()>>,
}

impl ZkRegistrar {
    /// Registers a master: creates `<path>/json.info_<seq>` (ephemeral,
    /// sequential) under `zk_url` (`zk://host:port[,host:port]/path`) with
    /// `master_info_json` re-written with its keys in alphabetical order.
    /// The path is created if missing.
    pub fn register(&self, zk_url: &str, master_info_json: &str) -> Result<ZkMembership> {
        let (servers, path) = parse_url(zk_url)?;
        let info: Value = serde_json::from_str(master_info_json)
            .map_err(|e| Error::Config(format!("MasterInfo is not JSON: {e}")))?;
        let data = serde_json::to_vec(&sorted(info)).expect("a JSON value always serializes");
        let (wake_tx, wake) = bounded::<()>(1);
        let zk = Arc::new(connect(&servers, self.session_timeout, &wake_tx)?);
        let zk_err = |what: &str, err: ZkError| zk_error(&format!("{what} in {zk_url}"), err);
        retrying(self.session_timeout, || zk.ensure_path(&path))
            .map_err(|e| zk_err(&format!("creating {path}"), e))?;
        let znode = zk
            .create(
                &format!("{path}/{MEMBER_PREFIX}"),
                data,
                Acl::open_unsafe().clone(),
                CreateMode::EphemeralSequential,
            )
            .map_err(|e| zk_err("creating the member", e))?;
        log::info!("registered master as {znode} in {zk_url}");
        let shared = Arc::new(Shared {
            state: Mutex::new(MemberState::default()),
            callbacks: Mutex::new(Vec::new()),
        });
        // The first look is synchronous, so is_leader() is right at once.
        let timeout = self.session_timeout;
        let first =
            retrying(timeout, || read_state(&zk, &path, &znode, &wake_tx)).unwrap_or(MemberState {
                lost: true,
                ..MemberState::default()
            });
        *lock(&shared.state) = first;
        let (stop, stopped) = bounded::<()>(0);
        let watcher = {
            let (zk, path, znode, shared) = (zk.clone(), path, znode.clone(), shared.clone());
            thread::Builder::new()
                .name("devcluster-zk-member".into())
                .spawn(move || {
                    loop {
                        select! {
                            recv(stopped) -> _ => return,
                            recv(wake) -> _ => {}
                        }
                        // A short disconnection keeps the session (and the
                        // member): only an error that lasts means it is gone.
                        let state = retrying(timeout, || read_state(&zk, &path, &znode, &wake_tx))
                            .unwrap_or_else(|err| {
                                log::warn!("member {znode} lost its ZooKeeper session: {err:?}");
                                MemberState {
                                    lost: true,
                                    ..MemberState::default()
                                }
                            });
                        let lost = state.lost;
                        shared.publish(state);
                        if lost && zk.exists("/", false).is_err() {
                            return; // The session is over: nothing left to watch.
                        }
                    }
                })?
        };
        Ok(ZkMembership {
            zk,
            znode,
            shared,
            stop: Some(stop),
            watcher: Some(watcher),
        })
    }

    /// [`ZkRegistrar::register`] for a MasterInfo message.
    pub fn register_master(
        &self,
        zk_url: &str,
        info: &mesos_proto::v1::MasterInfo,
    ) -> Result<ZkMembership> {
        self.register(zk_url, &mesos_proto::json::to_value(info).to_string())
    }
}

impl ZkMembership {
    /// The member's full znode path, e.g. `/mesos/json.info_0000000003`.
    pub fn znode(&self) -> &str {
        &self.znode
    }

    /// The member's sequence number.
    pub fn sequence(&self) -> u64 {
        member_sequence(self.znode.rsplit('/').next().unwrap_or_default()).unwrap_or(0)
    }

    /// Whether this master leads now.
    pub fn is_leader(&self) -> bool {
        self.state().leading
    }

    /// The leading master's MasterInfo JSON (possibly this one's).
    pub fn leader_info(&self) -> Option<String> {
        self.state().leader_info
    }

    /// Everything this member knows now.
    pub fn state(&self) -> MemberState {
        lock(&self.shared.state).clone()
    }

    /// Calls `callback` (on the watcher thread) after every change of
    /// [`ZkMembership::state`]: leadership won or lost, a new leader, the
    /// member lost. Keep it short.
    pub fn on_change(&self, callback: impl Fn(&MemberState) + Send + 'static) {
        lock(&self.shared.callbacks).push(Box::new(callback));
    }
}

impl std::fmt::Debug for ZkMembership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkMembership")
            .field("znode", &self.znode)
            .field("state", &self.state())
            .finish()
    }
}

impl Drop for ZkMembership {
    /// Deletes the member now (ZooKeeper would only after the session
    /// timeout) and closes the session.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        match self.zk.delete(&self.znode, None) {
            Ok(()) | Err(ZkError::NoNode) => log::info!("deregistered {}", self.znode),
            Err(err) => log::warn!("could not delete {}: {err:?}", self.znode),
        }
    }
}

impl Shared {
    fn publish(&self, state: MemberState) {
        let mut current = lock(&self.state);
        if *current == state {
            return;
        }
        *current = state.clone();
        drop(current);
        for callback in lock(&self.callbacks).iter() {
            callback(&state);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `("h1:2181,h2:2181", "/mesos")` from `zk://h1:2181,h2:2181/mesos`.
fn parse_url(url: &str) -> Result<(Vec<String>, String)> {
    let bad = || {
        Error::Config(format!(
            "bad ZooKeeper URL {url:?}: expected zk://host:port/path"
        ))
    };
    let rest = url
        .trim()
        .strip_prefix("zk://")
        .or_else(|| url.trim().strip_prefix("ZK://"))
        .ok_or_else(bad)?;
    let (hosts, path) = rest.split_at(rest.find('/').ok_or_else(bad)?);
    let path = path.trim_end_matches('/');
    let servers: Vec<String> = hosts
        .split(',')
        .filter(|h| !h.trim().is_empty())
        .map(|h| {
            let h = h.trim();
            if h.contains(':') {
                h.to_string()
            } else {
                format!("{h}:2181")
            }
        })
        .collect();
    if servers.is_empty() || path.is_empty() || hosts.contains('@') {
        return Err(bad());
    }
    Ok((servers, path.to_string()))
}

/// The JSON value with every object's keys in alphabetical order, as Mesos
/// writes MasterInfo into ZooKeeper.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let map: Map<String, Value> =
                entries.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `json.info_0000000003` -> 3.
fn member_sequence(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(MEMBER_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Runs an idempotent ZooKeeper operation, again after a connection loss
/// (the client library fails requests in flight when it reconnects) until
/// `timeout` has passed.
fn retrying<T>(
    timeout: Duration,
    mut op: impl FnMut() -> std::result::Result<T, ZkError>,
) -> std::result::Result<T, ZkError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match op() {
            Err(ZkError::ConnectionLoss | ZkError::OperationTimeout)
                if std::time::Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn zk_error(what: &str, err: ZkError) -> Error {
    Error::Io(io::Error::other(format!("ZooKeeper: {what}: {err:?}")))
}

/// Opens a session and waits until it is usable.
fn connect(servers: &[String], timeout: Duration, wake: &Sender<()>) -> Result<ZooKeeper> {
    // The client library connects to the first server without error
    // handling and spins while it refuses: find one that answers first.
    let probe = timeout.min(Duration::from_secs(2));
    // Servers whose name does not resolve are left out: the library refuses
    // a connect string with one of them.
    let resolved = servers
        .iter()
        .filter_map(|s| Some((s, s.to_socket_addrs().ok()?.next()?)));
    let (up, down): (Vec<_>, Vec<_>) =
        resolved.partition(|(_, addr)| TcpStream::connect_timeout(addr, probe).is_ok());
    if up.is_empty() {
        let msg = format!("no ZooKeeper server of {servers:?} accepts connections");
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            msg,
        )));
    }
    let list: Vec<&str> = up
        .into_iter()
        .chain(down)
        .map(|(s, _)| s.as_str())
        .collect();
    let on_event = {
        let wake = wake.clone();
        move |_: WatchedEvent| {
            let _ = wake.try_send(());
        }
    };
    let zk = panic::catch_unwind(AssertUnwindSafe(|| {
        ZooKeeper::connect(&list.join(","), timeout, on_event)
    }))
    .map_err(|_| zk_error("the client failed to start", ZkError::SystemError))?
    .map_err(|e| zk_error("connecting", e))?;
    let wake = wake.clone();
    zk.add_listener(move |_| {
        let _ = wake.try_send(());
    });
    retrying(timeout, || zk.exists("/", false)).map_err(|e| zk_error("opening a session", e))?;
    Ok(zk)
}

/// Lists the members (setting a watch) and works out the state.
fn read_state(
    zk: &ZooKeeper,
    path: &str,
    znode: &str,
    wake: &Sender<()>,
) -> std::result::Result<MemberState, ZkError> {
    loop {
        let waker = wake.clone();
        let children = zk.get_children_w(path, move |_: WatchedEvent| {
            let _ = waker.try_send(());
        })?;
        let ours = znode.rsplit('/').next().unwrap_or_default();
        let leader = children
            .iter()
            .filter_map(|name| Some((member_sequence(name)?, name)))
            .min()
            .map(|(_, name)| name.clone());
        let Some(leader) = leader else {
            return Ok(MemberState {
                lost: true,
                ..MemberState::default()
            });
        };
        match zk.get_data(&format!("{path}/{leader}"), false) {
            Ok((data, _)) => {
                return Ok(MemberState {
                    leading: leader == ours,
                    leader_info: Some(String::from_utf8_lossy(&data).into_owned()),
                    lost: !children.iter().any(|c| c == ours),
                });
            }
            Err(ZkError::NoNode) => continue, // The leader just left: look again.
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_members() {
        let (servers, path) = parse_url("zk://127.0.0.1:2181,zk2/mesos/").unwrap();
        assert_eq!(servers, ["127.0.0.1:2181", "zk2:2181"]);
        assert_eq!(path, "/mesos");
        for bad in ["zk://h:2181", "zk:///mesos", "http://h/m", "zk://u:p@h:1/m"] {
            assert!(parse_url(bad).is_err(), "{bad:?}");
        }
        assert_eq!(member_sequence("json.info_0000000042"), Some(42));
        assert_eq!(member_sequence("log_replicas"), None);
    }

    #[test]
    fn master_info_keys_are_sorted_at_every_level() {
        let info: Value = serde_json::from_str(
            r#"{"id":"x","port":5050,"address":{"port":5050,"ip":"127.0.0.1","hostname":"h"},"hostname":"h"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&sorted(info)).unwrap(),
            r#"{"address":{"hostname":"h","ip":"127.0.0.1","port":5050},"hostname":"h","id":"x","port":5050}"#
        );
    }
}
