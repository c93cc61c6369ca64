//! The artifact server serves exactly the files it was given, byte for byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mesos_client::artifact::ArtifactServer;

/// One raw HTTP exchange: returns (status line, headers, body).
fn exchange(addr: std::net::SocketAddr, request: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let body = response[split + 4..].to_vec();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (status.to_string(), headers.to_string(), body)
}

fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, Vec<u8>) {
    exchange(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
}

#[test]
fn serves_the_file_bytes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my executor.bin");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let server = ArtifactServer::serve_file(&path).unwrap();

    let url = server.url();
    assert_eq!(
        url,
        format!(
            "http://127.0.0.1:{}/my%20executor.bin",
            server.addr().port()
        )
    );
    assert_eq!(server.url_for("my executor.bin"), Some(url.clone()));
    assert_eq!(server.url_for("other"), None);

    let (status, headers, body) = get(server.addr(), "/my%20executor.bin");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains(&format!("Content-Length: {}", bytes.len())),
        "{headers}"
    );
    assert_eq!(body, bytes);

    // A query string does not matter; HEAD gets the head only.
    let (status, _, body) = get(server.addr(), "/my%20executor.bin?x=1");
    assert_eq!(
        (status.as_str(), body.len()),
        ("HTTP/1.1 200 OK", bytes.len())
    );
    let (status, headers, body) = exchange(
        server.addr(),
        "HEAD /my%20executor.bin HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains(&format!("Content-Length: {}", bytes.len())));
    assert!(body.is_empty());
}

#[test]
fn refuses_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served.txt");
    std::fs::write(&served, b"ok").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"no").unwrap();
    let server = ArtifactServer::serve_file(&served).unwrap();
    for path in [
        "/secret.txt",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/served.txt/../secret.txt",
        "/",
        "/served.txt/",
        "served.txt",
        "/etc/passwd",
    ] {
        let (status, _, body) = get(server.addr(), path);
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{path}");
        assert_ne!(body, b"no");
    }
    let (status, headers, _) = exchange(
        server.addr(),
        "POST /served.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(headers.contains("Allow: GET, HEAD"));
    let (status, _, _) = exchange(server.addr(), "garbage\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
}

#[test]
fn serves_several_files_and_stops_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sh");
    let b = dir.path().join("b.tar.gz");
    std::fs::write(&a, b"#!/bin/sh\necho a\n").unwrap();
    std::fs::write(&b, b"\x1f\x8b not really").unwrap();
    let server = ArtifactServer::serve_files(&[&a, &b]).unwrap();
    assert!(server.url().ends_with("/a.sh"));
    assert_eq!(get(server.addr(), "/b.tar.gz").2, b"\x1f\x8b not really");
    let addr = server.addr();
    drop(server);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}

#[test]
fn rejects_what_it_cannot_serve() {
    let dir = tempfile::tempdir().unwrap();
    assert!(ArtifactServer::serve_file(dir.path().join("missing")).is_err());
    assert!(
        ArtifactServer::serve_file(dir.path()).is_err(),
        "a directory"
    );
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("x"), b"1").unwrap();
    std::fs::write(sub.join("x"), b"2").unwrap();
    assert!(
        ArtifactServer::serve_files(&[dir.path().join("x"), sub.join("x")]).is_err(),
        "same name twice"
    );
}
