//! The fastest scheduler we can write: protobuf on the wire, as many tasks per ACCEPT as
//! the offer holds, and pipelined calls.
//!
//! No driver: one plain TCP connection holds the SUBSCRIBE stream (HTTP/1.1 chunked, then
//! RecordIO), a second one carries the acknowledgements (and the final TEARDOWN, after
//! them), a third the answers to offers (ACCEPT, DECLINE), so that those do not queue
//! behind thousands of acknowledgements (the driver, too, sends them on a connection of
//! their own). Calls are written back to back without waiting for each `202 Accepted`
//! (HTTP/1.1 pipelining); a thread per connection reads the answers and only counts
//! failures. Events are handled in batches: everything that has arrived is handled, then
//! the calls it produced go out in one write per connection.
//!
//! What the driver does differently (see the module docs of `mesos_client::scheduler`):
//! it pipelines only acknowledgements (queued after each `update` callback, written up to
//! 64 at a time on their own connection, answers read in order and failures reported);
//! every other call, ACCEPT included, waits for the master's answer so that the caller
//! gets it, and events reach the callbacks one at a time. Here nothing waits for an
//! answer and failures are only counted.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mesos_proto::v1::scheduler::{Call, Event, call, event};
use mesos_proto::v1::{
    CommandInfo, Filters, FrameworkInfo, Offer, OfferId, Resource, TaskId, TaskInfo, TaskState,
    offer, value,
};
use mesos_proto::{ContentType, recordio};
use prost::Message;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What one task asks for (0.1 cpu, 32 MB), the same as the driver scheduler's.
pub const TASK_CPUS: f64 = 0.1;
/// Memory of one task, in MB.
pub const TASK_MEM: f64 = 32.0;

/// Runs `tasks` tasks of `command` against the master at `addr` (`host:port`), then
/// TEARDOWN. Returns once every task has ended.
pub fn run(addr: &str, tasks: usize, command: &str) -> Result<(), Error> {
    let info = FrameworkInfo {
        user: mesos_client::tasks::default_user(),
        name: "bench-raw".into(),
        ..Default::default()
    };
    let mut sub = Call::default();
    sub.set_type(call::Type::Subscribe);
    sub.subscribe = Some(call::Subscribe {
        framework_info: info,
        ..Default::default()
    });
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut w = stream.try_clone()?;
    w.write_all(&request(addr, None, &sub.encode_to_vec()))?;
    let mut r = BufReader::with_capacity(1 << 16, stream);
    let (status, headers) = read_head(&mut r)?;
    if status != 200 {
        return Err(format!("SUBSCRIBE answered {status}").into());
    }
    let stream_id = header(&headers, "mesos-stream-id").ok_or("no Mesos-Stream-Id")?;
    let mut events = recordio::Decoder::new(Chunked { inner: r, left: 0 });
    // The reader thread decodes; the main thread handles whatever has queued up at once.
    let (tx, rx) = crossbeam_channel::unbounded::<Event>();
    std::thread::spawn(move || {
        while let Ok(Some(rec)) = events.next_record() {
            match ContentType::Protobuf.decode::<Event>(&rec) {
                Ok(e) => {
                    if tx.send(e).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    eprintln!("bench-raw: bad event: {e}");
                    break;
                }
            }
        }
    });
    let calls = TcpStream::connect(addr)?;
    calls.set_nodelay(true)?;
    let failures = Arc::new(AtomicU64::new(0));
    drain_answers(calls.try_clone()?, failures.clone());
    let mut out = BufWriter::with_capacity(1 << 16, calls);
    let offer_calls = TcpStream::connect(addr)?;
    offer_calls.set_nodelay(true)?;
    drain_answers(offer_calls.try_clone()?, failures.clone());
    let mut offer_out = BufWriter::with_capacity(1 << 16, offer_calls);
    let mut s = State {
        head: request_head(addr, Some(&stream_id)),
        body: Vec::with_capacity(1 << 10),
        framework_id: None,
        command: command.to_string(),
        wanted: tasks,
        launched: 0,
        ended: 0,
        has_ended: vec![false; tasks],
        spare_tasks: Vec::new(),
    };
    while s.ended < s.wanted {
        let first = rx.recv().map_err(|_| "the event stream ended")?;
        let mut batch = std::iter::once(first).chain(rx.try_iter());
        let sent = batch
            .try_for_each(|e| s.handle(e, &mut out, &mut offer_out))
            .and_then(|()| Ok(offer_out.flush()?))
            .and_then(|()| Ok(out.flush()?));
        if let Err(e) = sent {
            let (launched, ended) = (s.launched, s.ended);
            return Err(format!("{e} (after {launched} launched, {ended} ended)").into());
        }
    }
    let mut teardown = Call::default();
    teardown.set_type(call::Type::Teardown);
    s.send(&mut out, teardown)?;
    out.flush()?;
    match failures.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(format!("{n} call(s) were not accepted").into()),
    }
}

struct State {
    /// Everything of a call's request up to the `Content-Length` value, the same for
    /// every call: built once.
    head: Vec<u8>,
    /// The body being encoded, reused from call to call.
    body: Vec<u8>,
    framework_id: Option<mesos_proto::v1::FrameworkId>,
    command: String,
    wanted: usize,
    launched: usize,
    /// Tasks seen in a terminal state, each counted once: an agent resends an update
    /// that is not acknowledged in time (1 s), so a terminal update can arrive twice.
    ended: usize,
    /// Per task `raw-<n>`: whether its terminal update has been seen.
    has_ended: Vec<bool>,
    /// The task list of the last ACCEPT, kept for its capacity.
    spare_tasks: Vec<TaskInfo>,
}

impl State {
    /// Handles one event: acknowledgements go to `out`, answers to offers to `offer_out`.
    fn handle(
        &mut self,
        e: Event,
        out: &mut impl Write,
        offer_out: &mut impl Write,
    ) -> Result<(), Error> {
        match e.r#type() {
            event::Type::Subscribed => {
                self.framework_id = e.subscribed.map(|s| s.framework_id);
            }
            event::Type::Offers => {
                for o in e.offers.map(|o| o.offers).unwrap_or_default() {
                    self.offer(o, offer_out)?;
                }
            }
            event::Type::Update => {
                let Some(u) = e.update else { return Ok(()) };
                let st = u.status;
                if matches!(
                    st.state(),
                    TaskState::TaskFinished
                        | TaskState::TaskFailed
                        | TaskState::TaskKilled
                        | TaskState::TaskLost
                        | TaskState::TaskError
                        | TaskState::TaskDropped
                ) {
                    let index = st.task_id.value.strip_prefix("raw-");
                    match index.and_then(|n| n.parse::<usize>().ok()) {
                        Some(n) if n < self.has_ended.len() => {
                            if !std::mem::replace(&mut self.has_ended[n], true) {
                                self.ended += 1;
                            }
                        }
                        _ => {
                            return Err(format!(
                                "an update for a task we did not launch: {:?}",
                                st.task_id.value
                            )
                            .into());
                        }
                    }
                }
                if let (Some(uuid), Some(agent_id)) = (st.uuid, st.agent_id) {
                    let mut c = Call::default();
                    c.set_type(call::Type::Acknowledge);
                    c.acknowledge = Some(call::Acknowledge {
                        agent_id,
                        task_id: st.task_id,
                        uuid,
                    });
                    self.send(out, c)?;
                }
            }
            event::Type::Error => {
                return Err(format!("ERROR event: {:?}", e.error).into());
            }
            _ => {}
        }
        Ok(())
    }

    /// Launches as many tasks as the offer holds (and are still wanted), or declines it.
    fn offer(&mut self, o: Offer, out: &mut impl Write) -> Result<(), Error> {
        let scalar = |name: &str| -> f64 {
            (o.resources.iter())
                .filter(|r| r.name == name)
                .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
                .sum()
        };
        // A little slack: 40 x 0.1 adds up to slightly more than 4.0 in floating point.
        let fit = ((scalar("cpus") + 1e-6) / TASK_CPUS)
            .min((scalar("mem") + 1e-6) / TASK_MEM)
            .floor() as usize;
        let n = fit.min(self.wanted - self.launched);
        let mut c = Call::default();
        if n == 0 {
            c.set_type(call::Type::Decline);
            c.decline = Some(call::Decline {
                offer_ids: vec![o.id],
                filters: Some(Filters {
                    refuse_seconds: Some(3600.0),
                }),
            });
            return self.send(out, c);
        }
        // The list of ~40 TaskInfos (~100 KB) is reused from ACCEPT to ACCEPT: a fresh one
        // each time is a large allocation, which costs the allocator far more than a small one.
        let mut tasks = std::mem::take(&mut self.spare_tasks);
        tasks.clear();
        tasks.extend((0..n).map(|i| {
            let id = format!("raw-{}", self.launched + i);
            TaskInfo {
                name: id.clone(),
                task_id: TaskId { value: id },
                agent_id: o.agent_id.clone(),
                resources: vec![
                    scalar_resource("cpus", TASK_CPUS),
                    scalar_resource("mem", TASK_MEM),
                ],
                command: Some(CommandInfo {
                    value: Some(self.command.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }));
        self.launched += n;
        let mut op = offer::Operation {
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        op.set_type(offer::operation::Type::Launch);
        c.set_type(call::Type::Accept);
        c.accept = Some(call::Accept {
            offer_ids: vec![OfferId { value: o.id.value }],
            operations: vec![op],
            // The remainder comes back at once when tasks end.
            filters: Some(Filters {
                refuse_seconds: Some(0.0),
            }),
        });
        let sent = self.send_ref(out, &mut c);
        if let Some(launch) = c
            .accept
            .as_mut()
            .and_then(|a| a.operations.first_mut())
            .and_then(|op| op.launch.as_mut())
        {
            self.spare_tasks = std::mem::take(&mut launch.task_infos);
        }
        sent
    }

    /// Writes one call into the buffered connection: no allocation per call beyond the
    /// call itself (the writer goes out in one write per batch of events).
    fn send(&mut self, out: &mut impl Write, mut c: Call) -> Result<(), Error> {
        self.send_ref(out, &mut c)
    }

    /// [`State::send`] of a call the caller keeps (to reuse its parts).
    fn send_ref(&mut self, out: &mut impl Write, c: &mut Call) -> Result<(), Error> {
        c.framework_id.clone_from(&self.framework_id);
        self.body.clear();
        c.encode(&mut self.body)?;
        out.write_all(&self.head)?;
        write!(out, "{}\r\n\r\n", self.body.len())?;
        out.write_all(&self.body)?;
        Ok(())
    }
}

fn scalar_resource(name: &str, v: f64) -> Resource {
    let mut r = Resource {
        name: name.to_string(),
        scalar: Some(value::Scalar { value: v }),
        ..Default::default()
    };
    r.set_type(value::Type::Scalar);
    r
}

/// The start of an HTTP/1.1 POST of a protobuf Call, up to the `Content-Length` value.
fn request_head(host: &str, stream_id: Option<&str>) -> Vec<u8> {
    let sid = stream_id.map_or(String::new(), |s| format!("Mesos-Stream-Id: {s}\r\n"));
    format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-protobuf\r\n\
         Accept: application/x-protobuf\r\n{sid}Content-Length: "
    )
    .into_bytes()
}

/// One HTTP/1.1 POST of a protobuf Call.
fn request(host: &str, stream_id: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut r = request_head(host, stream_id);
    r.extend_from_slice(format!("{}\r\n\r\n", body.len()).as_bytes());
    r.extend_from_slice(body);
    r
}

/// Reads the answers to pipelined calls in order, counting those that are not 202.
/// One line buffer serves every answer: tens of thousands of `202`s go by.
fn drain_answers(stream: TcpStream, failures: Arc<AtomicU64>) {
    std::thread::spawn(move || {
        let mut r = BufReader::with_capacity(1 << 16, stream);
        let mut line = Vec::with_capacity(128);
        let mut body = Vec::new();
        loop {
            line.clear();
            if !matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                break;
            }
            let status: u16 = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.split(' ').nth(1))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut len = 0usize;
            loop {
                line.clear();
                if !matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    return;
                }
                let l = line.trim_ascii();
                if l.is_empty() {
                    break;
                }
                let name = b"content-length:";
                if l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name) {
                    len = std::str::from_utf8(&l[name.len()..])
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                }
            }
            body.resize(len, 0);
            if r.read_exact(&mut body).is_err() {
                break;
            }
            // Only the first failure is printed; the count says how many there were.
            if status != 202 && failures.fetch_add(1, Ordering::Relaxed) == 0 {
                eprintln!(
                    "bench-raw: call answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    });
}

/// Reads a status line and headers (lower-cased names).
fn read_head(r: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>), Error> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err("connection closed".into());
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            return Ok((status, headers));
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// The body of a chunked response, as a plain byte stream.
struct Chunked<R> {
    inner: R,
    left: usize,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                return Ok(0);
            }
            let size = line.trim();
            if size.is_empty() {
                continue; // the CRLF after the previous chunk
            }
            let size = size.split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if self.left == 0 {
                return Ok(0);
            }
        }
        let n = {
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() {
                return Ok(0);
            }
            let n = avail.len().min(self.left).min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.inner.consume(n);
        self.left -= n;
        Ok(n)
    }
}
