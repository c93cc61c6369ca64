//! A very small HTTP/1.1 server on `std::net`, enough for a backend that
//! answers the proxy's `POST /offer` and `POST /status`.
//!
//! One thread accepts connections, one short-lived thread serves each, one
//! request per connection (`Connection: close`). It is here so that the
//! example backend and the tests need no web framework; a real backend
//! would use one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The largest request body accepted (the proxy sends a few hundred bytes).
const MAX_BODY: usize = 1 << 20;

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/offer`.
    pub path: String,
    /// The body (empty if none).
    pub body: Vec<u8>,
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body, sent as `application/json`.
    pub body: String,
    /// Wait this long before answering (to play a slow backend in tests).
    pub delay: Duration,
}

impl Response {
    /// `status` with `body`, right away.
    pub fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

/// A running server; stops accepting when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
}

impl Server {
    /// Listens on `addr` (use `127.0.0.1:0` for a free port) and answers
    /// every request with `handler`.
    pub fn start<H>(addr: &str, handler: H) -> std::io::Result<Server>
    where
        H: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let stop = Arc::clone(&stopping);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    if let Err(err) = serve(stream, &*handler) {
                        log::debug!("backend connection: {err}");
                    }
                });
            }
        });
        Ok(Server { addr, stopping })
    }

    /// `http://127.0.0.1:<port>`: what the proxy's `--api-url` gets.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Reads one request, answers it, closes.
fn serve(stream: TcpStream, handler: &dyn Fn(&Request) -> Response) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(MAX_BODY)];
    reader.read_exact(&mut body)?;
    let response = handler(&Request { method, path, body });
    if !response.delay.is_zero() {
        std::thread::sleep(response.delay);
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        response.status,
        response.body.len(),
        response.body
    )?;
    stream.flush()
}
