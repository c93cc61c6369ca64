//! RecordIO decoding of arbitrary bytes: errors are fine, panics, hangs and
//! allocations beyond the record cap are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::recordio::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(data).with_max_record_size(64 * 1024);
    let mut total = 0;
    while let Ok(Some(record)) = decoder.next_record() {
        total += record.len();
        assert!(total <= data.len(), "decoded more bytes than were given");
    }
});
