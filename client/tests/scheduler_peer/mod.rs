//! A scripted loopback HTTP peer that stands in for a Mesos master in the
//! scheduler driver tests, plus a recording `Scheduler`.
//!
//! The peer listens on 127.0.0.1:0, serves each connection on its own thread
//! (keep-alive, so calls can share one), records every request, and answers
//! with whatever the test's script returns: a status, or a chunked RecordIO
//! stream shaped like a real Mesos 1.12 SUBSCRIBE response (fact sheet §1.5,
//! fixtures `scheduler-json/subscribe.response-headers.txt`). Records are
//! deliberately split across HTTP chunks, as a proxy may do.
//!
//! [`Peer::start_tls`] serves https instead, with a given rustls config.
//!
//! Dropping the peer closes every connection it holds.
#![allow(dead_code)]

mod driver;
mod events;
mod tls;

pub use driver::*;
pub use events::*;
// Only the https tests use it.
#[allow(unused_imports)]
pub use tls::*;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::Call;

/// The framework id our canned SUBSCRIBED events assign (fixture shape).
pub const FRAMEWORK_ID: &str = "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-0000";
pub const AGENT_ID: &str = "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-S0";
/// base64 of the 16-byte uuid in `update_with_uuid`.
pub const UPDATE_UUID: &str = "wRz/o9/QQBy8IfBj+OGJvw==";

/// One request as the peer received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The port of the peer that received it (tells masters apart).
    pub port: u16,
    /// Which TCP connection (numbered per peer from 0) carried it.
    pub connection: usize,
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body decoded as a scheduler Call, whichever the encoding.
    pub fn call(&self) -> Call {
        let content_type = ContentType::from_mime(self.header("content-type").unwrap_or(""))
            .expect("request has a Mesos content type");
        content_type
            .decode(&self.body)
            .expect("body decodes as a Call")
    }

    /// The JSON body as a value (JSON requests only).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }

    /// `SUBSCRIBE`, `ACKNOWLEDGE`, ...
    pub fn call_type(&self) -> &'static str {
        self.call().r#type().as_str_name()
    }
}

/// What the peer does after writing a stream's records.
pub enum After {
    /// Keep the connection open, sending nothing (until the client closes it
    /// or the peer is dropped).
    Hold,
    /// Send the chunked terminator and close.
    End,
    /// Close the TCP connection without a terminator.
    Cut,
    /// Write each record received here as it comes; close when the sender
    /// is dropped.
    Feed(Receiver<Vec<u8>>),
}

/// The answer the script chooses for one request.
pub enum Reply {
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Stream {
        stream_id: String,
        content_type: ContentType,
        /// RecordIO bytes, written in chunks of `chunk_size` bytes.
        body: Vec<u8>,
        chunk_size: usize,
        after: After,
    },
}

impl Reply {
    pub fn accepted() -> Reply {
        Reply::status(202, "")
    }

    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn redirect(location: &str) -> Reply {
        Reply::Status {
            status: 307,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// A 200 SUBSCRIBE stream carrying these JSON events, split into 7-byte
    /// chunks so that records straddle chunk boundaries.
    pub fn json_stream(stream_id: &str, events: &[String], after: After) -> Reply {
        let mut body = Vec::new();
        for event in events {
            body.extend(mesos_proto::recordio::encode(event.as_bytes()));
        }
        Reply::Stream {
            stream_id: stream_id.into(),
            content_type: ContentType::Json,
            body,
            chunk_size: 7,
            after,
        }
    }
}

/// A master stand-in. See the module docs.
pub struct Peer {
    pub port: u16,
    requests: Receiver<Request>,
    stop: Arc<AtomicBool>,
}

impl Peer {
    /// Starts a peer whose `script` decides every reply. The script runs
    /// under a lock, one request at a time, so it may keep state.
    pub fn start(script: impl FnMut(&Request) -> Reply + Send + 'static) -> Peer {
        Peer::start_with(script, None)
    }

    /// Like [`Peer::start`], speaking https with this server config.
    pub fn start_tls(
        script: impl FnMut(&Request) -> Reply + Send + 'static,
        tls: Arc<rustls::ServerConfig>,
    ) -> Peer {
        Peer::start_with(script, Some(tls))
    }

    fn start_with(
        script: impl FnMut(&Request) -> Reply + Send + 'static,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("local addr").port();
        let (tx, requests) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(Mutex::new(script));
        let stop_flag = stop.clone();
        thread::spawn(move || {
            let mut connections = 0..;
            while !stop_flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let connection = connections.next().unwrap_or_default();
                        let (tx, stop, script) = (tx.clone(), stop_flag.clone(), script.clone());
                        // Blocking again, but reads wake up every 20 ms so
                        // that the connection notices when the peer stops.
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
                        match &tls {
                            None => {
                                thread::spawn(move || {
                                    serve(stream, port, connection, tx, stop, script)
                                });
                            }
                            Some(config) => {
                                let Ok(server) = rustls::ServerConnection::new(config.clone())
                                else {
                                    continue;
                                };
                                let stream = rustls::StreamOwned::new(server, stream);
                                thread::spawn(move || {
                                    serve(stream, port, connection, tx, stop, script)
                                });
                            }
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Peer {
            port,
            requests,
            stop,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.try_iter().collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

type Script = Arc<Mutex<dyn FnMut(&Request) -> Reply + Send>>;

fn serve<S: Read + Write>(
    mut stream: S,
    port: u16,
    connection: usize,
    tx: Sender<Request>,
    stop: Arc<AtomicBool>,
    script: Script,
) {
    let mut buffer = Vec::new();
    while let Some(mut request) = read_request(&mut stream, &mut buffer, port, &stop) {
        request.connection = connection;
        let _ = tx.send(request.clone());
        let reply = {
            let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
            (*script)(&request)
        };
        match reply {
            Reply::Status {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
                    return;
                }
            }
            Reply::Stream {
                stream_id,
                content_type,
                body,
                chunk_size,
                after,
            } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nMesos-Stream-Id: {stream_id}\r\nContent-Type: {}\r\n\r\n",
                    content_type.mime()
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for piece in body.chunks(chunk_size.max(1)) {
                    if write_chunk(&mut stream, piece).is_err() {
                        return;
                    }
                }
                match after {
                    After::Hold => hold(&mut stream, &stop),
                    After::End => {
                        let _ = stream.write_all(b"0\r\n\r\n");
                    }
                    After::Cut => {}
                    After::Feed(records) => {
                        while let Ok(record) = records.recv() {
                            let framed = mesos_proto::recordio::encode(&record);
                            if write_chunk(&mut stream, &framed).is_err() {
                                return;
                            }
                        }
                    }
                }
                return; // a stream's connection is never reused
            }
        }
    }
}

fn write_chunk(stream: &mut impl Write, piece: &[u8]) -> std::io::Result<()> {
    stream.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
    stream.write_all(piece)?;
    stream.write_all(b"\r\n")?;
    stream.flush()
}

/// Keeps a connection open until the client closes it or the peer stops.
fn hold(stream: &mut impl Read, stop: &AtomicBool) {
    let mut scratch = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Reads one HTTP/1.1 request (Content-Length bodies only, as ureq sends).
fn read_request(
    stream: &mut impl Read,
    buffer: &mut Vec<u8>,
    port: u16,
    stop: &AtomicBool,
) -> Option<Request> {
    let mut scratch = [0u8; 4096];
    let mut fill = |buffer: &mut Vec<u8>| -> Option<()> {
        loop {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            match stream.read(&mut scratch) {
                Ok(0) => return None,
                Ok(n) => {
                    buffer.extend_from_slice(&scratch[..n]);
                    return Some(());
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return None,
            }
        }
    };
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        fill(buffer)?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        fill(buffer)?;
    }
    let body = buffer[head_end..head_end + length].to_vec();
    buffer.drain(..head_end + length);
    Some(Request {
        port,
        connection: 0,
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
