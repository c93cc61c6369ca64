//! Object key -> field, for the one-pass JSON reader.
//!
//! Every key of every object is looked up, so this is the reader's hottest
//! table. `MessagePlan::by_name` is a `HashMap<String, _>` with SipHash,
//! which costs more than the rest of reading a short key; here each message
//! has a small open-addressing table with a multiply-shift hash over the
//! key's bytes, eight at a time (field names are short: one or two words).
//! Built once from the plans, so it names exactly the fields `by_name` does.
//! Each table also lists its message's `required` fields, checked at the
//! end of every object.

use crate::plan::{MessagePlan, Plans};
use std::sync::OnceLock;

/// The key tables of every message, indexed like `Plans::messages`.
pub(crate) fn key_tables(plans: &'static Plans) -> &'static [KeyTable] {
    static TABLES: OnceLock<Vec<KeyTable>> = OnceLock::new();
    TABLES.get_or_init(|| plans.messages.iter().map(KeyTable::new).collect())
}

/// The fields of one message by `.proto` name.
pub(crate) struct KeyTable {
    /// Field index + 1; 0 marks an empty slot. A power of two long, at most
    /// half full, so a miss ends at an empty slot soon.
    slots: Vec<u32>,
    /// The field names, by field index.
    names: Vec<Box<[u8]>>,
    /// The indices of the `required` fields.
    pub(crate) required: Box<[usize]>,
}

impl KeyTable {
    fn new(message: &MessagePlan) -> Self {
        let names: Vec<Box<[u8]>> = message
            .fields
            .iter()
            .map(|field| field.name.as_bytes().into())
            .collect();
        let size = (names.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![0u32; size];
        for (index, name) in names.iter().enumerate() {
            let mut at = hash(name) & (size - 1);
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = u32::try_from(index + 1).expect("fewer than 4 billion fields");
        }
        let required = (message.fields.iter().enumerate())
            .filter(|(_, field)| field.required)
            .map(|(index, _)| index)
            .collect();
        KeyTable {
            slots,
            names,
            required,
        }
    }

    /// The index of the field named `key`, if the message has one.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        let mask = self.slots.len() - 1;
        let mut at = hash(key) & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            let index = slot as usize - 1;
            if same(&self.names[index], key) {
                return Some(index);
            }
            at = (at + 1) & mask;
        }
    }
}

/// A fast hash of a short byte string: its length and its first and last
/// eight bytes (or four, or three single bytes), folded by one 128-bit
/// multiply. No loop and no copy; keys that differ only in the middle of a
/// long name share a hash and are told apart by [`same`].
#[inline]
fn hash(bytes: &[u8]) -> usize {
    let n = bytes.len();
    let (head, tail) = if n >= 8 {
        (word8(&bytes[..8]), word8(&bytes[n - 8..]))
    } else if n >= 4 {
        (
            u64::from(word4(&bytes[..4])),
            u64::from(word4(&bytes[n - 4..])),
        )
    } else if n > 0 {
        (
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16,
            0,
        )
    } else {
        (0, 0)
    };
    let product = u128::from(head ^ 0x243f_6a88_85a3_08d3)
        * u128::from(tail ^ 0x1319_8a2e_0370_7344 ^ n as u64);
    (product as u64 ^ (product >> 64) as u64) as usize
}

/// Byte equality, without a call to `memcmp` for names of up to 16 bytes
/// (almost all of them): two overlapping word compares cover every byte.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        word8(&a[..8]) == word8(&b[..8]) && word8(&a[n - 8..]) == word8(&b[n - 8..])
    } else if (4..8).contains(&n) {
        word4(&a[..4]) == word4(&b[..4]) && word4(&a[n - 4..]) == word4(&b[n - 4..])
    } else {
        a == b
    }
}

#[inline]
fn word8(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}

#[inline]
fn word4(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plans;

    #[test]
    fn every_field_name_is_found_and_nothing_else() {
        let plans = plans();
        for (message, table) in plans.messages.iter().zip(key_tables(plans)) {
            for (index, field) in message.fields.iter().enumerate() {
                assert_eq!(table.get(&field.name), Some(index), "{}", field.name);
                assert_eq!(message.by_name.get(&field.name), Some(&index));
                // Near misses: a prefix, an extension, another case.
                let name = field.name.as_str();
                for other in [
                    &name[..name.len() - 1],
                    &format!("{name}_"),
                    &format!("{name}\0"),
                    &name.to_uppercase(),
                ] {
                    assert_eq!(
                        table.get(other),
                        message.by_name.get(other).copied(),
                        "{other:?}"
                    );
                }
            }
            for unknown in [
                "",
                "frameworkId",
                "x",
                "a_rather_long_unknown_key_name",
                "é",
            ] {
                assert_eq!(table.get(unknown), message.by_name.get(unknown).copied());
            }
        }
    }

    #[test]
    fn same_is_byte_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
        ];
        let long = "abcdefghijklmnopqrstuvwxyz".as_bytes();
        for n in 0..long.len() {
            for m in 0..long.len() {
                let (a, mut b) = (&long[..n], long[..m].to_vec());
                assert_eq!(same(a, &b), a == b.as_slice());
                if let Some(last) = b.get_mut(m / 2) {
                    *last ^= 1;
                    assert_eq!(same(a, &b), a == b.as_slice(), "{n} {m}");
                }
            }
        }
        for a in words {
            for b in words {
                assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b);
            }
        }
    }
}
