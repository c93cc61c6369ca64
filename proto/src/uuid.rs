//! UUIDs as the status-update protocol carries them: 16 raw bytes.
//!
//! Executors pick a fresh random UUID for every update; the same bytes come
//! back in the agent's ACKNOWLEDGED event and in the scheduler's ACKNOWLEDGE
//! call. Mesos rejects anything that is not 16 bytes with an RFC 4122
//! version between 1 and 5 (`Not a valid UUID`), so we check the same.

/// A fresh random (version 4) UUID as 16 bytes.
pub fn new_v4() -> Vec<u8> {
    ::uuid::Uuid::new_v4().as_bytes().to_vec()
}

/// Whether `bytes` is a UUID Mesos accepts: exactly 16 bytes whose version
/// nibble (the high 4 bits of byte 6) is 1 to 5.
pub fn is_valid(bytes: &[u8]) -> bool {
    bytes.len() == 16 && (1..=5).contains(&(bytes[6] >> 4))
}

/// The canonical text form (`8-4-4-4-12` hex digits) for logs; bytes that
/// are not 16 long are shown as hex.
pub fn to_string(bytes: &[u8]) -> String {
    match <[u8; 16]>::try_from(bytes) {
        Ok(array) => ::uuid::Uuid::from_bytes(array).to_string(),
        Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_uuids_are_valid_and_distinct() {
        let a = new_v4();
        let b = new_v4();
        assert!(is_valid(&a));
        assert_ne!(a, b);
        assert_eq!(a[6] >> 4, 4);
    }

    #[test]
    fn the_fact_sheets_bad_uuid_is_rejected() {
        // The 8 bytes "bad-uuid", as in conformance item 34.
        assert!(!is_valid(b"bad-uuid"));
        let mut nil = [0u8; 16];
        assert!(!is_valid(&nil), "version 0 is not a valid RFC 4122 UUID");
        nil[6] = 0x60;
        assert!(!is_valid(&nil), "version 6 is beyond what Mesos accepts");
    }

    #[test]
    fn text_form() {
        let bytes = [
            0x3f, 0x8e, 0x9c, 0x1a, 0x2b, 0x4d, 0x4e, 0x6f, 0x8a, 0x1b, 0x9c, 0x0d, 0x2e, 0x3f,
            0x4a, 0x5b,
        ];
        assert_eq!(to_string(&bytes), "3f8e9c1a-2b4d-4e6f-8a1b-9c0d2e3f4a5b");
        assert_eq!(to_string(b"ab"), "6162");
    }
}
