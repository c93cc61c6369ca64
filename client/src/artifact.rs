//! [`ArtifactServer`]: serves a few local files over HTTP so an agent can
//! fetch them (typically the executor binary) through `CommandInfo.URI`.
//!
//! Why this exists: a custom executor has to get onto the agent somehow. A
//! framework that runs from a build directory can serve its executor binary
//! itself and hand the agent `http://127.0.0.1:<port>/<name>` as a URI; the
//! agent's fetcher downloads it into the sandbox and starts it.
//!
//! ```no_run
//! use mesos_client::artifact::ArtifactServer;
//! use mesos_client::tasks::{exec_command, uri, ExecutorBuilder};
//!
//! let server = ArtifactServer::serve_file("target/debug/my-executor")?;
//! let executor = ExecutorBuilder::custom("my-executor", exec_command("./my-executor", &[]))
//!     .uri(uri(&server.url(), true, false))
//!     .build();
//! // ... launch tasks with `executor`; keep `server` alive until they run.
//! # Ok::<(), mesos_client::Error>(())
//! ```
//!
//! Deliberately small: std `TcpListener`, one thread per connection, GET and
//! HEAD only, one request per connection. It serves exactly the files it
//! was given, looked up by name in a table, so no request path can reach
//! any other file (`/../etc/passwd` is simply not in the table).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::error::{Error, Result};

/// A tiny HTTP server for a fixed set of local files. Stops when dropped.
#[derive(Debug)]
pub struct ArtifactServer {
    addr: SocketAddr,
    /// Request path (`/<percent-encoded name>`) -> file.
    files: Arc<BTreeMap<String, PathBuf>>,
    /// Encoded names in the order given, for `url()`.
    order: Vec<String>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ArtifactServer {
    /// Serves one file on `127.0.0.1` at a free port.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if `path` is not a readable regular file with a
    /// UTF-8 name; [`Error::Io`] if no port could be bound.
    pub fn serve_file(path: impl AsRef<Path>) -> Result<ArtifactServer> {
        ArtifactServer::serve_files(&[path])
    }

    /// Serves several files on `127.0.0.1` at a free port, each under its
    /// base name.
    ///
    /// # Errors
    ///
    /// As [`serve_file`](Self::serve_file); also two files with the same name.
    pub fn serve_files<P: AsRef<Path>>(paths: &[P]) -> Result<ArtifactServer> {
        ArtifactServer::serve_files_on("127.0.0.1:0", paths)
    }

    /// Serves files on `addr`, e.g. `"0.0.0.0:8000"` when the agent runs on
    /// another machine (such as a VM). The URLs then use that address, or
    /// `127.0.0.1` for an unspecified one, so pass a concrete IP the agent
    /// can reach if it is not local.
    ///
    /// # Errors
    ///
    /// As [`serve_files`](Self::serve_files).
    pub fn serve_files_on<P: AsRef<Path>>(
        addr: impl ToSocketAddrs,
        paths: &[P],
    ) -> Result<ArtifactServer> {
        let mut files = BTreeMap::new();
        let mut order = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if !path.is_file() {
                return Err(Error::Config(format!("{} is not a file", path.display())));
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| Error::Config(format!("{} has no UTF-8 name", path.display())))?;
            let encoded = percent_encode(name);
            if files
                .insert(format!("/{encoded}"), path.to_path_buf())
                .is_some()
            {
                return Err(Error::Config(format!("two files are called {name}")));
            }
            order.push(encoded);
        }
        let listener = TcpListener::bind(addr)?;
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let files = Arc::new(files);
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (files, stopping) = (files.clone(), stopping.clone());
            thread::Builder::new()
                .name("artifact-server".into())
                .spawn(move || accept_loop(listener, files, stopping))?
        };
        Ok(ArtifactServer {
            addr,
            files,
            order,
            stopping,
            thread: Some(thread),
        })
    }

    /// The URL of the first file: `http://127.0.0.1:<port>/<name>`.
    pub fn url(&self) -> String {
        self.order
            .first()
            .map(|name| format!("http://{}/{name}", self.addr))
            .unwrap_or_else(|| format!("http://{}/", self.addr))
    }

    /// The URL of the file called `name`, if it is served.
    pub fn url_for(&self, name: &str) -> Option<String> {
        let encoded = percent_encode(name);
        self.files
            .contains_key(&format!("/{encoded}"))
            .then(|| format!("http://{}/{encoded}", self.addr))
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ArtifactServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // `accept` blocks; a connection of our own wakes it up to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    files: Arc<BTreeMap<String, PathBuf>>,
    stopping: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let files = files.clone();
        let spawned = thread::Builder::new()
            .name("artifact-conn".into())
            .spawn(move || {
                if let Err(err) = serve_one(stream, &files) {
                    log::debug!("artifact server: {err}");
                }
            });
        if let Err(err) = spawned {
            log::warn!("artifact server: cannot start a thread: {err}");
        }
    }
}

/// The longest request head we read; a fetcher sends a few hundred bytes.
const MAX_HEAD: u64 = 8 * 1024;

/// Answers one request and closes the connection.
fn serve_one(stream: TcpStream, files: &BTreeMap<String, PathBuf>) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new((&stream).take(MAX_HEAD));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers; nothing in them changes the answer.
    let mut complete = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if line == "\r\n" || line == "\n" {
            complete = true;
            break;
        }
    }
    let mut out = &stream;
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), true) = (parts.next(), parts.next(), complete) else {
        return respond(&mut out, "400 Bad Request", "bad request\n", &[], false);
    };
    let head_only = method == "HEAD";
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut out,
            "405 Method Not Allowed",
            "only GET and HEAD\n",
            &[("Allow", "GET, HEAD")],
            false,
        );
    }
    let path = target.split('?').next().unwrap_or("");
    let Some(file_path) = files.get(path) else {
        return respond(&mut out, "404 Not Found", "not found\n", &[], head_only);
    };
    let file = match std::fs::File::open(file_path) {
        Ok(file) => file,
        Err(_) => return respond(&mut out, "404 Not Found", "not found\n", &[], head_only),
    };
    let len = file.metadata()?.len();
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )?;
    if !head_only {
        // `take`: a file that grows while we send it must not break framing.
        io::copy(&mut file.take(len), &mut out)?;
    }
    out.flush()
}

/// A short plain-text answer; `head_only` leaves out the body (HEAD).
fn respond(
    out: &mut impl Write,
    status: &str,
    body: &str,
    extra: &[(&str, &str)],
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(body.as_bytes())?;
    }
    out.flush()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
