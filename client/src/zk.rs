//! Finding the leading master through ZooKeeper, as Mesos frameworks do
//! (fact sheet §6.3). Needs the cargo feature `zk` (on by default).
//!
//! A production cluster runs several masters and lets ZooKeeper pick the
//! leader. Each master creates an *ephemeral sequential* znode under one path
//! (`/mesos` in `zk://zk1:2181,zk2:2181/mesos`), named `json.info_` plus a
//! 10-digit sequence number, whose data is its `MasterInfo` as JSON. The
//! member with the lowest sequence leads. Ephemeral means ZooKeeper deletes
//! the znode when the master's session ends, so when the leader dies the next
//! member takes over without anyone voting.
//!
//! A [`LeaderDetector`] keeps a ZooKeeper session on its own thread: it lists
//! the members with a *watch* (ZooKeeper tells us once when the list
//! changes), reads the leader's `MasterInfo`, publishes the leader's
//! [`Endpoint`] and signals a change on a channel the driver can `select!`
//! on. Watches fire once, so after every change (and every reconnection,
//! which loses watches) it reads again and sets a new one.
//!
//! Other children of the path (e.g. `log_replicas`, or members of older
//! Mesos versions named `info_...`) are ignored.

use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, select};
use serde_json::Value;
use zookeeper::{WatchedEvent, ZkError, ZooKeeper};

use crate::error::{Error, Result};
use crate::masters::{DEFAULT_PORT, Endpoint, SCHEDULER_PATH};

/// The name prefix of a master's member znode.
pub const MEMBER_PREFIX: &str = "json.info_";

/// A parsed `zk://[user:password@]host:port[,host:port...]/path` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// The ZooKeeper servers, `host:port` each (port 2181 if none was given).
    pub servers: Vec<String>,
    /// The znode under which the masters register, e.g. `/mesos`.
    pub path: String,
    /// `user:password` for ZooKeeper's `digest` authentication, if given.
    pub credentials: Option<String>,
}

impl ZkUrl {
    /// `true` if `text` is a `zk://` URL (and so not a list of masters).
    pub fn is_zk(text: &str) -> bool {
        text.trim()
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("zk://"))
    }

    /// Parses `zk://host:2181[,host:2181...]/path`.
    pub fn parse(text: &str) -> Result<ZkUrl> {
        let text = text.trim();
        let bad = |why: &str| Error::Config(format!("bad ZooKeeper URL: {why}"));
        if !ZkUrl::is_zk(text) {
            return Err(bad("it must start with zk://"));
        }
        let rest = &text[5..];
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => (Some(user.to_string()), hosts),
            None => (None, authority),
        };
        let servers = hosts
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && !s.ends_with(']') => {
                    match port.parse::<u16>() {
                        Ok(p) if p != 0 => Ok(s.to_string()),
                        _ => Err(bad(&format!("bad port in {s:?}"))),
                    }
                }
                _ => Ok(format!("{s}:2181")),
            })
            .collect::<Result<Vec<_>>>()?;
        if servers.is_empty() {
            return Err(bad("no ZooKeeper server"));
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() || path.contains("//") {
            return Err(bad("the path (e.g. /mesos) is missing or empty"));
        }
        Ok(ZkUrl {
            servers,
            path: path.to_string(),
            credentials,
        })
    }

    /// The full path of a child of [`ZkUrl::path`].
    pub fn child(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
}

impl fmt::Display for ZkUrl {
    /// The URL without credentials (safe to log).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://{}{}", self.servers.join(","), self.path)
    }
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZkUrl({self})")
    }
}

/// The sequence number of a master's member znode (`json.info_0000000003`
/// gives 3); `None` for any other child.
pub fn member_sequence(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(MEMBER_PREFIX)?;
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

/// The leading member among `children`: the lowest sequence number.
pub fn leading_member(children: &[String]) -> Option<&str> {
    children
        .iter()
        .filter_map(|name| Some((member_sequence(name)?, name.as_str())))
        .min()
        .map(|(_, name)| name)
}

/// The scheduler endpoint of a master, from its `MasterInfo` JSON.
///
/// Like Mesos' own scheduler library and pymesos we connect to
/// `address.ip`, which needs no DNS; then `address.hostname`; then the old
/// top-level fields (`ip` is an IPv4 address in network byte order read as a
/// little-endian number, `hostname`, `port`).
pub fn master_endpoint(data: &[u8]) -> Result<Endpoint> {
    let bad = |why: String| Error::Config(format!("bad MasterInfo in ZooKeeper: {why}"));
    let info: Value = serde_json::from_slice(data).map_err(|e| bad(e.to_string()))?;
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let address = info.get("address");
    let host = text(address.and_then(|a| a.get("ip")))
        .or_else(|| text(address.and_then(|a| a.get("hostname"))))
        .or_else(|| {
            let ip = info
                .get("ip")?
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())?;
            Some(std::net::Ipv4Addr::from(ip.to_le_bytes()).to_string())
        })
        .or_else(|| text(info.get("hostname")))
        .ok_or_else(|| bad("no address.ip, address.hostname, ip or hostname".into()))?;
    let port = address
        .and_then(|a| a.get("port"))
        .or_else(|| info.get("port"))
        .map_or(Some(u64::from(DEFAULT_PORT)), Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|&p| p != 0)
        .ok_or_else(|| bad("bad port".into()))?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]") // an IPv6 address
    } else {
        host
    };
    Ok(Endpoint {
        https: false,
        host,
        port,
        path: SCHEDULER_PATH.to_string(),
    })
}

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

/// Watches ZooKeeper for the leading master (see the [module docs](self)).
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
                match read_leader(&zk, url, &wake_tx) {
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

/// Opens a session and waits until it is usable (or failed).
fn connect(url: &ZkUrl, timeout: Duration, wake: &Sender<()>) -> Result<ZooKeeper, String> {
    // The client library starts by connecting to the first server without
    // error handling, and spins while a server refuses: so we first find
    // one that accepts a TCP connection and put it first.
    let probe = timeout.min(Duration::from_secs(2));
    let (up, down): (Vec<&String>, Vec<&String>) = url.servers.iter().partition(|s| {
        s.to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .is_some_and(|addr| TcpStream::connect_timeout(&addr, probe).is_ok())
    });
    if up.is_empty() {
        return Err(format!("no ZooKeeper server of {url} accepts connections"));
    }
    let servers: Vec<&str> = up.into_iter().chain(down).map(String::as_str).collect();
    let on_event = {
        let wake = wake.clone();
        move |_event: WatchedEvent| {
            let _ = wake.try_send(());
        }
    };
    let started = panic::catch_unwind(AssertUnwindSafe(|| {
        ZooKeeper::connect(&servers.join(","), timeout, on_event)
    }));
    let zk = match started {
        Ok(Ok(zk)) => zk,
        Ok(Err(err)) => return Err(format!("cannot connect to ZooKeeper at {url}: {err:?}")),
        Err(_) => return Err(format!("the ZooKeeper client failed to start for {url}")),
    };
    let wake = wake.clone();
    zk.add_listener(move |_state| {
        let _ = wake.try_send(());
    });
    if let Some(credentials) = &url.credentials {
        zk.add_auth("digest", credentials.as_bytes().to_vec())
            .map_err(|err| format!("ZooKeeper authentication failed at {url}: {err:?}"))?;
    }
    // The first request waits for the session to be established.
    zk.exists("/", false)
        .map_err(|err| format!("no ZooKeeper session at {url}: {err:?}"))?;
    Ok(zk)
}

/// One look at the members: lists them (setting a watch), reads the leader.
fn read_leader(zk: &ZooKeeper, url: &ZkUrl, wake: &Sender<()>) -> Result<Detection, ZkError> {
    let waker = || {
        let wake = wake.clone();
        move |_event: WatchedEvent| {
            let _ = wake.try_send(());
        }
    };
    loop {
        let children = match zk.get_children_w(&url.path, waker()) {
            Ok(children) => children,
            Err(ZkError::NoNode) => {
                // No master has ever registered: watch for the path.
                if zk.exists_w(&url.path, waker())?.is_some() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zk_urls() {
        let url = ZkUrl::parse("zk://127.0.0.1:2181,zk2,zk3:2182/mesos/").unwrap();
        assert_eq!(url.servers, ["127.0.0.1:2181", "zk2:2181", "zk3:2182"]);
        assert_eq!(url.path, "/mesos");
        assert_eq!(url.credentials, None);
        assert_eq!(
            url.to_string(),
            "zk://127.0.0.1:2181,zk2:2181,zk3:2182/mesos"
        );
        let url = ZkUrl::parse("ZK://jo:secret@zk1:2181/a/b").unwrap();
        assert_eq!(url.credentials.as_deref(), Some("jo:secret"));
        assert_eq!(
            url.child("json.info_0000000001"),
            "/a/b/json.info_0000000001"
        );
        assert!(!format!("{url:?}").contains("secret"));
        for bad in [
            "zk://",
            "zk://h:2181",
            "zk://h:2181/",
            "zk://h:x/m",
            "h:2181/m",
            "zk://h:0/m",
        ] {
            assert!(ZkUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lowest_member_sequence_leads() {
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "info_0000000001",
            "json.info_0000000009",
            "json.info_x",
        ]
        .map(String::from)
        .into();
        assert_eq!(leading_member(&children), Some("json.info_0000000009"));
        assert_eq!(leading_member(&children[..1]), None);
        assert_eq!(member_sequence("json.info_0000000012"), Some(12));
        assert_eq!(member_sequence("json.info_"), None);
    }

    #[test]
    fn master_info_gives_the_endpoint() {
        // The shape a Mesos 1.12 master writes (keys sorted).
        let info = br#"{"address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"hostname":"localhost","id":"x","ip":16777343,"pid":"master@127.0.0.1:5050","port":5050,"version":"1.12.0"}"#;
        let endpoint = master_endpoint(info).unwrap();
        assert_eq!(endpoint.url(), "http://127.0.0.1:5050/api/v1/scheduler");
        // Older shapes: no address, only the packed ip and port.
        let endpoint = master_endpoint(br#"{"ip":16777343,"port":5051}"#).unwrap();
        assert_eq!(endpoint.url(), "http://127.0.0.1:5051/api/v1/scheduler");
        let endpoint = master_endpoint(br#"{"address":{"hostname":"m1","port":6060}}"#).unwrap();
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("m1", 6060));
        let endpoint = master_endpoint(br#"{"address":{"ip":"::1","port":5050}}"#).unwrap();
        assert_eq!(endpoint.host, "[::1]");
        for bad in [&b"{}"[..], b"not json", br#"{"hostname":"m","port":70000}"#] {
            assert!(master_endpoint(bad).is_err());
        }
    }
}
