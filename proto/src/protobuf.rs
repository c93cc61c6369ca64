//! Protobuf decoding with proto2's `required` check.
//!
//! prost decodes proto2 messages happily when `required` fields are missing
//! (it fills in defaults). Mesos does not: a call that lacks a required field
//! is answered `400 Bad Request`. [`decode`] therefore first walks the raw
//! bytes against the schema (cheap: it only skips over values and notes
//! which field numbers occur), then decodes into the generated type. Only
//! when something is missing does it pay for a reflective decode, to name
//! the missing fields the way protobuf does (`tasks[0].task_id`).
//!
//! [`decode_one_pass`] gives the same result from one pass over the bytes,
//! through code that `build.rs` generates from the schema (about 40 % fewer
//! instructions for an OFFERS event); it needs `T: 'static`.

use crate::descriptors::descriptor_of;
use crate::error::{Error, Result};
use crate::plan::{Check, Plans, plan_of, plans};
use crate::wire::{MAX_DEPTH, WireValue, read_fields, read_varint};
use prost_reflect::{Cardinality, DynamicMessage, MapKey, ReflectMessage, Value};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Decodes a protobuf message and checks that every `required` field,
/// recursively, is present.
///
/// Two passes: a walk of the wire bytes for the `required` check, then
/// prost's decode. [`decode_one_pass`] gives the same result in one.
pub fn decode<T: prost::Message + prost::Name + Default>(bytes: &[u8]) -> Result<T> {
    if !all_required_present(plans(), plan_index::<T>(), bytes, 0)? {
        // Rare path: build the reflective message to name what is missing.
        let dynamic = DynamicMessage::decode(descriptor_of::<T>(), bytes)
            .map_err(|err| Error::Protobuf(err.to_string()))?;
        check_required(&dynamic)?;
    }
    T::decode(bytes).map_err(|err| Error::Protobuf(err.to_string()))
}

/// [`decode`] in one pass over the bytes: code generated from the schema
/// (`build.rs`) fills the prost type and notes the `required` fields as it
/// goes, so the separate walk disappears, and strings and sub-messages are
/// decoded without prost's per-field layers (other fields still go through
/// prost's own generated code). Same values, same [`Error::MissingRequired`]
/// (with the same field paths); for malformed bytes, an [`Error::Protobuf`]
/// whose text may differ.
///
/// It needs `T: 'static` (to find the generated code for `T` by its
/// [`TypeId`]), which [`decode`] and `ContentType::decode` do not ask of
/// their callers; a type without generated code is decoded by [`decode`].
pub fn decode_one_pass<T: prost::Message + prost::Name + Default + 'static>(
    bytes: &[u8],
) -> Result<T> {
    let Some(merge) = checked_merges().get(&TypeId::of::<T>()) else {
        return decode(bytes);
    };
    let mut value = T::default();
    if !merge(&mut value, bytes)? {
        // Rare path: build the reflective message to name what is missing.
        let dynamic = DynamicMessage::decode(descriptor_of::<T>(), bytes)
            .map_err(|err| Error::Protobuf(err.to_string()))?;
        check_required(&dynamic)?;
    }
    Ok(value)
}

/// One pass that decodes a message into its prost type and tells whether
/// every `required` field, recursively, was on the wire. Implemented (in
/// `checked_decode.rs`, written by `build.rs`) for every generated message.
pub(crate) trait CheckedMerge {
    /// Merges the fields in `buf` into `self` as prost's `merge` does; `Ok(false)`
    /// when a required field was missing from `buf` or one of its sub-messages.
    fn merge_checked(&mut self, buf: &[u8], depth: usize) -> Result<bool>;
}

impl<M: CheckedMerge> CheckedMerge for Box<M> {
    fn merge_checked(&mut self, buf: &[u8], depth: usize) -> Result<bool> {
        (**self).merge_checked(buf, depth)
    }
}

/// A type-erased [`CheckedMerge::merge_checked`] at depth 0.
type MergeFn = fn(&mut dyn Any, &[u8]) -> Result<bool>;

fn merge_any<M: CheckedMerge + 'static>(target: &mut dyn Any, bytes: &[u8]) -> Result<bool> {
    match target.downcast_mut::<M>() {
        Some(message) => message.merge_checked(bytes, 0),
        None => Err(bad("internal error: decoder registered under another type")),
    }
}

/// Every generated type's [`CheckedMerge`], by type.
fn checked_merges() -> &'static HashMap<TypeId, MergeFn> {
    static TABLE: OnceLock<HashMap<TypeId, MergeFn>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::new();
        checked::register(&mut table);
        table.into_iter().collect()
    })
}

/// The generated [`CheckedMerge`] implementations and what they call.
#[allow(clippy::all, clippy::pedantic, unused_mut)]
mod checked {
    use super::fused::*;
    use super::{CheckedMerge, MergeFn, merge_any};
    use crate::error::Result;
    use crate::wire::MAX_DEPTH;
    use std::sync::OnceLock;
    include!(concat!(env!("OUT_DIR"), "/checked_decode.rs"));
}

/// The pieces the generated code is made of.
mod fused {
    use super::{all_required_present, bad, map_entry_complete};
    use crate::error::{Error, Result};
    use crate::plan::{Check, plan_of, plans};
    pub(super) use crate::wire::read_varint;
    use prost::encoding::{DecodeContext, WireType};
    use std::sync::OnceLock;

    /// Wire type 0.
    pub(super) const VARINT: u8 = 0;
    /// Wire type 2.
    pub(super) const LEN: u8 = 2;
    /// Wire type 1.
    pub(super) const I64: u8 = 1;
    /// Wire type 5.
    // Our schema has no field of this kind today; build.rs emits calls for any schema.
    #[allow(dead_code)]
    pub(super) const I32: u8 = 5;

    /// The next 8 bytes (a `double`, `fixed64` or `sfixed64`).
    #[inline(always)]
    pub(super) fn take_8(buf: &mut &[u8]) -> Result<[u8; 8]> {
        let (value, rest) = buf
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("truncated 64-bit value"))?;
        *buf = rest;
        Ok(*value)
    }

    /// The next 4 bytes (a `float`, `fixed32` or `sfixed32`).
    #[inline(always)]
    // Our schema has no field of this kind today; build.rs emits calls for any schema.
    #[allow(dead_code)]
    pub(super) fn take_4(buf: &mut &[u8]) -> Result<[u8; 4]> {
        let (value, rest) = buf
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated 32-bit value"))?;
        *buf = rest;
        Ok(*value)
    }

    /// A `sint32` from its varint, as prost converts it.
    #[inline(always)]
    // Our schema has no field of this kind today; build.rs emits calls for any schema.
    #[allow(dead_code)]
    pub(super) fn zigzag_32(value: u64) -> i32 {
        let value = value as u32;
        ((value >> 1) as i32) ^ (-((value & 1) as i32))
    }

    /// A `sint64` from its varint, as prost converts it.
    #[inline(always)]
    // Our schema has no field of this kind today; build.rs emits calls for any schema.
    #[allow(dead_code)]
    pub(super) fn zigzag_64(value: u64) -> i64 {
        ((value >> 1) as i64) ^ (-((value & 1) as i64))
    }

    pub(super) fn too_deep() -> Error {
        bad("message nested too deeply")
    }

    /// Reads a field key: its number and wire type. The errors are the
    /// `required` walk's.
    #[inline(always)]
    pub(super) fn read_key(buf: &mut &[u8]) -> Result<(u32, u8)> {
        let key = read_varint(buf)?;
        // prost refuses a key that does not fit 32 bits (the walk alone
        // would let field numbers up to 2^32 - 1 through).
        let key = u32::try_from(key).map_err(|_| bad("invalid key value"))?;
        let number = key >> 3;
        if number == 0 {
            return Err(bad("field number 0"));
        }
        match (key & 7) as u8 {
            wire_type @ (0 | 1 | 2 | 5) => Ok((number, wire_type)),
            _ => Err(bad("unsupported wire type (groups are not used by Mesos)")),
        }
    }

    /// Reads a length-delimited value.
    #[inline(always)]
    pub(super) fn take_len<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
        let length = read_varint(buf)?;
        let (value, rest) = usize::try_from(length)
            .ok()
            .and_then(|length| buf.split_at_checked(length))
            .ok_or_else(|| bad("truncated length-delimited value"))?;
        *buf = rest;
        Ok(value)
    }

    /// Reads a length-delimited value that must be UTF-8, as prost does.
    #[inline(always)]
    pub(super) fn take_str<'a>(buf: &mut &'a [u8]) -> Result<&'a str> {
        std::str::from_utf8(take_len(buf)?)
            .map_err(|_| bad("invalid string value: data is not UTF-8 encoded"))
    }

    /// Replaces a string's value (the last occurrence of a field wins).
    #[inline(always)]
    pub(super) fn set_string(target: &mut String, text: &str) {
        // A fresh allocation of the exact size: cheaper than growing the
        // (almost always empty) string through `push_str`.
        *target = text.to_owned();
    }

    /// The message an optional field holds, created empty if unset.
    #[inline(always)]
    pub(super) fn option_slot<M: Default>(field: &mut Option<M>) -> &mut M {
        field.get_or_insert_with(M::default)
    }

    /// A new empty message at the end of a repeated field.
    #[inline(always)]
    pub(super) fn push_slot<M: Default>(field: &mut Vec<M>) -> &mut M {
        let at = field.len();
        field.push(M::default());
        &mut field[at]
    }

    /// Notes that field `number` occurred (or, for an unknown enum value,
    /// that it no longer holds a usable value).
    #[inline(always)]
    pub(super) fn note(seen: &mut u64, number: u32, present: bool) {
        if number < 64 {
            if present {
                *seen |= 1 << number;
            } else {
                *seen &= !(1 << number);
            }
        }
    }

    fn wire_type_of(wire_type: u8) -> WireType {
        match wire_type {
            0 => WireType::Varint,
            1 => WireType::SixtyFourBit,
            2 => WireType::LengthDelimited,
            _ => WireType::ThirtyTwoBit,
        }
    }

    /// Hands one field to prost's generated `merge_field`.
    #[inline(never)]
    pub(super) fn merge_other<M: prost::Message>(
        message: &mut M,
        number: u32,
        wire_type: u8,
        buf: &mut &[u8],
    ) -> Result<()> {
        message
            .merge_field(
                number,
                wire_type_of(wire_type),
                buf,
                DecodeContext::default(),
            )
            .map_err(|err| Error::Protobuf(err.to_string()))
    }

    /// Hands a length-delimited field (a oneof member or a map entry) to
    /// prost, then walks its bytes for `required` fields.
    #[inline(never)]
    pub(super) fn merge_then_walk<M: prost::Message + prost::Name>(
        message: &mut M,
        plan: &OnceLock<usize>,
        number: u32,
        buf: &mut &[u8],
        depth: usize,
    ) -> Result<bool> {
        let mut whole = *buf;
        let value = take_len(buf)?;
        merge_other(message, number, LEN, &mut whole)?;
        let plans = plans();
        match plans.messages[*plan.get_or_init(plan_of::<M>)].check(number) {
            Check::Message(child) => all_required_present(plans, child as usize, value, depth + 1),
            Check::MapOfMessages(child) => map_entry_complete(plans, child as usize, value, depth),
            Check::Plain | Check::RequiredEnum(_) => Ok(true),
        }
    }
}

/// [`plan_of`] without its cost on every call (`T::full_name()` builds a
/// `String` and the lookup hashes it): a one-entry memo per thread, keyed by
/// where `T::PACKAGE` and `T::NAME` are. Equal addresses and lengths mean
/// equal names, so a hit is always right; a miss just asks [`plan_of`].
fn plan_index<T: prost::Name>() -> usize {
    type Key = (usize, usize, usize, usize);
    thread_local! {
        static LAST: std::cell::Cell<(Key, usize)> =
            const { std::cell::Cell::new(((0, 0, 0, 0), 0)) };
    }
    let key = (
        T::PACKAGE.as_ptr() as usize,
        T::PACKAGE.len(),
        T::NAME.as_ptr() as usize,
        T::NAME.len(),
    );
    LAST.with(|last| {
        let (seen, plan) = last.get();
        if seen == key {
            return plan;
        }
        let plan = plan_of::<T>();
        last.set((key, plan));
        plan
    })
}

/// Walks the wire bytes of one message without decoding values: notes which
/// field numbers occur and recurses into sub-messages. Cheap enough to run
/// on every event: one table lookup per field (the [`Check`] precomputed for
/// its number) and no allocation. Malformed bytes are an error.
///
/// A singular sub-message that occurs twice is checked per occurrence
/// rather than merged first; Mesos never sends that.
fn all_required_present(
    plans: &Plans,
    plan: usize,
    mut bytes: &[u8],
    depth: usize,
) -> Result<bool> {
    if depth > MAX_DEPTH {
        return Err(Error::Protobuf("message nested too deeply".into()));
    }
    let message = &plans.messages[plan];
    // Required fields in Mesos messages have small numbers: a bit mask.
    let mut seen: u64 = 0;
    let mut complete = true;
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).map_err(|_| bad("field number out of range"))?;
        if number == 0 {
            return Err(bad("field number 0"));
        }
        let check = message.check(number);
        let mut present = true;
        match key & 7 {
            0 => {
                let value = read_varint(&mut bytes)?;
                // An enum value the schema does not name does not count as
                // present: proto2 parsers (Mesos' among them) keep it as an
                // unknown field. For a singular field the last occurrence is
                // the value (prost keeps only that one), so an unknown value
                // after a known one leaves the field without a usable value.
                if let Check::RequiredEnum(e) = check {
                    present = plans.enums[e as usize].name_of(value as i32).is_some();
                }
            }
            1 => bytes = skip(bytes, 8, "truncated 64-bit value")?,
            5 => bytes = skip(bytes, 4, "truncated 32-bit value")?,
            2 => {
                let length =
                    usize::try_from(read_varint(&mut bytes)?).map_err(|_| bad("length"))?;
                let (sub, tail) = bytes
                    .split_at_checked(length)
                    .ok_or_else(|| bad("truncated length-delimited value"))?;
                bytes = tail;
                match check {
                    Check::Message(child) => {
                        complete &= all_required_present(plans, child as usize, sub, depth + 1)?;
                    }
                    Check::MapOfMessages(child) => {
                        complete &= map_entry_complete(plans, child as usize, sub, depth)?;
                    }
                    Check::Plain | Check::RequiredEnum(_) => {}
                }
            }
            _ => return Err(bad("unsupported wire type (groups are not used by Mesos)")),
        }
        if number < 64 {
            if present {
                seen |= 1 << number;
            } else {
                seen &= !(1 << number);
            }
        }
    }
    Ok(complete && seen & message.required_mask == message.required_mask)
}

/// Whether one map entry's message value (field 2 of the entry) has its
/// required fields. An entry without its value holds an empty message, which
/// is incomplete if that type has required fields.
fn map_entry_complete(plans: &Plans, child: usize, entry: &[u8], depth: usize) -> Result<bool> {
    let mut has_value = false;
    let mut complete = true;
    read_fields(entry, |n, v| {
        if let (2, WireValue::Len(value)) = (n, v) {
            has_value = true;
            complete &= all_required_present(plans, child, value, depth + 1)?;
        }
        Ok(())
    })?;
    if !has_value {
        complete &= all_required_present(plans, child, &[], depth + 1)?;
    }
    Ok(complete)
}

/// `bytes` without its first `n` bytes; `what` names the value cut short.
fn skip<'a>(bytes: &'a [u8], n: usize, what: &str) -> Result<&'a [u8]> {
    bytes.get(n..).ok_or_else(|| bad(what))
}

fn bad(what: &str) -> Error {
    Error::Protobuf(what.to_string())
}

/// Fails with [`Error::MissingRequired`] listing every missing required field.
pub(crate) fn check_required(message: &DynamicMessage) -> Result<()> {
    let mut missing = Vec::new();
    collect_missing(message, "", &mut missing);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingRequired(missing))
    }
}

/// Walks a message and its sub-messages, appending the dotted path of every
/// absent required field (`tasks[0].task_id`, as protobuf names them).
fn collect_missing(message: &DynamicMessage, prefix: &str, missing: &mut Vec<String>) {
    for field in message.descriptor().fields() {
        let path = format!("{prefix}{}", field.name());
        let unknown_enum = match (&*message.get_field(&field), field.kind()) {
            (Value::EnumNumber(n), prost_reflect::Kind::Enum(e)) => e.get_value(*n).is_none(),
            _ => false,
        };
        if field.cardinality() == Cardinality::Required
            && (!message.has_field(&field) || unknown_enum)
        {
            missing.push(path);
            continue;
        }
        if !message.has_field(&field) {
            continue;
        }
        match &*message.get_field(&field) {
            Value::Message(sub) => collect_missing(sub, &format!("{path}."), missing),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Value::Message(sub) = item {
                        collect_missing(sub, &format!("{path}[{index}]."), missing);
                    }
                }
            }
            Value::Map(entries) => {
                let mut keys: Vec<&MapKey> = entries.keys().collect();
                keys.sort();
                for key in keys {
                    if let Some(Value::Message(sub)) = entries.get(key) {
                        collect_missing(
                            sub,
                            &format!("{path}[{}].", crate::json::map_key_to_string(key)),
                            missing,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::scheduler::{Call, call};
    use crate::v1::{FrameworkInfo, TaskId};
    use prost::Message;

    #[test]
    fn a_complete_message_decodes() {
        let id = TaskId { value: "t1".into() };
        let back: TaskId = decode(&id.encode_to_vec()).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn missing_required_fields_are_named_with_their_path() {
        // An empty protobuf encoding has no `value`, which is required.
        assert_eq!(
            decode::<TaskId>(&[]).unwrap_err(),
            Error::MissingRequired(vec!["value".into()])
        );
        // prost writes empty strings for required fields it holds as
        // String, so build the bytes of a Subscribe without framework_info by
        // hand: field 2 (type) = SUBSCRIBE, field 3 (subscribe) = empty.
        let bytes = [0x10, 0x01, 0x1a, 0x00];
        assert_eq!(
            decode::<Call>(&bytes).unwrap_err(),
            Error::MissingRequired(vec!["subscribe.framework_info".into()])
        );
    }

    #[test]
    fn nested_required_fields_are_checked() {
        let call = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: FrameworkInfo {
                    user: "u".into(),
                    name: "n".into(),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(decode::<Call>(&call.encode_to_vec()).is_ok());
    }

    #[test]
    fn an_unknown_value_of_a_required_enum_counts_as_missing() {
        // TaskStatus{task_id{value:"t"}, state: 99}: Mesos' proto2 parser
        // keeps 99 as an unknown field, so `state` is missing.
        let bytes = [0x0a, 0x03, 0x0a, 0x01, b't', 0x10, 99];
        assert_eq!(
            decode::<crate::v1::TaskStatus>(&bytes).unwrap_err(),
            Error::MissingRequired(vec!["state".into()])
        );
        // An unknown value of an optional enum is just absent in JSON.
        let call = [0x10, 99];
        let decoded = decode::<Call>(&call).unwrap();
        assert_eq!(crate::json::to_vec(&decoded), b"{}");
    }

    #[test]
    fn a_map_entry_without_its_message_value_is_incomplete() {
        // TaskInfo.limits (map<string, Value.Scalar>) with the entry
        // {key: "cpus"} and no value: the empty Scalar lacks `value`.
        let entry = [0x0a, 0x04, b'c', b'p', b'u', b's'];
        let mut bytes = vec![
            0x0a, 0x01, b'n', 0x12, 0x03, 0x0a, 0x01, b't', 0x1a, 0x03, 0x0a, 0x01, b'a',
        ];
        bytes.extend([0x7a, entry.len() as u8]);
        bytes.extend(entry);
        let err = decode::<crate::v1::TaskInfo>(&bytes).unwrap_err();
        assert!(
            matches!(&err, Error::MissingRequired(p) if p[0].starts_with("limits")),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&[0xff_u8, 0xff, 0xff][..], &[0x0a, 0x05, 0x01], &[0x08]] {
            assert!(decode::<Call>(bytes).is_err());
        }
    }
}
