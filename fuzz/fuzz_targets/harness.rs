//! The cluster the `devcluster_http` target talks to, and the framework it keeps
//! subscribed so that fuzzed calls can name live ids.
//!
//! One cluster serves many inputs (starting one per input would measure thread start-up,
//! not request handling); it is replaced every [`RESTART_EVERY`] inputs so that state the
//! inputs leave behind (frameworks, injected faults, lost agents) stays bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use devcluster::{Cluster, ClusterConfig};
use mesos_proto::ContentType;
use mesos_proto::recordio::Decoder;
use mesos_proto::v1::scheduler::{Event, event};

/// Inputs served by one cluster before a fresh one replaces it.
const RESTART_EVERY: u64 = 20_000;

/// The ids a fuzzed call may refer to through tokens, as last seen on the harness's own
/// subscription.
#[derive(Default)]
struct Vars {
    fid: Option<String>,
    sid: Option<String>,
    aid: Option<String>,
    oid: Option<String>,
    tid: Option<String>,
    eid: Option<String>,
    uuid: Option<String>,
}

impl Vars {
    fn table(&self) -> [(&'static [u8], Option<&str>); 7] {
        [
            (b"$FID", self.fid.as_deref()),
            (b"$SID", self.sid.as_deref()),
            (b"$AID", self.aid.as_deref()),
            (b"$OID", self.oid.as_deref()),
            (b"$TID", self.tid.as_deref()),
            (b"$EID", self.eid.as_deref()),
            (b"$UUID", self.uuid.as_deref()),
        ]
    }
}

/// A running cluster and its subscribed harness framework.
pub struct Harness {
    cluster: Option<Cluster>,
    vars: Arc<Mutex<Vars>>,
    stop: Arc<AtomicBool>,
    subscriber: Option<JoinHandle<()>>,
    inputs: u64,
}

static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` with the current harness, starting (or replacing) it as needed.
pub fn with_cluster(f: impl FnOnce(&Harness)) {
    let mut slot = lock(&HARNESS);
    if slot.as_ref().is_some_and(|h| h.inputs >= RESTART_EVERY) {
        *slot = None; // Drop stops the old one first: one cluster at a time.
    }
    let h = slot.get_or_insert_with(Harness::start);
    h.inputs += 1;
    f(h);
}

impl Harness {
    fn start() -> Harness {
        let mut config = ClusterConfig::for_tests(2);
        // Nothing the fuzzer launches may run on this machine.
        config.simulate_tasks = Some(Duration::from_millis(50));
        let cluster = Cluster::start(config).expect("devcluster starts");
        let addr = cluster
            .master_url()
            .trim_start_matches("http://")
            .to_string();
        let vars = Arc::new(Mutex::new(Vars::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let subscriber = {
            let (vars, stop) = (vars.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    if subscribe(&addr, &vars).is_err() {
                        lock(&vars).fid = None; // torn down by an input: start afresh
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Harness {
            cluster: Some(cluster),
            vars,
            stop,
            subscriber: Some(subscriber),
            inputs: 0,
        }
    }

    /// The cluster under test.
    pub fn cluster(&self) -> &Cluster {
        self.cluster.as_ref().expect("present until dropped")
    }

    /// `input` with every known token replaced by its id, and the `Content-Length` of
    /// each body that held tokens fixed to the new length.
    pub fn substitute(&self, input: &[u8]) -> Vec<u8> {
        let vars = lock(&self.vars);
        let table = vars.table();
        let replace = |bytes: &[u8]| replace_tokens(bytes, &table);
        const HEADER: &[u8] = b"Content-Length: ";
        let mut out = Vec::with_capacity(input.len() + 64);
        let mut rest = input;
        while let Some(at) = find(rest, HEADER) {
            let digits_start = at + HEADER.len();
            let digits = rest[digits_start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let declared: Option<usize> =
                std::str::from_utf8(&rest[digits_start..digits_start + digits])
                    .ok()
                    .and_then(|s| s.parse().ok());
            let head_end = find(&rest[digits_start..], b"\r\n\r\n").map(|e| digits_start + e + 4);
            let (Some(declared), Some(head_end)) = (declared, head_end) else {
                out.extend(replace(&rest[..digits_start]));
                rest = &rest[digits_start..];
                continue;
            };
            let body_end = head_end.saturating_add(declared).min(rest.len());
            let body = replace(&rest[head_end..body_end]);
            out.extend(replace(&rest[..digits_start]));
            out.extend(body.len().to_string().into_bytes());
            out.extend(replace(&rest[digits_start + digits..head_end]));
            out.extend(body);
            rest = &rest[body_end..];
        }
        out.extend(replace(rest));
        out
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Stopping the cluster closes the subscription, which ends the thread's read.
        if let Some(cluster) = self.cluster.take() {
            cluster.shutdown();
        }
        if let Some(t) = self.subscriber.take() {
            let _ = t.join();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn replace_tokens(bytes: &[u8], table: &[(&[u8], Option<&str>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    'outer: while i < bytes.len() {
        if bytes[i] == b'$' {
            for (token, value) in table {
                if let (true, Some(v)) = (bytes[i..].starts_with(token), value) {
                    out.extend_from_slice(v.as_bytes());
                    i += token.len();
                    continue 'outer;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// One subscription of the harness framework, read until the stream ends. Errors mean
/// the master refused it (say, the framework was torn down) or the stream broke.
fn subscribe(addr: &str, vars: &Mutex<Vars>) -> std::io::Result<()> {
    let fid = lock(vars).fid.clone();
    let id = fid
        .map(|f| format!(r#""framework_id":{{"value":"{f}"}},"#))
        .unwrap_or_default();
    let info_id = id.replace("framework_id", "id");
    let body = format!(
        r#"{{{id}"type":"SUBSCRIBE","subscribe":{{"framework_info":{{{info_id}"user":"fuzz","name":"fuzz-harness","failover_timeout":604800}}}}}}"#
    );
    let mut conn = TcpStream::connect(addr)?;
    write!(
        conn,
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(conn);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if !status.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(status));
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("Mesos-Stream-Id") {
                lock(vars).sid = Some(value.trim().to_string());
            }
        }
    }
    let mut records = Decoder::new(Dechunk::new(reader));
    while let Some(record) = records.next_record().map_err(std::io::Error::other)? {
        if let Ok(event) = ContentType::Json.decode::<Event>(&record) {
            note(&event, vars);
        }
    }
    Ok(())
}

/// Remembers the ids an event carries.
fn note(event: &Event, vars: &Mutex<Vars>) {
    let mut v = lock(vars);
    match event.r#type() {
        event::Type::Subscribed => {
            if let Some(s) = &event.subscribed {
                v.fid = Some(s.framework_id.value.clone());
            }
        }
        event::Type::Offers => {
            if let Some(o) = event.offers.as_ref().and_then(|o| o.offers.last()) {
                v.oid = Some(o.id.value.clone());
                v.aid = Some(o.agent_id.value.clone());
            }
        }
        event::Type::Update => {
            if let Some(u) = &event.update {
                v.tid = Some(u.status.task_id.value.clone());
                if let Some(e) = &u.status.executor_id {
                    v.eid = Some(e.value.clone());
                }
                if let Some(uuid) = &u.status.uuid {
                    v.uuid = Some(base64::engine::general_purpose::STANDARD.encode(uuid));
                }
            }
        }
        _ => {}
    }
}

/// `Transfer-Encoding: chunked` undone, as a reader (what a client does for the stream).
struct Dechunk<R> {
    inner: R,
    left: usize,
    started: bool,
    done: bool,
}

impl<R: BufRead> Dechunk<R> {
    fn new(inner: R) -> Self {
        Dechunk {
            inner,
            left: 0,
            started: false,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.started {
                self.inner.read_line(&mut line)?; // the CRLF that ends the previous chunk
                line.clear();
            }
            self.started = true;
            if self.inner.read_line(&mut line)? == 0 {
                self.done = true;
                return Ok(0);
            }
            let size = line.trim().split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(size, 16).map_err(std::io::Error::other)?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.left);
        let got = self.inner.read(&mut buf[..n])?;
        if got == 0 {
            self.done = true;
        }
        self.left -= got;
        Ok(got)
    }
}
