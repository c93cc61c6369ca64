//! Unit tests of the pieces that need no socket: dates, header order, request parsing over
//! an in-memory stream, Basic auth and credentials files. Socket-level behaviour (keep-alive,
//! streams, TLS, shutdown) is tested with raw TCP clients in `tests/http_server.rs`.

use std::io::{self, Cursor, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use super::parse::{ReadError, Reader};
use super::write::{self, Framing};
use super::*;

fn date(secs: u64) -> String {
    http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

#[test]
fn http_date_is_imf_fixdate() {
    assert_eq!(date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(date(1_795_473_762), "Mon, 23 Nov 2026 22:42:42 GMT");
    assert_eq!(date(951_825_600), "Tue, 29 Feb 2000 12:00:00 GMT");
    assert_eq!(date(1_709_168_523), "Thu, 29 Feb 2024 01:02:03 GMT");
    assert_eq!(date(946_684_799), "Fri, 31 Dec 1999 23:59:59 GMT");
    assert_eq!(date(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
    assert_eq!(date(0).len(), 29);
}

fn head_text(status: u16, headers: &[(&str, &str)], framing: Framing) -> String {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let bytes = write::head(status, &headers, framing, None, UNIX_EPOCH);
    String::from_utf8(bytes).unwrap()
}

#[test]
fn header_order_matches_mesos() {
    let d = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    assert_eq!(
        head_text(202, &[], Framing::Length(0)),
        format!("HTTP/1.1 202 Accepted\r\n{d}Content-Length: 0\r\n\r\n")
    );
    let text = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Allow", "POST"),
    ];
    assert_eq!(
        head_text(405, &text, Framing::Length(3)),
        format!(
            "HTTP/1.1 405 Method Not Allowed\r\n{d}Allow: POST\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n"
        )
    );
    let json = [("Content-Type", "application/json")];
    assert_eq!(
        head_text(200, &json, Framing::Length(2)),
        format!(
            "HTTP/1.1 200 OK\r\n{d}Content-Length: 2\r\nContent-Type: application/json\r\n\r\n"
        )
    );
    let stream = [
        ("Content-Type", "application/json"),
        ("Mesos-Stream-Id", "abc"),
    ];
    assert_eq!(
        head_text(200, &stream, Framing::Chunked),
        format!(
            "HTTP/1.1 200 OK\r\n{d}Transfer-Encoding: chunked\r\nMesos-Stream-Id: abc\r\n\
             Content-Type: application/json\r\n\r\n"
        )
    );
    // Handler-set framing headers are dropped; CR/LF cannot inject headers.
    let evil = [("Content-Length", "5"), ("X-A", "1\r\nX-B: 2")];
    assert_eq!(
        head_text(307, &evil, Framing::Length(0)),
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\n{d}X-A: 1  X-B: 2\r\nContent-Length: 0\r\n\r\n"
        )
    );
}

/// An in-memory connection: reads from `input`, collects what is written.
struct Mem {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl super::parse::Source for Mem {}

impl Read for Mem {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Mem {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn mem(input: &[u8]) -> Mem {
    Mem {
        input: Cursor::new(input.to_vec()),
        output: Vec::new(),
    }
}

fn peer() -> SocketAddr {
    "127.0.0.1:9".parse().unwrap()
}

fn read_all(input: &[u8], max_body: usize) -> (Vec<Result<Request, ReadError>>, Vec<u8>) {
    let mut conn = mem(input);
    let mut reader = Reader::new(1024, max_body);
    let mut out = Vec::new();
    loop {
        match reader.read_request(&mut conn, peer()) {
            Err(ReadError::Closed) => break,
            Ok((r, _)) => out.push(Ok(r)),
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    (out, conn.output)
}

fn status_of(r: &Result<Request, ReadError>) -> Option<u16> {
    match r {
        Err(ReadError::Reject(s, _)) => Some(*s),
        _ => None,
    }
}

#[test]
fn parses_pipelined_requests_with_both_body_framings() {
    let input = b"POST /a%20b?x=1&y=%41+B HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc\
        POST /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n\
        3;ext=1\r\nxyz\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n\
        GET http://example.com:80/d/e?q HTTP/1.0\r\n\r\n";
    let (requests, _) = read_all(input, 100);
    let requests: Vec<Request> = requests.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].path, "/a b");
    assert_eq!(requests[0].query, "x=1&y=%41+B");
    assert_eq!(requests[0].query_param("y").as_deref(), Some("A B"));
    assert_eq!(requests[0].query_param("z"), None);
    assert_eq!(requests[0].header("HOST"), Some("h"));
    assert_eq!(requests[0].body, b"abc");
    assert_eq!(requests[1].body, b"xyz0123456789");
    assert_eq!(
        (requests[2].method.as_str(), requests[2].path.as_str()),
        ("GET", "/d/e")
    );
    assert_eq!(requests[2].query_param("q").as_deref(), Some(""));
}

#[test]
fn rejects_bad_and_oversized_requests() {
    let cases: [(&[u8], u16); 9] = [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /\x01 HTTP/1.1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            413,
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n",
            413,
        ),
    ];
    for (input, status) in cases {
        let (results, _) = read_all(input, 100);
        assert_eq!(
            status_of(&results[0]),
            Some(status),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
    assert_eq!(status_of(&read_all(huge.as_bytes(), 100).0[0]), Some(431));
    // Chunks that add up past the limit.
    let many = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()
        + &format!("32\r\n{}\r\n", "x".repeat(50)).repeat(3);
    assert_eq!(status_of(&read_all(many.as_bytes(), 100).0[0]), Some(413));
    // A truncated body is an I/O error (close without answering), not a request.
    let (results, _) = read_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 100);
    assert!(matches!(results[0], Err(ReadError::Io(_))));
}

#[test]
fn answers_expect_100_continue() {
    let input = b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    let mut conn = mem(input);
    conn.input.get_mut().extend_from_slice(b"hi");
    // The body is already buffered after the head here, so no 100 is needed...
    let mut reader = Reader::new(1024, 100);
    let (request, _) = reader.read_request(&mut conn, peer()).unwrap();
    assert_eq!(request.body, b"hi");
    assert!(conn.output.is_empty());
    // ...but when the head arrives alone, the client gets its go-ahead.
    let mut conn = mem(input);
    let mut reader = Reader::new(1024, 100);
    assert!(reader.read_request(&mut conn, peer()).is_err()); // then EOF: no body
    assert_eq!(conn.output, b"HTTP/1.1 100 Continue\r\n\r\n");
}

fn request_with(headers: &[(&str, &str)]) -> Request {
    Request {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: headers.iter().copied().collect(),
        body: Vec::new(),
        peer: peer(),
    }
}

#[test]
fn basic_auth_header() {
    // base64("alice:s3:cret") -- the first colon splits.
    let r = request_with(&[("authorization", "basic YWxpY2U6czM6Y3JldA==")]);
    let expected = ("alice".to_string(), "s3:cret".to_string());
    assert_eq!(r.basic_auth(), Some(expected));
    for bad in ["Bearer abc", "Basic !!!", "Basic YWxpY2U=", "Basic"] {
        assert_eq!(
            request_with(&[("Authorization", bad)]).basic_auth(),
            None,
            "{bad}"
        );
    }
    assert_eq!(request_with(&[]).basic_auth(), None);
}

#[test]
fn credentials_in_both_formats() {
    let json =
        r#"{"credentials":[{"principal":"p1","secret":"s1"},{"principal":"p2","secret":"s 2"}]}"#;
    let c = Credentials::parse(json).unwrap();
    assert!(c.check("p1", "s1") && c.check("p2", "s 2"));
    assert!(
        !c.check("p1", "s2") && !c.check("p1", "s11") && !c.check("p1", "") && !c.check("p3", "s1")
    );
    assert_eq!(c.principals().collect::<Vec<_>>(), ["p1", "p2"]);

    let text = "# principals\n\np1 s1\n  p2\t s2  \n";
    let c = Credentials::parse(text).unwrap();
    assert!(c.check("p1", "s1") && c.check("p2", "s2") && !c.check("p2", "s1"));
    assert!(Credentials::parse("").unwrap().is_empty());

    for bad in [
        "p1",
        "p1 s1 extra",
        "{\"credentials\": 3}",
        "{\"credentials\":[{\"secret\":\"s\"}]}",
        "{",
    ] {
        let err = Credentials::parse(bad).unwrap_err();
        assert!(!err.contains("s1"), "error leaks a secret: {err}");
    }
    // Debug output names principals only.
    let shown = format!("{:?}", Credentials::parse("who topsecret").unwrap());
    assert!(
        shown.contains("who") && !shown.contains("topsecret"),
        "{shown}"
    );
}

#[test]
fn credentials_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds");
    std::fs::write(
        &path,
        "{\"credentials\":[{\"principal\":\"a\",\"secret\":\"b\"}]}",
    )
    .unwrap();
    assert!(Credentials::from_file(&path).unwrap().check("a", "b"));
    assert!(Credentials::from_file(dir.path().join("missing")).is_err());
}

#[test]
fn unauthorized_response_shape() {
    let r = unauthorized("mesos-master-scheduler");
    assert_eq!(r.status, 401);
    let has = |n: &str, v: &str| r.headers.iter().any(|(a, b)| a == n && b == v);
    assert!(has(
        "WWW-Authenticate",
        "Basic realm=\"mesos-master-scheduler\""
    ));
    assert!(has("Content-Type", "text/plain; charset=utf-8"));
    assert!(matches!(&r.body, Body::Bytes(b) if b == b"401 Unauthorized."));
}

/// Headers share one string: each name and value comes back whole, in order, including
/// empty values and repeated names; lookups ignore the name's case and find the first.
#[test]
fn headers_keep_order_names_and_values() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nmesos-stream-id:  s-1 \r\nX-Two: 1\r\nx-two: 2\r\n\r\n";
    let mut conn = mem(input);
    let (req, _) = Reader::new(1024, 100)
        .read_request(&mut conn, peer())
        .unwrap();
    let all: Vec<(&str, &str)> = req.headers.iter().collect();
    assert_eq!(
        all,
        [
            ("Host", "a"),
            ("X-Empty", ""),
            ("mesos-stream-id", "s-1"),
            ("X-Two", "1"),
            ("x-two", "2")
        ]
    );
    assert_eq!(req.headers.len(), 5);
    assert_eq!(req.header("Mesos-Stream-Id"), Some("s-1"));
    assert_eq!(req.header("x-TWO"), Some("1"));
    assert_eq!(req.header("X-Empty"), Some(""));
    assert_eq!(req.header("Missing"), None);
    let mut built = crate::http::Headers::default();
    assert!(built.is_empty());
    built.push("A", "b");
    assert_eq!(built.iter().collect::<Vec<_>>(), [("A", "b")]);
}

/// The numbers in heads and chunk sizes are what `format!` would write.
#[test]
fn numbers_are_written_as_format_would() {
    for n in [0u64, 1, 9, 10, 15, 16, 202, 4095, 65_536, 1 << 40, u64::MAX] {
        let mut dec = Vec::new();
        write::push_decimal(&mut dec, n);
        assert_eq!(String::from_utf8(dec).unwrap(), n.to_string());
        let mut hex = Vec::new();
        write::push_hex(&mut hex, n);
        assert_eq!(String::from_utf8(hex).unwrap(), format!("{n:x}"));
    }
}

/// The ASCII fast path keeps what converting and trimming each value gives.
#[test]
fn parsed_headers_trim_as_str_trim_does() {
    let values: [&[u8]; 9] = [
        b"plain",
        b"  both sides \t",
        b"",
        b"   ",
        b"\x0b \x0bvt\x0c\r\n",
        b"inner  spaces kept",
        "caf\u{e9} \u{3000}".as_bytes(),
        b"\xff\xfe not utf-8 ",
        b" \xc3\xa9 ",
    ];
    for value in values {
        let fields = [httparse::Header { name: "X-V", value }];
        let h = Headers::parsed(&fields);
        let expected = String::from_utf8_lossy(value).trim().to_string();
        assert_eq!(h.get("x-v"), Some(expected.as_str()), "{value:?}");
        assert_eq!(h.len(), 1);
    }
    let fields = [
        httparse::Header {
            name: "A",
            value: b" 1 ",
        },
        httparse::Header {
            name: "Bb",
            value: b"\xe9",
        },
    ];
    let h = Headers::parsed(&fields);
    let all: Vec<(&str, &str)> = h.iter().collect();
    assert_eq!(all, [("A", "1"), ("Bb", "\u{fffd}")]);
}
