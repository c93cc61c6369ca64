//! Message -> JSON, straight from the protobuf bytes.
//!
//! prost encodes the message; we walk its wire bytes once, group the values
//! by field, and write the JSON text in declaration order, with the defaults
//! Mesos writes for unset fields. No intermediate tree is built.

use crate::error::{Error, Result};
use crate::plan::{EnumPlan, Kind, Label, Plans};
use crate::wire::{WireValue, read_fields};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::io::Write as _;

/// Writes the message at plan `plan`, encoded in `bytes`, as JSON into `out`.
pub(crate) fn write_message(
    plans: &Plans,
    plan: usize,
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    write_message_at(plans, plan, bytes, out, 0)
}

fn write_message_at(
    plans: &Plans,
    plan: usize,
    bytes: &[u8],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<()> {
    if depth > crate::wire::MAX_DEPTH {
        return Err(Error::Protobuf("message nested too deeply".into()));
    }
    let message = &plans.messages[plan];
    // (declaration index, value); a stable sort keeps repeated values in order.
    let mut values: Vec<(usize, WireValue<'_>)> = Vec::new();
    read_fields(bytes, |number, value| {
        if let Some(index) = message.field_index(number) {
            values.push((index, value));
        }
        Ok(())
    })?;
    values.sort_by_key(|(index, _)| *index);

    out.push(b'{');
    let mut first = true;
    let mut rest = &values[..];
    for (index, field) in message.fields.iter().enumerate() {
        let count = rest.iter().take_while(|(i, _)| *i == index).count();
        let (mine, tail) = rest.split_at(count);
        rest = tail;
        // An enum number our schema does not name is, for proto2, an unknown
        // field: Mesos would not have it and would not write it. Neither do we.
        let known: Vec<(usize, WireValue<'_>)>;
        let mine = match field.kind {
            Kind::Enum(plan) => {
                let names = &plans.enums[plan];
                known = mine
                    .iter()
                    .filter(|(_, v)| !matches!(v, WireValue::Varint(n) if names.name_of(*n as i32).is_none()))
                    .copied()
                    .collect();
                &known[..]
            }
            _ => mine,
        };
        if mine.is_empty() {
            if let Some(default) = &field.default_json {
                key(out, &mut first, &field.name);
                out.extend_from_slice(default.as_bytes());
            }
            continue;
        }
        key(out, &mut first, &field.name);
        match field.label {
            Label::Single => {
                // The last occurrence wins, as in protobuf.
                let (_, value) = &mine[mine.len() - 1];
                write_value(plans, field.kind, value, out, depth)?;
            }
            Label::Repeated => {
                out.push(b'[');
                let mut first_item = true;
                for (_, value) in mine {
                    // Repeated scalars may arrive packed in one LEN value.
                    match (value, is_packable(field.kind)) {
                        (WireValue::Len(packed), true) => {
                            for item in crate::wire::unpack(field.kind, packed)? {
                                comma(out, &mut first_item);
                                write_value(plans, field.kind, &item, out, depth)?;
                            }
                        }
                        _ => {
                            comma(out, &mut first_item);
                            write_value(plans, field.kind, value, out, depth)?;
                        }
                    }
                }
                out.push(b']');
            }
            Label::Map {
                key: key_kind,
                value: value_kind,
            } => {
                write_map(plans, key_kind, value_kind, mine, out, depth)?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// A map is a list of entry messages (key = field 1, value = field 2). Mesos
/// writes them as an object; we sort by key so the output is stable.
fn write_map(
    plans: &Plans,
    key_kind: Kind,
    value_kind: Kind,
    entries: &[(usize, WireValue<'_>)],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<()> {
    let mut pairs: Vec<(String, Option<WireValue<'_>>)> = Vec::with_capacity(entries.len());
    for (_, entry) in entries {
        let WireValue::Len(entry) = entry else {
            return Err(Error::Protobuf("map entry is not length-delimited".into()));
        };
        let (mut key, mut value) = (None, None);
        read_fields(entry, |number, v| {
            match number {
                1 => key = Some(v),
                2 => value = Some(v),
                _ => {}
            }
            Ok(())
        })?;
        let mut text = Vec::new();
        match key {
            Some(k) => write_value(plans, key_kind, &k, &mut text, depth)?,
            None => write_zero(key_kind, &mut text),
        }
        // JSON object keys are strings: unquote a string key, keep a number's digits.
        let text = String::from_utf8_lossy(&text).trim_matches('"').to_string();
        pairs.push((text, value));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    out.push(b'{');
    let mut first = true;
    for (k, v) in pairs {
        key(out, &mut first, &k);
        match v {
            Some(v) => write_value(plans, value_kind, &v, out, depth)?,
            None => write_zero(value_kind, out),
        }
    }
    out.push(b'}');
    Ok(())
}

fn key(out: &mut Vec<u8>, first: &mut bool, name: &str) {
    comma(out, first);
    write_string(out, name);
    out.push(b':');
}

fn comma(out: &mut Vec<u8>, first: &mut bool) {
    if !*first {
        out.push(b',');
    }
    *first = false;
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
}

fn is_packable(kind: Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

/// Writes one value of the given kind.
fn write_value(
    plans: &Plans,
    kind: Kind,
    value: &WireValue<'_>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<()> {
    let wrong = || Error::Protobuf(format!("unexpected wire type for a {kind:?} field"));
    match (kind, value) {
        (Kind::Message(plan), WireValue::Len(bytes)) => {
            write_message_at(plans, plan, bytes, out, depth + 1)?;
        }
        (Kind::String, WireValue::Len(bytes)) => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Error::Protobuf("string field is not valid UTF-8".into()))?;
            write_string(out, text);
        }
        (Kind::Bytes, WireValue::Len(bytes)) => {
            out.push(b'"');
            out.extend_from_slice(STANDARD.encode(bytes).as_bytes());
            out.push(b'"');
        }
        (Kind::Enum(plan), WireValue::Varint(n)) => write_enum(&plans.enums[plan], *n as i32, out),
        (Kind::Bool, WireValue::Varint(n)) => {
            out.extend_from_slice(if *n != 0 { b"true" } else { b"false" })
        }
        (Kind::Int32, WireValue::Varint(n)) => write_number(out, *n as i32),
        (Kind::Int64, WireValue::Varint(n)) => write_number(out, *n as i64),
        (Kind::Uint32, WireValue::Varint(n)) => write_number(out, *n as u32),
        (Kind::Uint64, WireValue::Varint(n)) => write_number(out, *n),
        (Kind::Sint32, WireValue::Varint(n)) => write_number(out, zigzag(*n) as i32),
        (Kind::Sint64, WireValue::Varint(n)) => write_number(out, zigzag(*n)),
        (Kind::Fixed32, WireValue::Fixed32(n)) => write_number(out, *n),
        (Kind::Sfixed32, WireValue::Fixed32(n)) => write_number(out, *n as i32),
        (Kind::Float, WireValue::Fixed32(n)) => write_float(out, f64::from(f32::from_bits(*n))),
        (Kind::Fixed64, WireValue::Fixed64(n)) => write_number(out, *n),
        (Kind::Sfixed64, WireValue::Fixed64(n)) => write_number(out, *n as i64),
        (Kind::Double, WireValue::Fixed64(n)) => write_float(out, f64::from_bits(*n)),
        _ => return Err(wrong()),
    }
    Ok(())
}

/// The JSON of a kind's zero value (a map entry without its key or value).
fn write_zero(kind: Kind, out: &mut Vec<u8>) {
    let text: &[u8] = match kind {
        Kind::String | Kind::Bytes => b"\"\"",
        Kind::Bool => b"false",
        Kind::Message(_) => b"{}",
        Kind::Double | Kind::Float => b"0.0",
        _ => b"0",
    };
    out.extend_from_slice(text);
}

fn write_enum(plan: &EnumPlan, number: i32, out: &mut Vec<u8>) {
    match plan.name_of(number) {
        Some(name) => write_string(out, name),
        // A value our schema does not name (a newer peer): keep the number.
        None => write_number(out, number),
    }
}

fn write_number(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    write!(out, "{n}").expect("writing to a Vec cannot fail");
}

/// Finite doubles in shortest round-trip form, integral ones with `.0`
/// (`15.0`). Mesos writes infinities as bare `Infinity` tokens, which is not
/// JSON; we write the strings `"Infinity"`, `"-Infinity"` and `"NaN"`,
/// which Mesos reads back.
fn write_float(out: &mut Vec<u8>, n: f64) {
    if n.is_finite() {
        serde_json::to_writer(&mut *out, &n).expect("writing to a Vec cannot fail");
    } else if n.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if n > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

fn zigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}
