//! A stream's queue with a bound: [`BoundedSender`] counts the items and bytes that wait
//! for a connection thread to write them, and refuses an item that would go over the
//! bound. The cluster then drops the stream: a subscriber that reads too slowly is
//! disconnected (it resubscribes, as after a cut stream) instead of making the cluster
//! queue its events without end.
//!
//! Each queued item is a [`Counted`] chunk holding a share of the queue's [`Budget`];
//! when the connection thread has written it (or drops it with the stream), its bytes
//! are given back. [`BoundedSender::cancel`] makes the connection thread end the stream at
//! the next item it takes, abruptly, so the memory of everything still queued is freed
//! then, without writing it to the slow reader first. The connection thread may be
//! blocked writing to that slow reader: it attaches its socket to the budget when it
//! takes the first item, and `cancel` shuts that socket down, which ends the blocked
//! write at once (instead of after the write timeout).

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};

use super::StreamItem;

/// What one stream's queue holds now.
#[derive(Debug, Default)]
pub struct Budget {
    items: AtomicUsize,
    bytes: AtomicUsize,
    cancelled: AtomicBool,
    /// The connection's socket (a clone), shut down by `cancel`.
    socket: Mutex<Option<TcpStream>>,
}

impl Budget {
    /// Whether the sender gave up on this stream (see [`BoundedSender::cancel`]).
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// One chunk counted against its stream's [`Budget`] until it is dropped (written).
#[derive(Debug)]
pub struct Counted {
    data: Vec<u8>,
    budget: Arc<Budget>,
}

impl Counted {
    /// The bytes to write.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Whether the stream was cancelled: the connection ends instead of writing.
    pub fn cancelled(&self) -> bool {
        self.budget.cancelled()
    }

    /// Attaches the connection's socket to the stream (once; later calls do nothing), so
    /// that cancelling the stream ends a write blocked on a reader that does not read.
    pub fn attach(&self, socket: &TcpStream) {
        let mut slot = self.budget.socket.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none()
            && let Ok(clone) = socket.try_clone()
        {
            if self.budget.cancelled() {
                let _ = clone.shutdown(Shutdown::Both);
            }
            *slot = Some(clone);
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Counted {
        self.budget.items.fetch_add(1, Ordering::SeqCst);
        self.budget
            .bytes
            .fetch_add(self.data.len(), Ordering::SeqCst);
        Counted {
            data: self.data.clone(),
            budget: self.budget.clone(),
        }
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Counted) -> bool {
        self.data == other.data
    }
}

impl Eq for Counted {}

impl Drop for Counted {
    fn drop(&mut self) {
        self.budget.items.fetch_sub(1, Ordering::SeqCst);
        self.budget
            .bytes
            .fetch_sub(self.data.len(), Ordering::SeqCst);
    }
}

/// Why [`BoundedSender::send_chunk`] did not queue a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefused {
    /// The client is gone (the connection thread dropped the receiver).
    Gone,
    /// The client is further behind than the bound allows.
    Behind,
}

/// The sending side of a bounded stream (see the module documentation).
#[derive(Debug, Clone)]
pub struct BoundedSender {
    tx: Sender<StreamItem>,
    budget: Arc<Budget>,
    max_items: usize,
    max_bytes: usize,
}

impl BoundedSender {
    /// A stream whose queue holds at most `max_items` chunks and `max_bytes` bytes; the
    /// receiver goes into [`super::Response::stream`].
    pub fn new(max_items: usize, max_bytes: usize) -> (BoundedSender, Receiver<StreamItem>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sender = BoundedSender {
            tx,
            budget: Arc::new(Budget::default()),
            max_items: max_items.max(1),
            max_bytes,
        };
        (sender, rx)
    }

    /// Queues `data` as one chunk, unless the client is gone or too far behind. A chunk
    /// larger than the byte bound still goes to a client with nothing queued.
    pub fn send_chunk(&self, data: Vec<u8>) -> Result<(), SendRefused> {
        let items = self.budget.items.load(Ordering::SeqCst);
        let bytes = self.budget.bytes.load(Ordering::SeqCst);
        if items > 0
            && (items >= self.max_items || bytes.saturating_add(data.len()) > self.max_bytes)
        {
            return Err(SendRefused::Behind);
        }
        self.budget.items.fetch_add(1, Ordering::SeqCst);
        self.budget.bytes.fetch_add(data.len(), Ordering::SeqCst);
        let item = StreamItem::Counted(Counted {
            data,
            budget: self.budget.clone(),
        });
        self.tx.send(item).map_err(|_| SendRefused::Gone)
    }

    /// Queues an item without counting it (a probe, an abort, a cut record); false if the
    /// client is gone. A `Chunk` sent this way bypasses the bound: keep those tiny.
    pub fn send_raw(&self, item: StreamItem) -> bool {
        self.tx.send(item).is_ok()
    }

    /// Ends the stream abruptly at the next item the connection thread takes, dropping
    /// what is still queued.
    pub fn cancel(&self) {
        self.budget.cancelled.store(true, Ordering::SeqCst);
        let _ = self.tx.send(StreamItem::Abort);
        let socket = self
            .budget
            .socket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(s) = socket {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Items and bytes waiting to be written now.
    pub fn queued(&self) -> (usize, usize) {
        (
            self.budget.items.load(Ordering::SeqCst),
            self.budget.bytes.load(Ordering::SeqCst),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_falls_behind_is_refused_and_memory_comes_back() {
        let (tx, rx) = BoundedSender::new(3, 100);
        tx.send_chunk(vec![0; 60]).unwrap();
        tx.send_chunk(vec![0; 30]).unwrap();
        assert_eq!(tx.send_chunk(vec![0; 20]), Err(SendRefused::Behind));
        tx.send_chunk(vec![0; 10]).unwrap();
        assert_eq!(tx.send_chunk(vec![]), Err(SendRefused::Behind));
        assert_eq!(tx.queued(), (3, 100));
        // The reader takes one: its bytes come back.
        drop(rx.recv().unwrap());
        assert_eq!(tx.queued(), (2, 40));
        tx.send_chunk(vec![0; 50]).unwrap();
        // Cancelled: every queued item says so.
        tx.cancel();
        match rx.recv().unwrap() {
            StreamItem::Counted(c) => assert!(c.cancelled()),
            other => panic!("{other:?}"),
        }
        drop(rx);
        assert_eq!(tx.queued(), (0, 0));
        assert_eq!(tx.send_chunk(vec![1]), Err(SendRefused::Gone));
    }

    #[test]
    fn one_large_chunk_reaches_a_reader_that_is_up_to_date() {
        let (tx, rx) = BoundedSender::new(10, 100);
        tx.send_chunk(vec![0; 1000]).unwrap();
        assert_eq!(tx.send_chunk(vec![0; 1]), Err(SendRefused::Behind));
        drop(rx.recv().unwrap());
        tx.send_chunk(vec![0; 1]).unwrap();
    }
}
