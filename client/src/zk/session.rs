//! Opening a ZooKeeper session with the `zookeeper` crate, working around
//! its rough edges.

use std::net::{TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use zookeeper::{WatchedEvent, ZkError, ZkResult, ZooKeeper};

use super::ZkUrl;

/// A watcher that just wakes a thread up (which then reads everything again).
pub(super) fn waker(wake: &Sender<()>) -> impl Fn(WatchedEvent) + Send + 'static {
    let wake = wake.clone();
    move |_event: WatchedEvent| {
        let _ = wake.try_send(());
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens a session and waits until it is usable (or failed).
pub(super) fn connect(
    url: &ZkUrl,
    timeout: Duration,
    wake: &Sender<()>,
) -> Result<ZooKeeper, String> {
    // The client library starts by connecting to the first server without
    // error handling, and spins while a server refuses: so we first find
    // one that accepts a TCP connection and put it first.
    let probe = timeout.min(Duration::from_secs(2));
    // Servers whose name does not resolve are left out: the library refuses
    // a connect string with one of them.
    let resolved = url
        .servers
        .iter()
        .filter_map(|s| Some((s, s.to_socket_addrs().ok()?.next()?)));
    let (up, down): (Vec<_>, Vec<_>) =
        resolved.partition(|(_, addr)| TcpStream::connect_timeout(addr, probe).is_ok());
    if up.is_empty() {
        return Err(format!("no ZooKeeper server of {url} accepts connections"));
    }
    let servers: Vec<&str> = up
        .into_iter()
        .chain(down)
        .map(|(s, _)| s.as_str())
        .collect();
    let started = panic::catch_unwind(AssertUnwindSafe(|| {
        ZooKeeper::connect(&servers.join(","), timeout, waker(wake))
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
    retrying(timeout, || zk.exists("/", false))
        .map_err(|err| format!("no ZooKeeper session at {url}: {err:?}"))?;
    Ok(zk)
}

/// Runs an idempotent request again after a connection loss (the client
/// library fails the requests in flight whenever it reconnects, even when
/// the session survives) until `timeout` has passed.
pub(super) fn retrying<T>(timeout: Duration, mut op: impl FnMut() -> ZkResult<T>) -> ZkResult<T> {
    let deadline = Instant::now() + timeout;
    loop {
        match op() {
            Err(ZkError::ConnectionLoss | ZkError::OperationTimeout)
                if Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}
