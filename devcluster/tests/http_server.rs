//! The dev cluster's HTTP server, tested with raw `std::net::TcpStream` clients so that the
//! assertions are about bytes on the wire, not about what some client library makes of them.
//! Expected shapes follow the Mesos 1.12 captures (`fixtures/mesos-1.12`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use devcluster::http::{
    BoundedSender, Limits, Request, Response, SendRefused, Server, ServerConfig, StreamItem,
    tls_config_from_pem,
};

fn limits() -> Limits {
    Limits {
        idle_timeout: Duration::from_secs(3),
        stream_poll_interval: Duration::from_millis(20),
        shutdown_grace: Duration::from_secs(3),
        ..Limits::default()
    }
}

fn config() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 1 << 20,
        ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
    }
}

/// Answers `/stream` with a stream whose sender is handed to the test through the returned
/// channel; `/empty` with 202; `/error` with a Mesos-style 405; `/panic` by panicking;
/// anything else with an echo of the request.
fn start_with(config: ServerConfig, limits: Limits) -> (Server, Receiver<Sender<StreamItem>>) {
    let (senders_tx, senders_rx) = crossbeam_channel::unbounded();
    let handler = move |r: Request| match r.path.as_str() {
        "/stream" => {
            let (tx, rx) = crossbeam_channel::unbounded();
            senders_tx.send(tx).unwrap();
            Response::stream(200, "application/json", rx).with_header("Mesos-Stream-Id", "id-1")
        }
        "/empty" => Response::empty(202),
        "/error" => Response::text(
            405,
            format!(
                "405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{}'.",
                r.method
            ),
        )
        .with_header("Allow", "POST"),
        "/panic" => panic!("handler bug (expected in this test)"),
        _ => {
            let echo = format!(
                "{} {} q={} x={:?} body={}",
                r.method,
                r.path,
                r.query,
                r.query_param("x"),
                String::from_utf8_lossy(&r.body)
            );
            Response::bytes(200, "text/x-echo", echo.into_bytes())
        }
    };
    let server = Server::start_with_limits(config, limits, Arc::new(handler)).unwrap();
    (server, senders_rx)
}

fn start() -> (Server, Receiver<Sender<StreamItem>>) {
    start_with(config(), limits())
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until the server closes (a reset counts as closed too).
fn read_to_close(s: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!(
                    "server did not close; got {:?}",
                    String::from_utf8_lossy(&out)
                )
            }
            Err(_) => return out,
        }
    }
}

fn read_exact_n(s: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

/// Reads a response head, byte by byte so nothing after it is consumed, and replaces the
/// `Date` value with `X` after checking its shape.
fn read_head(s: &mut impl Read) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.extend_from_slice(&read_exact_n(s, 1));
    }
    normalize_date(&String::from_utf8(head).unwrap())
}

fn normalize_date(head: &str) -> String {
    let start = head.find("\r\nDate: ").expect("Date header") + 8;
    let date = &head[start..start + 29];
    let b = date.as_bytes();
    assert!(
        date.ends_with(" GMT") && b[3] == b',' && b[19] == b':',
        "bad Date: {date}"
    );
    format!("{}X{}", &head[..start], &head[start + 29..])
}

/// Reads one non-streaming response: the head and a `Content-Length` body.
fn read_response(s: &mut impl Read) -> (String, String) {
    let head = read_head(s);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .unwrap();
    let body = String::from_utf8(read_exact_n(s, len)).unwrap();
    (head, body)
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let (server, _) = start();
    let mut s = connect(&server);
    for i in 0..3 {
        let req =
            format!("POST /echo?x=a%20{i} HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n{i}");
        s.write_all(req.as_bytes()).unwrap();
        let (head, body) = read_response(&mut s);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(!head.contains("Connection"), "{head}");
        assert_eq!(
            body,
            format!("POST /echo q=x=a%20{i} x=Some(\"a {i}\") body={i}")
        );
    }
    server.shutdown();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (server, _) = start();
    let mut s = connect(&server);
    let reqs = "GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
                GET /empty HTTP/1.1\r\n\r\nGET /slave%281%29/x HTTP/1.1\r\nConnection: close\r\n\r\n";
    s.write_all(reqs.as_bytes()).unwrap();
    assert_eq!(read_response(&mut s).1, "GET /one q= x=None body=");
    assert_eq!(read_response(&mut s).1, "POST /two q= x=None body=abc");
    assert_eq!(
        read_response(&mut s).0,
        "HTTP/1.1 202 Accepted\r\nDate: X\r\nContent-Length: 0\r\n\r\n"
    );
    let (head, body) = read_response(&mut s);
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    assert_eq!(body, "GET /slave(1)/x q= x=None body=");
    assert!(read_to_close(&mut s).is_empty());
}

/// Answers to pipelined requests are held back while the client's next request is already
/// arriving, so that they go out together; but a held answer is sent as soon as the server
/// has to wait for the rest of that request. A client that waits for the answer before it
/// finishes its next request must not be stuck (the read would time out after 10 s).
#[test]
fn a_held_answer_goes_out_before_the_server_waits_for_more() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"GET /one HTTP/1.1\r\n\r\nGET /tw").unwrap();
    assert_eq!(read_response(&mut s).1, "GET /one q= x=None body=");
    s.write_all(b"o HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).1, "GET /two q= x=None body=");
    server.shutdown();
}

#[test]
fn chunked_request_body_is_dechunked() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(50)); // the rest arrives later, as from a real client
    s.write_all(b"6;name=v\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n")
        .unwrap();
    assert_eq!(
        read_response(&mut s).1,
        "POST /c q= x=None body=Wikipedia in \r\n\r\nchunks."
    );
}

#[test]
fn empty_202_and_text_error_have_the_mesos_shape() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"POST /empty HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /error HTTP/1.1\r\n\r\n")
        .unwrap();
    let (head, body) = read_response(&mut s);
    assert_eq!(
        head,
        "HTTP/1.1 202 Accepted\r\nDate: X\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(body, "");
    // Compare scheduler-json/calls/err-get-method.exchange.txt.
    let (head, body) = read_response(&mut s);
    assert_eq!(
        head,
        "HTTP/1.1 405 Method Not Allowed\r\nDate: X\r\nAllow: POST\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: 72\r\n\r\n"
    );
    assert_eq!(
        body,
        "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'."
    );
}

#[test]
fn head_request_gets_headers_only() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"HEAD /h HTTP/1.1\r\n\r\nGET /h HTTP/1.1\r\n\r\n")
        .unwrap();
    let head = read_head(&mut s);
    assert!(head.contains("Content-Length: 23\r\n"), "{head}"); // "HEAD /h q= x=None body="
    let (_, body) = read_response(&mut s); // the next response follows the head directly
    assert_eq!(body, "GET /h q= x=None body=");
}

#[test]
fn http10_closes_unless_keep_alive_was_asked() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let (head, _) = read_response(&mut s);
    assert!(head.contains("\r\nConnection: keep-alive\r\n"), "{head}");
    s.write_all(b"GET /b HTTP/1.0\r\n\r\n").unwrap();
    let all = String::from_utf8(read_to_close(&mut s)).unwrap();
    assert!(
        all.contains("\r\nConnection: close\r\n") && all.ends_with("body="),
        "{all}"
    );
}

/// Opens `/stream`, checks the head, and returns the socket and the stream's sender.
fn open_stream(
    server: &Server,
    senders: &Receiver<Sender<StreamItem>>,
) -> (TcpStream, Sender<StreamItem>) {
    let mut s = connect(server);
    s.write_all(b"POST /stream HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let tx = senders.recv_timeout(Duration::from_secs(5)).unwrap();
    let head = read_head(&mut s);
    // Compare scheduler-*/subscribe.response-headers.txt.
    assert_eq!(
        head,
        "HTTP/1.1 200 OK\r\nDate: X\r\nTransfer-Encoding: chunked\r\nMesos-Stream-Id: id-1\r\n\
         Content-Type: application/json\r\n\r\n"
    );
    (s, tx)
}

const RECORD: &[u8] = b"20\n{\"type\":\"HEARTBEAT\"}";

#[test]
fn stream_chunks_then_terminator_when_sender_drops() {
    let (server, senders) = start();
    let (mut s, tx) = open_stream(&server, &senders);
    tx.send(StreamItem::Chunk(RECORD.to_vec())).unwrap();
    assert_eq!(
        read_exact_n(&mut s, 29),
        b"17\r\n20\n{\"type\":\"HEARTBEAT\"}\r\n"
    );
    tx.send(StreamItem::Chunk(Vec::new())).unwrap(); // skipped: it would end the body
    tx.send(StreamItem::Chunk(vec![b'x'; 300])).unwrap();
    drop(tx);
    let rest = read_to_close(&mut s);
    let mut expected = b"12c\r\n".to_vec();
    expected.extend_from_slice(&[b'x'; 300]);
    expected.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(rest, expected);
}

#[test]
fn stream_to_http10_client_is_unframed_and_ends_with_close() {
    let (server, senders) = start();
    let mut s = connect(&server);
    s.write_all(b"POST /stream HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let tx = senders.recv_timeout(Duration::from_secs(5)).unwrap();
    let head = read_head(&mut s);
    assert!(!head.contains("Transfer-Encoding"), "{head}");
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    tx.send(StreamItem::Chunk(RECORD.to_vec())).unwrap();
    drop(tx);
    assert_eq!(read_to_close(&mut s), RECORD);
}

#[test]
fn cut_after_and_abort_end_without_terminator() {
    let (server, senders) = start();
    let (mut s, tx) = open_stream(&server, &senders);
    tx.send(StreamItem::Chunk(RECORD.to_vec())).unwrap();
    tx.send(StreamItem::CutAfter(b"20\n{\"ty".to_vec()))
        .unwrap();
    let rest = read_to_close(&mut s);
    assert_eq!(
        rest,
        b"17\r\n20\n{\"type\":\"HEARTBEAT\"}\r\n8\r\n20\n{\"ty".to_vec()
    );

    let (mut s, tx) = open_stream(&server, &senders);
    tx.send(StreamItem::Chunk(RECORD.to_vec())).unwrap();
    tx.send(StreamItem::Abort).unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"17\r\n20\n{\"type\":\"HEARTBEAT\"}\r\n"
    );
    assert_sender_fails(&tx); // the receiver is gone with the connection
}

/// Bounded stream items that queued up go out together (one chunk each, in order), and
/// their bytes go back to the stream's budget once written; a cancelled stream ends
/// without its terminator. Fails if a batch loses, reorders or merges items, or keeps
/// them counted after they were written.
#[test]
fn bounded_items_are_batched_in_order_and_given_back_once_written() {
    let (senders_tx, senders) = crossbeam_channel::unbounded();
    let handler = move |_: Request| {
        let (tx, rx) = BoundedSender::new(1000, 1 << 20);
        senders_tx.send(tx).unwrap();
        Response::stream(200, "application/json", rx)
    };
    let server = Server::start_with_limits(config(), limits(), Arc::new(handler)).unwrap();
    let open = || {
        let mut s = connect(&server);
        s.write_all(b"POST /bounded HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let tx: BoundedSender = senders.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(read_head(&mut s).starts_with("HTTP/1.1 200 OK\r\n"));
        (s, tx)
    };
    let (mut s, tx) = open();
    // Queued faster than one write each: most of them go out in batches.
    let record = |i: usize| format!("{i:04}").repeat(250).into_bytes();
    for i in 0..200 {
        tx.send_chunk(record(i)).unwrap();
    }
    for i in 0..200 {
        assert_eq!(read_exact_n(&mut s, 5), b"3e8\r\n", "record {i}");
        assert_eq!(read_exact_n(&mut s, 1000), record(i), "record {i}");
        assert_eq!(read_exact_n(&mut s, 2), b"\r\n", "record {i}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while tx.queued() != (0, 0) {
        assert!(
            Instant::now() < deadline,
            "still counted: {:?}",
            tx.queued()
        );
        thread::sleep(Duration::from_millis(5));
    }
    drop(tx);
    assert_eq!(read_to_close(&mut s), b"0\r\n\r\n");

    let (mut s, tx) = open();
    tx.send_chunk(record(0)).unwrap();
    tx.cancel();
    let rest = read_to_close(&mut s);
    assert!(
        !rest.ends_with(b"0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    assert_eq!(tx.send_chunk(record(1)), Err(SendRefused::Gone));
    server.shutdown();
}

#[test]
fn client_disconnect_is_noticed_by_the_sender() {
    let (server, senders) = start();
    let (s, tx) = open_stream(&server, &senders);
    drop(s); // the subscriber goes away while nothing is being sent
    thread::sleep(Duration::from_millis(100));
    assert_sender_fails(&tx);
    // The server still serves others.
    let mut s = connect(&server);
    s.write_all(b"GET /x HTTP/1.1\r\n\r\n").unwrap();
    assert!(read_response(&mut s).0.starts_with("HTTP/1.1 200 OK"));
}

#[test]
fn oversized_body_gets_413_without_reading_it() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"POST /big HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\nsome of it")
        .unwrap();
    let all = String::from_utf8(read_to_close(&mut s)).unwrap();
    assert!(
        all.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{all}"
    );
    assert!(
        all.contains("Content-Type: text/plain; charset=utf-8\r\n"),
        "{all}"
    );
    assert!(all.contains("\r\nConnection: close\r\n"), "{all}");
}

#[test]
fn garbage_request_line_gets_400_and_close() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"\x16\x03\x01 hello there\r\n\r\n").unwrap();
    let all = String::from_utf8_lossy(&read_to_close(&mut s)).into_owned();
    assert!(all.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{all}");
}

#[test]
fn huge_headers_get_431() {
    let (server, _) = start();
    let mut s = connect(&server);
    let req = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(100 << 10));
    let _ = s.write_all(req.as_bytes()); // the server may answer before it has all of it
    let all = String::from_utf8_lossy(&read_to_close(&mut s)).into_owned();
    assert!(
        all.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{all}"
    );
}

#[test]
fn handler_panic_becomes_500() {
    let (server, _) = start();
    let mut s = connect(&server);
    s.write_all(b"GET /panic HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n")
        .unwrap();
    assert!(
        read_response(&mut s)
            .0
            .starts_with("HTTP/1.1 500 Internal Server Error\r\n")
    );
    assert_eq!(read_response(&mut s).1, "GET /after q= x=None body=");
}

#[test]
fn idle_keep_alive_connections_time_out() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(200),
        ..limits()
    };
    let (server, _) = start_with(config(), limits);
    let mut s = connect(&server);
    s.write_all(b"GET /a HTTP/1.1\r\n\r\n").unwrap();
    read_response(&mut s);
    assert!(read_to_close(&mut s).is_empty());
}

#[test]
fn shutdown_closes_open_streams_and_connections() {
    let (server, senders) = start();
    let (mut stream, tx) = open_stream(&server, &senders);
    let mut idle = connect(&server);
    idle.write_all(b"GET /a HTTP/1.1\r\n\r\n").unwrap();
    read_response(&mut idle);
    let addr = server.local_addr();
    server.shutdown();
    assert!(read_to_close(&mut stream).is_empty()); // no terminator: an abrupt end
    assert!(read_to_close(&mut idle).is_empty());
    assert!(tx.send(StreamItem::Chunk(RECORD.to_vec())).is_err());
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn tls_round_trip_and_failed_handshake() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let tls = tls_config_from_pem(
        key.cert.pem().as_bytes(),
        key.key_pair.serialize_pem().as_bytes(),
    )
    .unwrap();
    let (server, senders) = start_with(
        ServerConfig {
            tls: Some(tls),
            ..config()
        },
        limits(),
    );

    // A plain-text client fails the handshake; only its connection is closed.
    let mut plain = connect(&server);
    plain.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(!read_to_close(&mut plain).starts_with(b"HTTP"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(key.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client_config = Arc::new(client_config);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let session = rustls::ClientConnection::new(Arc::clone(&client_config), name.clone()).unwrap();
    let mut s = rustls::StreamOwned::new(session, connect(&server));
    s.write_all(b"POST /t HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
        .unwrap();
    assert_eq!(read_response(&mut s).1, "POST /t q= x=None body=hi");
    // A stream over TLS, ended by the sender, then closed with close_notify.
    s.write_all(b"POST /stream HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let tx = senders.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(read_head(&mut s).contains("Transfer-Encoding: chunked"));
    tx.send(StreamItem::Chunk(RECORD.to_vec())).unwrap();
    drop(tx);
    let rest = read_to_close(&mut s);
    assert_eq!(rest, b"17\r\n20\n{\"type\":\"HEARTBEAT\"}\r\n0\r\n\r\n");
    let _ = s.sock.shutdown(Shutdown::Both);

    // A TLS subscriber that goes away is noticed too.
    let session = rustls::ClientConnection::new(Arc::clone(&client_config), name).unwrap();
    let mut s = rustls::StreamOwned::new(session, connect(&server));
    s.write_all(b"POST /stream HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let tx = senders.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(read_head(&mut s).contains("Transfer-Encoding: chunked"));
    drop(s);
    assert_sender_fails(&tx);
    server.shutdown();
}

/// Waits (bounded) until sending on a stream fails because the server dropped its receiver.
fn assert_sender_fails(tx: &Sender<StreamItem>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while tx.send(StreamItem::Chunk(RECORD.to_vec())).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the server kept a dead stream open"
        );
        thread::sleep(Duration::from_millis(10));
    }
}
