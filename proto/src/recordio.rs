//! RecordIO: how Mesos frames the events of a subscription stream.
//!
//! A stream is a sequence of records, each a decimal length, a newline, and
//! exactly that many bytes (one encoded event):
//!
//! ```text
//! 20\n{"type":"HEARTBEAT"}20\n{"type":"HEARTBEAT"}
//! ```
//!
//! There is no separator after a record. The records travel inside an HTTP
//! chunked body, but chunk boundaries mean nothing: a proxy may split or join
//! chunks, so the [`Decoder`] treats the body as a plain byte stream.
//!
//! The decoder never trusts the length prefix blindly: a record larger than
//! the configured cap (4 MiB by default, as mesos-go uses) is an error before
//! any memory is allocated for it.

use crate::error::{Error, Result};
use std::io::{ErrorKind, Read};

/// The default cap on one record: 4 MiB.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 4 << 20;

/// A length prefix longer than this many digits cannot be a valid `u64` and
/// is rejected as garbage straight away.
const MAX_LENGTH_DIGITS: usize = 20;

/// How much is read from the underlying stream at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Frames one record: `<decimal length>\n<record>`.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 12);
    encode_into(record, &mut out);
    out
}

/// Appends one framed record to `out`.
pub fn encode_into(record: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
}

/// Reads records one at a time from any [`Read`] (a socket, an HTTP body, a
/// file, a byte slice).
///
/// After an error the stream is out of step and should be dropped; a
/// scheduler treats it as a broken connection and subscribes again.
pub struct Decoder<R> {
    reader: R,
    max_record_size: usize,
    /// Bytes read from `reader` but not yet consumed: `buffer[start..end]`.
    /// The buffer is zeroed once, when first filled, and then keeps its size
    /// (at most [`READ_CHUNK`]): only `end` moves, so a refill is one read,
    /// not a 64 KiB memset and a read.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// Set after the first error, which ends iteration.
    failed: bool,
}

impl<R: Read> Decoder<R> {
    /// A decoder with the default 4 MiB record cap.
    pub fn new(reader: R) -> Self {
        Decoder {
            reader,
            max_record_size: DEFAULT_MAX_RECORD_SIZE,
            buffer: Vec::new(),
            start: 0,
            end: 0,
            failed: false,
        }
    }

    /// Changes the largest record accepted.
    pub fn with_max_record_size(mut self, max: usize) -> Self {
        self.max_record_size = max;
        self
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The next record, `Ok(None)` at a clean end of stream (between two
    /// records). Zero-length records are skipped: Mesos never sends one, but
    /// its own decoder tolerates them and so do we.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let Some(length) = self.read_length()? else {
                return Ok(None);
            };
            if length == 0 {
                continue;
            }
            return self.read_body(length).map(Some);
        }
    }

    /// Whether the next record is already buffered whole, so that
    /// [`next_record`](Self::next_record) returns it without reading from the
    /// underlying stream (and so without blocking on a socket).
    ///
    /// A reader that hands records on in batches uses this to pass on what it
    /// has before it waits for more. `false` is always a safe answer: it is
    /// also given for a record that is only partly buffered, and for a length
    /// prefix that is empty, zero or not (yet) valid.
    pub fn has_buffered_record(&self) -> bool {
        let rest = &self.buffer[self.start..self.end];
        let mut value: usize = 0;
        for (at, &byte) in rest.iter().enumerate().take(MAX_LENGTH_DIGITS + 1) {
            match byte {
                b'0'..=b'9' => {
                    let Some(next) = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(usize::from(byte - b'0')))
                    else {
                        return false;
                    };
                    value = next;
                }
                b'\n' if at > 0 => {
                    return value > 0
                        && value <= self.max_record_size
                        && rest.len() - (at + 1) >= value;
                }
                _ => return false,
            }
        }
        false
    }

    /// Reads the decimal prefix and its newline. `None` if the stream ended
    /// before the first digit.
    fn read_length(&mut self) -> Result<Option<usize>> {
        let mut digits = 0usize;
        let mut value: u64 = 0;
        loop {
            if self.start == self.end && !self.fill()? {
                return if digits == 0 {
                    Ok(None)
                } else {
                    Err(Error::RecordIo(
                        "stream ended inside a record length".into(),
                    ))
                };
            }
            let byte = self.buffer[self.start];
            self.start += 1;
            match byte {
                b'0'..=b'9' => {
                    digits += 1;
                    if digits > MAX_LENGTH_DIGITS {
                        return Err(Error::RecordIo("record length has too many digits".into()));
                    }
                    value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                        .ok_or_else(|| Error::RecordIo("record length overflows".into()))?;
                }
                b'\n' if digits > 0 => break,
                other => {
                    return Err(Error::RecordIo(format!(
                        "expected a decimal record length, found byte 0x{other:02x}"
                    )));
                }
            }
        }
        match usize::try_from(value) {
            Ok(length) if length <= self.max_record_size => Ok(Some(length)),
            _ => Err(Error::RecordIo(format!(
                "record of {value} bytes exceeds the limit of {} bytes",
                self.max_record_size
            ))),
        }
    }

    /// Reads exactly `length` bytes of record data.
    fn read_body(&mut self, length: usize) -> Result<Vec<u8>> {
        let mut record = Vec::with_capacity(length);
        let buffered = (self.end - self.start).min(length);
        record.extend_from_slice(&self.buffer[self.start..self.start + buffered]);
        self.start += buffered;
        while record.len() < length {
            // Large records are read straight into place, skipping the buffer.
            let have = record.len();
            record.resize(length, 0);
            match self.reader.read(&mut record[have..]) {
                Ok(0) => {
                    return Err(Error::RecordIo(format!(
                        "stream ended inside a record ({have} of {length} bytes)"
                    )));
                }
                Ok(n) => record.truncate(have + n),
                Err(err) if err.kind() == ErrorKind::Interrupted => record.truncate(have),
                Err(err) => return Err(Error::Io(err.to_string())),
            }
        }
        Ok(record)
    }

    /// Refills the buffer; `false` at end of stream.
    fn fill(&mut self) -> Result<bool> {
        self.start = 0;
        self.end = 0;
        if self.buffer.len() != READ_CHUNK {
            self.buffer.resize(READ_CHUNK, 0);
        }
        loop {
            match self.reader.read(&mut self.buffer) {
                Ok(n) => {
                    // A reader that claims more than it was given is broken;
                    // treat the claim as the buffer's size rather than panic.
                    self.end = n.min(self.buffer.len());
                    return Ok(n > 0);
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::Io(err.to_string())),
            }
        }
    }
}

impl<R: Read> Iterator for Decoder<R> {
    type Item = Result<Vec<u8>>;

    /// Yields records until the end of the stream or the first error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_record().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}
