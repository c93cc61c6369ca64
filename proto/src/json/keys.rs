//! Object key -> field, for the one-pass JSON reader.
//!
//! Every key of every object is looked up, so this is the reader's hottest
//! table. `MessagePlan::by_name` is a `HashMap<String, _>` with SipHash,
//! which costs more than the rest of reading a short key; here each message
//! has a small open-addressing table whose slots hold, besides the field
//! index, the name's length and its first and last eight bytes. Those two
//! words are the whole name for names of up to 16 bytes (almost all of
//! them), so a lookup reads one slot and no name; the same two words, folded
//! by one multiply, are the hash. Built once from the plans, so it names
//! exactly the fields `by_name` does. Each table also lists its message's
//! `required` fields, checked at the end of every object.

use crate::plan::{MessagePlan, Plans};
use std::sync::OnceLock;

/// The key tables of every message, indexed like `Plans::messages`.
pub(crate) fn key_tables(plans: &'static Plans) -> &'static [KeyTable] {
    static TABLES: OnceLock<Vec<KeyTable>> = OnceLock::new();
    TABLES.get_or_init(|| plans.messages.iter().map(KeyTable::new).collect())
}

/// The fields of one message by `.proto` name.
pub(crate) struct KeyTable {
    /// A power of two long, at most half full, so a miss ends at an empty
    /// slot soon.
    slots: Box<[Slot]>,
    /// The field names, by field index (read only for names longer than 16
    /// bytes, which the slot's words do not cover).
    names: Box<[Box<[u8]>]>,
    /// The indices of the `required` fields.
    pub(crate) required: Box<[usize]>,
}

/// One slot: a field's name as [`words`] and its length, and its index.
#[derive(Clone, Copy)]
struct Slot {
    head: u64,
    tail: u64,
    len: usize,
    /// [`EMPTY`] for an empty slot.
    index: usize,
}

const EMPTY: usize = usize::MAX;

impl KeyTable {
    fn new(message: &MessagePlan) -> Self {
        let names: Box<[Box<[u8]>]> = message
            .fields
            .iter()
            .map(|field| field.name.as_bytes().into())
            .collect();
        let size = (names.len() * 2).next_power_of_two().max(8);
        let empty = Slot {
            head: 0,
            tail: 0,
            len: 0,
            index: EMPTY,
        };
        let mut slots = vec![empty; size].into_boxed_slice();
        for (index, name) in names.iter().enumerate() {
            let (head, tail) = words(name);
            let mut at = hash(head, tail, name.len()) & (size - 1);
            while slots[at].index != EMPTY {
                at = (at + 1) & (size - 1);
            }
            slots[at] = Slot {
                head,
                tail,
                len: name.len(),
                index,
            };
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
        let (head, tail) = words(key);
        let mask = self.slots.len() - 1;
        let mut at = hash(head, tail, key.len()) & mask;
        loop {
            let slot = self.slots[at];
            if slot.index == EMPTY {
                return None;
            }
            if slot.len == key.len()
                && slot.head == head
                && slot.tail == tail
                && (key.len() <= 16 || *self.names[slot.index] == *key)
            {
                return Some(slot.index);
            }
            at = (at + 1) & mask;
        }
    }
}

/// Two words that, with the length, are the whole of a string of up to 16
/// bytes: its first and last eight bytes (overlapping when shorter than
/// 16), or its first and last four, or, under four bytes, every byte.
/// Longer strings are only summarised (their middle is left out).
#[inline]
fn words(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    if n >= 8 {
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
    }
}

/// The slot a name starts looking at: its [`words`] and length folded by
/// one 128-bit multiply.
#[inline]
fn hash(head: u64, tail: u64, len: usize) -> usize {
    let product = u128::from(head ^ 0x243f_6a88_85a3_08d3)
        * u128::from(tail ^ 0x1319_8a2e_0370_7344 ^ len as u64);
    (product as u64 ^ (product >> 64) as u64) as usize
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
    fn up_to_16_bytes_the_words_are_the_whole_string() {
        let text = "abcdefghijklmnopqrstuvwxyz".as_bytes();
        for n in 0..=16 {
            let a = &text[..n];
            for flip in 0..n {
                let mut b = a.to_vec();
                b[flip] ^= 0x20;
                assert_ne!(words(a), words(&b), "{n} bytes, byte {flip} changed");
            }
        }
    }
}
