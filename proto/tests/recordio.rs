//! RecordIO decoding under hostile conditions: records split across reads,
//! one byte per read, truncation, oversize and garbage.

use mesos_proto::Error;
use mesos_proto::recordio::{Decoder, encode};
use proptest::prelude::*;
use std::io::Read;

/// A reader that hands out at most `step` bytes per `read` call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn decode_all(data: &[u8], step: usize) -> Result<Vec<Vec<u8>>, Error> {
    Decoder::new(Trickle { data, step }).collect()
}

#[test]
fn the_fact_sheet_example() {
    let stream = b"20\n{\"type\":\"HEARTBEAT\"}20\n{\"type\":\"HEARTBEAT\"}";
    let records = decode_all(stream, 1 << 20).unwrap();
    assert_eq!(records, vec![b"{\"type\":\"HEARTBEAT\"}".to_vec(); 2]);
    assert_eq!(
        encode(b"{\"type\":\"HEARTBEAT\"}"),
        b"20\n{\"type\":\"HEARTBEAT\"}"
    );
}

#[test]
fn one_byte_reads_give_the_same_records() {
    let mut stream = Vec::new();
    for record in [&b"a"[..], b"hello", &[0u8; 300][..]] {
        stream.extend(encode(record));
    }
    assert_eq!(
        decode_all(&stream, 1).unwrap(),
        decode_all(&stream, 4096).unwrap()
    );
    assert_eq!(decode_all(&stream, 1).unwrap().len(), 3);
}

#[test]
fn zero_length_records_are_skipped() {
    let records = decode_all(b"0\n3\nabc0\n0\n1\nx", 2).unwrap();
    assert_eq!(records, vec![b"abc".to_vec(), b"x".to_vec()]);
}

#[test]
fn an_empty_stream_is_a_clean_end() {
    assert_eq!(decode_all(b"", 1).unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn truncation_is_an_error() {
    for stream in [&b"5\nabc"[..], b"12", b"3\nabc4"] {
        let err = decode_all(stream, 1).unwrap_err();
        assert!(matches!(err, Error::RecordIo(_)), "{stream:?}: {err}");
    }
}

#[test]
fn oversize_records_are_refused_before_allocation() {
    let stream = b"18446744073709551615\nxyz";
    let err = Decoder::new(&stream[..]).next_record().unwrap_err();
    assert!(err.to_string().contains("exceeds the limit"), "{err}");

    let small = Decoder::new(&b"11\nhello world"[..])
        .with_max_record_size(10)
        .next_record();
    assert!(small.is_err());
    let exact = Decoder::new(&b"10\nhelloworld"[..])
        .with_max_record_size(10)
        .next_record();
    assert_eq!(exact.unwrap().unwrap(), b"helloworld");
}

#[test]
fn garbage_is_an_error() {
    for stream in [
        &b"abc\n"[..],
        b"\n",
        b" 3\nabc",
        b"3 \nabc",
        b"-3\nabc",
        b"123456789012345678901\n",
        b"99999999999999999999\n",
    ] {
        assert!(Decoder::new(stream).next_record().is_err(), "{stream:?}");
    }
}

proptest! {
    /// Any sequence of records survives encoding and decoding, whatever the
    /// read size.
    #[test]
    fn round_trip(records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..20),
                  step in 1usize..64) {
        let mut stream = Vec::new();
        for record in &records {
            stream.extend(encode(record));
        }
        prop_assert_eq!(decode_all(&stream, step).unwrap(), records);
    }

    /// Arbitrary bytes never panic and never yield more data than was given.
    #[test]
    fn arbitrary_input_never_panics(data in prop::collection::vec(any::<u8>(), 0..512), step in 1usize..32) {
        let mut decoder = Decoder::new(Trickle { data: &data, step }).with_max_record_size(1024);
        let mut total = 0;
        while let Ok(Some(record)) = decoder.next_record() {
            total += record.len();
        }
        prop_assert!(total <= data.len());
    }
}

/// A [`Trickle`] that counts its reads.
struct Counting<'a> {
    inner: Trickle<'a>,
    reads: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        self.inner.read(buf)
    }
}

/// Decodes `stream` read `step` bytes at a time; checks that every record
/// `has_buffered_record` promised came without a read, and returns how many
/// records were promised.
fn promised_records(stream: &[u8], step: usize, expected: &[Vec<u8>]) -> usize {
    let reader = Counting {
        inner: Trickle { data: stream, step },
        reads: 0,
    };
    let mut decoder = Decoder::new(reader);
    let mut promised = 0;
    for record in expected {
        let buffered = decoder.has_buffered_record();
        let reads = decoder.get_ref().reads;
        assert_eq!(decoder.next_record().unwrap().as_ref(), Some(record));
        if buffered {
            promised += 1;
            assert_eq!(decoder.get_ref().reads, reads, "a promised record was read");
        }
    }
    assert!(!decoder.has_buffered_record());
    assert_eq!(decoder.next_record().unwrap(), None);
    promised
}

#[test]
fn buffered_records_are_promised_only_when_whole() {
    let records = vec![b"abc".to_vec(), b"hello".to_vec(), vec![7u8; 300]];
    let mut stream = Vec::new();
    for record in &records {
        stream.extend(encode(record));
    }
    // One read brings everything: the first record needs that read, the
    // other two are promised.
    assert_eq!(promised_records(&stream, 1 << 20, &records), 2);
    // One byte at a time: never whole before it is read.
    assert_eq!(promised_records(&stream, 1, &records), 0);
    // A zero length, garbage, or a length without its newline yet, after a
    // whole record: not promised (`next_record` may have to read, or fails).
    for stream in [&b"3\nabc0\n2\nxy"[..], b"3\nabcz\n", b"3\nabc12"] {
        let mut decoder = Decoder::new(stream);
        assert_eq!(decoder.next_record().unwrap(), Some(b"abc".to_vec()));
        assert!(!decoder.has_buffered_record(), "{stream:?}");
    }
}

proptest! {
    /// Whatever the read size, a promised record never needs a read.
    #[test]
    fn promised_records_need_no_read(records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..20),
                                     step in 1usize..400) {
        let mut stream = Vec::new();
        for record in &records {
            stream.extend(encode(record));
        }
        promised_records(&stream, step, &records);
    }
}
