//! A small HTTP/1.1 server for the dev cluster's masters and agents.
//!
//! Why hand-written: the Mesos v1 APIs need exactly three things from HTTP, and each must
//! match what real Mesos puts on the wire (see `docs/mesos-v1-http-api.md` §1.2):
//! keep-alive connections carrying many small calls answered `202 Accepted` with
//! `Content-Length: 0`; one long-lived `Transfer-Encoding: chunked` response per
//! subscription, one RecordIO record per chunk; and plain-text error bodies. A synchronous
//! server on `std::net` with one thread per connection does all of that in a few hundred
//! lines a reader can follow, and lets tests look at exact bytes.
//!
//! Layout:
//! - `mod.rs` (this file): the types the cluster sees: [`Request`], [`Response`], [`Body`],
//!   [`StreamItem`], the [`Handler`] trait and the configuration.
//! - `server.rs`: [`Server`]: the accept loop, the connection registry and shutdown.
//! - `conn.rs`: one connection: keep-alive, pipelining, streaming, closing.
//! - `parse.rs`: reading one request (httparse for the head; Content-Length and chunked bodies).
//! - `write.rs`: writing responses (status line, header order, chunk framing) and the `Date`.
//! - `tls.rs`: the plain/TLS socket wrapper and [`tls_config_from_pem`].
//! - `gzip.rs`: gzip of bodies of 1 KiB or more for clients that accept it (as libprocess).
//! - `auth.rs`: HTTP Basic authentication: [`Credentials`] and [`unauthorized`].
//! - `queue.rs`: [`BoundedSender`]: a stream's queue with a bound on items and bytes.
//! - `memory.rs`: a connection's bytes served without a socket ([`Server::serve_bytes`]), for
//!   fuzzing.
//!
//! How a streaming response notices a departed client: the connection thread waits on the
//! stream's channel with a timeout ([`Limits::stream_poll_interval`]). Each time the wait
//! times out it probes the socket with a non-blocking read: end-of-file or an error means
//! the client is gone. A failed write means the same. Either way the thread returns, which
//! drops the [`crossbeam_channel::Receiver`], so the cluster's next `send` on that stream
//! fails and the cluster can treat the subscriber as disconnected. The check runs at most
//! once per poll interval, also while items keep flowing, so detection takes about one
//! interval. Bytes a subscriber sends on its stream connection are read and dropped, and a
//! client that half-closes its sending side counts as gone (Mesos clients never do that).
//!
//! Other limits: at most [`Limits::max_connections`] connections are open (one more is
//! answered `503` and closed, without a thread), a request head must be complete within
//! [`Limits::request_head_timeout`] of its first byte (`408`), idle keep-alive
//! connections are closed after [`Limits::idle_timeout`], a
//! write that blocks longer than [`Limits::write_timeout`] ends the connection, request
//! heads and bodies are bounded ([`Limits::max_header_bytes`],
//! [`ServerConfig::max_body_bytes`]) and answered `431`/`413`, malformed requests `400`;
//! after such an answer the connection is closed.

mod auth;
mod conn;
mod gzip;
mod memory;
mod parse;
mod queue;
mod server;
mod tls;
mod write;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

pub use auth::{Credentials, require, unauthorized};
pub use queue::{BoundedSender, Budget, Counted, SendRefused};
pub use server::Server;
pub use tls::tls_config_from_pem;
pub use write::http_date;
pub(crate) use write::push_decimal;

/// The header fields of a request, in the order received, names spelled as received and
/// values without surrounding whitespace.
///
/// All names and values share one string (and their ends one list): reading a request
/// makes two allocations for its headers instead of two per header. Every scheduler call
/// and executor call comes with half a dozen headers, and acknowledgements come by the
/// thousand per second.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Each name followed by its value.
    text: String,
    /// Per header, where its name ends and where its value ends in `text` (each name
    /// starts where the previous value ended).
    ends: Vec<(usize, usize)>,
}

impl Headers {
    /// No headers, with room for `count` headers of `bytes` bytes in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Headers {
        Headers {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Adds a header after the others.
    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }

    /// `(name, value)` of each header, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let pair = (&self.text[start..name_end], &self.text[name_end..value_end]);
            start = value_end;
            pair
        })
    }

    /// The value of the first header called `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        // On bytes, lengths first: a request is looked up several times (framing,
        // connection, content type, stream id), and most names differ in length.
        let text = self.text.as_bytes();
        let mut start = 0;
        for &(name_end, value_end) in &self.ends {
            if name_end - start == name.len()
                && text[start..name_end].eq_ignore_ascii_case(name.as_bytes())
            {
                return self.text.get(name_end..value_end);
            }
            start = value_end;
        }
        None
    }

    /// Headers as httparse read them, values without surrounding whitespace (as
    /// `str::trim` has it), invalid UTF-8 replaced. `None` unless every value is ASCII
    /// (nearly always): then one check covers the whole text, where [`Headers::push`]
    /// would convert each value on its own.
    fn from_ascii(fields: &[httparse::Header<'_>]) -> Option<Headers> {
        let bytes = fields.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut text = Vec::with_capacity(bytes);
        let mut ends = Vec::with_capacity(fields.len());
        for h in fields {
            text.extend_from_slice(h.name.as_bytes());
            let name_end = text.len();
            // The ASCII characters `char::is_whitespace` knows (`trim_ascii` leaves out
            // the vertical tab).
            let ws = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
            let from = h.value.iter().position(|b| !ws(b)).unwrap_or(h.value.len());
            let to = h.value.iter().rposition(|b| !ws(b)).map_or(from, |i| i + 1);
            let value = &h.value[from..to.max(from)];
            if !value.is_ascii() {
                return None;
            }
            text.extend_from_slice(value);
            ends.push((name_end, text.len()));
        }
        let text = String::from_utf8(text).ok()?;
        Some(Headers { text, ends })
    }

    /// Headers as httparse read them, values without surrounding whitespace, invalid
    /// UTF-8 replaced.
    pub(crate) fn parsed(fields: &[httparse::Header<'_>]) -> Headers {
        if let Some(headers) = Headers::from_ascii(fields) {
            return headers;
        }
        let bytes = fields.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut headers = Headers::with_capacity(fields.len(), bytes);
        for h in fields {
            match std::str::from_utf8(h.value) {
                Ok(v) => headers.push(h.name, v.trim()),
                Err(_) => headers.push(h.name, String::from_utf8_lossy(h.value).trim()),
            }
        }
        headers
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Headers {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(pairs: I) -> Headers {
        let mut headers = Headers::default();
        for (name, value) in pairs {
            headers.push(name, value);
        }
        headers
    }
}

/// One parsed request.
///
/// `path` is percent-decoded and has no query string. The server does no Mesos alias
/// routing (`/master/...`, `/slave(1)/...`); the cluster's router does that.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method as sent, e.g. `POST` (methods are case-sensitive in HTTP).
    pub method: String,
    /// The percent-decoded path, e.g. `/slave(1)/api/v1/executor`.
    pub path: String,
    /// The raw query string without the `?`, or `""` if there is none.
    pub query: String,
    /// The headers in the order received, names spelled as received.
    pub headers: Headers,
    /// The body, de-chunked if it came with `Transfer-Encoding: chunked`.
    pub body: Vec<u8>,
    /// The client's address.
    pub peer: SocketAddr,
}

impl Request {
    /// The value of the first header called `name`, compared case-insensitively
    /// (clients send both `Mesos-Stream-Id` and `mesos-stream-id`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The percent-decoded value of the first query parameter called `name`
    /// (`+` is read as a space, as in HTML forms). `Some("")` for `?name` without `=`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (parse::decode_query_component(key) == name)
                .then(|| parse::decode_query_component(value))
        })
    }

    /// The principal and secret of an `Authorization: Basic ...` header, if there is a
    /// well-formed one. See [`Credentials::check`] to verify them.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        auth::parse_basic(self.header("Authorization")?)
    }
}

/// One item of a streaming (chunked) response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// Bytes written and flushed as exactly one HTTP chunk (Mesos writes one RecordIO
    /// record per chunk). An empty `Chunk` is skipped: a zero-size chunk would end the body.
    Chunk(Vec<u8>),
    /// Bytes written as one chunk, counted against a bounded queue until written (see
    /// [`BoundedSender`]); when its stream was cancelled, the connection ends instead.
    Counted(Counted),
    /// Fault injection: start a chunk whose header announces one byte more than given,
    /// write these bytes, then close the connection abruptly (no terminator). The client
    /// sees a stream broken in the middle of a record.
    CutAfter(Vec<u8>),
    /// Close the connection abruptly (no `0\r\n\r\n` terminator).
    Abort,
}

/// A response body.
///
/// When the sender side of a [`Body::Stream`] channel is dropped, the server writes the
/// chunked terminator `0\r\n\r\n` and closes the connection (Mesos does that after
/// TEARDOWN and for refused and superseded subscriptions).
#[derive(Debug)]
pub enum Body {
    /// No body; the response carries `Content-Length: 0`.
    Empty,
    /// A complete body, sent with `Content-Length`.
    Bytes(Vec<u8>),
    /// A body of unknown length, sent with `Transfer-Encoding: chunked`, one chunk per item.
    Stream(Receiver<StreamItem>),
}

/// A response: status, extra headers and body.
#[derive(Debug)]
pub struct Response {
    /// The status code; the server adds the standard reason phrase.
    pub status: u16,
    /// Extra headers. The server adds `Date`, and `Content-Length` (complete bodies) or
    /// `Transfer-Encoding: chunked` (streams); do not set those here.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response without a body: `Content-Length: 0` and no `Content-Type`
    /// (the shape of Mesos' `202 Accepted`).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A `text/plain; charset=utf-8` response: the shape of every Mesos error.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::bytes(
            status,
            "text/plain; charset=utf-8",
            body.into().into_bytes(),
        )
    }

    /// An `application/json` response with the compact encoding of `value`.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::bytes(status, "application/json", value.to_string().into_bytes())
    }

    /// A response with a complete body of the given content type.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: Body::Bytes(body),
        }
    }

    /// A streaming response: each item received on `rx` becomes one HTTP chunk.
    pub fn stream(status: u16, content_type: &str, rx: Receiver<StreamItem>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: Body::Stream(rx),
        }
    }

    /// The same response with one more header (e.g. `Mesos-Stream-Id`, `Location`).
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// The application side of the server.
///
/// `handle` is called on the connection's own thread, once per request, in the order the
/// requests arrived on that connection. It may block briefly (the client waits for the
/// answer); it must not wait for a stream to end. A panic in `handle` is caught and
/// answered with `500 Internal Server Error`.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: Request) -> Response;
}

/// Any suitable closure is a handler; handy in tests.
impl<F> Handler for F
where
    F: Fn(Request) -> Response + Send + Sync + 'static,
{
    fn handle(&self, request: Request) -> Response {
        self(request)
    }
}

/// The largest request body accepted by default (16 MiB); larger bodies get `413`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to bind; `127.0.0.1:0` in tests (the OS picks a port).
    pub addr: SocketAddr,
    /// When set, every accepted connection speaks TLS (see [`tls_config_from_pem`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The largest request body accepted; larger ones get `413` and the connection is closed.
    pub max_body_bytes: usize,
}

impl ServerConfig {
    /// Plain HTTP on `addr` with the default body limit.
    pub fn new(addr: SocketAddr) -> ServerConfig {
        ServerConfig {
            addr,
            tls: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Timing and size knobs with sensible defaults; tests shorten the timeouts.
/// Passed to [`Server::start_with_limits`]; [`Server::start`] uses [`Limits::default`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request head (request line and headers) accepted; larger gets `431`.
    /// Default 64 KiB.
    pub max_header_bytes: usize,
    /// How long a connection may sit idle (or a request may stall) before it is closed, so
    /// that threads of forgotten keep-alive connections do not pile up. Default 5 minutes.
    pub idle_timeout: Duration,
    /// How long one write may block before the client counts as gone (a subscriber that
    /// stops reading). Default 60 s.
    pub write_timeout: Duration,
    /// How often an open stream checks whether its client is still there. Default 200 ms.
    pub stream_poll_interval: Duration,
    /// How long [`Server::shutdown`] waits for connection threads to finish. Default 5 s.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a complete request head once its first byte
    /// arrived; then it gets `408` and the connection closes. Default 30 s.
    pub request_head_timeout: Duration,
    /// Open connections at most; one more is answered `503` with a short body and
    /// closed at once (no thread is started for it). Default 4,096.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_header_bytes: 64 << 10,
            idle_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(60),
            stream_poll_interval: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(5),
            request_head_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}
