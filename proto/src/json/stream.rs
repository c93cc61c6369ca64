//! JSON text -> protobuf bytes in one pass, without a `serde_json::Value`.
//!
//! The tree walk of `decode.rs` first builds a `serde_json::Value` (with
//! `preserve_order`: an index map per object, a `String` per key and per
//! string value) and then walks it. Here serde_json's own parser drives a
//! `DeserializeSeed` built from the plan of each message: every key is
//! looked up as it is read, every value is written as protobuf wire bytes at
//! once, and strings are borrowed from the input. The bytes come out the same
//! as the tree walk's (same fields, same order: the document's), and prost
//! decodes them as before.
//!
//! Exactly the same answers as the tree walk, by construction:
//! - The text is parsed by the same parser with the same entry point
//!   (`deserialize_any` for every value, keys as strings, the same recursion
//!   limit, the same number parsing), unknown keys included, so a document
//!   this reader gets through is one `serde_json::from_slice` accepts.
//! - Every scalar goes through [`write_scalar`], the function the tree walk
//!   uses, so every leniency and refusal is shared code.
//! - Whenever this reader cannot give the answer itself it gives up, with a
//!   [`GiveUp`] saying why, and the caller runs the tree walk, whose answer
//!   is then the answer. It gives up on every error (malformed JSON, a value
//!   that does not fit, a missing required field: errors are rare, and the
//!   tree walk names them exactly, including the precedence of a syntax error
//!   late in the document over a type error early in it) and on the few
//!   valid documents where the tree would differ from the text: a known key
//!   twice in one object (the tree keeps the last value at the first key's
//!   place), and a non-canonical key of an integer-keyed map.

use super::decode::{Scalar, write_scalar};
use super::keys::{KeyTable, key_tables};
use crate::plan::{FieldPlan, Kind, Label, Plans};
use crate::wire::{MAX_DEPTH, write_key};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Why the one-pass reader left a document to the tree walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// serde_json refused the text (syntax, nesting beyond its limit, a
    /// number out of range, trailing characters).
    Syntax,
    /// The JSON does not fit the message: a wrong type, an enum number, bad
    /// base64, messages nested too deeply.
    Invalid,
    /// A `required` field is absent (the tree walk names every one).
    MissingRequired,
    /// A known key twice in one object.
    DuplicateKey,
    /// A key of an integer-keyed map not written the way the integer
    /// prints (`"01"`, `"+1"`): two such keys can name the same entry.
    MapKey,
}

/// The protobuf encoding of the message at plan `plan` read from JSON
/// `text`, or why the tree walk must answer instead.
pub(crate) fn encode(plans: &'static Plans, plan: usize, text: &[u8]) -> Result<Vec<u8>, GiveUp> {
    let mut writer = Writer {
        plans,
        keys: key_tables(plans),
        // Protobuf is about half the size of Mesos' JSON for the same message.
        out: Vec::with_capacity(text.len() / 2),
        give_up: None,
    };
    let mut parser = serde_json::Deserializer::from_slice(text);
    let result = RootSeed {
        writer: &mut writer,
        plan,
    }
    .deserialize(&mut parser)
    .and_then(|()| parser.end());
    match result {
        Ok(()) => Ok(writer.out),
        Err(err) => Err(writer.give_up.unwrap_or(match err.classify() {
            // A visitor method we do not implement (serde_json calls none of
            // them, but should it ever): a type error.
            serde_json::error::Category::Data => GiveUp::Invalid,
            _ => GiveUp::Syntax,
        })),
    }
}

/// The output and the reason for giving up, shared by all the seeds of one
/// document.
struct Writer<'p> {
    plans: &'p Plans,
    /// Key lookup tables, indexed like `plans.messages`.
    keys: &'p [KeyTable],
    out: Vec<u8>,
    give_up: Option<GiveUp>,
}

impl Writer<'_> {
    /// Records why we stop and returns the error that unwinds the parser.
    fn refuse<E: de::Error>(&mut self, why: GiveUp) -> E {
        self.give_up = Some(why);
        E::custom("left to the tree walk")
    }

    /// Starts a length-delimited field: its key and a one-byte length,
    /// which [`Writer::close`] fixes once the length is known.
    fn open(&mut self, number: u32) -> usize {
        write_key(&mut self.out, number, 2);
        self.out.push(0);
        self.out.len()
    }

    /// Ends the length-delimited field [`Writer::open`] started at `start`.
    /// Most sub-messages are shorter than 128 bytes and need no move; a
    /// longer one moves its bytes up by the extra length bytes, once.
    fn close(&mut self, start: usize) {
        let length = self.out.len() - start;
        if length < 0x80 {
            self.out[start - 1] = length as u8;
        } else {
            // The varint on the stack (at most 10 bytes), then one move.
            let mut prefix = [0u8; 10];
            let mut size = 0;
            let mut rest = length as u64;
            while rest >= 0x80 {
                prefix[size] = rest as u8 | 0x80;
                rest >>= 7;
                size += 1;
            }
            prefix[size] = rest as u8;
            self.out
                .splice(start - 1..start, prefix[..=size].iter().copied());
        }
    }

    /// Writes a scalar as field `number` (`false`: an unknown enum name, left out).
    fn scalar<E: de::Error>(
        &mut self,
        name: &str,
        kind: Kind,
        number: u32,
        value: Scalar<'_>,
    ) -> Result<bool, E> {
        write_scalar(self.plans, name, kind, number, value, &mut self.out)
            .map_err(|_| self.refuse(GiveUp::Invalid))
    }

    /// Reads the JSON object `map` as the message at plan `plan`, `depth`
    /// messages below the root.
    fn message<'de, A: MapAccess<'de>>(
        &mut self,
        plan: usize,
        depth: usize,
        mut map: A,
    ) -> Result<(), A::Error> {
        if depth > MAX_DEPTH {
            return Err(self.refuse(GiveUp::Invalid));
        }
        let plans = self.plans;
        let message = &plans.messages[plan];
        let mut seen = Bits::new(message.fields.len());
        let mut present = Bits::new(message.fields.len());
        let keys = &self.keys[plan];
        while let Some(found) = map.next_key_seed(KeySeed { keys })? {
            let Some(index) = found else {
                map.next_value_seed(Skip)?;
                continue;
            };
            // `null` counts too: `"a":1,"a":null` leaves `a` unset in the tree.
            if !seen.insert(index) {
                return Err(self.refuse(GiveUp::DuplicateKey));
            }
            let field = &message.fields[index];
            if map.next_value_seed(FieldSeed {
                writer: self,
                field,
                depth,
            })? {
                present.insert(index);
            }
        }
        if keys.required.iter().any(|&i| !present.contains(i)) {
            return Err(self.refuse(GiveUp::MissingRequired));
        }
        Ok(())
    }

    /// A message as a length-delimited field `number`.
    fn message_field<'de, A: MapAccess<'de>>(
        &mut self,
        number: u32,
        plan: usize,
        depth: usize,
        map: A,
    ) -> Result<(), A::Error> {
        let start = self.open(number);
        self.message(plan, depth, map)?;
        self.close(start);
        Ok(())
    }

    /// The entries of the JSON object `map` as map field `field`.
    fn map_entries<'de, A: MapAccess<'de>>(
        &mut self,
        field: &FieldPlan,
        key: Kind,
        value: Kind,
        depth: usize,
        mut map: A,
    ) -> Result<(), A::Error> {
        loop {
            let entry_at = self.out.len();
            let start = self.open(field.number);
            let more = map.next_key_seed(MapKeySeed {
                writer: self,
                field,
                kind: key,
            })?;
            if more.is_none() {
                self.out.truncate(entry_at);
                return Ok(());
            }
            map.next_value_seed(ItemSeed {
                writer: self,
                name: &field.name,
                kind: value,
                number: 2,
                depth,
            })?;
            self.close(start);
        }
    }
}

/// A set of field indices; inline for messages of up to 128 fields (all of
/// Mesos'), so reading an object allocates nothing for it.
enum Bits {
    Inline(u128),
    Heap(Vec<bool>),
}

impl Bits {
    fn new(len: usize) -> Self {
        if len <= 128 {
            Bits::Inline(0)
        } else {
            Bits::Heap(vec![false; len])
        }
    }

    /// Adds `i`; `false` if it was already there.
    fn insert(&mut self, i: usize) -> bool {
        match self {
            Bits::Inline(bits) => {
                let was = *bits & (1 << i) != 0;
                *bits |= 1 << i;
                !was
            }
            Bits::Heap(bits) => !std::mem::replace(&mut bits[i], true),
        }
    }

    fn contains(&self, i: usize) -> bool {
        match self {
            Bits::Inline(bits) => *bits & (1 << i) != 0,
            Bits::Heap(bits) => bits[i],
        }
    }
}

/// The whole document: one message.
struct RootSeed<'w, 'p> {
    writer: &'w mut Writer<'p>,
    plan: usize,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.writer.message(self.plan, 0, map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }
}

/// An object key: the index of the field it names, `None` for a key the
/// message does not know (only the exact `.proto` name counts).
struct KeySeed<'p> {
    keys: &'p KeyTable,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<Option<usize>, D::Error> {
        parser.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.keys.get(key))
    }
}

/// The value of a known key: `true` when the field counts as present for
/// the `required` check (as in the tree walk: not for `null` or for an
/// unknown enum name on a singular field).
struct FieldSeed<'w, 'p, 'f> {
    writer: &'w mut Writer<'p>,
    field: &'f FieldPlan,
    depth: usize,
}

impl FieldSeed<'_, '_, '_> {
    fn scalar<E: de::Error>(self, value: Scalar<'_>) -> Result<bool, E> {
        let field = self.field;
        match field.label {
            Label::Map { .. } => Err(self.writer.refuse(GiveUp::Invalid)),
            Label::Single => self
                .writer
                .scalar(&field.name, field.kind, field.number, value),
            // A lone value is accepted as a one-element list, as Mesos does.
            Label::Repeated => self
                .writer
                .scalar(&field.name, field.kind, field.number, value)
                .map(|_| true),
        }
    }
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_, '_, '_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<bool, D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_, '_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field value")
    }

    /// `null` means unset.
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.scalar(Scalar::U64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.scalar(Scalar::I64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        // serde_json's `Value` turns a non-finite double into `null` (its
        // parser never produces one; this keeps the two readers equal anyway).
        if !v.is_finite() {
            return Ok(false);
        }
        self.scalar(Scalar::F64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.scalar(Scalar::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let field = self.field;
        if field.label != Label::Repeated {
            // An array for a singular or a map field.
            return Err(self.writer.refuse(GiveUp::Invalid));
        }
        while seq
            .next_element_seed(ItemSeed {
                writer: &mut *self.writer,
                name: &field.name,
                kind: field.kind,
                number: field.number,
                depth: self.depth,
            })?
            .is_some()
        {}
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let field = self.field;
        match (field.label, field.kind) {
            (Label::Map { key, value }, _) => {
                self.writer
                    .map_entries(field, key, value, self.depth, map)?;
            }
            (Label::Single | Label::Repeated, Kind::Message(plan)) => {
                self.writer
                    .message_field(field.number, plan, self.depth + 1, map)?;
            }
            _ => return Err(self.writer.refuse(GiveUp::Invalid)),
        }
        Ok(true)
    }
}

/// One element of a list, or the value of a map entry: a message or a
/// scalar, never `null` or an array.
struct ItemSeed<'w, 'p, 'f> {
    writer: &'w mut Writer<'p>,
    /// The JSON key of the field, for error messages.
    name: &'f str,
    kind: Kind,
    number: u32,
    /// The depth of the message holding the field.
    depth: usize,
}

impl ItemSeed<'_, '_, '_> {
    fn scalar<E: de::Error>(self, value: Scalar<'_>) -> Result<(), E> {
        self.writer
            .scalar(self.name, self.kind, self.number, value)
            .map(|_| ())
    }
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list element or a map value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Scalar::U64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Scalar::I64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if !v.is_finite() {
            // `null` in the tree (see `FieldSeed::visit_f64`): an error here.
            return Err(self.writer.refuse(GiveUp::Invalid));
        }
        self.scalar(Scalar::F64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Scalar::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.writer.refuse(GiveUp::Invalid))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let Kind::Message(plan) = self.kind else {
            return Err(self.writer.refuse(GiveUp::Invalid));
        };
        self.writer
            .message_field(self.number, plan, self.depth + 1, map)
    }
}

/// The key of a map entry, written as field 1 of the entry.
struct MapKeySeed<'w, 'p, 'f> {
    writer: &'w mut Writer<'p>,
    field: &'f FieldPlan,
    kind: Kind,
}

impl<'de> DeserializeSeed<'de> for MapKeySeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MapKeySeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        // As `decode::map_key_json`: a string key as it is, a bool key
        // `true` or `false`, an integer key anything `i128` parses, then
        // converted like a string value of the key's kind.
        let scalar = match self.kind {
            Kind::String => Scalar::Str(key),
            Kind::Bool => match key.parse::<bool>() {
                Ok(b) => Scalar::Bool(b),
                Err(_) => return Err(self.writer.refuse(GiveUp::Invalid)),
            },
            _ => match key.parse::<i128>() {
                Ok(n) if n.to_string() == key => Scalar::Str(key),
                Ok(_) => return Err(self.writer.refuse(GiveUp::MapKey)),
                Err(_) => return Err(self.writer.refuse(GiveUp::Invalid)),
            },
        };
        self.writer
            .scalar(&self.field.name, self.kind, 1, scalar)
            .map(|_| ())
    }
}

/// The value of an unknown key: parsed exactly as the tree parses it (so
/// the same documents are refused: numbers out of range, bad escapes,
/// nesting beyond serde_json's limit), then forgotten.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        // Not `deserialize_ignored_any`: serde_json skips without checking
        // what `Value` checks (a number's range, for one).
        parser.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(SkipKey)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A key of an object under an unknown key: read as a string, as `Value` does.
struct SkipKey;

impl<'de> DeserializeSeed<'de> for SkipKey {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_str(Skip)
    }
}
