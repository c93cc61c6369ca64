//! Object key -> field, for the one-pass JSON reader.
//!
//! Every key of every object is looked up, so this is the reader's hottest
//! table. `MessagePlan::by_name` is a `HashMap<String, _>` with SipHash,
//! which costs more than the rest of reading a short key; here each message
//! has a small open-addressing table with a multiply-shift hash over the
//! key's bytes, eight at a time (field names are short: one or two words).
//! Built once from the plans, so it names exactly the fields `by_name` does.

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
        KeyTable { slots, names }
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
            if *self.names[index] == *key {
                return Some(index);
            }
            at = (at + 1) & mask;
        }
    }
}

/// A fast hash of a short byte string (not for hostile keys at scale: a
/// table holds one message's few dozen names, and a lookup ends at the
/// first empty slot whatever the key).
#[inline]
fn hash(bytes: &[u8]) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        h = (h ^ word).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(K);
        h ^= h >> 29;
    }
    (h >> 32) as usize
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
            for unknown in ["", "frameworkId", "x", "a_rather_long_unknown_key_name"] {
                assert_eq!(table.get(unknown), message.by_name.get(unknown).copied());
            }
        }
    }
}
