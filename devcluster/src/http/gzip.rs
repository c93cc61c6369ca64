//! gzip of large response bodies, as libprocess does for every Mesos endpoint: a
//! non-streaming body of [`MIN_BODY`] bytes or more is compressed when the request's
//! `Accept-Encoding` allows gzip. Streams (subscriptions) are never compressed: each
//! record must reach the client as soon as it is written.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Bodies shorter than this go out as they are (libprocess: 1024 bytes).
pub(crate) const MIN_BODY: usize = 1024;

/// Whether an `Accept-Encoding` header value allows gzip: `gzip` with a non-zero
/// quality, or else `*` with a non-zero quality (RFC 9110 §12.5.3). Names compare
/// case-insensitively; a `q` that does not parse counts as 1.
pub(crate) fn accepts(header: &str) -> bool {
    let mut wildcard = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .filter_map(|v| v.trim().parse::<f64>().ok())
            .next_back()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if name == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// The gzip member of `body`; `None` if compression failed (the body then goes out plain).
pub(crate) fn compress(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_values() {
        for yes in [
            "gzip",
            "GZIP",
            "deflate, gzip",
            "gzip;q=0.5",
            "*",
            "br, *;q=0.1",
            "x-gzip",
        ] {
            assert!(accepts(yes), "{yes}");
        }
        for no in ["", "deflate", "gzip;q=0", "*;q=0", "br", "gzip;q=0.0, *"] {
            assert!(!accepts(no), "{no}");
        }
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        use std::io::Read;
        let body = br#"{"frameworks":[]}"#.repeat(200);
        let gz = compress(&body).expect("compresses");
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut back)
            .expect("decompresses");
        assert_eq!(back, body);
    }
}
