//! Streaming responses (SUBSCRIBE): a background thread de-chunks the body, decodes its
//! RecordIO records and hands them over a channel, so every wait has a deadline and the
//! decoder is never left half-way through a record.

use std::io::{self, BufReader, Read};
use std::marker::PhantomData;
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_proto::ContentType;

use super::{Chunked, Head, Response, is_chunked, read_body, read_head, send};

/// At most this many de-chunked stream bytes are kept for framing checks.
const RAW_KEEP: usize = 1 << 20;

/// Copies everything read into a shared buffer (for framing checks), up to [`RAW_KEEP`].
struct Tee<R> {
    inner: R,
    copy: Arc<Mutex<Vec<u8>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut copy = self.copy.lock().unwrap_or_else(|p| p.into_inner());
        if copy.len() + n <= RAW_KEEP {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// How an event stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// The server sent the chunked terminator `0\r\n\r\n` after the last record.
    Terminated,
    /// The connection closed (or was cut) without the terminator.
    Closed(String),
}

/// What the reader thread hands over.
enum Item {
    Record(Vec<u8>),
    End(End),
}

/// One result of waiting on a stream.
#[derive(Debug)]
pub enum Next<T> {
    /// A decoded event and its raw record bytes.
    Event(T, Vec<u8>),
    /// The stream is over.
    End(End),
    /// Nothing arrived within the time given.
    Timeout,
}

/// An open streaming response (SUBSCRIBE) whose RecordIO records decode as `T`.
pub struct EventStream<T> {
    /// Status line and headers of the response.
    pub head: Head,
    /// The encoding of the records (from the response `Content-Type`).
    pub content_type: ContentType,
    rx: Receiver<Item>,
    sock: TcpStream,
    raw: Arc<Mutex<Vec<u8>>>,
    ended: Option<End>,
    _event: PhantomData<fn() -> T>,
}

/// Sends a request expected to answer with a stream. A non-200 answer is returned as a
/// complete [`Response`] in `Err`.
pub fn open_stream<T>(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<EventStream<T>, Response>
where
    T: prost::Message + prost::Name + Default,
{
    let sock = send(addr, "POST", path, headers, Some(body))
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let mut reader = BufReader::new(sock.try_clone().expect("clone socket"));
    let head = read_head(&mut reader).unwrap_or_else(|e| panic!("response head of {path}: {e}"));
    if head.status != 200 {
        let body = read_body(&mut reader, &head).unwrap_or_default();
        return Err(Response { head, body });
    }
    // The reader thread blocks on the socket; the stream's deadlines come from the channel.
    let _ = sock.set_read_timeout(None);
    let content_type = head
        .header("Content-Type")
        .and_then(ContentType::from_mime)
        .unwrap_or(ContentType::Json);
    let raw = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel();
    let copy = raw.clone();
    let chunked = is_chunked(&head);
    std::thread::spawn(move || {
        // Without chunking (never expected from Mesos) the body runs to EOF.
        let body: Box<dyn Read + Send> = if chunked {
            Box::new(Chunked::new(reader))
        } else {
            Box::new(reader)
        };
        let mut decoder = mesos_proto::recordio::Decoder::new(Tee { inner: body, copy });
        loop {
            match decoder.next_record() {
                Ok(Some(rec)) => {
                    if tx.send(Item::Record(rec)).is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    let end = if chunked {
                        End::Terminated
                    } else {
                        End::Closed("EOF".into())
                    };
                    let _ = tx.send(Item::End(end));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Item::End(End::Closed(e.to_string())));
                    return;
                }
            }
        }
    });
    Ok(EventStream {
        head,
        content_type,
        rx,
        sock,
        raw,
        ended: None,
        _event: PhantomData,
    })
}

impl<T: prost::Message + prost::Name + Default + std::fmt::Debug + 'static> EventStream<T> {
    /// The next record within `d`, decoded. A record that does not decode panics: that is
    /// a conformance failure in itself.
    pub fn next_within(&mut self, d: Duration) -> Next<T> {
        if let Some(end) = &self.ended {
            return Next::End(end.clone());
        }
        match self.rx.recv_timeout(d) {
            Ok(Item::Record(raw)) => match self.content_type.decode::<T>(&raw) {
                Ok(ev) => Next::Event(ev, raw),
                Err(e) => panic!(
                    "record does not decode ({e}): {}",
                    String::from_utf8_lossy(&raw)
                ),
            },
            Ok(Item::End(end)) => {
                self.ended = Some(end.clone());
                Next::End(end)
            }
            Err(RecvTimeoutError::Timeout) => Next::Timeout,
            Err(RecvTimeoutError::Disconnected) => {
                let end = End::Closed("reader gone".into());
                self.ended = Some(end.clone());
                Next::End(end)
            }
        }
    }

    /// The next event within `d`; panics on timeout or end of stream.
    pub fn next_event(&mut self, d: Duration) -> (T, Vec<u8>) {
        match self.next_within(d) {
            Next::Event(ev, raw) => (ev, raw),
            Next::End(end) => panic!("stream ended ({end:?}) while an event was expected"),
            Next::Timeout => panic!("no event within {d:?}"),
        }
    }

    /// Skips events until `pred` holds, within `d` overall; panics otherwise, listing what
    /// was skipped.
    pub fn wait_for(&mut self, d: Duration, mut pred: impl FnMut(&T) -> bool) -> (T, Vec<u8>) {
        let deadline = Instant::now() + d;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left) {
                Next::Event(ev, raw) if pred(&ev) => return (ev, raw),
                Next::Event(_, raw) => skipped.push(String::from_utf8_lossy(&raw).into_owned()),
                Next::End(end) => panic!("stream ended ({end:?}); skipped: {skipped:#?}"),
                Next::Timeout => panic!("timed out after {d:?}; skipped: {skipped:#?}"),
            }
        }
    }

    /// Collects events for `d` (or until the stream ends); returns them with the end, if any.
    pub fn collect_for(&mut self, d: Duration) -> (Vec<T>, Option<End>) {
        let deadline = Instant::now() + d;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left) {
                Next::Event(ev, _) => events.push(ev),
                Next::End(end) => return (events, Some(end)),
                Next::Timeout => return (events, None),
            }
        }
    }

    /// Waits up to `d` for the end of the stream, skipping events; panics on timeout.
    pub fn wait_end(&mut self, d: Duration) -> End {
        let (_, end) = self.collect_for(d);
        end.unwrap_or_else(|| panic!("stream still open after {d:?}"))
    }

    /// The de-chunked body bytes received so far (up to 1 MiB), for framing checks.
    pub fn raw_body(&self) -> Vec<u8> {
        self.raw.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Closes the connection from the client side (as a crashed scheduler would).
    pub fn close(self) {}
}

impl<T> Drop for EventStream<T> {
    fn drop(&mut self) {
        // Unblocks the reader thread; it then exits on its own.
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}
