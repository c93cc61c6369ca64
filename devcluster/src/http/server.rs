//! The listening side: the accept loop, the registry of open connections, and shutdown.
//!
//! One thread accepts; every accepted connection gets its own thread (see `conn.rs`).
//! The registry keeps a clone of every open socket so that shutdown can close them all
//! (`shutdown(Both)` wakes a thread blocked in a read), and the threads' join handles so
//! that shutdown can wait for them within a bounded time.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::conn::{self, Context};
use super::tls::Conn;
use super::{Handler, Limits, ServerConfig};

/// A bound, serving HTTP server. Dropping it shuts it down like [`Server::shutdown`].
pub struct Server {
    local_addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    registry: Arc<Mutex<Registry>>,
    accept_thread: Option<JoinHandle<()>>,
    shutdown_grace: Duration,
    ctx: Arc<Context>,
}

/// Open connections and connection threads.
#[derive(Default)]
struct Registry {
    next_id: u64,
    live: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// Locks the registry; a poisoned lock (a panic elsewhere) still holds usable data.
fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

impl Server {
    /// Serves `input`, the bytes a client sends on one connection, through this server's
    /// request reading, handler and response framing, without a socket, and returns the
    /// bytes the server answers. A streaming response gives the items already queued and
    /// then ends as if the client had gone. For fuzzing: never blocks on the client.
    pub fn serve_bytes(&self, input: &[u8]) -> Vec<u8> {
        super::memory::serve_bytes(&self.ctx, input)
    }

    /// Binds `config.addr` and starts serving with the default [`Limits`].
    pub fn start(config: ServerConfig, handler: Arc<dyn Handler>) -> io::Result<Server> {
        Server::start_with_limits(config, Limits::default(), handler)
    }

    /// Binds `config.addr` and starts serving with the given timeouts and size limits.
    pub fn start_with_limits(
        config: ServerConfig,
        limits: Limits,
        handler: Arc<dyn Handler>,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(config.addr)?;
        let local_addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let registry = Arc::new(Mutex::new(Registry::default()));
        let shutdown_grace = limits.shutdown_grace;
        let ctx = Arc::new(Context {
            handler,
            limits,
            max_body_bytes: config.max_body_bytes,
            stopping: Arc::clone(&stopping),
        });
        let accept_thread = {
            let ctx = Arc::clone(&ctx);
            let registry = Arc::clone(&registry);
            let tls = config.tls.clone();
            thread::Builder::new()
                .name(format!("http-accept-{}", local_addr.port()))
                .spawn(move || accept_loop(listener, ctx, registry, tls))?
        };
        Ok(Server {
            local_addr,
            stopping,
            registry,
            accept_thread: Some(accept_thread),
            shutdown_grace,
            ctx,
        })
    }

    /// The address actually bound (the port the OS picked for `:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every open connection (streams end abruptly, without the
    /// chunked terminator), and waits up to [`Limits::shutdown_grace`] for the threads.
    /// A thread still inside a slow handler after that is left to finish on its own.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else {
            return; // already stopped
        };
        let deadline = Instant::now() + self.shutdown_grace;
        self.stopping.store(true, Ordering::SeqCst);
        // The accept loop is blocked in accept(): a connection to ourselves wakes it up, and
        // it sees the flag. (A non-blocking accept would need a poll interval instead.)
        let _ = TcpStream::connect_timeout(&wake_address(self.local_addr), Duration::from_secs(1));
        join_until(accept_thread, deadline);
        let threads = {
            let mut registry = lock(&self.registry);
            for sock in registry.live.values() {
                let _ = sock.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut registry.threads)
        };
        for handle in threads {
            join_until(handle, deadline);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where to connect to reach our own listener (`0.0.0.0` is not a destination).
fn wake_address(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// Joins a thread if it finishes before `deadline`; otherwise leaves it running.
fn join_until(handle: JoinHandle<()>, deadline: Instant) {
    while !handle.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    if handle.is_finished() {
        let _ = handle.join();
    } else {
        let name = handle.thread().name().unwrap_or("?").to_string();
        log::warn!("http: thread {name} did not stop in time; leaving it");
    }
}

fn accept_loop(
    listener: TcpListener,
    ctx: Arc<Context>,
    registry: Arc<Mutex<Registry>>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    loop {
        let accepted = listener.accept();
        if ctx.stopping.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((sock, peer)) => spawn_connection(sock, peer, &ctx, &registry, &tls),
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                log::warn!("http: accept failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn spawn_connection(
    sock: TcpStream,
    peer: SocketAddr,
    ctx: &Arc<Context>,
    registry: &Arc<Mutex<Registry>>,
    tls: &Option<Arc<rustls::ServerConfig>>,
) {
    // Records are flushed one by one; Nagle's algorithm would hold small ones back.
    let _ = sock.set_nodelay(true);
    let Ok(clone) = sock.try_clone() else {
        return;
    };
    let mut reg = lock(registry);
    // Checked under the lock, so shutdown cannot miss a connection registered late.
    if ctx.stopping.load(Ordering::SeqCst) {
        let _ = sock.shutdown(Shutdown::Both);
        return;
    }
    // Over the cap: a short 503 and close, on this thread (no thread, no buffer). The
    // write is non-blocking, so a client that does not read cannot hold the accept loop.
    if reg.live.len() >= ctx.limits.max_connections {
        drop(reg);
        log::warn!(
            "http: {peer}: refused, {} connections open already",
            ctx.limits.max_connections
        );
        refuse_over_cap(sock, tls.is_some());
        return;
    }
    // Reap finished threads so the list does not grow with every connection ever made.
    let (done, running): (Vec<_>, Vec<_>) = std::mem::take(&mut reg.threads)
        .into_iter()
        .partition(|h| h.is_finished());
    reg.threads = running;
    for handle in done {
        let _ = handle.join();
    }
    let id = reg.next_id;
    reg.next_id += 1;
    reg.live.insert(id, clone);
    let thread_ctx = Arc::clone(ctx);
    let thread_registry = Arc::clone(registry);
    let tls = tls.clone();
    let spawned = thread::Builder::new()
        .name(format!("http-conn-{id}"))
        .spawn(move || {
            let _deregister = Deregister {
                registry: thread_registry,
                id,
            };
            match Conn::new(sock, tls.as_ref()) {
                Ok(conn) => conn::serve(conn, peer, &thread_ctx),
                Err(e) => log::warn!("http: {peer}: cannot start TLS session: {e}"),
            }
        });
    match spawned {
        Ok(handle) => reg.threads.push(handle),
        Err(e) => {
            log::warn!("http: cannot start a connection thread: {e}");
            if let Some(sock) = reg.live.remove(&id) {
                let _ = sock.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The answer beyond the connection cap. Over TLS there is no session to answer in: the
/// connection is just closed.
fn refuse_over_cap(sock: TcpStream, tls: bool) {
    use std::io::Write;
    if !tls && sock.set_nonblocking(true).is_ok() {
        let body = "Too many connections; try again later.\n";
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nDate: {}\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            super::http_date(std::time::SystemTime::now()),
            body.len()
        );
        let _ = (&sock).write_all(answer.as_bytes());
    }
    // Half-close first: the client reads the answer, then sees the end.
    let _ = sock.shutdown(Shutdown::Write);
}

/// Removes a connection from the registry when its thread ends, however it ends.
struct Deregister {
    registry: Arc<Mutex<Registry>>,
    id: u64,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        lock(&self.registry).live.remove(&self.id);
    }
}
