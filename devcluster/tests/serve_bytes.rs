//! `Cluster::serve_bytes`: a connection's bytes served without a socket (what the
//! `devcluster_http` fuzz target drives) answer as the HTTP server does.

use devcluster::{Cluster, ClusterConfig};

fn cluster() -> Cluster {
    Cluster::start(ClusterConfig::for_tests(1)).expect("cluster starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let c = cluster();
    let input = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n\
POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\
GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let out = text(&c.serve_bytes(false, 0, input).expect("master 0 exists"));
    // Bodies end without a newline, so a status line can follow one on the same line.
    let statuses: Vec<&str> = out
        .split("HTTP/1.1 ")
        .skip(1)
        .map(|rest| &rest[..3])
        .collect();
    assert_eq!(statuses, ["200", "400", "404"], "{out}");
}

#[test]
fn a_malformed_head_gets_400_and_ends_the_connection() {
    let c = cluster();
    let out = text(
        &c.serve_bytes(
            false,
            0,
            b"GET /health\0 HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
        )
        .expect("master 0 exists"),
    );
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    assert_eq!(out.matches("HTTP/1.1 ").count(), 1, "{out}");
}

#[test]
fn a_subscription_streams_what_is_queued_then_counts_as_gone() {
    let c = cluster();
    let body = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    let input = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
Accept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let out = text(&c.serve_bytes(false, 0, input.as_bytes()).expect("master 0"));
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("Transfer-Encoding: chunked"), "{out}");
    // The subscriber went away with the end of the input: with the default
    // failover_timeout of 0 the master removes the framework.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !c.framework_ids().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "framework never removed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn agents_are_served_too_and_a_missing_server_is_none() {
    let c = cluster();
    let out = text(
        &c.serve_bytes(true, 0, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("agent 0 exists"),
    );
    assert!(out.starts_with("HTTP/1.1 200 "), "{out}");
    assert!(c.serve_bytes(true, 5, b"").is_none());
    assert!(c.serve_bytes(false, 5, b"").is_none());
}
