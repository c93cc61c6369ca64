//! One connection, on its own thread: read a request, answer it, repeat (keep-alive and
//! pipelining come from reading requests strictly in order from one buffer), until the
//! client or the response asks to close, a stream ends, or the server shuts down.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::parse::{Meta, ReadError, Reader};
use super::tls::Conn;
use super::write::{self, Framing};
use super::{Body, Handler, Limits, Request, Response, StreamItem};

/// How long a closing connection keeps reading (and dropping) what the client still
/// sends, so that our response is not destroyed by a TCP reset (see `linger_close`).
const LINGER_TIME: Duration = Duration::from_secs(2);
/// How much a closing connection reads at most while lingering.
const LINGER_BYTES: usize = 1 << 20;

/// What every connection thread shares.
pub(crate) struct Context {
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) limits: Limits,
    pub(crate) max_body_bytes: usize,
    /// Set by `Server::shutdown`: streams end abruptly, keep-alive ends.
    pub(crate) stopping: Arc<AtomicBool>,
}

impl Context {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// How a response left the connection.
enum After {
    /// Ready for the next request.
    KeepOpen,
    /// Close politely (the response is complete).
    Close,
    /// Close at once (stream aborted, client gone, write failed).
    Abort,
}

/// Serves one connection until it ends. Never panics on client input; I/O errors end
/// only this connection.
pub(crate) fn serve(mut conn: Conn, peer: SocketAddr, ctx: &Context) {
    let timeouts = conn
        .tcp()
        .set_read_timeout(Some(ctx.limits.idle_timeout))
        .and_then(|()| conn.tcp().set_write_timeout(Some(ctx.limits.write_timeout)));
    if let Err(e) = timeouts {
        log::debug!("http: {peer}: cannot set timeouts: {e}");
        return;
    }
    let mut reader = Reader::new(ctx.limits.max_header_bytes, ctx.max_body_bytes)
        .with_head_deadline(ctx.limits.request_head_timeout, ctx.limits.idle_timeout);
    loop {
        let after = match reader.read_request(&mut conn, peer) {
            Ok((request, meta)) => {
                let head_only = request.method == "HEAD";
                let (method, path) = (request.method.clone(), request.path.clone());
                let response = call_handler(&*ctx.handler, request);
                log::debug!("http: {peer}: {method} {path} -> {}", response.status);
                respond(&mut conn, response, &meta, head_only, ctx)
            }
            Err(ReadError::Closed) => return,
            Err(ReadError::Io(e)) => {
                // Timeouts of idle keep-alive connections end up here too.
                log::debug!("http: {peer}: connection ends: {e}");
                After::Abort
            }
            Err(ReadError::Reject(status, message)) => {
                log::debug!("http: {peer}: rejected with {status}: {message}");
                let meta = Meta::rejection();
                respond(
                    &mut conn,
                    Response::text(status, message),
                    &meta,
                    false,
                    ctx,
                )
            }
        };
        match after {
            After::KeepOpen if !ctx.stopping() => continue,
            After::KeepOpen | After::Abort => {
                conn.close_abruptly();
                return;
            }
            After::Close => {
                linger_close(&mut conn);
                return;
            }
        }
    }
}

/// Runs the handler; a panic becomes a 500 instead of a silently dropped connection.
pub(super) fn call_handler(handler: &dyn Handler, request: Request) -> Response {
    catch_unwind(AssertUnwindSafe(|| handler.handle(request))).unwrap_or_else(|_| {
        log::error!("http: handler panicked; answering 500");
        Response::text(500, "Internal server error")
    })
}

/// Writes one response; for streams, keeps writing until the stream ends.
fn respond(
    conn: &mut Conn,
    response: Response,
    meta: &Meta,
    head_only: bool,
    ctx: &Context,
) -> After {
    let keep_alive = meta.keep_alive && !ctx.stopping();
    match encode(response, meta, head_only, keep_alive) {
        Encoded::Whole(bytes) => match write_all_flush(conn, &bytes) {
            Err(_) => After::Abort,
            Ok(()) if keep_alive => After::KeepOpen,
            Ok(()) => After::Close,
        },
        Encoded::Stream { head, rx, chunked } => {
            if write_all_flush(conn, &head).is_err() {
                return After::Abort;
            }
            stream(conn, rx, chunked, ctx)
        }
    }
}

/// `body` gzip-compressed, with `Content-Encoding: gzip` added, when the client accepts
/// gzip, the body is large enough and not already encoded; else `body` as it was.
fn gzip_if_wanted(body: Vec<u8>, meta: &Meta, headers: &mut Vec<(String, String)>) -> Vec<u8> {
    let encoded = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Content-Encoding"));
    if !meta.accept_gzip || encoded || body.len() < super::gzip::MIN_BODY {
        return body;
    }
    match super::gzip::compress(&body) {
        Some(gz) => {
            headers.push(("Content-Encoding".to_string(), "gzip".to_string()));
            gz
        }
        None => body,
    }
}

/// A response turned into bytes: all of it, or the head of a stream still to come.
pub(super) enum Encoded {
    /// Head and body.
    Whole(Vec<u8>),
    /// The head; the items of `rx` follow, as chunks when `chunked`, else raw until close.
    Stream {
        head: Vec<u8>,
        rx: Receiver<StreamItem>,
        chunked: bool,
    },
}

/// The framing rules in one place, for sockets and for [`serve_bytes`]: streams are chunked
/// (HTTP/1.1) or run until close (HTTP/1.0); no body for HEAD, 1xx, 204 and 304.
pub(super) fn encode(
    mut response: Response,
    meta: &Meta,
    head_only: bool,
    keep_alive: bool,
) -> Encoded {
    let status = response.status;
    let no_body = write::status_has_no_body(status);
    match response.body {
        Body::Stream(rx) if !head_only && !no_body => {
            // HTTP/1.0 has no chunked coding: the body then ends when the connection closes.
            let (framing, connection) = if meta.http10 {
                (Framing::UntilClose, Some("close"))
            } else {
                (Framing::Chunked, (!keep_alive).then_some("close"))
            };
            let head = write::head(
                status,
                &response.headers,
                framing,
                connection,
                SystemTime::now(),
            );
            Encoded::Stream {
                head,
                rx,
                chunked: framing == Framing::Chunked,
            }
        }
        body => {
            // A HEAD answer to a stream still announces the chunked coding, like a GET would.
            let (payload, framing) = match body {
                _ if no_body => (Vec::new(), Framing::None),
                Body::Stream(_) => (Vec::new(), Framing::Chunked),
                Body::Empty => (Vec::new(), Framing::Length(0)),
                Body::Bytes(b) => {
                    let b = gzip_if_wanted(b, meta, &mut response.headers);
                    let n = b.len();
                    (b, Framing::Length(n))
                }
            };
            let connection = match (keep_alive, meta.http10) {
                (false, _) => Some("close"),
                (true, true) => Some("keep-alive"),
                (true, false) => None,
            };
            let mut out = write::head(
                status,
                &response.headers,
                framing,
                connection,
                SystemTime::now(),
            );
            if !head_only {
                out.extend_from_slice(&payload);
            }
            Encoded::Whole(out)
        }
    }
}

fn write_all_flush(conn: &mut Conn, bytes: &[u8]) -> io::Result<()> {
    conn.write_all(bytes)?;
    conn.flush()
}

/// Writes stream items as they arrive. Between items it wakes up every
/// `stream_poll_interval` to check that the client is still connected (a non-blocking
/// read: end-of-file or an error means gone) and that the server is not shutting down.
/// Returning drops `rx`, so the cluster's next send on this stream fails.
fn stream(conn: &mut Conn, rx: Receiver<StreamItem>, chunked: bool, ctx: &Context) -> After {
    let poll = ctx.limits.stream_poll_interval;
    let mut last_probe = Instant::now();
    // Whether the socket was attached to the stream's budget (see `queue.rs`).
    let mut attached = false;
    loop {
        let written = match rx.recv_timeout(poll) {
            Ok(StreamItem::Chunk(data)) if data.is_empty() => Ok(()),
            Ok(StreamItem::Chunk(data)) if chunked => write::write_chunk(conn, &data),
            Ok(StreamItem::Chunk(data)) => write_all_flush(conn, &data),
            // The sender gave up on this stream (a reader too far behind): end it now.
            Ok(StreamItem::Counted(c)) if c.cancelled() => return After::Abort,
            Ok(StreamItem::Counted(c)) if !attached => {
                attached = true;
                c.attach(conn.tcp());
                if chunked && !c.data().is_empty() {
                    write::write_chunk(conn, c.data())
                } else if c.data().is_empty() {
                    Ok(())
                } else {
                    write_all_flush(conn, c.data())
                }
            }
            Ok(StreamItem::Counted(c)) if c.data().is_empty() => Ok(()),
            Ok(StreamItem::Counted(c)) if chunked => write::write_chunk(conn, c.data()),
            Ok(StreamItem::Counted(c)) => write_all_flush(conn, c.data()),
            Ok(StreamItem::CutAfter(data)) => {
                let _ = if chunked {
                    write::write_cut_chunk(conn, &data)
                } else {
                    write_all_flush(conn, &data)
                };
                return After::Abort;
            }
            Ok(StreamItem::Abort) => return After::Abort,
            Err(RecvTimeoutError::Disconnected) => {
                if chunked && write_all_flush(conn, write::TERMINATOR).is_err() {
                    return After::Abort;
                }
                return After::Close;
            }
            Err(RecvTimeoutError::Timeout) => Ok(()),
        };
        if written.is_err() || ctx.stopping() {
            return After::Abort;
        }
        // Probe also while items keep coming: a busy stream must notice a gone client too.
        if last_probe.elapsed() >= poll {
            last_probe = Instant::now();
            if !client_still_there(conn) {
                return After::Abort;
            }
        }
    }
}

/// A non-blocking read on the socket. Anything the client sends while it receives a
/// stream is dropped (a subscriber has nothing to say on that connection).
fn client_still_there(conn: &mut Conn) -> bool {
    let mut scratch = [0u8; 1024];
    // Bounded, so that a client that keeps sending cannot hold the stream here.
    for _ in 0..64 {
        match conn.try_read(&mut scratch) {
            Ok(None) => return true,              // nothing to read: still connected
            Ok(Some(0)) | Err(_) => return false, // end-of-file or a broken socket
            Ok(Some(_)) => {}                     // data: drop it and look again
        }
    }
    true
}

/// Closes after a complete response: TLS close_notify and TCP half-close first, then read
/// and drop whatever the client still sends (bounded in time and size) until it closes
/// too. Closing a socket with unread input makes the kernel send a reset, and a reset can
/// make the client lose a response (say a 413) that it has not read yet.
fn linger_close(conn: &mut Conn) {
    conn.close_gracefully();
    let tcp = conn.tcp();
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(100)));
    let deadline = Instant::now() + LINGER_TIME;
    let mut scratch = [0u8; 4096];
    let mut total = 0;
    while Instant::now() < deadline && total < LINGER_BYTES {
        match (&*tcp).read(&mut scratch) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}
