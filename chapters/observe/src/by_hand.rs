//! A master that is not a devcluster, for the tests of the steps that break the connection
//! (10 to 12): [`NotDevcluster`] stands in front of a devcluster's master on loopback and
//! passes everything through except the fault endpoint, which answers 404 as Apache Mesos
//! does. The test then plays the person at the master's host, as the step's instructions ask:
//! [`NotDevcluster::pause`] and [`NotDevcluster::resume`] are `kill -STOP` and `kill -CONT`
//! (nothing passes either way, new connections are accepted and left waiting),
//! [`NotDevcluster::cut`] is `ss -K` (every connection closes, the master stays up),
//! [`NotDevcluster::restart`] stops the master and starts it again (every connection closes,
//! new ones are refused for a while). [`Logs`] keeps what the step logged, to check that it
//! told the reader what to do.

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The most fault requests kept until the test reads them.
const FAULT_REQUESTS: usize = 16;

/// The largest request head read to find its path.
const MAX_HEAD: usize = 64 << 10;

/// A one-agent devcluster (heartbeats every 200 ms, so that a step notices a silent master
/// within its deadline) behind a [`NotDevcluster`] front: a master as the steps meet Apache
/// Mesos. Point the step at the front's [`url`](NotDevcluster::url).
pub fn real_master() -> (devcluster::Cluster, NotDevcluster) {
    let mut config = devcluster::ClusterConfig::for_tests(1);
    config.heartbeat_interval = Duration::from_millis(200);
    let cluster = devcluster::Cluster::start(config).expect("devcluster starts");
    let front = NotDevcluster::start(&cluster.master_url());
    (cluster, front)
}

/// A loopback front for a devcluster master that answers 404 on `/devcluster/faults/...`.
pub struct NotDevcluster {
    addr: SocketAddr,
    shared: Arc<Shared>,
    faults: Mutex<Receiver<String>>,
}

struct Shared {
    upstream: String,
    paused: AtomicBool,
    down: AtomicBool,
    /// Open connections (both sides), so that a restart can close them.
    open: Mutex<BTreeMap<u64, (TcpStream, TcpStream)>>,
    next_id: AtomicU64,
    faults: SyncSender<String>,
}

impl NotDevcluster {
    /// Starts a front for the master at `upstream` (`http://host:port` or `host:port`).
    pub fn start(upstream: &str) -> NotDevcluster {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let (tx, rx) = sync_channel(FAULT_REQUESTS);
        let shared = Arc::new(Shared {
            upstream,
            paused: AtomicBool::new(false),
            down: AtomicBool::new(false),
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            faults: tx,
        });
        let accepting = shared.clone();
        std::thread::spawn(move || accept(listener, accepting));
        NotDevcluster {
            addr,
            shared,
            faults: Mutex::new(rx),
        }
    }

    /// `http://127.0.0.1:<port>`: what the step gets as `--master`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The name of the next fault the step asked for (and was answered 404), waiting up to
    /// `within`.
    pub fn next_fault_request(&self, within: Duration) -> Option<String> {
        let rx = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        rx.recv_timeout(within).ok()
    }

    /// `kill -STOP`: from now on nothing passes, either way, until [`Self::resume`].
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// `kill -CONT`: what waited passes now.
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// `ss -K`: closes every connection now (the master stays up).
    pub fn cut(&self) {
        let open = std::mem::take(&mut *self.shared.open.lock().unwrap_or_else(|p| p.into_inner()));
        for (client, upstream) in open.values() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }

    /// Stops the master and starts it again after `down`: every connection closes now, and
    /// new ones are refused until then. Returns once it listens again.
    pub fn restart(&self, down: Duration) {
        self.shared.down.store(true, Ordering::SeqCst);
        // Wake the accept loop, which sees `down` and closes the listening socket.
        let _ = TcpStream::connect(self.addr);
        self.cut();
        std::thread::sleep(down);
        let until = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(err) if Instant::now() > until => panic!("cannot listen again: {err}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        self.shared.down.store(false, Ordering::SeqCst);
        let accepting = self.shared.clone();
        std::thread::spawn(move || accept(listener, accepting));
    }
}

impl Drop for NotDevcluster {
    fn drop(&mut self) {
        // Let held connections go, and stop accepting.
        self.resume();
        self.shared.down.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.down.load(Ordering::SeqCst) {
            return; // the listening socket closes with this thread: connections are refused
        }
        let Ok(client) = client else { continue };
        let shared = shared.clone();
        std::thread::spawn(move || connection(client, &shared));
    }
}

/// One client connection: its first request decides (the fault endpoint gets 404), then
/// bytes pass both ways while not paused.
fn connection(mut client: TcpStream, shared: &Arc<Shared>) {
    let Some(head) = read_head(&mut client) else {
        return;
    };
    let text = String::from_utf8_lossy(&head);
    let path = text.split(' ').nth(1).unwrap_or("/");
    if let Some(name) = path.strip_prefix("/devcluster/faults/") {
        // What Apache Mesos answers for a path it does not serve.
        let name = name.split('?').next().unwrap_or_default().to_string();
        let _ = shared.faults.try_send(name);
        let _ = client
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    wait_while_paused(shared);
    let Ok(mut upstream) = TcpStream::connect(&shared.upstream) else {
        return;
    };
    if upstream.write_all(&head).is_err() {
        return;
    }
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    if let (Ok(c), Ok(u)) = (client.try_clone(), upstream.try_clone()) {
        let mut open = shared.open.lock().unwrap_or_else(|p| p.into_inner());
        open.insert(id, (c, u));
    }
    let (Ok(client_read), Ok(upstream_write)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = shared.clone();
    let to_upstream = std::thread::spawn(move || pump(client_read, upstream_write, &up));
    pump(upstream, client, shared);
    let _ = to_upstream.join();
    shared
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
}

/// The bytes up to and including the blank line that ends a request head.
fn read_head(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD || client.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        wait_while_paused(shared);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn wait_while_paused(shared: &Shared) {
    while shared.paused.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The most log lines kept.
const LOG_LINES: usize = 10_000;

/// What the code under test logged (the `log` crate), for a test to read: installed once per
/// test binary; every line also goes to stderr, as a step's own logger would print it.
pub struct Logs;

static LINES: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{:<5} [{}] {}",
            record.level(),
            record.target(),
            record.args()
        );
        eprintln!("{line}");
        let mut lines = lines().lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == LOG_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn flush(&self) {}
}

fn lines() -> &'static Mutex<VecDeque<String>> {
    LINES.get_or_init(|| Mutex::new(VecDeque::new()))
}

impl Logs {
    /// Starts keeping log lines (info and above), if not yet started in this binary.
    pub fn capture() -> Logs {
        if log::set_boxed_logger(Box::new(Capture)).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
        Logs
    }

    /// Every line kept so far (the newest 10,000), joined by newlines.
    pub fn text(&self) -> String {
        let lines = lines().lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}
