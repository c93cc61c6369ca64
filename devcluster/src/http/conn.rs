//! One connection, on its own thread: read a request, answer it, repeat (keep-alive and
//! pipelining come from reading requests strictly in order from one buffer), until the
//! client or the response asks to close, a stream ends, or the server shuts down.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::parse::{Meta, ReadError, Reader, Source};
use super::tls::Conn;
use super::write::{self, Framing};
use super::{Body, Counted, Handler, Limits, Request, Response, StreamItem};

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
    // Answers not yet written (see `Pipelined`).
    let mut pending = Vec::new();
    loop {
        let mut input = Pipelined {
            conn: &mut conn,
            pending: &mut pending,
        };
        let after = match reader.read_request(&mut input, peer) {
            Ok((request, meta)) => {
                let head_only = request.method == "HEAD";
                // Copied for the log line only when it will be written.
                let (method, path) = if log::log_enabled!(log::Level::Debug) {
                    (request.method.clone(), request.path.clone())
                } else {
                    Default::default()
                };
                let response = call_handler(&*ctx.handler, request);
                log::debug!("http: {peer}: {method} {path} -> {}", response.status);
                // The client has already sent (part of) its next request: this answer can
                // wait for the next one and go out with it (bounded).
                let hold = reader.buffered() > 0 && pending.len() < MAX_PENDING;
                respond(
                    &mut conn,
                    &mut pending,
                    hold,
                    response,
                    &meta,
                    head_only,
                    ctx,
                )
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
                    &mut pending,
                    false,
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
                if !pending.is_empty() {
                    let _ = write_all_flush(&mut conn, &pending);
                }
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

/// At most this many bytes of answers wait in `pending` for the next request.
const MAX_PENDING: usize = 64 << 10;

/// The input side of a connection for [`Reader::read_request`]: before it blocks on the
/// socket (or writes a `100 Continue`), the answers still held in `pending` go out.
///
/// Why: a client that pipelines (writes many requests without waiting for answers, as
/// schedulers do with acknowledgements) would otherwise get each small answer in its own
/// write, one system call and one wakeup of the client per request. Answers are held only
/// while the next request is already (partly) read, so nobody waits on a held answer: the
/// moment the server has to wait for the client, everything held has been sent.
struct Pipelined<'a> {
    conn: &'a mut Conn,
    pending: &'a mut Vec<u8>,
}

impl Pipelined<'_> {
    fn send_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            write_all_flush(self.conn, self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }
}

impl Read for Pipelined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.send_pending()?;
        self.conn.read(buf)
    }
}

/// The request-head deadline sets the socket's read timeout (see `Reader`).
impl Source for Pipelined<'_> {
    fn set_read_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.conn.set_read_timeout(d)
    }
}

impl Write for Pipelined<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send_pending()?;
        self.conn.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_pending()?;
        self.conn.flush()
    }
}

/// Writes one response after what `pending` holds; for streams, keeps writing until the
/// stream ends. With `hold`, a whole keep-alive answer is added to `pending` instead.
fn respond(
    conn: &mut Conn,
    pending: &mut Vec<u8>,
    hold: bool,
    response: Response,
    meta: &Meta,
    head_only: bool,
    ctx: &Context,
) -> After {
    let keep_alive = meta.keep_alive && !ctx.stopping();
    match encode(response, meta, head_only, keep_alive) {
        Encoded::Whole(mut bytes) => {
            // Nothing held yet (the usual case): this answer becomes the buffer, no copy.
            if pending.is_empty() {
                std::mem::swap(pending, &mut bytes);
            } else {
                pending.extend_from_slice(&bytes);
            }
            if hold && keep_alive {
                return After::KeepOpen;
            }
            let written = write_all_flush(conn, pending);
            pending.clear();
            match written {
                Err(_) => After::Abort,
                Ok(()) if keep_alive => After::KeepOpen,
                Ok(()) => After::Close,
            }
        }
        Encoded::Stream { head, rx, chunked } => {
            pending.extend_from_slice(&head);
            let written = write_all_flush(conn, pending);
            pending.clear();
            if written.is_err() {
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

/// At most this many bytes of queued stream items are gathered into one write.
const MAX_GATHER: usize = 256 << 10;

/// Writes stream items as they arrive. Between items it wakes up every
/// `stream_poll_interval` to check that the client is still connected (a non-blocking
/// read: end-of-file or an error means gone) and that the server is not shutting down.
/// Returning drops `rx`, so the cluster's next send on this stream fails.
///
/// Items that have queued up meanwhile go out together: each is still its own chunk
/// (one RecordIO record per chunk, as Mesos sends them), but a busy stream costs one
/// write and one wakeup of the client per batch instead of per event.
fn stream(conn: &mut Conn, rx: Receiver<StreamItem>, chunked: bool, ctx: &Context) -> After {
    let poll = ctx.limits.stream_poll_interval;
    let mut last_probe = Instant::now();
    // Whether the socket was attached to the stream's budget (see `queue.rs`).
    let mut attached = false;
    let mut out = Vec::new();
    // The counted items copied into `out`: they stay counted against the stream's budget
    // until `out` is written, as a single item being written does (a reader too slow for
    // the batch is as far behind as the bound says).
    let mut batch: Vec<Counted> = Vec::new();
    loop {
        out.clear();
        batch.clear();
        let mut item = Some(rx.recv_timeout(poll));
        // What ends the stream once `out` is written, if anything does.
        let mut end = None;
        while let Some(next) = item.take() {
            match next {
                Ok(StreamItem::Chunk(data)) if data.is_empty() => {}
                Ok(StreamItem::Chunk(data)) if chunked => write::push_chunk(&mut out, &data),
                Ok(StreamItem::Chunk(data)) => out.extend_from_slice(&data),
                // The sender gave up on this stream (a reader too far behind): end it now,
                // without writing what was gathered.
                Ok(StreamItem::Counted(c)) if c.cancelled() => return After::Abort,
                Ok(StreamItem::Counted(c)) => {
                    if !attached {
                        attached = true;
                        c.attach(conn.tcp());
                    }
                    if !c.data().is_empty() {
                        if chunked {
                            write::push_chunk(&mut out, c.data());
                        } else {
                            out.extend_from_slice(c.data());
                        }
                    }
                    batch.push(c);
                }
                Ok(StreamItem::CutAfter(data)) => {
                    if chunked {
                        write::push_cut_chunk(&mut out, &data);
                    } else {
                        out.extend_from_slice(&data);
                    }
                    end = Some(After::Abort);
                    break;
                }
                Ok(StreamItem::Abort) => {
                    end = Some(After::Abort);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if chunked {
                        out.extend_from_slice(write::TERMINATOR);
                    }
                    end = Some(After::Close);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if out.len() < MAX_GATHER {
                item = match rx.try_recv() {
                    Ok(i) => Some(Ok(i)),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
                };
            }
        }
        let written = if out.is_empty() {
            Ok(())
        } else {
            write_all_flush(conn, &out)
        };
        // Written (or failed): the batch's bytes go back to the budget.
        batch.clear();
        match end {
            Some(After::Close) if written.is_ok() => return After::Close,
            Some(_) => return After::Abort,
            None => {}
        }
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
