//! HTTP plumbing on [ureq]: POST a body, get status, headers and body back.
//!
//! Why ureq: it is small, synchronous and needs no async runtime, which
//! matches the rest of this crate (std threads and channels). Two ureq agents
//! are kept, because the two kinds of request want different timeouts:
//!
//! * **calls** (ACCEPT, DECLINE, ...) are short: the whole request must finish
//!   within `request_timeout`. The agent keeps the connection alive between
//!   calls, as the fact sheet (§1.2) asks: calls go on their own connection,
//!   never on the subscription's.
//! * **streams** (SUBSCRIBE) stay open for hours: only connecting and the
//!   response head are bounded by `request_timeout`; after that each read may
//!   wait up to `stream_idle_timeout`. That bound lets a reader thread stuck
//!   on a dead connection notice and exit.
//!
//! What this module deliberately does *not* do:
//!
//! * follow redirects: a Mesos `307` names the leader, and the driver must
//!   learn it (to send later calls there) and keep its own scheme and path
//!   (`max_redirects(0)`);
//! * treat 4xx/5xx as errors: the driver needs the status and Mesos' plain
//!   text reason (`http_status_as_error(false)`).
//!
//! A status is returned as-is; only failures to talk at all become
//! [`Error::Transport`].
//!
//! **Pipelined calls.** ureq sends one request and waits for its answer. The
//! scheduler driver sends many small calls (three ACKNOWLEDGEs per task), so
//! for them this module also has [`CallConnection`]: one keep-alive HTTP/1.1
//! connection (plain, or TLS with the configured CA) on which a batch of
//! requests is written back to back in one write, then their answers are read
//! in order (HTTP/1.1 pipelining, RFC 9112 §9.3.2; Mesos and devcluster
//! answer in order). The batch is small (a few dozen requests), so the answers
//! never fill the socket buffers while we are still writing. https without a
//! CA file (the web PKI roots, which only ureq carries) falls back to ureq,
//! one call at a time.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// The largest non-streaming response body we read (Mesos' error texts and
/// 202s are tiny; this only guards against a misbehaving peer).
const MAX_BODY: u64 = 1 << 20;

/// How to reach the masters.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Upper bound for a whole call, and for connecting + the response head
    /// of a subscription.
    pub request_timeout: Duration,
    /// Upper bound for one read on a subscription stream.
    pub stream_idle_timeout: Duration,
    /// A PEM file of CA certificates to trust for `https` masters. When set,
    /// these certificates *replace* the built-in web PKI roots: a Mesos
    /// cluster with https normally has its own CA.
    pub ca_file: Option<PathBuf>,
    /// HTTP basic-auth credentials sent with every request.
    pub credentials: Option<Credentials>,
}

/// A finished, non-streaming response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB is read).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim().to_string()
    }
}

/// A response whose body is read as it arrives (the subscription stream).
pub struct StreamResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked. For a SUBSCRIBE it is the RecordIO stream.
    pub body: Box<dyn Read + Send>,
}

impl StreamResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Reads (at most 64 KiB of) the body as text: for non-200 answers, whose
    /// body is Mesos' reason.
    pub fn into_text(self) -> String {
        let mut text = String::new();
        // A broken body just gives a shorter message.
        let _ = self.body.take(64 << 10).read_to_string(&mut text);
        text.trim().to_string()
    }
}

impl fmt::Debug for StreamResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Sends requests to masters. Cheap to share behind an `Arc`; safe to use
/// from several threads at once.
pub struct Transport {
    calls: ureq::Agent,
    streams: ureq::Agent,
    /// `Basic ...`; kept out of `Debug`.
    authorization: Option<String>,
    /// TLS for pipelined https calls: only with a CA file (see the module docs).
    call_tls: Option<Arc<rustls::ClientConfig>>,
    /// Bound for connecting, one write and one read of a pipelined call.
    request_timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the two agents. Fails if the CA file cannot be read or holds
    /// no certificate.
    pub fn new(config: &TransportConfig) -> Result<Transport> {
        let tls = match &config.ca_file {
            Some(path) => Some(load_ca(path)?),
            None => None,
        };
        let call_tls = match &config.ca_file {
            Some(path) => Some(rustls_config(path)?),
            None => None,
        };
        let base = || {
            let builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("mesos-client/", env!("CARGO_PKG_VERSION")));
            match &tls {
                Some(tls) => builder.tls_config(tls.clone()),
                None => builder,
            }
        };
        let calls = base()
            .timeout_global(Some(config.request_timeout))
            .build()
            .new_agent();
        let streams = base()
            .timeout_connect(Some(config.request_timeout))
            .timeout_send_request(Some(config.request_timeout))
            .timeout_send_body(Some(config.request_timeout))
            .timeout_recv_response(Some(config.request_timeout))
            .timeout_per_read(Some(config.stream_idle_timeout))
            .build()
            .new_agent();
        Ok(Transport {
            calls,
            streams,
            authorization: config.credentials.as_ref().map(Credentials::authorization),
            call_tls,
            request_timeout: config.request_timeout,
        })
    }

    /// Opens a connection for pipelined calls to `host:port`, or `None` when
    /// only ureq can reach it (https without a CA file): then send each call
    /// with [`Transport::post`].
    pub fn connect_calls(
        &self,
        https: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<CallConnection>> {
        if https && self.call_tls.is_none() {
            return Ok(None);
        }
        let fail = |why: String| Error::Transport(format!("{host}:{port}: {why}"));
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<_> = (bare, port)
            .to_socket_addrs()
            .map_err(|err| fail(err.to_string()))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.request_timeout) {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(err) => last = Some(err),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            fail(last.map_or_else(|| "no address".to_string(), |err| err.to_string()))
        })?;
        // Small requests go out at once; every read and write is bounded.
        tcp.set_nodelay(true).map_err(|err| fail(err.to_string()))?;
        tcp.set_read_timeout(Some(self.request_timeout))
            .map_err(|err| fail(err.to_string()))?;
        tcp.set_write_timeout(Some(self.request_timeout))
            .map_err(|err| fail(err.to_string()))?;
        let stream = match (&self.call_tls, https) {
            (Some(tls), true) => {
                let name = rustls::pki_types::ServerName::try_from(bare.to_string())
                    .map_err(|err| fail(format!("bad TLS server name: {err}")))?;
                let client = rustls::ClientConnection::new(tls.clone(), name)
                    .map_err(|err| fail(err.to_string()))?;
                Stream::Tls(Box::new(rustls::StreamOwned::new(client, tcp)))
            }
            _ => Stream::Plain(tcp),
        };
        let authority = format!("{host}:{port}");
        Ok(Some(CallConnection {
            stream,
            authority,
            authorization: self.authorization.clone(),
            buffer: Vec::with_capacity(4096),
            start: 0,
        }))
    }

    /// POSTs `body` and reads the whole response.
    ///
    /// `headers` are extra request headers (e.g. `Mesos-Stream-Id`).
    pub fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let request = self.request(&self.calls, url, content_type, None, headers);
        let response = request
            .send(body)
            .map_err(|err| transport_error(url, err))?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| transport_error(url, err))?;
        Ok(Response {
            status: parts.status.as_u16(),
            headers: header_list(&parts.headers),
            body,
        })
    }

    /// POSTs `body` and returns as soon as the response head has arrived;
    /// the body is read by whoever holds the [`StreamResponse`].
    pub fn post_stream(
        &self,
        url: &str,
        content_type: &str,
        accept: &str,
        body: &[u8],
    ) -> Result<StreamResponse> {
        let request = self.request(&self.streams, url, content_type, Some(accept), &[]);
        let response = request
            .send(body)
            .map_err(|err| transport_error(url, err))?;
        let (parts, body) = response.into_parts();
        Ok(StreamResponse {
            status: parts.status.as_u16(),
            headers: header_list(&parts.headers),
            body: Box::new(body.into_reader()),
        })
    }

    fn request(
        &self,
        agent: &ureq::Agent,
        url: &str,
        content_type: &str,
        accept: Option<&str>,
        headers: &[(&str, &str)],
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let mut request = agent.post(url).header("Content-Type", content_type);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    }
}

fn header_list(headers: &ureq::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect()
}

/// ureq's errors name the failure (refused, timeout, TLS) but never request
/// headers, so the secret cannot leak through them.
fn transport_error(url: &str, err: ureq::Error) -> Error {
    Error::Transport(format!("{url}: {err}"))
}

/// The request to write for one pipelined call.
#[derive(Debug, Clone, Copy)]
pub struct CallRequest<'a> {
    /// Request path, e.g. `/api/v1/scheduler`.
    pub path: &'a str,
    /// MIME type of the body (and of the answer we accept).
    pub content_type: &'a str,
    /// Extra headers (e.g. `Mesos-Stream-Id`).
    pub headers: &'a [(&'a str, &'a str)],
    /// The encoded call.
    pub body: &'a [u8],
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// One keep-alive connection for pipelined calls (see the module docs).
/// Used by one thread: write a batch, then read its answers.
pub struct CallConnection {
    stream: Stream,
    /// `host:port` for the `Host` header.
    authority: String,
    authorization: Option<String>,
    /// Bytes read but not yet parsed start at `start`.
    buffer: Vec<u8>,
    start: usize,
}

impl fmt::Debug for CallConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallConnection")
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

/// The largest response head we accept on a call connection.
const MAX_HEAD: usize = 64 << 10;

impl CallConnection {
    /// Whether the peer has closed (or written to) this idle connection, so it
    /// must not carry more requests: checked before each batch. A master that
    /// closed an idle keep-alive connection would otherwise lose the batch.
    pub fn is_closed(&self) -> bool {
        if self.start < self.buffer.len() {
            return true; // bytes nobody asked for
        }
        let tcp = self.stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut probe = [0u8; 1];
        let closed = match tcp.peek(&mut probe) {
            Ok(_) => true, // EOF (0), or unexpected bytes (a TLS alert)
            Err(err) => err.kind() != ErrorKind::WouldBlock,
        };
        closed || tcp.set_nonblocking(false).is_err()
    }

    /// Writes all `requests` back to back, in one write where possible.
    pub fn send(&mut self, requests: &[CallRequest<'_>]) -> Result<()> {
        let mut out = Vec::with_capacity(requests.iter().map(|r| r.body.len() + 256).sum());
        for request in requests {
            out.extend_from_slice(b"POST ");
            out.extend_from_slice(request.path.as_bytes());
            out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
            out.extend_from_slice(self.authority.as_bytes());
            out.extend_from_slice(b"\r\nUser-Agent: mesos-client/");
            out.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
            for (name, value) in [
                ("Content-Type", request.content_type),
                ("Accept", request.content_type),
            ]
            .into_iter()
            .chain(
                self.authorization
                    .as_deref()
                    .map(|auth| ("Authorization", auth)),
            )
            .chain(request.headers.iter().copied())
            {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(value.as_bytes());
            }
            out.extend_from_slice(
                format!("\r\nContent-Length: {}\r\n\r\n", request.body.len()).as_bytes(),
            );
            out.extend_from_slice(request.body);
        }
        self.stream
            .write_all(&out)
            .and_then(|()| self.stream.flush())
            .map_err(|err| self.io_error("write", err))
    }

    /// Reads the next answer. `Ok((response, keep_alive))`: `keep_alive` is
    /// false when the master said `Connection: close`; then no later answer
    /// will come on this connection.
    pub fn receive(&mut self) -> Result<(Response, bool)> {
        let head_end = loop {
            if let Some(pos) = find(&self.buffer[self.start..], b"\r\n\r\n") {
                break self.start + pos + 4;
            }
            if self.buffer.len() - self.start > MAX_HEAD {
                return Err(Error::Transport(format!(
                    "{}: response head larger than {MAX_HEAD} bytes",
                    self.authority
                )));
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buffer[self.start..head_end]).into_owned();
        self.start = head_end;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .filter(|_| status_line.starts_with("HTTP/1."))
            .ok_or_else(|| {
                Error::Transport(format!(
                    "{}: bad status line {status_line:?}",
                    self.authority
                ))
            })?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let keep_alive = !find_header(&headers, "connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"));
        let chunked = find_header(&headers, "transfer-encoding")
            .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            self.read_chunked()?
        } else {
            let length = match find_header(&headers, "content-length") {
                Some(value) => value.parse::<usize>().map_err(|_| {
                    Error::Transport(format!("{}: bad Content-Length {value:?}", self.authority))
                })?,
                None => 0,
            };
            self.read_exact_body(length)?
        };
        Ok((
            Response {
                status,
                headers,
                body,
            },
            keep_alive,
        ))
    }

    fn read_exact_body(&mut self, length: usize) -> Result<Vec<u8>> {
        if length as u64 > MAX_BODY {
            return Err(Error::Transport(format!(
                "{}: response body of {length} bytes",
                self.authority
            )));
        }
        while self.buffer.len() - self.start < length {
            self.fill()?;
        }
        let body = self.buffer[self.start..self.start + length].to_vec();
        self.start += length;
        Ok(body)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(pos) = find(&self.buffer[self.start..], b"\r\n") {
                    break self.start + pos;
                }
                if self.buffer.len() - self.start > 1024 {
                    return Err(Error::Transport(format!(
                        "{}: bad chunk size",
                        self.authority
                    )));
                }
                self.fill()?;
            };
            let line = String::from_utf8_lossy(&self.buffer[self.start..line_end]).into_owned();
            self.start = line_end + 2;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| {
                    Error::Transport(format!("{}: bad chunk size {line:?}", self.authority))
                })?;
            if body.len() as u64 + size as u64 > MAX_BODY {
                return Err(Error::Transport(format!(
                    "{}: response body too large",
                    self.authority
                )));
            }
            let chunk = self.read_exact_body(size + 2)?;
            body.extend_from_slice(&chunk[..size]);
            if size == 0 {
                return Ok(body); // no trailers from Mesos
            }
        }
    }

    /// Reads more bytes into the buffer; EOF is an error (an answer is due).
    fn fill(&mut self) -> Result<()> {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start > 32 << 10 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let old = self.buffer.len();
        self.buffer.resize(old + (16 << 10), 0);
        let read = loop {
            match self.stream.read(&mut self.buffer[old..]) {
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match read {
            Ok(0) => {
                self.buffer.truncate(old);
                Err(Error::Transport(format!(
                    "{}: the master closed the call connection before answering",
                    self.authority
                )))
            }
            Ok(n) => {
                self.buffer.truncate(old + n);
                Ok(())
            }
            Err(err) => {
                self.buffer.truncate(old);
                Err(self.io_error("read", err))
            }
        }
    }

    fn io_error(&self, what: &str, err: std::io::Error) -> Error {
        Error::Transport(format!("{}: {what} failed: {err}", self.authority))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A rustls client config trusting the certificates of a PEM file (for
/// pipelined https calls; ureq gets its own through [`load_ca`]).
fn rustls_config(path: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let bad = |why: String| Error::Config(format!("CA file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|err| bad(err.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for der in rustls_pemfile::certs(&mut pem.as_slice()) {
        let der = der.map_err(|err| bad(err.to_string()))?;
        // A block that is not a usable certificate fails the handshake later,
        // as with ureq; the file itself was accepted.
        let _ = roots.add(der);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| bad(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads every certificate of a PEM file into a TLS config that trusts them.
pub(crate) fn load_ca(path: &Path) -> Result<TlsConfig> {
    let bad = |why: String| Error::Config(format!("CA file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|err| bad(err.to_string()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .map(|der| der.map(|der| Certificate::from_der(der.as_ref()).to_owned()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|err| bad(err.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block found".into()));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&certs))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ca_file: Option<PathBuf>) -> TransportConfig {
        TransportConfig {
            request_timeout: Duration::from_secs(1),
            stream_idle_timeout: Duration::from_secs(1),
            ca_file,
            credentials: Some(Credentials::new("me", "top-secret")),
        }
    }

    #[test]
    fn debug_hides_the_authorization() {
        let transport = Transport::new(&config(None)).unwrap();
        let shown = format!("{transport:?}");
        assert!(
            !shown.contains("top-secret") && !shown.contains("Basic"),
            "{shown}"
        );
    }

    #[test]
    fn ca_file_must_exist_and_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            Transport::new(&config(Some(missing))),
            Err(Error::Config(_))
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a pem file\n").unwrap();
        assert!(matches!(
            Transport::new(&config(Some(empty))),
            Err(Error::Config(_))
        ));
        // A syntactically valid block is accepted (checked on handshake).
        let ok = dir.path().join("ca.pem");
        std::fs::write(
            &ok,
            "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(Transport::new(&config(Some(ok))).is_ok());
    }

    #[test]
    fn connection_refused_is_a_transport_error() {
        // Bind then drop, so the port is (very likely) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = Transport::new(&config(None)).unwrap();
        let url = format!("http://127.0.0.1:{port}/api/v1/scheduler");
        let err = transport
            .post(&url, "application/json", &[], b"{}")
            .unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }

    /// A server that reads `requests` requests, then writes `answer` and,
    /// unless `close`, keeps the connection open until the client closes it.
    fn canned(requests: usize, answer: &'static [u8], close: bool) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while seen.windows(4).filter(|w| *w == b"\r\n\r\n").count() < requests {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            stream.write_all(answer).unwrap();
            if !close {
                let _ = stream.read(&mut buf); // until the client hangs up
            }
        });
        port
    }

    fn request(body: &[u8]) -> CallRequest<'_> {
        CallRequest {
            path: "/api/v1/scheduler",
            content_type: "application/json",
            headers: &[("Mesos-Stream-Id", "s")],
            body,
        }
    }

    #[test]
    fn pipelined_answers_are_read_in_order_whatever_their_framing() {
        // Three requests in one write; answers with Content-Length, chunked
        // (split mid-chunk by the kernel or not) and an empty 202.
        let port = canned(
            3,
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n\
              HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n\
              HTTP/1.1 307 Temporary Redirect\r\nLocation: http://m2:5050/api/v1/scheduler\r\nContent-Length: 2\r\n\r\nok",
            false,
        );
        let transport = Transport::new(&config(None)).unwrap();
        let mut connection = transport
            .connect_calls(false, "127.0.0.1", port)
            .unwrap()
            .expect("plain http is pipelined");
        connection
            .send(&[request(b"{}"), request(b"{}"), request(b"{}")])
            .unwrap();
        let (first, keep) = connection.receive().unwrap();
        assert_eq!((first.status, first.body.len(), keep), (202, 0, true));
        let (second, _) = connection.receive().unwrap();
        assert_eq!(
            (second.status, second.text().as_str()),
            (400, "hello world")
        );
        let (third, _) = connection.receive().unwrap();
        assert_eq!(third.status, 307);
        assert_eq!(
            third.header("location"),
            Some("http://m2:5050/api/v1/scheduler")
        );
        assert_eq!(third.body, b"ok");
        assert!(!connection.is_closed());
    }

    #[test]
    fn a_closed_connection_is_noticed_and_a_missing_answer_is_an_error() {
        let port = canned(
            2,
            b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            true,
        );
        let transport = Transport::new(&config(None)).unwrap();
        let mut connection = transport
            .connect_calls(false, "127.0.0.1", port)
            .unwrap()
            .unwrap();
        connection.send(&[request(b"{}"), request(b"{}")]).unwrap();
        let (answer, keep_alive) = connection.receive().unwrap();
        assert_eq!(answer.status, 202);
        assert!(!keep_alive, "Connection: close is reported");
        // The server has hung up: the second answer never comes, which is an
        // error, not a hang.
        let err = connection.receive().unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }

    #[test]
    fn https_without_a_ca_file_is_left_to_ureq() {
        let transport = Transport::new(&config(None)).unwrap();
        assert!(
            transport
                .connect_calls(true, "127.0.0.1", 1)
                .unwrap()
                .is_none()
        );
    }
}
