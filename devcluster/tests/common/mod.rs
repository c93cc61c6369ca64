//! Test helpers: raw HTTP/1.1 over `TcpStream` (so tests see exact status codes and
//! headers), a chunked + RecordIO event reader, and small builders for calls.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use devcluster::{Cluster, ClusterConfig};
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Event, event};
use serde_json::{Value, json};

/// A cluster with short intervals and `agents` agents.
pub fn cluster(agents: usize) -> Cluster {
    Cluster::start(ClusterConfig::for_tests(agents)).expect("cluster starts")
}

pub fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// A complete (non-streaming) response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

fn read_head<R: BufRead>(r: &mut R) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).expect("header line");
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    (status, headers)
}

fn send(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr(url)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", addr(url));
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    s
}

/// One request, one complete response.
pub fn request(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let s = send(url, method, path, headers, body);
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r);
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("Transfer-Encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked && method != "HEAD" {
        let mut body = Vec::new();
        Chunked {
            inner: r,
            left: 0,
            done: false,
        }
        .read_to_end(&mut body)
        .expect("chunked body");
        body
    } else {
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body).expect("body");
        body
    };
    Resp {
        status,
        headers,
        body,
    }
}

/// POST a JSON call to the scheduler endpoint.
pub fn post(url: &str, stream_id: Option<&str>, body: &Value) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(s) = stream_id {
        h.push(("Mesos-Stream-Id", s));
    }
    request(
        url,
        "POST",
        "/api/v1/scheduler",
        &h,
        body.to_string().as_bytes(),
    )
}

/// De-chunks an HTTP body.
pub struct Chunked<R: BufRead> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "no terminator",
                ));
            }
            let line = line.trim();
            if line.is_empty() {
                // CRLF after a chunk's data.
                return self.read(buf);
            }
            let n = usize::from_str_radix(line, 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if n == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = n;
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "cut in chunk",
            ));
        }
        self.left -= n;
        Ok(n)
    }
}

/// An open subscription stream.
pub struct Stream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub stream_id: String,
    pub ct: ContentType,
    dec: mesos_proto::recordio::Decoder<Chunked<BufReader<TcpStream>>>,
    pub framework_id: String,
    pub url: String,
}

impl Stream {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next record decoded as an event; None at a clean end of stream.
    pub fn next(&mut self) -> Option<Event> {
        match self.dec.next_record() {
            Ok(Some(r)) => Some(self.ct.decode(&r).expect("event decodes")),
            _ => None,
        }
    }

    /// The next record decoded as an executor event.
    pub fn next_exec(&mut self) -> Option<mesos_proto::v1::executor::Event> {
        match self.dec.next_record() {
            Ok(Some(r)) => Some(self.ct.decode(&r).expect("executor event decodes")),
            _ => None,
        }
    }

    /// The next raw record bytes (Err on a broken stream, Ok(None) at the end).
    pub fn next_raw(&mut self) -> Result<Option<Vec<u8>>, mesos_proto::Error> {
        self.dec.next_record()
    }

    /// Events until one matches, skipping others; panics after `secs`.
    pub fn wait_for(&mut self, secs: u64, mut f: impl FnMut(&Event) -> bool) -> Event {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            match self.next() {
                Some(e) if f(&e) => return e,
                Some(_) => {}
                None => panic!("stream ended while waiting"),
            }
        }
        panic!("timed out waiting for an event");
    }

    pub fn wait_type(&mut self, secs: u64, t: event::Type) -> Event {
        self.wait_for(secs, |e| e.r#type() == t)
    }

    /// The next UPDATE for `task`.
    pub fn update_for(&mut self, secs: u64, task: &str) -> mesos_proto::v1::TaskStatus {
        let e = self.wait_for(secs, |e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.value == task)
        });
        e.update.expect("update").status
    }

    /// The next OFFERS event's offers.
    pub fn offers(&mut self, secs: u64) -> Vec<mesos_proto::v1::Offer> {
        self.wait_type(secs, event::Type::Offers)
            .offers
            .expect("offers")
            .offers
    }
}

/// Opens a SUBSCRIBE stream with a raw body and headers.
pub fn subscribe_raw(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Stream {
    subscribe_at(url, "/api/v1/scheduler", headers, body)
}

/// Opens a streaming POST to `path` (scheduler or executor SUBSCRIBE).
pub fn subscribe_at(url: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Stream {
    let s = send(url, "POST", path, headers, body);
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r);
    let ct = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .and_then(|(_, v)| ContentType::from_mime(v))
        .unwrap_or(ContentType::Json);
    let stream_id = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Mesos-Stream-Id"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let dec = mesos_proto::recordio::Decoder::new(Chunked {
        inner: r,
        left: 0,
        done: false,
    });
    Stream {
        status,
        headers,
        stream_id,
        ct,
        dec,
        framework_id: String::new(),
        url: url.to_string(),
    }
}

/// A SUBSCRIBE body for `framework_info`.
pub fn subscribe_body(info: Value) -> Value {
    let mut body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
    if let Some(id) = body["subscribe"]["framework_info"].get("id").cloned() {
        body["framework_id"] = id;
    }
    body
}

/// Subscribes with JSON and reads SUBSCRIBED.
pub fn subscribe(url: &str, info: Value) -> Stream {
    let body = subscribe_body(info);
    let mut s = subscribe_raw(
        url,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(s.status, 200);
    let e = s.next().expect("SUBSCRIBED");
    assert_eq!(e.r#type(), event::Type::Subscribed, "{e:?}");
    s.framework_id = e.subscribed.expect("subscribed").framework_id.value;
    s
}

pub fn framework(name: &str) -> Value {
    json!({"user": "tester", "name": name})
}

/// A call envelope for a subscribed stream.
pub fn call(s: &Stream, kind: &str, payload_key: Option<(&str, Value)>) -> Resp {
    let mut body = json!({"framework_id": {"value": s.framework_id}, "type": kind});
    if let Some((k, v)) = payload_key {
        body[k] = v;
    }
    post_url(s, &body)
}

fn post_url(s: &Stream, body: &Value) -> Resp {
    post(&s.url, Some(&s.stream_id), body)
}

/// ACCEPT launching `tasks` (JSON TaskInfos) on `offer`.
pub fn launch(s: &Stream, offer: &mesos_proto::v1::Offer, tasks: Vec<Value>) -> Resp {
    call(
        s,
        "ACCEPT",
        Some((
            "accept",
            json!({
                "offer_ids": [{"value": offer.id.value}],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                "filters": {"refuse_seconds": 0.0}
            }),
        )),
    )
}

/// A command task using a little of `offer`.
pub fn command_task(id: &str, offer: &mesos_proto::v1::Offer, cmd: &str) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": offer.agent_id.value},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}
        ],
        "command": {"value": cmd}
    })
}

/// ACKNOWLEDGE a status with a uuid.
pub fn ack(s: &Stream, status: &mesos_proto::v1::TaskStatus) {
    use base64::Engine;
    let Some(uuid) = &status.uuid else { return };
    let r = call(
        s,
        "ACKNOWLEDGE",
        Some((
            "acknowledge",
            json!({
                "agent_id": {"value": status.agent_id.as_ref().map(|a| a.value.clone()).unwrap_or_default()},
                "task_id": {"value": status.task_id.value},
                "uuid": base64::engine::general_purpose::STANDARD.encode(uuid)
            }),
        )),
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

/// Whether a process exists (not a zombie we have not reaped: /proc/<pid>/stat state).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Polls `f` until true or panics after `secs`.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("condition not met within {secs} s");
}

/// Waits for `task` to reach `state`, acknowledging every update on the way.
pub fn wait_state(
    s: &mut Stream,
    secs: u64,
    task: &str,
    state: mesos_proto::v1::TaskState,
) -> mesos_proto::v1::TaskStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        assert!(
            Instant::now() < deadline,
            "task {task} did not reach {state:?}"
        );
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
            .max(1);
        let st = s.update_for(left, task);
        ack(s, &st);
        if st.state() == state {
            return st;
        }
    }
}

/// Acts as a custom executor: SUBSCRIBE to the agent's executor API.
pub fn exec_subscribe(agent_url: &str, fw: &str, exec: &str) -> Stream {
    let body = json!({"executor_id":{"value":exec},"framework_id":{"value":fw},"type":"SUBSCRIBE","subscribe":{}});
    let mut s = subscribe_at(
        agent_url,
        "/api/v1/executor",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    s.framework_id = fw.to_string();
    s.url = agent_url.to_string();
    s
}

/// An executor call (JSON) to the agent.
pub fn exec_call(
    agent_url: &str,
    fw: &str,
    exec: &str,
    kind: &str,
    payload: Option<(&str, Value)>,
) -> Resp {
    let mut body = json!({"executor_id":{"value":exec},"framework_id":{"value":fw},"type":kind});
    if let Some((k, v)) = payload {
        body[k] = v;
    }
    request(
        agent_url,
        "POST",
        "/api/v1/executor",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// An executor UPDATE with a fresh uuid; returns the response and the uuid (base64).
pub fn exec_update(
    agent_url: &str,
    fw: &str,
    exec: &str,
    task: &str,
    state: &str,
) -> (Resp, String) {
    use base64::Engine;
    let uuid = base64::engine::general_purpose::STANDARD.encode(mesos_proto::uuid::new_v4());
    let status = json!({"task_id":{"value":task},"state":state,"source":"SOURCE_EXECUTOR","uuid":uuid,"executor_id":{"value":exec}});
    (
        exec_call(
            agent_url,
            fw,
            exec,
            "UPDATE",
            Some(("update", json!({"status": status}))),
        ),
        uuid,
    )
}

/// A task on a custom executor whose process is `cmd`.
pub fn executor_task(id: &str, exec: &str, offer: &mesos_proto::v1::Offer, cmd: &str) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": offer.agent_id.value},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}
        ],
        "executor": {
            "executor_id": {"value": exec},
            "command": {"value": cmd},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]
        }
    })
}

/// The URL of the agent with id `agent_id`.
pub fn agent_url(c: &Cluster, agent_id: &str) -> String {
    let i = c
        .agent_ids()
        .iter()
        .position(|a| a == agent_id)
        .expect("agent exists");
    c.agent_urls()[i].clone()
}

/// Reads events for `ms` milliseconds and returns them (the stream must stay busy with
/// heartbeats or end; used with short heartbeat intervals).
pub fn collect_for(s: &mut Stream, ms: u64) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_millis(ms);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        match s.next() {
            Some(e) => out.push(e),
            None => break,
        }
    }
    out
}

/// A cluster whose heartbeats come every 100 ms (so [`collect_for`] never blocks long).
pub fn fast_cluster(agents: usize) -> Cluster {
    let mut cfg = ClusterConfig::for_tests(agents);
    cfg.heartbeat_interval = Duration::from_millis(100);
    Cluster::start(cfg).expect("cluster starts")
}

/// Every executor sandbox directory the agent reports (running and completed).
pub fn sandbox_dirs(agent_url: &str) -> Vec<String> {
    let st = request(agent_url, "GET", "/state", &[], b"").json();
    let mut out = Vec::new();
    for fw in st["frameworks"].as_array().cloned().unwrap_or_default() {
        for key in ["executors", "completed_executors"] {
            for e in fw[key].as_array().cloned().unwrap_or_default() {
                if let Some(d) = e["directory"].as_str() {
                    out.push(d.to_string());
                }
            }
        }
    }
    out
}

/// Waits until some sandbox's `stdout` equals `want`.
pub fn wait_stdout(agent_url: &str, want: &str) {
    eventually(10, || {
        sandbox_dirs(agent_url)
            .iter()
            .any(|d| std::fs::read_to_string(format!("{d}/stdout")).unwrap_or_default() == want)
    });
}
