//! Bad input: malformed calls to devcluster's scheduler and executor endpoints, each
//! answered with the status code Mesos 1.12 gives (fact sheet §1.7 and the captured
//! `err-*.exchange.txt` fixtures), never with a panic, a hang or an allocation the size a
//! client claims. The table with the Mesos behaviour of every row is in
//! `docs/reliability.md` ("Bad input").
//!
//! Every test sends raw bytes on a fresh connection (so nothing a friendly client would
//! fix up gets fixed), reads the answer with a deadline, and then checks that the same
//! server still answers `GET /health`: a bad request may cost its own connection, never
//! the server.

use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use devcluster::Cluster;
use e2e_tests::http::{self, Response};
use e2e_tests::sched::{SCHEDULER, Sched, b64, framework};
use e2e_tests::testcluster;

/// The executor endpoint path.
const EXECUTOR: &str = "/api/v1/executor";

/// How long any answer may take. Every one comes back in milliseconds; this only turns a
/// hang into a failure.
const ANSWER: Duration = Duration::from_secs(5);

/// What came back for one malformed request.
#[derive(Debug)]
enum Outcome {
    /// A complete response.
    Answered(Response),
    /// The server closed the connection without a response (what Mesos does when its
    /// HTTP decoder fails).
    Closed,
}

/// A cluster with one agent and one subscribed framework: the stream id and framework id
/// the stream-id rows need, and an agent for the executor rows.
struct Ctx {
    _cluster: Cluster,
    master: String,
    agent: String,
    sched: Sched,
}

fn ctx() -> Ctx {
    let (cluster, master) = testcluster::start(1);
    let agent = http::host_port(&cluster.agent_urls()[0]);
    let sched = Sched::subscribe(&master, framework("bad-input"));
    Ctx {
        _cluster: cluster,
        master,
        agent,
        sched,
    }
}

/// The bytes of one request: request line, `Host`, the given headers, `Content-Length`
/// when there is a body, the body.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: devcluster\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// A JSON POST with `Content-Type: application/json` and optional extra headers.
fn json_post(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    request("POST", path, &h, Some(body))
}

/// Sends `bytes` on a new connection to `addr` (half-closing our side first when
/// `half_close`), then reads one response within [`ANSWER`].
///
/// # Panics
///
/// When nothing comes back in time (a hang), or the response is not HTTP/1.1.
fn exchange(addr: &str, bytes: &[u8], half_close: bool) -> Outcome {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(ANSWER)).expect("timeout");
    sock.set_write_timeout(Some(ANSWER)).expect("timeout");
    // The server may answer and close before it read everything (413, 431): a failed
    // write is then expected, the answer is what counts.
    let _ = sock.write_all(bytes);
    if half_close {
        let _ = sock.shutdown(Shutdown::Write);
    }
    let mut r = BufReader::new(sock);
    match http::read_head(&mut r) {
        Ok(head) => {
            let body = http::read_body(&mut r, &head).unwrap_or_default();
            Outcome::Answered(Response { head, body })
        }
        Err(e)
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock)
                || matches!(e.kind(), std::io::ErrorKind::TimedOut) =>
        {
            panic!("no answer within {ANSWER:?}: the server hangs on this input")
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            Outcome::Closed
        }
        Err(e) => panic!("not an HTTP response: {e}"),
    }
}

/// The server at `addr` still works.
fn assert_alive(addr: &str) {
    let r = http::get(addr, "/health");
    assert_eq!(
        r.status(),
        200,
        "the server stopped answering: {}",
        r.text()
    );
}

/// Sends `bytes` to `addr` and asserts the status and that the (text/plain) body contains
/// `reason`; then that the server is still alive.
fn expect(addr: &str, bytes: &[u8], status: u16, reason: &str) -> Response {
    let r = match exchange(addr, bytes, false) {
        Outcome::Answered(r) => r,
        Outcome::Closed => panic!("closed without an answer; expected {status}"),
    };
    assert_eq!(r.status(), status, "body: {}", r.text());
    assert!(
        r.text().contains(reason),
        "expected {reason:?} in the body, got {:?}",
        r.text()
    );
    if status >= 400 {
        assert_eq!(
            r.header("Content-Type"),
            Some("text/plain; charset=utf-8"),
            "error bodies are plain text"
        );
    }
    assert_alive(addr);
    r
}

/// Like [`expect`], but closing the connection without an answer is also right (that is
/// what Mesos' HTTP layer does with requests it cannot parse).
fn expect_or_closed(addr: &str, bytes: &[u8], half_close: bool, statuses: &[u16]) {
    let outcome = exchange(addr, bytes, half_close);
    eprintln!("outcome: {outcome:?}");
    match outcome {
        Outcome::Answered(r) => assert!(
            statuses.contains(&r.status()),
            "expected one of {statuses:?}, got {} {}",
            r.status(),
            r.text()
        ),
        Outcome::Closed => {}
    }
    assert_alive(addr);
}

/// A valid RECONCILE of the context's framework.
fn reconcile(fw: &str) -> String {
    format!(
        r#"{{"framework_id":{{"value":"{fw}"}},"type":"RECONCILE","reconcile":{{"tasks":[]}}}}"#
    )
}

/// An ACKNOWLEDGE of the context's framework whose `uuid` field is `uuid_json`.
fn acknowledge(fw: &str, uuid_json: &str) -> String {
    format!(
        r#"{{"framework_id":{{"value":"{fw}"}},"type":"ACKNOWLEDGE","acknowledge":{{"agent_id":{{"value":"a"}},"task_id":{{"value":"t"}},"uuid":{uuid_json}}}}}"#
    )
}

// ---- HTTP framing -------------------------------------------------------------------

/// Row 1: `Content-Length: 10^12`. The answer comes at once, before any body byte: the
/// server never reserves what a client merely announces.
#[test]
fn huge_content_length_is_413_at_once() {
    let c = ctx();
    let bytes = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 1000000000000\r\n\r\n{{"
    );
    expect(&c.master, bytes.as_bytes(), 413, "too large");
}

/// Row 2: a `Content-Length` that does not fit in 64 bits.
#[test]
fn overflowing_content_length_is_refused() {
    let c = ctx();
    let bytes = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 99999999999999999999999999\r\n\r\n"
    );
    expect_or_closed(&c.master, bytes.as_bytes(), false, &[400, 413]);
}

/// Row 3: the body is shorter than `Content-Length` and the client stops sending.
#[test]
fn truncated_body_then_eof_closes_without_answer() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let mut bytes = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Mesos-Stream-Id: {}\r\nContent-Length: {}\r\n\r\n",
        c.sched.stream_id,
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body.as_bytes()[..body.len() / 2]);
    expect_or_closed(&c.master, &bytes, true, &[400]);
}

/// Row 4: a chunked body whose chunk-size line is not hexadecimal.
#[test]
fn bad_chunk_size_is_400() {
    let c = ctx();
    let bytes = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    expect_or_closed(&c.master, bytes.as_bytes(), false, &[400]);
}

/// Row 5: a chunk announcing 2^48 bytes: refused as soon as the size line is read.
#[test]
fn huge_chunk_is_413_at_once() {
    let c = ctx();
    let bytes = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n1000000000000\r\n{{"
    );
    expect_or_closed(&c.master, bytes.as_bytes(), false, &[413]);
}

/// Row 6: a request line that is not HTTP.
#[test]
fn garbage_request_line_is_400() {
    let c = ctx();
    expect_or_closed(&c.master, b"\x16\x03\x01 hello\r\n\r\n", false, &[400]);
}

/// Row 7: 100 KiB of headers.
#[test]
fn oversized_headers_are_431() {
    let c = ctx();
    let big = "x".repeat(100 << 10);
    let bytes = request("GET", "/health", &[("X-Big", &big)], None);
    expect_or_closed(&c.master, &bytes, false, &[431]);
}

// ---- Scheduler endpoint: method, path, content type ---------------------------------

/// Row 8: GET (fixture `err-get-method`).
#[test]
fn get_on_scheduler_is_405() {
    let c = ctx();
    let r = expect(
        &c.master,
        &request("GET", SCHEDULER, &[], None),
        405,
        "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'.",
    );
    assert_eq!(r.header("Allow"), Some("POST"));
}

/// Row 9: PUT with a valid body: the method is checked before the body.
#[test]
fn put_on_scheduler_is_405() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let bytes = request(
        "PUT",
        SCHEDULER,
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    expect(&c.master, &bytes, 405, "but received 'PUT'");
}

/// Row 10: an unknown path (fixture `err-unknown-path`).
#[test]
fn unknown_path_is_404() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    expect(
        &c.master,
        &json_post("/no/such/path", &[], body.as_bytes()),
        404,
        "",
    );
}

/// Row 11: no `Content-Type` (fixture `err-no-content-type`).
#[test]
fn missing_content_type_is_400() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let bytes = request(
        "POST",
        SCHEDULER,
        &[("Mesos-Stream-Id", &c.sched.stream_id)],
        Some(body.as_bytes()),
    );
    expect(
        &c.master,
        &bytes,
        400,
        "Expecting 'Content-Type' to be present",
    );
}

/// Row 12: `Content-Type: text/plain` (fixture `err-content-type-text-plain`).
#[test]
fn text_plain_is_415() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let bytes = request(
        "POST",
        SCHEDULER,
        &[("Content-Type", "text/plain")],
        Some(body.as_bytes()),
    );
    expect(
        &c.master,
        &bytes,
        415,
        "Expecting 'Content-Type' of application/json or application/x-protobuf",
    );
}

/// Row 13: `application/json; charset=utf-8` (fixture `err-content-type-json-charset`).
#[test]
fn json_with_charset_is_415() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let bytes = request(
        "POST",
        SCHEDULER,
        &[("Content-Type", "application/json; charset=utf-8")],
        Some(body.as_bytes()),
    );
    expect(&c.master, &bytes, 415, "Expecting 'Content-Type'");
}

/// Row 14: SUBSCRIBE with `Accept: text/html` (fixture `err-subscribe-accept-text-html`).
#[test]
fn subscribe_accept_html_is_406() {
    let c = ctx();
    let body = br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    expect(
        &c.master,
        &json_post(SCHEDULER, &[("Accept", "text/html")], body),
        406,
        "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
    );
}

// ---- Scheduler endpoint: JSON bodies ------------------------------------------------

/// Row 15: not JSON at all (fixture `err-malformed-json`).
#[test]
fn malformed_json_is_400() {
    let c = ctx();
    let bytes = json_post(
        SCHEDULER,
        &[("Mesos-Stream-Id", &c.sched.stream_id)],
        b"{not json",
    );
    expect(&c.master, &bytes, 400, "Failed to parse body into JSON");
}

/// Row 16: a call cut in the middle (the `Content-Length` matches what was sent).
#[test]
fn truncated_json_is_400() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let cut = &body.as_bytes()[..body.len() - 7];
    let bytes = json_post(SCHEDULER, &[("Mesos-Stream-Id", &c.sched.stream_id)], cut);
    expect(&c.master, &bytes, 400, "Failed to parse body into JSON");
}

/// Row 17: 100 000 nested arrays inside a FrameworkInfo: refused by the parser's depth
/// limit, without recursing 100 000 frames deep.
#[test]
fn deeply_nested_json_is_400() {
    let c = ctx();
    let depth = 100_000;
    let body = format!(
        r#"{{"type":"SUBSCRIBE","subscribe":{{"framework_info":{{"user":"u","name":"n","labels":{}{}}}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], body.as_bytes()),
        400,
        "Failed to parse body into JSON",
    );
}

/// Row 18: deep nesting of objects under a key the decoder does not know.
#[test]
fn deeply_nested_unknown_keys_are_400() {
    let c = ctx();
    let depth = 50_000;
    let body = format!(
        r#"{{"type":"SUBSCRIBE","x":{}1{},"subscribe":{{"framework_info":{{"user":"u","name":"n"}}}}}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    );
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], body.as_bytes()),
        400,
        "Failed to parse body into JSON",
    );
}

/// Row 19: bytes that are not UTF-8 inside a JSON string.
#[test]
fn invalid_utf8_json_is_400() {
    let c = ctx();
    let mut body =
        br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":""#.to_vec();
    body.extend_from_slice(b"\xff\xfe\xc3\x28");
    body.extend_from_slice(br#""}}}"#);
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], &body),
        400,
        "Failed to parse body into JSON",
    );
}

/// Row 20: valid JSON that is not an object.
#[test]
fn json_array_is_400() {
    let c = ctx();
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], b"[1,2,3]"),
        400,
        "Failed to convert JSON into Call protobuf",
    );
}

/// Row 21: an unknown call type name (fixture `err-unknown-type-name`).
#[test]
fn unknown_type_name_is_400() {
    let c = ctx();
    let body = format!(
        r#"{{"framework_id":{{"value":"{}"}},"type":"FOO"}}"#,
        c.sched.framework_id
    );
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Failed to validate scheduler::Call: Expecting 'type' to be present",
    );
}

/// Row 22: a field of the wrong JSON type (`type` a number, `value` an object).
#[test]
fn wrong_json_types_are_400() {
    let c = ctx();
    let body = br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":{"a":1},"name":7}}}"#;
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], body),
        400,
        "Failed to convert JSON into Call protobuf",
    );
}

/// Row 23: a `bytes` field (the ACKNOWLEDGE uuid) that is not base64.
#[test]
fn bad_base64_is_400() {
    let c = ctx();
    let body = acknowledge(&c.sched.framework_id, r#""%%% not base64 %%%""#);
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Failed to convert JSON into Call protobuf",
    );
}

/// Row 24: a uuid of 10 bytes (fixture `err-acknowledge-invalid-uuid-10-bytes`).
#[test]
fn short_uuid_is_400() {
    let c = ctx();
    let uuid = format!("\"{}\"", b64(b"not-a-uuid"));
    let body = acknowledge(&c.sched.framework_id, &uuid);
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Failed to validate scheduler::Call: Not a valid UUID",
    );
}

/// Row 25: 16 zero bytes (fixture `err-acknowledge-invalid-uuid-16-zero-bytes`).
#[test]
fn zero_uuid_is_400() {
    let c = ctx();
    let uuid = format!("\"{}\"", b64(&[0u8; 16]));
    let body = acknowledge(&c.sched.framework_id, &uuid);
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Not a valid UUID",
    );
}

/// Row 26: RECONCILE without its payload (fixture `err-reconcile-without-payload`).
#[test]
fn missing_payload_is_400() {
    let c = ctx();
    let body = format!(
        r#"{{"framework_id":{{"value":"{}"}},"type":"RECONCILE"}}"#,
        c.sched.framework_id
    );
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Failed to validate scheduler::Call: Expecting 'reconcile' to be present",
    );
}

// ---- Scheduler endpoint: stream ids and framework ids -------------------------------

/// Row 27: no `Mesos-Stream-Id` (fixture `err-missing-stream-id`).
#[test]
fn missing_stream_id_is_400() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    expect(
        &c.master,
        &json_post(SCHEDULER, &[], body.as_bytes()),
        400,
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
    );
}

/// Row 28: a stream id that is not the framework's (fixture `err-wrong-stream-id`).
#[test]
fn wrong_stream_id_is_400() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let wrong = mesos_proto::uuid::to_string(&mesos_proto::uuid::new_v4());
    expect(
        &c.master,
        &json_post(SCHEDULER, &[("Mesos-Stream-Id", &wrong)], body.as_bytes()),
        400,
        &format!("The stream ID '{wrong}' included in this request didn't match"),
    );
}

/// Row 29: a 60 KiB stream id (just under the header limit): compared and refused like
/// any other wrong one.
#[test]
fn giant_stream_id_is_400() {
    let c = ctx();
    let body = reconcile(&c.sched.framework_id);
    let giant = "f".repeat(60 << 10);
    let bytes = json_post(SCHEDULER, &[("Mesos-Stream-Id", &giant)], body.as_bytes());
    expect(&c.master, &bytes, 400, "didn't match");
}

/// Row 30: SUBSCRIBE carrying a stream id (fixture `err-subscribe-with-stream-id`).
#[test]
fn subscribe_with_stream_id_is_400() {
    let c = ctx();
    let body = br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    expect(
        &c.master,
        &json_post(SCHEDULER, &[("Mesos-Stream-Id", &c.sched.stream_id)], body),
        400,
        "Subscribe calls should not include the 'Mesos-Stream-Id' header",
    );
}

/// Row 31: a framework id the master never issued (fixture `err-unknown-framework-id`).
#[test]
fn unknown_framework_is_400() {
    let c = ctx();
    let body = reconcile("no-such-framework");
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        400,
        "Framework cannot be found",
    );
}

/// Row 32: type UNKNOWN. Mesos 1.12 aborts (fixture `err-type-unknown-CRASHES-MASTER`);
/// the handler's intended answer is 501, which devcluster gives.
#[test]
fn type_unknown_is_501() {
    let c = ctx();
    let body = format!(
        r#"{{"framework_id":{{"value":"{}"}},"type":"UNKNOWN"}}"#,
        c.sched.framework_id
    );
    expect(
        &c.master,
        &json_post(
            SCHEDULER,
            &[("Mesos-Stream-Id", &c.sched.stream_id)],
            body.as_bytes(),
        ),
        501,
        "UNKNOWN",
    );
}

// ---- Scheduler endpoint: protobuf bodies --------------------------------------------

fn protobuf_post(path: &str, stream_id: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut h = vec![("Content-Type", "application/x-protobuf")];
    if let Some(s) = stream_id {
        h.push(("Mesos-Stream-Id", s));
    }
    request("POST", path, &h, Some(body))
}

/// Row 33: bytes that are not a protobuf message.
#[test]
fn protobuf_garbage_is_400() {
    let c = ctx();
    let garbage: Vec<u8> = (0..256u32).map(|i| (i * 151 + 7) as u8 | 0x80).collect();
    expect(
        &c.master,
        &protobuf_post(SCHEDULER, Some(&c.sched.stream_id), &garbage),
        400,
        "Failed to parse body into Call protobuf",
    );
}

/// Row 34: a length-delimited field announcing 2^62 bytes: refused without reserving.
#[test]
fn protobuf_huge_length_is_400() {
    let c = ctx();
    // Field 3 (subscribe), wire type 2, then a 9-byte varint for 2^62, then 3 bytes.
    let mut body = vec![(3 << 3) | 2];
    body.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    body.extend_from_slice(b"abc");
    expect(
        &c.master,
        &protobuf_post(SCHEDULER, None, &body),
        400,
        "Failed to parse body into Call protobuf",
    );
}

/// Row 35: a SUBSCRIBE whose FrameworkInfo lacks the required `user` and `name` (written
/// by hand: our encoder always writes required fields): protobuf decoding checks proto2
/// `required` fields, as Mesos does.
#[test]
fn protobuf_missing_required_is_400() {
    let c = ctx();
    // type (2) = SUBSCRIBE (1); subscribe (3) = { framework_info (1) = {} }.
    let body: [u8; 6] = [0x10, 0x01, 0x1a, 0x02, 0x0a, 0x00];
    expect(
        &c.master,
        &protobuf_post(SCHEDULER, None, &body),
        400,
        "Failed to parse body into Call protobuf",
    );
}

// ---- Executor endpoint (on the agent) -----------------------------------------------

/// Row 36: GET on the executor endpoint.
#[test]
fn executor_get_is_405() {
    let c = ctx();
    let r = expect(
        &c.agent,
        &request("GET", EXECUTOR, &[], None),
        405,
        "but received 'GET'",
    );
    assert_eq!(r.header("Allow"), Some("POST"));
}

/// Row 37: executor call that is not JSON.
#[test]
fn executor_garbage_json_is_400() {
    let c = ctx();
    expect(
        &c.agent,
        &json_post(EXECUTOR, &[], b"\x00\x01{{{"),
        400,
        "Failed to parse body into JSON",
    );
}

/// Row 38: executor call that is protobuf garbage.
#[test]
fn executor_protobuf_garbage_is_400() {
    let c = ctx();
    expect(
        &c.agent,
        &protobuf_post(EXECUTOR, None, &[0xff; 64]),
        400,
        "Failed to parse body into Call protobuf",
    );
}

/// Row 39: executor call without the required `executor_id`.
#[test]
fn executor_call_without_ids_is_400() {
    let c = ctx();
    let body = br#"{"framework_id":{"value":"f"},"type":"SUBSCRIBE","subscribe":{}}"#;
    expect(
        &c.agent,
        &json_post(EXECUTOR, &[], body),
        400,
        "Failed to convert JSON into Call protobuf",
    );
}

/// Row 40: executor call with `Content-Type: text/plain`.
#[test]
fn executor_text_plain_is_415() {
    let c = ctx();
    let bytes = request(
        "POST",
        EXECUTOR,
        &[("Content-Type", "text/plain")],
        Some(b"hello"),
    );
    expect(&c.agent, &bytes, 415, "Expecting 'Content-Type'");
}

/// Row 41: executor UPDATE whose uuid is not a UUID.
#[test]
fn executor_update_bad_uuid_is_400() {
    let c = ctx();
    let body = format!(
        r#"{{"framework_id":{{"value":"f"}},"executor_id":{{"value":"e"}},"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"{}"}}}}}}"#,
        b64(b"short")
    );
    expect(
        &c.agent,
        &json_post(EXECUTOR, &[], body.as_bytes()),
        400,
        "Failed to validate Executor::Call: Not a valid UUID",
    );
}

/// Row 42: executor MESSAGE from a framework the agent does not know.
#[test]
fn executor_unknown_framework_is_400() {
    let c = ctx();
    let body = format!(
        r#"{{"framework_id":{{"value":"nope"}},"executor_id":{{"value":"e"}},"type":"MESSAGE","message":{{"data":"{}"}}}}"#,
        b64(b"hi")
    );
    expect(
        &c.agent,
        &json_post(EXECUTOR, &[], body.as_bytes()),
        400,
        "Framework cannot be found",
    );
}

/// After a burst of every kind of garbage on one master, it still serves a framework:
/// bad input costs connections, never the cluster.
#[test]
fn cluster_still_works_after_a_burst_of_garbage() {
    let mut c = ctx();
    let junk: Vec<Vec<u8>> = vec![
        b"\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n".to_vec(),
        b"POST /api/v1/scheduler HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n".to_vec(),
        protobuf_post(SCHEDULER, None, &[0x0a; 1000]),
        json_post(SCHEDULER, &[], &[b'['; 5000]),
    ];
    for bytes in &junk {
        let _ = exchange(&c.master, bytes, true);
        let _ = exchange(&c.agent, bytes, true);
    }
    assert_alive(&c.master);
    assert_alive(&c.agent);
    // The framework subscribed before the burst still gets offers and can decline them.
    let offers = c.sched.offers(Duration::from_secs(10));
    c.sched.decline(&offers, Some(0.0));
}
