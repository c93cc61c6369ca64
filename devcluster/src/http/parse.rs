//! Reading one request from a connection: the head with httparse, the body by
//! `Content-Length` or chunked transfer coding (Go and Python clients may chunk).
//!
//! Memory is bounded by the limits, never by a length the client announces: the head may
//! not exceed `max_header_bytes`, a body may not exceed `max_body_bytes`, and buffers grow
//! only as bytes actually arrive.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Headers, Request};

/// Most headers a request may have; more is answered `431`.
const MAX_HEADERS: usize = 100;
/// How much is read from the socket at a time.
const READ_SIZE: usize = 8 << 10;
/// The longest chunk-size line (size plus extensions) accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 4 << 10;

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client closed the connection cleanly between requests.
    Closed,
    /// The socket failed or timed out (or closed mid-request): close without answering.
    Io(io::Error),
    /// A protocol error to answer with this status and plain-text body, then close.
    Reject(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// What the connection loop needs to know about a request besides the request itself.
#[derive(Debug)]
pub(crate) struct Meta {
    /// HTTP/1.0 (no chunked responses, keep-alive only on request).
    pub http10: bool,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// Whether `Accept-Encoding` allows a gzip-compressed body.
    pub accept_gzip: bool,
}

impl Meta {
    /// For the answer to a request that could not be read: plain HTTP/1.1, then close.
    pub(crate) fn rejection() -> Meta {
        Meta {
            http10: false,
            keep_alive: false,
            accept_gzip: false,
        }
    }
}

/// What requests are read from: a connection whose read timeout can be set (for the
/// request-head deadline). In-memory sources have no clock and keep the default no-op.
pub(crate) trait Source: Read + Write {
    /// Makes the next reads give up after `d`.
    fn set_read_timeout(&mut self, _d: Duration) -> io::Result<()> {
        Ok(())
    }
}

/// A connection's input side: the socket plus bytes read but not yet used, which are the
/// start of the next pipelined request.
pub(crate) struct Reader {
    /// Bytes read; `buf[start..]` are not used yet. Consumed bytes are only skipped
    /// (`start` moves) and dropped in one go before the next read: with pipelined
    /// requests in the buffer, cutting each one off the front would move the rest every
    /// time.
    buf: Vec<u8>,
    start: usize,
    /// Where each read lands (zeroed once, not per read), before it is appended to `buf`.
    chunk: Vec<u8>,
    max_header_bytes: usize,
    max_body_bytes: usize,
    /// (time for a complete head once its first byte is here, the idle read timeout to
    /// go back to afterwards); `None`: no deadline.
    head_deadline: Option<(Duration, Duration)>,
}

impl Reader {
    pub(crate) fn new(max_header_bytes: usize, max_body_bytes: usize) -> Reader {
        Reader {
            buf: Vec::new(),
            start: 0,
            chunk: vec![0; READ_SIZE],
            max_header_bytes,
            max_body_bytes,
            head_deadline: None,
        }
    }

    /// From the first byte of a request, its whole head must arrive within `head`, else
    /// the answer is `408` and the connection closes (a client sending a byte now and
    /// then cannot hold a connection forever). Between requests the read timeout is
    /// `idle`.
    pub(crate) fn with_head_deadline(mut self, head: Duration, idle: Duration) -> Reader {
        self.head_deadline = Some((head, idle));
        self
    }

    /// How many bytes of the next request(s) have been read already.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The bytes not used yet.
    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Marks the first `n` unread bytes as used.
    fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// Reads more bytes into the buffer; an early end-of-file is an error.
    fn fill(&mut self, src: &mut impl Read) -> io::Result<()> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // Read into `chunk` and append what came: cheaper than zeroing room for a full
        // read in `buf` each time when requests are small.
        let n = loop {
            match src.read(&mut self.chunk) {
                Ok(n) => break n,
                // A signal landed during the read (with a read timeout set, Linux reports
                // this even for SA_RESTART handlers): not the client's fault, read again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.buf.extend_from_slice(&self.chunk[..n]);
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Reads one complete request. Writes `100 Continue` to `src` when the client waits for
    /// permission before sending the body (curl does for bodies over 1 KiB).
    pub(crate) fn read_request(
        &mut self,
        src: &mut impl Source,
        peer: SocketAddr,
    ) -> Result<(Request, Meta), ReadError> {
        // A large body leaves a large buffer behind; give it back between requests.
        if self.buf.capacity() > 4 * READ_SIZE && self.buffered() <= READ_SIZE {
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.shrink_to(READ_SIZE);
        }
        let mut deadline: Option<Instant> = None;
        let (head_len, mut request, meta, body_kind, expect_continue) = loop {
            if let Some(parsed) = self.parse_head(peer)? {
                break parsed;
            }
            if self.buffered() > self.max_header_bytes {
                return Err(reject(431, "Request header fields too large"));
            }
            // Bytes of a request are here (consumed ones, still in `buf`, do not count).
            if let Some((head, _)) = self.head_deadline
                && self.buffered() > 0
            {
                let end = *deadline.get_or_insert_with(|| Instant::now() + head);
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(reject(408, "Request head not complete in time"));
                }
                src.set_read_timeout(left)?;
            }
            match self.fill(src) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.buffered() == 0 => {
                    return Err(ReadError::Closed);
                }
                Err(e)
                    if deadline.is_some()
                        && matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                {
                    return Err(reject(408, "Request head not complete in time"));
                }
                other => other?,
            }
        };
        if let (Some(_), Some((_, idle))) = (deadline, self.head_deadline) {
            src.set_read_timeout(idle)?;
        }
        self.consume(head_len);
        if let BodyKind::Length(n) = body_kind
            && n > self.max_body_bytes
        {
            return Err(reject(413, "Request body too large"));
        }
        if expect_continue && body_kind != BodyKind::Length(0) && self.buffered() == 0 {
            src.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            src.flush()?;
        }
        request.body = match body_kind {
            BodyKind::Length(n) => self.take(src, n)?,
            BodyKind::Chunked => self.read_chunked(src)?,
        };
        Ok((request, meta))
    }

    /// Parses the head if the buffer holds all of it.
    #[allow(clippy::type_complexity)]
    fn parse_head(
        &self,
        peer: SocketAddr,
    ) -> Result<Option<(usize, Request, Meta, BodyKind, bool)>, ReadError> {
        // Uninitialised slots: httparse fills only as many as the request has, and
        // initialising all 100 (3 KB) for every request cost more than parsing it.
        let mut headers =
            [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut []);
        let head_len = match parsed.parse_with_uninit_headers(self.unread(), &mut headers) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(reject(431, "Too many request headers"));
            }
            Err(e) => return Err(reject(400, &format!("Malformed request: {e}"))),
        };
        if head_len > self.max_header_bytes {
            return Err(reject(431, "Request header fields too large"));
        }
        let http10 = parsed.version == Some(0);
        let headers = Headers::parsed(parsed.headers);
        let target = parsed.path.unwrap_or("/");
        let (path, query) = split_target(target)?;
        let request = Request {
            method: parsed.method.unwrap_or("GET").to_string(),
            path,
            query,
            headers,
            body: Vec::new(),
            peer,
        };
        let body_kind = body_kind(&request)?;
        let connection = request.header("Connection").unwrap_or("");
        let has_token = |token: &str| {
            connection
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let keep_alive = if http10 {
            has_token("keep-alive")
        } else {
            !has_token("close")
        };
        let expect_continue = !http10
            && request
                .header("Expect")
                .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
        let accept_gzip = request
            .header("Accept-Encoding")
            .is_some_and(super::gzip::accepts);
        let meta = Meta {
            http10,
            keep_alive,
            accept_gzip,
        };
        Ok(Some((head_len, request, meta, body_kind, expect_continue)))
    }

    /// Takes exactly `n` body bytes (`n` already checked against the limit).
    fn take(&mut self, src: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
        while self.buffered() < n {
            self.fill(src)?;
        }
        let body = self.unread()[..n].to_vec();
        self.consume(n);
        Ok(body)
    }

    /// Reads one CRLF- (or LF-) terminated line, without the line ending.
    fn line(&mut self, src: &mut impl Read, limit: usize) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(pos) = self.unread().iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.unread()[..=pos].to_vec();
                self.consume(pos + 1);
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buffered() > limit {
                return Err(reject(400, "Malformed chunked body: line too long"));
            }
            self.fill(src)?;
        }
    }

    /// Reads a chunked body: `<hex size>[;ext]\r\n<data>\r\n` ... `0\r\n[trailers]\r\n`.
    fn read_chunked(&mut self, src: &mut impl Read) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.line(src, MAX_CHUNK_LINE)?;
            let size = parse_chunk_size(&line)
                .ok_or_else(|| reject(400, "Malformed chunked body: bad chunk size"))?;
            if size == 0 {
                break;
            }
            if size > self.max_body_bytes.saturating_sub(body.len()) {
                return Err(reject(413, "Request body too large"));
            }
            let data = self.take(src, size)?;
            body.extend_from_slice(&data);
            if !self.line(src, 2)?.is_empty() {
                return Err(reject(
                    400,
                    "Malformed chunked body: missing CRLF after chunk",
                ));
            }
        }
        // Trailer fields are read and dropped; an empty line ends the body.
        let mut trailer_bytes = 0;
        loop {
            let line = self.line(src, self.max_header_bytes)?;
            if line.is_empty() {
                return Ok(body);
            }
            trailer_bytes += line.len();
            if trailer_bytes > self.max_header_bytes {
                return Err(reject(431, "Request trailer fields too large"));
            }
        }
    }
}

fn reject(status: u16, message: &str) -> ReadError {
    ReadError::Reject(status, message.to_string())
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Length(usize),
    Chunked,
}

/// Determines the body framing (RFC 9112 §6.3): chunked transfer coding wins over
/// `Content-Length`; a transfer coding that does not end in `chunked` cannot be delimited;
/// conflicting or unparsable `Content-Length` values are rejected (request smuggling).
fn body_kind(request: &Request) -> Result<BodyKind, ReadError> {
    let header_values = |name: &'static str| {
        request
            .headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let codings: Vec<&str> = header_values("Transfer-Encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(last) = codings.last() {
        if last.eq_ignore_ascii_case("chunked") && codings.len() == 1 {
            return Ok(BodyKind::Chunked);
        }
        return Err(reject(501, "Unsupported transfer coding"));
    }
    let mut length = None;
    for value in header_values("Content-Length").flat_map(|v| v.split(',')) {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(reject(400, "Malformed Content-Length"));
        }
        // Too many digits to fit: certainly above any limit.
        let n = value.parse::<usize>().unwrap_or(usize::MAX);
        if length.is_some_and(|l| l != n) {
            return Err(reject(400, "Conflicting Content-Length values"));
        }
        length = Some(n);
    }
    Ok(BodyKind::Length(length.unwrap_or(0)))
}

/// Parses a chunk-size line: hex digits, optionally followed by `;extensions`.
fn parse_chunk_size(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 15 {
        return None; // 15 hex digits keep the value well inside u64/usize on 64-bit.
    }
    usize::from_str_radix(digits, 16).ok()
}

/// Splits a request target into a percent-decoded path and the raw query.
/// Accepts the origin form (`/a/b?x=1`), the absolute form a proxy would send
/// (`http://host:port/a/b?x=1`) and `*` (OPTIONS).
fn split_target(target: &str) -> Result<(String, String), ReadError> {
    let without_fragment = target.split('#').next().unwrap_or("");
    let (raw_path, query) = match without_fragment.split_once('?') {
        Some((p, q)) => (p, q.to_string()),
        None => (without_fragment, String::new()),
    };
    let raw_path = match raw_path.find("://") {
        Some(i) if !raw_path.starts_with('/') => {
            let after_scheme = &raw_path[i + 3..];
            after_scheme.find('/').map_or("/", |j| &after_scheme[j..])
        }
        _ => raw_path,
    };
    if !raw_path.starts_with('/') && raw_path != "*" {
        return Err(reject(400, "Malformed request target"));
    }
    let decoded = percent_decode(raw_path.as_bytes(), false);
    let path = String::from_utf8(decoded)
        .map_err(|_| reject(400, "Request path is not valid UTF-8 after decoding"))?;
    Ok((path, query))
}

/// Decodes one query-string key or value (`%XX` escapes, `+` as space), lossily as UTF-8.
pub(crate) fn decode_query_component(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(s.as_bytes(), true)).into_owned()
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are.
fn percent_decode(input: &[u8], plus_as_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}
