//! A tiny HTTP/1.1 client over `std::net::TcpStream`, written for the conformance suite.
//!
//! It deliberately does what a foreign client (mesos-go, pymesos, curl) does on the wire and
//! nothing more, so tests see exact status lines, headers and body bytes: requests are
//! written by hand, response heads are parsed line by line, chunked bodies are de-framed
//! strictly (CRLF after every chunk), and streaming bodies are read by a background thread
//! that decodes RecordIO with [`mesos_proto::recordio::Decoder`] and hands events over a
//! channel. The channel is what gives every wait a deadline without ever leaving the
//! decoder half-way through a record (a socket read timeout would).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

mod stream;
pub use stream::{End, EventStream, Next, open_stream};

/// Every blocking read of a non-streaming response gives up after this long.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// `host:port` from `http://host:port` (or a bare `host:port`).
pub fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// The status line and headers of a response.
#[derive(Debug, Clone)]
pub struct Head {
    /// The status code, e.g. 202.
    pub status: u16,
    /// The reason phrase, e.g. `Accepted`.
    pub reason: String,
    /// Headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the header is present.
    pub fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// A complete, non-streaming response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status line and headers.
    pub head: Head,
    /// The body bytes (de-chunked if the response was chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// Writes one request and returns the connection, ready for the response.
///
/// `body: None` sends no `Content-Length` (a GET as curl sends it); `Some(b)` always sends
/// `Content-Length`, even for an empty body.
pub fn send(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<TcpStream> {
    let mut sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    sock.write_all(&bytes)?;
    Ok(sock)
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one CRLF-terminated line (without the CRLF); a bare LF is a protocol error.
fn read_crlf_line<R: BufRead>(r: &mut R) -> io::Result<String> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(bad(format!(
            "line not ended by CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| bad("non-UTF-8 header line"))
}

/// Parses the status line and headers.
pub fn read_head<R: BufRead>(r: &mut R) -> io::Result<Head> {
    let status_line = read_crlf_line(r)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if version != "HTTP/1.1" {
        return Err(bad(format!("unexpected status line {status_line:?}")));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("no status code in {status_line:?}")))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_crlf_line(r)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Head {
        status,
        reason,
        headers,
    })
}

/// Whether the head announces a chunked body.
fn is_chunked(head: &Head) -> bool {
    head.header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
}

/// Reads a complete body after `head`: by `Content-Length`, chunked, or to EOF.
pub fn read_body<R: BufRead>(r: &mut R, head: &Head) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if is_chunked(head) {
        Chunked::new(r).read_to_end(&mut body)?;
    } else if let Some(len) = head.header("Content-Length") {
        let len: usize = len
            .parse()
            .map_err(|_| bad(format!("bad Content-Length {len}")))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else if head.status != 204 && head.status != 304 {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// One request, one complete response (the connection is then dropped).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<Response> {
    let sock = send(addr, method, path, headers, body)?;
    let mut r = BufReader::new(sock);
    let head = read_head(&mut r)?;
    let body = read_body(&mut r, &head)?;
    Ok(Response { head, body })
}

/// `GET path` (no body), panicking on I/O errors.
pub fn get(addr: &str, path: &str) -> Response {
    request(addr, "GET", path, &[], None).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `POST path` with a body, panicking on I/O errors.
pub fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    request(addr, "POST", path, headers, Some(body)).unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// A strict de-framer for `Transfer-Encoding: chunked`.
pub struct Chunked<R> {
    inner: R,
    left: usize,
    /// Set once the `0` chunk and its final CRLF were read.
    finished: bool,
}

impl<R: BufRead> Chunked<R> {
    /// Wraps a reader positioned at the first chunk-size line.
    pub fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            finished: false,
        }
    }

    /// Whether the terminating zero-length chunk was seen.
    pub fn finished(&self) -> bool {
        self.finished
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = read_crlf_line(&mut self.inner)?;
            // Chunk extensions (`;name=value`) are legal; Mesos never sends them.
            let size = line.split(';').next().unwrap_or_default().trim();
            let n = usize::from_str_radix(size, 16)
                .map_err(|_| bad(format!("bad chunk size line {line:?}")))?;
            if n == 0 {
                // No trailers are expected: the next line must be the empty one.
                let trailer = read_crlf_line(&mut self.inner)?;
                if !trailer.is_empty() {
                    return Err(bad(format!("unexpected trailer {trailer:?}")));
                }
                self.finished = true;
                return Ok(0);
            }
            self.left = n;
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream cut inside a chunk",
            ));
        }
        self.left -= n;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
            if &crlf != b"\r\n" {
                return Err(bad("chunk data not followed by CRLF"));
            }
        }
        Ok(n)
    }
}
