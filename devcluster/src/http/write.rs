//! Writing responses: status line, headers in Mesos' order, chunk framing, and `Date`.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// How the body of a response is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n` (also for HEAD, where the body itself is left out).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No length: the body ends when the connection closes (streams to HTTP/1.0 clients).
    UntilClose,
    /// No body and no length header at all (1xx, 204, 304).
    None,
}

/// The standard reason phrase for `status` ("Temporary Redirect" for 307, ...).
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        422 => "Unprocessable Entity",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Whether a response with this status never has a body (RFC 9110 §6.4.1).
pub(crate) fn status_has_no_body(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// Builds the status line and headers, ending with the blank line.
///
/// Header order follows what Mesos 1.12 sends (fixtures `NOTES.md`): `Date` first; then
/// `Transfer-Encoding` for streams; then the extra headers (`Allow`, `Location`,
/// `Mesos-Stream-Id`, ...); then `Content-Type` and `Content-Length`, where a plain-text
/// (error) body puts `Content-Type` first and other bodies put `Content-Length` first.
/// Clients must not care about the order, but matching it keeps captures comparable.
pub(crate) fn head(
    status: u16,
    headers: &[(String, String)],
    framing: Framing,
    connection: Option<&str>,
    now: SystemTime,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(&mut out, status.into());
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b"Date: ");
    with_http_date_cached(now, |date| out.extend_from_slice(date.as_bytes()));
    out.extend_from_slice(b"\r\n");
    if framing == Framing::Chunked {
        push_header(&mut out, "Transfer-Encoding", "chunked");
    }
    let mut content_type = None;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("Content-Type") {
            content_type = Some(value.as_str());
        } else if !is_framing_header(name) {
            push_header(&mut out, name, value);
        }
    }
    if let Some(c) = connection {
        push_header(&mut out, "Connection", c);
    }
    let text_first = content_type.is_some_and(|c| c.starts_with("text/plain"));
    if text_first && let Some(c) = content_type {
        push_header(&mut out, "Content-Type", c);
    }
    if let Framing::Length(n) = framing {
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(&mut out, n as u64);
        out.extend_from_slice(b"\r\n");
    }
    if !text_first && let Some(c) = content_type {
        push_header(&mut out, "Content-Type", c);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Appends `n` in decimal. Every response head and every RecordIO record carries a
/// number: written directly instead of through `write!` (its formatting machinery cost
/// more than the rest of a 202's head).
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `n` in lowercase hexadecimal (a chunk size), like [`push_decimal`].
pub(crate) fn push_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[(n % 16) as usize];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Headers the server owns: a handler setting them would corrupt the framing.
fn is_framing_header(name: &str) -> bool {
    ["Content-Length", "Transfer-Encoding", "Connection", "Date"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    // A CR or LF in a value would let it inject headers; such bytes are replaced.
    let push_clean = |out: &mut Vec<u8>, s: &str| {
        let start = out.len();
        out.extend_from_slice(s.as_bytes());
        for b in &mut out[start..] {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
    };
    push_clean(out, name);
    out.extend_from_slice(b": ");
    push_clean(out, value);
    out.extend_from_slice(b"\r\n");
}

/// Writes `data` as one HTTP chunk (`<hex size>\r\n<data>\r\n`) and flushes it, so that the
/// client receives each record as soon as the cluster produced it.
/// The caller never passes empty data: a zero-size chunk is the terminator.
pub(crate) fn write_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(data.len() + 20);
    push_chunk(&mut buf, data);
    w.write_all(&buf)?;
    w.flush()
}

/// Appends `data` framed as one HTTP chunk (`<hex size>\r\n<data>\r\n`) to `out`, so that
/// several chunks can go out in one write. `data` must not be empty (that is the terminator).
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    push_hex(out, data.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Writes the start of a chunk announcing one byte more than `data`, then `data`: a chunk
/// cut short on purpose (fault injection).
pub(crate) fn write_cut_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let mut buf = Vec::new();
    push_cut_chunk(&mut buf, data);
    w.write_all(&buf)?;
    w.flush()
}

/// Appends what [`write_cut_chunk`] writes to `out`.
pub(crate) fn push_cut_chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len() + 1).as_bytes());
    out.extend_from_slice(data);
}

/// The chunked-body terminator (no trailers).
pub(crate) const TERMINATOR: &[u8] = b"0\r\n\r\n";

/// Calls `f` with [`http_date`] of `time`, formatted once per second per thread: every
/// response carries a `Date`, and a busy connection answers thousands of requests a second
/// (lent, not copied: no allocation per response).
fn with_http_date_cached(time: SystemTime, f: impl FnOnce(&str)) {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, http_date(time));
        }
        f(&last.1);
    })
}

/// Formats `time` as an RFC 7231 IMF-fixdate, e.g. `Mon, 23 Nov 2026 22:42:42 GMT`,
/// the only `Date` format a server may send. Times before 1970 print as the epoch.
pub fn http_date(time: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize], // 1970-01-01 was a Thursday
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Converts days since 1970-01-01 into (year, month 1..=12, day 1..=31) of the proleptic
/// Gregorian calendar. Works in 400-year "eras" that start on March 1st, so the leap day
/// is the last day of the shifted year and month lengths follow a simple formula.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01: 719_468 days before 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097; // days per 400 years
    let doe = z % 146_097; // day of era, 0..=146_096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March-based) year, 0..=365
    let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
