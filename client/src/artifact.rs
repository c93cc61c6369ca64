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
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
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

/// The executor program, as agents will fetch it: a path for agents on
/// this host, or else a URL served by this process.
///
/// A scheduler tells the agent where its executor is through a
/// `CommandInfo.URI`. A local path only works for agents on the same host;
/// for agents elsewhere (a VM such as playa-mesos, a real cluster) this
/// process serves the file over HTTP with an [`ArtifactServer`], on an
/// address those agents can reach, as long as the `ShippedExecutor` lives.
///
/// ```no_run
/// use mesos_client::artifact::ShippedExecutor;
/// use mesos_client::tasks::{ExecutorBuilder, shell_command};
///
/// // Master 10.141.141.10: served on this host's address towards it.
/// let shipped = ShippedExecutor::new("target/debug/my-executor", "10.141.141.10:5050", None)?;
/// let executor = ExecutorBuilder::custom("my-executor", shell_command("./my-executor"))
///     .uri(shipped.uri())
///     .build();
/// // ... keep `shipped` alive while tasks may start.
/// # Ok::<(), mesos_client::Error>(())
/// ```
#[derive(Debug)]
pub struct ShippedExecutor {
    location: String,
    /// Serves the file while the executor may be fetched; `None` for a path
    /// or a URL given by the user.
    server: Option<ArtifactServer>,
}

impl ShippedExecutor {
    /// Ships `path_or_url` to the agents of `master`:
    ///
    /// - a URL (`http://`, `https://`, ...) is used as it is;
    /// - a path is used as it is when the master is on this host (`local`,
    ///   `127.0.0.1`, `localhost`) and no `advertise_ip` is given: its agents
    ///   read the file directly;
    /// - otherwise this process serves the file over HTTP, on `advertise_ip`
    ///   or, by default, on the address this host uses to reach the master
    ///   (found from the routing table; no packet is sent), which is
    ///   normally one the master's agents can reach too (for playa-mesos,
    ///   the host's side of the VM's private network).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the path is not a file, or if no address towards
    /// the master can be found (then pass `advertise_ip`); [`Error::Io`] if
    /// the port cannot be bound.
    pub fn new(
        path_or_url: &str,
        master: &str,
        advertise_ip: Option<IpAddr>,
    ) -> Result<ShippedExecutor> {
        if path_or_url.contains("://") {
            return Ok(ShippedExecutor {
                location: path_or_url.to_string(),
                server: None,
            });
        }
        let ip = match advertise_ip {
            Some(ip) => ip,
            None => match address_towards(master)? {
                None => {
                    return Ok(ShippedExecutor {
                        location: path_or_url.to_string(),
                        server: None,
                    });
                }
                Some(ip) => ip,
            },
        };
        let server = ArtifactServer::serve_files_on((ip, 0), &[path_or_url])?;
        let location = server.url();
        log::info!("serving the executor to the agents at {location}");
        Ok(ShippedExecutor {
            location,
            server: Some(server),
        })
    }

    /// Finds the executor program `name` next to this program (building it
    /// first under `cargo run`, see
    /// [`find_executor`](crate::local::find_executor)), or takes
    /// `path_or_url` when given (an `--executor` flag), and ships it as
    /// [`new`](Self::new) does.
    ///
    /// # Errors
    ///
    /// As [`find_executor`](crate::local::find_executor) and
    /// [`new`](Self::new).
    #[cfg(feature = "local")]
    pub fn find(
        name: &str,
        path_or_url: Option<&str>,
        master: &str,
        advertise_ip: Option<IpAddr>,
    ) -> Result<ShippedExecutor> {
        let path = match path_or_url {
            Some(given) => given.to_string(),
            None => crate::local::find_executor(name)?.display().to_string(),
        };
        ShippedExecutor::new(&path, master, advertise_ip)
    }

    /// The path or URL agents fetch.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The file's name in the sandbox, where the fetcher puts it: start the
    /// executor as `./<program>`.
    pub fn program(&self) -> &str {
        let path = self.location.split(['?', '#']).next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or(path)
    }

    /// A `CommandInfo.URI` for it: fetched into the sandbox, made executable,
    /// not extracted.
    pub fn uri(&self) -> mesos_proto::v1::command_info::Uri {
        crate::tasks::uri(&self.location, true, false)
    }

    /// A custom executor `id` that the agent fetches from here and starts as
    /// `./<program> <args>` in the sandbox (add its resources, then build).
    pub fn executor(&self, id: &str, args: &str) -> crate::tasks::ExecutorBuilder {
        let command = format!("./{} {args}", self.program());
        crate::tasks::ExecutorBuilder::custom(id, crate::tasks::shell_command(command.trim_end()))
            .name(id)
            .uri(self.uri())
    }

    /// Whether this process serves the file (agents not on this host).
    pub fn is_served(&self) -> bool {
        self.server.is_some()
    }
}

/// The two options of a framework binary that say where its executor comes
/// from: `--executor PATH_OR_URL` and `--advertise-ip IP`. With the `clap`
/// feature it is a `clap::Args` group (`#[command(flatten)]`), like
/// [`Connection`](crate::connect::Connection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ExecutorSource {
    /// The executor as a path or URL the agents can fetch [default: the executor next to this
    /// program, served over HTTP by this process when the master is not on this host].
    #[cfg_attr(feature = "clap", arg(long))]
    pub executor: Option<String>,
    /// The address of this host that the agents fetch the executor from when this process
    /// serves it [default: this host's address on the way to the master].
    #[cfg_attr(feature = "clap", arg(long))]
    pub advertise_ip: Option<IpAddr>,
}

impl ExecutorSource {
    /// Ships the executor program `name` to the agents of `master`, as
    /// [`ShippedExecutor::find`] does with these options.
    ///
    /// # Errors
    ///
    /// As [`ShippedExecutor::find`].
    #[cfg(feature = "local")]
    pub fn ship(&self, name: &str, master: &str) -> Result<ShippedExecutor> {
        ShippedExecutor::find(name, self.executor.as_deref(), master, self.advertise_ip)
    }
}

/// The address of this host on the way to `master`, or `None` when the
/// master is on this host (`local`, a loopback address). Only the first
/// master of a list (or of a `zk://` URL) is looked at.
fn address_towards(master: &str) -> Result<Option<IpAddr>> {
    let spec = master.trim();
    if spec == "local" {
        return Ok(None);
    }
    let without_scheme = spec.split_once("://").map_or(spec, |(_, rest)| rest);
    let first = without_scheme
        .split([',', '/'])
        .next()
        .unwrap_or_default()
        .trim();
    let with_port = if first.contains(':') && !first.starts_with('[') || first.contains("]:") {
        first.to_string()
    } else {
        format!("{first}:5050")
    };
    let target = with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            Error::Config(format!(
                "cannot find the address of master {first}: pass the address the agents \
                 should fetch the executor from (--advertise-ip)"
            ))
        })?;
    if target.ip().is_loopback() {
        return Ok(None);
    }
    // Connecting a UDP socket sends nothing; it only asks the routing table
    // which local address would be used.
    let unspecified: IpAddr = if target.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let socket = UdpSocket::bind((unspecified, 0))?;
    socket.connect(target).map_err(|err| {
        Error::Config(format!(
            "no route to master {target} ({err}): pass the address the agents should \
             fetch the executor from (--advertise-ip)"
        ))
    })?;
    let local = socket.local_addr()?.ip();
    Ok((!local.is_loopback()).then_some(local))
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

#[cfg(test)]
mod shipped_tests {
    use super::*;

    #[test]
    fn a_local_master_gets_the_path() {
        for master in [
            "local",
            "127.0.0.1:5050",
            "http://localhost:5050",
            "zk://127.0.0.1:2181/mesos",
            "127.0.0.1:5050,127.0.0.2:5050",
        ] {
            assert_eq!(address_towards(master).unwrap(), None, "{master}");
        }
        let file = std::env::current_exe().unwrap();
        let shipped = ShippedExecutor::new(file.to_str().unwrap(), "local", None).unwrap();
        assert!(!shipped.is_served());
        assert_eq!(shipped.location(), file.to_str().unwrap());
    }

    #[test]
    fn a_url_is_kept() {
        let shipped = ShippedExecutor::new("http://h/x/my-exec", "10.0.0.1:5050", None).unwrap();
        assert!(!shipped.is_served());
        assert_eq!(shipped.program(), "my-exec");
    }

    #[test]
    fn an_advertised_address_serves_the_file_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my-exec");
        std::fs::write(&path, b"#!/bin/sh\n").unwrap();
        let ip: IpAddr = Ipv4Addr::LOCALHOST.into();
        let shipped =
            ShippedExecutor::new(path.to_str().unwrap(), "10.141.141.10:5050", Some(ip)).unwrap();
        assert!(shipped.is_served());
        assert!(
            shipped.location().starts_with("http://127.0.0.1:"),
            "{}",
            shipped.location()
        );
        assert_eq!(shipped.program(), "my-exec");
        let body = ureq::get(shipped.location())
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert_eq!(body, "#!/bin/sh\n");
    }
}
