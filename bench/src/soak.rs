//! `bench soak`: devcluster under misuse for a fixed time (issue 17), measured from
//! outside. Loopback only.
//!
//! devcluster runs as its own process (the release binary, built into this program's
//! target directory), so its memory is its own: peak RSS is the kernel's `VmHWM`. Meanwhile:
//! - a *watcher* framework reads its stream promptly; the gaps between its HEARTBEAT events
//!   (interval 1 s) give the worst heartbeat gap;
//! - a *prober* makes a small call (an empty RECONCILE) every 50 ms on a keep-alive
//!   connection; the time to its `202` is the call latency;
//! - *slow readers* subscribe and read 64 KiB a second while each asks, twice a second,
//!   to reconcile 2,000 unknown tasks (about 1 MB of UPDATE events a second); when
//!   devcluster disconnects one for falling behind (its next call is answered 403, or its
//!   stream ends), it subscribes again;
//! - a *large caller* sends MESSAGE calls of 8 MiB of data (11 MiB of JSON) every second;
//! - *pollers* fetch the live page, `/devcluster/state`, the timeline index, each
//!   framework's full timeline (up to 1,000 entries with their messages), its brief
//!   timeline and its ndjson log (up to 5,000 entries), ten requests a second each;
//! - 1,000 *idle connections* stay open to the master the whole time, and `/health` is
//!   asked every 500 ms on a fresh connection.
//!
//! For the first third of the time only the watcher, the prober, the pollers, the idle
//! connections and `/health` run; then the slow readers and the large caller join. The
//! table gives peak RSS, the call latency of each phase (worst, p99, p50), the worst
//! heartbeat gap, `/health` answers, and how much load was applied.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Event, event};

/// Options of `bench soak`.
#[derive(clap::Args)]
pub struct Options {
    /// How long the load runs, in seconds (the whole load for the last two thirds).
    #[arg(long, default_value_t = 90)]
    seconds: u64,
    /// Slow-reading subscribers.
    #[arg(long, default_value_t = 4)]
    slow_readers: usize,
    /// Idle connections held open to the master.
    #[arg(long, default_value_t = 1000)]
    idle: usize,
    /// Threads polling the page and the timeline.
    #[arg(long, default_value_t = 2)]
    pollers: usize,
    /// Data bytes of each large MESSAGE call.
    #[arg(long, default_value_t = 8 << 20)]
    message_bytes: usize,
}

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T = ()> = std::result::Result<T, Error>;

/// The heartbeat interval devcluster is started with.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Unknown tasks each slow reader asks to reconcile, every [`RECONCILE_EVERY`]: 4,000
/// UPDATE events (about 1 MB) a second per reader, fifteen times what it reads. (A 2,000
/// task RECONCILE takes the master about 8 ms on an idle machine; four readers asking
/// twice as often saturated the master on a loaded 2-core machine, and the whole-load
/// latency then measured that saturation.)
const RECONCILE_TASKS: usize = 2000;
/// How often each slow reader asks.
const RECONCILE_EVERY: Duration = Duration::from_millis(500);
/// The pause of a poller between two requests: ten a second each, ten times what the
/// live page asks (without a pause, two pollers kept a core busy rendering JSON, and
/// the measurement became one of CPU starvation on 2 cores).
const POLL_PAUSE: Duration = Duration::from_millis(100);
/// How fast a slow reader reads: this many bytes every 50 ms (64 KiB/s).
const SLOW_READ: usize = 3 << 10;

/// Runs the soak and prints its table.
pub fn run(o: &Options) -> std::result::Result<(), Box<dyn std::error::Error>> {
    run_inner(o).map_err(|e| e.to_string().into())
}

fn run_inner(o: &Options) -> Result {
    let bin = devcluster_binary()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let work = std::env::temp_dir().join(format!("bench-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut cluster = Cluster::start(&bin, port, &work)?;
    let addr = format!("127.0.0.1:{port}");
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let mut threads = Vec::new();

    // The watcher first: its heartbeats are what the load must not delay.
    let (watcher_id, watcher) = subscribe(&addr, "soak-watcher", None)?;
    let ids = Arc::new(Mutex::new(vec![watcher_id.clone()]));
    let stream_id = watcher.stream_id.clone();
    threads.push(spawn({
        let (stop, stats) = (stop.clone(), stats.clone());
        move || watch(watcher, &stop, &stats)
    }));
    threads.push(spawn({
        let (stop, stats, addr, id) = (stop.clone(), stats.clone(), addr.clone(), watcher_id);
        move || probe(&addr, &id, &stream_id, &stop, &stats)
    }));
    let idle = idle_connections(&addr, o.idle);
    for i in 0..o.slow_readers {
        let (stop, stats, addr, ids) = (stop.clone(), stats.clone(), addr.clone(), ids.clone());
        threads.push(spawn(move || slow_reader(&addr, i, &ids, &stop, &stats)));
    }
    if o.message_bytes > 0 {
        let (stop, stats, addr) = (stop.clone(), stats.clone(), addr.clone());
        let bytes = o.message_bytes;
        threads.push(spawn(move || large_caller(&addr, bytes, &stop, &stats)));
    }
    for _ in 0..o.pollers {
        let (stop, stats, addr, ids) = (stop.clone(), stats.clone(), addr.clone(), ids.clone());
        threads.push(spawn(move || poll(&addr, &ids, &stop, &stats)));
    }
    threads.push(spawn({
        let (stop, stats, addr) = (stop.clone(), stats.clone(), addr.clone());
        move || health(&addr, &stop, &stats)
    }));

    let load_before = loadavg();
    let start = Instant::now();
    let mut rss_now = 0;
    while start.elapsed() < Duration::from_secs(o.seconds) {
        std::thread::sleep(Duration::from_millis(200));
        if start.elapsed() >= Duration::from_secs(o.seconds) / 3 {
            stats.full_load.store(true, Ordering::SeqCst);
        }
        rss_now = status_kib(cluster.pid(), "VmRSS:").unwrap_or(rss_now);
        if let Some(status) = cluster.exited() {
            return Err(format!("devcluster exited during the soak: {status}").into());
        }
    }
    let peak = status_kib(cluster.pid(), "VmHWM:").unwrap_or(0);
    stop.store(true, Ordering::SeqCst);
    stats.stopping.store(true, Ordering::SeqCst);
    drop(idle);
    cluster.stop();
    for t in threads {
        let _ = t.join();
    }
    let _ = std::fs::remove_dir_all(&work);
    let machine = format!(
        "{} cores, load average {load_before} at the start and {} at the end",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    report(o, &stats, peak, rss_now, start.elapsed(), &machine);
    Ok(())
}

/// The one-minute load average (other work on the machine skews latencies).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

fn spawn(f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::spawn(f)
}

/// What the load threads measured and counted.
#[derive(Default)]
struct Stats {
    /// Call latencies of the prober, in microseconds: while only the page, the timeline
    /// and `/health` are polled (first third), and under the whole load.
    calls_polled: Mutex<Vec<u64>>,
    calls: Mutex<Vec<u64>>,
    /// Set when the whole load starts (after the first third).
    full_load: AtomicBool,
    /// The longest time between two heartbeats of the watcher, in microseconds.
    worst_heartbeat_gap: AtomicU64,
    heartbeats: AtomicU64,
    /// `/health` answers: 200s, anything else, and the slowest in microseconds.
    health_ok: AtomicU64,
    health_failed: AtomicU64,
    worst_health: AtomicU64,
    slow_subscriptions: AtomicU64,
    slow_cut: AtomicU64,
    reconciles: AtomicU64,
    /// The slowest of those RECONCILE calls, and their total time, in microseconds.
    worst_reconcile: AtomicU64,
    reconcile_time: AtomicU64,
    large_calls: AtomicU64,
    large_bytes: AtomicU64,
    polls: AtomicU64,
    poll_bytes: AtomicU64,
    poll_failed: AtomicU64,
    /// Unexpected statuses of load calls (kept, with a sample, for the report).
    errors: AtomicU64,
    last_error: Mutex<String>,
    /// Set when the soak ends.
    stopping: AtomicBool,
}

impl Stats {
    fn error(&self, what: String) {
        // What fails while everything is being stopped is no finding.
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        if self.errors.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("soak: {what}");
        }
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = what;
    }
}

fn max_into(cell: &AtomicU64, v: u64) {
    cell.fetch_max(v, Ordering::Relaxed);
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn report(o: &Options, s: &Stats, peak_kib: u64, rss_kib: u64, wall: Duration, machine: &str) {
    let sorted = |m: &Mutex<Vec<u64>>| {
        let mut v = m.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_unstable();
        v
    };
    let (polled, calls) = (sorted(&s.calls_polled), sorted(&s.calls));
    let pct = |calls: &[u64], p: f64| {
        if calls.is_empty() {
            0.0
        } else {
            let i = ((calls.len() as f64 * p).ceil() as usize).clamp(1, calls.len()) - 1;
            calls[i] as f64 / 1000.0
        }
    };
    let ms = |v: &AtomicU64| v.load(Ordering::Relaxed) as f64 / 1000.0;
    let n = |v: &AtomicU64| v.load(Ordering::Relaxed);
    println!(
        "\n### Soak: {:.0} s, {} slow readers, {} pollers, {} idle connections, {} MiB MESSAGE calls\n",
        wall.as_secs_f64(),
        o.slow_readers,
        o.pollers,
        o.idle,
        o.message_bytes >> 20
    );
    println!("Machine: {machine}.\n");
    println!("| measure | value | target |");
    println!("|---|---:|---:|");
    println!(
        "| devcluster peak RSS (VmHWM) | {:.1} MiB | <= 256 MiB |",
        peak_kib as f64 / 1024.0
    );
    println!(
        "| devcluster RSS at the end | {:.1} MiB | |",
        rss_kib as f64 / 1024.0
    );
    println!(
        "| call latency while page, timeline and `/health` are polled: worst ({} calls) | {:.1} ms | <= 50 ms |",
        polled.len(),
        pct(&polled, 1.0)
    );
    println!(
        "| the same: p99 / p50 | {:.1} / {:.1} ms | |",
        pct(&polled, 0.99),
        pct(&polled, 0.5)
    );
    println!(
        "| call latency under the whole load: worst ({} calls) | {:.1} ms | |",
        calls.len(),
        pct(&calls, 1.0)
    );
    println!(
        "| the same: p99 / p50 | {:.1} / {:.1} ms | |",
        pct(&calls, 0.99),
        pct(&calls, 0.5)
    );
    println!(
        "| worst heartbeat gap ({} heartbeats, interval {} s) | {:.0} ms | <= {} ms |",
        n(&s.heartbeats),
        HEARTBEAT.as_secs(),
        ms(&s.worst_heartbeat_gap),
        2 * HEARTBEAT.as_millis()
    );
    println!(
        "| `/health` with {} idle connections: answered / failed, slowest | {} / {}, {:.1} ms | all answered |",
        o.idle,
        n(&s.health_ok),
        n(&s.health_failed),
        ms(&s.worst_health)
    );
    println!(
        "| slow readers: subscriptions / disconnected for falling behind | {} / {} | |",
        n(&s.slow_subscriptions),
        n(&s.slow_cut)
    );
    println!(
        "| RECONCILE calls of {RECONCILE_TASKS} tasks: count, mean / worst time to 202 | {}, {:.1} / {:.1} ms | |",
        n(&s.reconciles),
        ms(&s.reconcile_time) / n(&s.reconciles).max(1) as f64,
        ms(&s.worst_reconcile)
    );
    println!(
        "| large MESSAGE calls (JSON bytes) | {} ({:.0} MiB) | |",
        n(&s.large_calls),
        n(&s.large_bytes) as f64 / 1048576.0
    );
    println!(
        "| page/timeline polls (bytes read), failed | {} ({:.0} MiB), {} | |",
        n(&s.polls),
        n(&s.poll_bytes) as f64 / 1048576.0,
        n(&s.poll_failed)
    );
    if n(&s.errors) > 0 {
        let last = s
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        println!(
            "| unexpected answers to load calls (last) | {} ({last}) | |",
            n(&s.errors)
        );
    }
}

/// `key` of `/proc/<pid>/status` in KiB.
fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---- devcluster as a process ------------------------------------------------------------

/// Builds (if needed) the release devcluster into this program's target directory.
fn devcluster_binary() -> Result<PathBuf> {
    let here = std::env::current_exe()?;
    let profile_dir = here.parent().ok_or("no directory")?;
    let target = profile_dir.parent().ok_or("no target directory")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--profile", "release", "-q", "-p", "devcluster"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(workspace)
        .status()?;
    if !status.success() {
        return Err("cargo build --release -p devcluster failed".into());
    }
    Ok(target.join("release").join("devcluster"))
}

/// The devcluster process, killed (by its own pid) when dropped.
struct Cluster(Child);

impl Cluster {
    fn start(bin: &Path, port: u16, work: &Path) -> Result<Cluster> {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--agents", "2"])
            .args(["--heartbeat-secs", &HEARTBEAT.as_secs().to_string()])
            .arg("--work-dir")
            .arg(work)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let cluster = Cluster(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("devcluster did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---- a little HTTP ------------------------------------------------------------------------

fn connect(addr: &str) -> Result<TcpStream> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_nodelay(true)?;
    Ok(s)
}

fn write_request(
    s: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: soak\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    Ok(())
}

/// Status and headers of a response.
fn read_head(r: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 {
            return Err("connection closed in the head".into());
        }
        let l = l.trim_end();
        if l.is_empty() {
            return Ok((status, headers));
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Reads a whole body (by length, or chunked) and drops it; returns its size.
fn drain_body(r: &mut impl BufRead, headers: &[(String, String)]) -> Result<u64> {
    if header(headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return Ok(std::io::copy(&mut Chunked::new(r), &mut std::io::sink())?);
    }
    let len: u64 = header(headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(std::io::copy(&mut r.take(len), &mut std::io::sink())?)
}

/// One request on a fresh connection: (status, body bytes).
fn request(addr: &str, method: &str, path: &str, body: &[u8]) -> Result<(u16, u64)> {
    let mut s = connect(addr)?;
    let ct = [("Content-Type", "application/json")];
    write_request(&mut s, method, path, &ct, body)?;
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?;
    let n = if method == "HEAD" {
        0
    } else {
        drain_body(&mut r, &headers)?
    };
    Ok((status, n))
}

/// De-chunks an HTTP body.
struct Chunked<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn new(inner: R) -> Chunked<R> {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while !self.done && self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let size = line.split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if self.left == 0 {
                self.done = true;
            }
        }
        if self.done {
            return Ok(0);
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n;
        Ok(n)
    }
}

// ---- the load -----------------------------------------------------------------------------

/// An open subscription: its stream id and its records.
struct Subscription {
    stream_id: String,
    records: mesos_proto::recordio::Decoder<Chunked<BufReader<TcpStream>>>,
}

/// Subscribes (JSON) as `name`, or again as `id`; returns the framework id.
fn subscribe(addr: &str, name: &str, id: Option<&str>) -> Result<(String, Subscription)> {
    let id_json = id.map_or(String::new(), |i| format!(",\"id\":{{\"value\":\"{i}\"}}"));
    // A resubscription names the framework in the call too, as Mesos requires.
    let call_id = id.map_or(String::new(), |i| {
        format!(",\"framework_id\":{{\"value\":\"{i}\"}}")
    });
    let body = format!(
        "{{\"type\":\"SUBSCRIBE\"{call_id},\"subscribe\":{{\"framework_info\":{{\"user\":\"soak\",\
         \"name\":\"{name}\",\"failover_timeout\":3600{id_json}}}}}}}"
    );
    let mut s = connect(addr)?;
    write_request(
        &mut s,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )?;
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?;
    if status != 200 {
        return Err(format!("SUBSCRIBE answered {status}").into());
    }
    let stream_id = header(&headers, "mesos-stream-id")
        .unwrap_or("")
        .to_string();
    let mut dec = mesos_proto::recordio::Decoder::new(Chunked::new(r));
    let first = dec.next_record()?.ok_or("stream ended before SUBSCRIBED")?;
    let e: Event = ContentType::Json.decode(&first)?;
    let kind = e.r#type();
    let fw = e
        .subscribed
        .ok_or_else(|| format!("expected SUBSCRIBED, got {kind:?}"))?
        .framework_id
        .value;
    Ok((
        fw,
        Subscription {
            stream_id,
            records: dec,
        },
    ))
}

/// Reads the watcher's events promptly and times its heartbeats.
fn watch(sub: Subscription, stop: &AtomicBool, stats: &Stats) {
    let mut dec = sub.records;
    let mut last: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        let Ok(Some(rec)) = dec.next_record() else {
            stats.error("the watcher's stream ended".into());
            return;
        };
        let Ok(e) = ContentType::Json.decode::<Event>(&rec) else {
            continue;
        };
        if e.r#type() == event::Type::Heartbeat {
            let now = Instant::now();
            if let Some(l) = last {
                max_into(&stats.worst_heartbeat_gap, micros(now - l));
            }
            last = Some(now);
            stats.heartbeats.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Waits until the whole load starts (or the soak ends).
fn wait_for_full_load(stop: &AtomicBool, stats: &Stats) {
    while !stats.full_load.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A call body for framework `id`.
fn call_body(id: &str, kind: &str, payload: &str) -> String {
    format!("{{\"framework_id\":{{\"value\":\"{id}\"}},\"type\":\"{kind}\"{payload}}}")
}

/// An empty RECONCILE every 50 ms on one keep-alive connection, timed to its 202.
fn probe(addr: &str, id: &str, stream_id: &str, stop: &AtomicBool, stats: &Stats) {
    let body = call_body(id, "RECONCILE", ",\"reconcile\":{\"tasks\":[]}");
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        if conn.is_none() {
            conn = connect(addr).ok().map(BufReader::new);
        }
        let Some(r) = conn.as_mut() else { continue };
        let start = Instant::now();
        let sent = write_request(
            r.get_mut(),
            "POST",
            "/api/v1/scheduler",
            &[
                ("Content-Type", "application/json"),
                ("Mesos-Stream-Id", stream_id),
            ],
            body.as_bytes(),
        );
        let answer = sent.and_then(|()| read_head(r)).and_then(|(status, h)| {
            drain_body(r, &h)?;
            Ok(status)
        });
        let took = micros(start.elapsed());
        match answer {
            Ok(202) => {
                let list = if stats.full_load.load(Ordering::SeqCst) {
                    &stats.calls
                } else {
                    &stats.calls_polled
                };
                list.lock().unwrap_or_else(|e| e.into_inner()).push(took);
            }
            Ok(other) => {
                stats.error(format!("probe RECONCILE answered {other}"));
                conn = None;
            }
            Err(e) => {
                stats.error(format!("probe: {e}"));
                conn = None;
            }
        }
    }
}

/// Subscribes, reads slowly, and asks for big reconciliations; subscribes again
/// whenever devcluster ends its stream.
fn slow_reader(addr: &str, i: usize, ids: &Mutex<Vec<String>>, stop: &AtomicBool, stats: &Stats) {
    let name = format!("soak-slow-{i}");
    let tasks: Vec<String> = (0..RECONCILE_TASKS)
        .map(|t| format!("{{\"task_id\":{{\"value\":\"soak-{i}-{t}\"}}}}"))
        .collect();
    let payload = format!(",\"reconcile\":{{\"tasks\":[{}]}}", tasks.join(","));
    wait_for_full_load(stop, stats);
    let mut id: Option<String> = None;
    while !stop.load(Ordering::SeqCst) {
        let (fw, mut sub) = match subscribe(addr, &name, id.as_deref()) {
            Ok(x) => x,
            Err(e) => {
                stats.error(format!("slow reader: {e}"));
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        stats.slow_subscriptions.fetch_add(1, Ordering::Relaxed);
        if id.is_none() {
            ids.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(fw.clone());
        }
        id = Some(fw.clone());
        let body = call_body(&fw, "RECONCILE", &payload);
        let mut next_call = Instant::now();
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if Instant::now() >= next_call {
                next_call += RECONCILE_EVERY;
                let path = "/api/v1/scheduler";
                let asked = Instant::now();
                match request_with_stream(addr, path, &sub.stream_id, body.as_bytes()) {
                    Ok(202) => {
                        let took = micros(asked.elapsed());
                        stats.reconciles.fetch_add(1, Ordering::Relaxed);
                        stats.reconcile_time.fetch_add(took, Ordering::Relaxed);
                        max_into(&stats.worst_reconcile, took);
                    }
                    // 403: no longer subscribed: devcluster cut this reader for falling
                    // behind (the stream's end may still be megabytes of reading away).
                    Ok(403) => {
                        stats.slow_cut.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Ok(other) => stats.error(format!("slow reader RECONCILE answered {other}")),
                    Err(e) => stats.error(format!("slow reader RECONCILE: {e}")),
                }
            }
            std::thread::sleep(Duration::from_millis(50));
            // About SLOW_READ bytes of records, then another pause.
            let mut read = 0;
            let mut ended = false;
            while read < SLOW_READ {
                match sub.records.next_record() {
                    Ok(Some(r)) => read += r.len(),
                    Ok(None) | Err(_) => {
                        ended = true;
                        break;
                    }
                }
            }
            if ended {
                stats.slow_cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

fn request_with_stream(addr: &str, path: &str, stream_id: &str, body: &[u8]) -> Result<u16> {
    let mut s = connect(addr)?;
    write_request(
        &mut s,
        "POST",
        path,
        &[
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", stream_id),
        ],
        body,
    )?;
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?;
    drain_body(&mut r, &headers)?;
    Ok(status)
}

/// MESSAGE calls of `bytes` data bytes, one a second, from a framework of its own.
fn large_caller(addr: &str, bytes: usize, stop: &AtomicBool, stats: &Stats) {
    wait_for_full_load(stop, stats);
    let (fw, sub) = match subscribe(addr, "soak-large", None) {
        Ok(x) => x,
        Err(e) => return stats.error(format!("large caller: {e}")),
    };
    // Its stream is read (and dropped) so that it is not the slow one.
    let stream_id = sub.stream_id.clone();
    let reader = std::thread::spawn(move || {
        let mut records = sub.records;
        while let Ok(Some(_)) = records.next_record() {}
    });
    // base64 of `bytes` bytes of 'A' (0x00 encodes as 'A').
    let data = "A".repeat(bytes.div_ceil(3) * 4);
    let payload = format!(
        ",\"message\":{{\"agent_id\":{{\"value\":\"nowhere\"}},\"executor_id\":{{\"value\":\"nobody\"}},\"data\":\"{data}\"}}"
    );
    let body = call_body(&fw, "MESSAGE", &payload);
    while !stop.load(Ordering::SeqCst) {
        match request_with_stream(addr, "/api/v1/scheduler", &stream_id, body.as_bytes()) {
            Ok(202) => {
                stats.large_calls.fetch_add(1, Ordering::Relaxed);
                stats
                    .large_bytes
                    .fetch_add(body.len() as u64, Ordering::Relaxed);
            }
            Ok(other) => stats.error(format!("MESSAGE answered {other}")),
            Err(e) => stats.error(format!("MESSAGE: {e}")),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    drop(reader);
}

/// The page, its state, the timeline index, and every framework's full timeline and
/// ndjson log, in a loop.
fn poll(addr: &str, ids: &Mutex<Vec<String>>, stop: &AtomicBool, stats: &Stats) {
    while !stop.load(Ordering::SeqCst) {
        let frameworks = ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut paths = vec![
            "/".to_string(),
            "/devcluster/state".to_string(),
            "/devcluster/timeline".to_string(),
        ];
        for f in &frameworks {
            paths.push(format!("/devcluster/timeline?framework_id={f}"));
            paths.push(format!(
                "/devcluster/timeline?framework_id={f}&brief=1&since=0"
            ));
            paths.push(format!("/devcluster/timeline.ndjson?framework_id={f}"));
        }
        for p in paths {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            match request(addr, "GET", &p, b"") {
                Ok((200, n)) => {
                    stats.polls.fetch_add(1, Ordering::Relaxed);
                    stats.poll_bytes.fetch_add(n, Ordering::Relaxed);
                }
                _ => {
                    stats.poll_failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            std::thread::sleep(POLL_PAUSE);
        }
    }
}

/// `n` connections that never send a byte.
fn idle_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match TcpStream::connect(addr) {
            Ok(s) => out.push(s),
            Err(e) => {
                eprintln!("soak: opened {} idle connections, then: {e}", out.len());
                break;
            }
        }
    }
    out
}

/// `GET /health` every 500 ms on a fresh connection.
fn health(addr: &str, stop: &AtomicBool, stats: &Stats) {
    while !stop.load(Ordering::SeqCst) {
        let start = Instant::now();
        match request(addr, "GET", "/health", b"") {
            Ok((200, _)) => {
                stats.health_ok.fetch_add(1, Ordering::Relaxed);
                max_into(&stats.worst_health, micros(start.elapsed()));
            }
            _ => {
                stats.health_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
