//! One connection's worth of request bytes served without a socket.
//!
//! Why: to fuzz the server's request handling (fuzz/fuzz_targets/devcluster_http.rs) the
//! way a client exercises it, bytes must go through the same reader, handler and framing
//! as on a TCP connection, but thousands of times a second and without ports. Only the
//! socket differs: the input is a byte slice, the output a `Vec`, and a streaming
//! response yields the items already queued and then counts as a departed client, so
//! nothing here ever waits.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};

use crossbeam_channel::TryRecvError;

use super::StreamItem;
use super::conn::{Context, Encoded, call_handler, encode};
use super::parse::{Meta, ReadError, Reader};
use super::write;

/// Most items taken from one streaming response before it is dropped.
const MAX_STREAM_ITEMS: usize = 64;

/// The client side of an in-memory connection.
struct Memory<'a> {
    input: &'a [u8],
    output: Vec<u8>,
}

impl super::parse::Source for Memory<'_> {}

impl Read for Memory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Memory<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads requests from `input` as one keep-alive connection would, answers each through
/// the handler, and returns everything the server would have written back.
pub(crate) fn serve_bytes(ctx: &Context, input: &[u8]) -> Vec<u8> {
    let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut conn = Memory {
        input,
        output: Vec::new(),
    };
    let mut reader = Reader::new(ctx.limits.max_header_bytes, ctx.max_body_bytes);
    loop {
        let (response, meta, head_only) = match reader.read_request(&mut conn, peer) {
            Ok((request, meta)) => {
                let head_only = request.method == "HEAD";
                (call_handler(&*ctx.handler, request), meta, head_only)
            }
            Err(ReadError::Closed | ReadError::Io(_)) => break,
            Err(ReadError::Reject(status, message)) => (
                super::Response::text(status, message),
                Meta::rejection(),
                false,
            ),
        };
        match encode(response, &meta, head_only, meta.keep_alive) {
            Encoded::Whole(bytes) => conn.output.extend_from_slice(&bytes),
            Encoded::Stream { head, rx, chunked } => {
                conn.output.extend_from_slice(&head);
                for _ in 0..MAX_STREAM_ITEMS {
                    let data = match rx.try_recv() {
                        Ok(StreamItem::Chunk(data)) => data,
                        Ok(StreamItem::Counted(c)) if c.cancelled() => break,
                        Ok(StreamItem::Counted(c)) => c.data().to_vec(),
                        Ok(StreamItem::CutAfter(data)) => {
                            let _ = write::write_cut_chunk(&mut conn.output, &data);
                            break;
                        }
                        Ok(StreamItem::Abort) | Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            if chunked {
                                conn.output.extend_from_slice(write::TERMINATOR);
                            }
                            break;
                        }
                    };
                    if data.is_empty() {
                        continue;
                    }
                    if chunked {
                        let _ = write::write_chunk(&mut conn.output, &data);
                    } else {
                        conn.output.extend_from_slice(&data);
                    }
                }
                // The stream holds the connection to its end; dropping `rx` here is the
                // client going away, which the cluster sees as a disconnection.
                break;
            }
        }
        if !meta.keep_alive {
            break;
        }
    }
    conn.output
}
