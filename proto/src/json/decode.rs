//! JSON -> protobuf bytes, as lenient and as strict as Mesos' own converter.
//!
//! We walk the parsed JSON against the plans and write protobuf wire bytes
//! directly; prost then decodes those into the generated type. Along the way
//! we note which required fields were present, so a missing one is named
//! with its full path (`subscribe.framework_info.user`) in one pass.

use crate::error::{Error, Result};
use crate::plan::{Kind, Label, Plans};
use crate::wire::{MAX_DEPTH, write_key, write_varint};
use serde_json::Value as Json;

/// Where we are in the document, for naming missing fields. A linked list
/// on the stack: nothing is allocated unless a field turns out missing.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
    index: Option<usize>,
}

impl Path<'_> {
    /// The document root.
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        name: "",
        index: None,
    };

    fn render(&self, leaf: &str) -> String {
        let mut parts = Vec::new();
        let mut at = Some(self);
        while let Some(path) = at {
            if path.parent.is_some() {
                parts.push(match path.index {
                    Some(i) => format!("{}[{i}]", path.name),
                    None => path.name.to_string(),
                });
            }
            at = path.parent;
        }
        parts.reverse();
        parts.push(leaf.to_string());
        parts.join(".")
    }
}

/// Encodes the JSON object `json` as the message at plan `plan`, appending
/// protobuf bytes to `out` and missing required fields to `missing`.
pub(crate) fn encode_message(
    plans: &Plans,
    plan: usize,
    json: &Json,
    path: &Path<'_>,
    out: &mut Vec<u8>,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Json("JSON nested too deeply".into()));
    }
    let message = &plans.messages[plan];
    let Json::Object(object) = json else {
        return Err(Error::Json(format!(
            "Expecting a JSON object, found {}",
            kind_of(json)
        )));
    };
    let mut present = vec![false; message.fields.len()];
    for (key, value) in object {
        // Only the exact .proto name counts; `frameworkId` is just unknown.
        let Some(&index) = message.by_name.get(key.as_str()) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let field = &message.fields[index];
        let here = Path {
            parent: Some(path),
            name: &field.name,
            index: None,
        };
        match field.label {
            Label::Map {
                key: key_kind,
                value: value_kind,
            } => {
                let Json::Object(entries) = value else {
                    return Err(Error::Json(format!(
                        "Expecting a JSON object for map field '{key}'"
                    )));
                };
                for (entry_key, entry_value) in entries {
                    let mut entry = Vec::new();
                    let key_json = map_key_json(key_kind, entry_key).ok_or_else(|| {
                        Error::Json(format!("Invalid key '{entry_key}' for map field '{key}'"))
                    })?;
                    encode_value(
                        plans, key, key_kind, 1, &key_json, &here, &mut entry, missing, depth,
                    )?;
                    encode_value(
                        plans,
                        key,
                        value_kind,
                        2,
                        entry_value,
                        &here,
                        &mut entry,
                        missing,
                        depth,
                    )?;
                    write_key(out, field.number, 2);
                    write_varint(out, entry.len() as u64);
                    out.extend_from_slice(&entry);
                }
                present[index] = true;
            }
            Label::Repeated => {
                // A lone value is accepted as a one-element list, as Mesos does.
                let items: &[Json] = match value {
                    Json::Array(items) => items,
                    single => std::slice::from_ref(single),
                };
                for (i, item) in items.iter().enumerate() {
                    let here = Path {
                        index: Some(i),
                        ..here
                    };
                    encode_value(
                        plans,
                        key,
                        field.kind,
                        field.number,
                        item,
                        &here,
                        out,
                        missing,
                        depth,
                    )?;
                }
                present[index] = true;
            }
            Label::Single => {
                if value.is_array() {
                    return Err(Error::Json(format!(
                        "Not expecting a JSON array for field '{key}'"
                    )));
                }
                present[index] = encode_value(
                    plans,
                    key,
                    field.kind,
                    field.number,
                    value,
                    &here,
                    out,
                    missing,
                    depth,
                )?;
            }
        }
    }
    for (field, present) in message.fields.iter().zip(present) {
        if field.required && !present {
            missing.push(path.render(&field.name));
        }
    }
    Ok(())
}

/// Writes one value as field `number`; `false` if it was left out (an enum
/// name our schema does not know, which Mesos drops silently).
#[allow(clippy::too_many_arguments)]
fn encode_value(
    plans: &Plans,
    name: &str,
    kind: Kind,
    number: u32,
    json: &Json,
    path: &Path<'_>,
    out: &mut Vec<u8>,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<bool> {
    if let Kind::Message(plan) = kind {
        let mut sub = Vec::new();
        encode_message(plans, plan, json, path, &mut sub, missing, depth + 1)?;
        write_key(out, number, 2);
        write_varint(out, sub.len() as u64);
        out.extend_from_slice(&sub);
        return Ok(true);
    }
    match Scalar::of(json) {
        Some(scalar) => write_scalar(plans, name, kind, number, scalar, out),
        None => Err(Error::Json(format!(
            "Not expecting a JSON {} for field '{name}'",
            kind_of(json)
        ))),
    }
}

/// A JSON value that is neither an object, an array nor `null`: what a
/// non-message field can hold. Both JSON readers (this tree walk and the
/// one-pass reader of `stream.rs`) convert through it, so they agree on
/// every leniency and every refusal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scalar<'a> {
    Bool(bool),
    /// A non-negative integer number.
    U64(u64),
    /// A negative integer number.
    I64(i64),
    /// A number with a fraction or an exponent, or too large for 64 bits.
    F64(f64),
    Str(&'a str),
}

impl<'a> Scalar<'a> {
    /// The scalar a JSON value holds, if it holds one.
    pub(crate) fn of(json: &'a Json) -> Option<Self> {
        Some(match json {
            Json::Bool(b) => Scalar::Bool(*b),
            Json::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Scalar::U64(u),
                (None, Some(i)) => Scalar::I64(i),
                (None, None) => Scalar::F64(n.as_f64()?),
            },
            Json::String(s) => Scalar::Str(s),
            Json::Null | Json::Array(_) | Json::Object(_) => return None,
        })
    }

    /// How the error messages name it (as [`kind_of`] does).
    fn kind_name(self) -> &'static str {
        match self {
            Scalar::Bool(_) => "bool",
            Scalar::U64(_) | Scalar::I64(_) | Scalar::F64(_) => "number",
            Scalar::Str(_) => "string",
        }
    }

    /// An integer from a number or a string holding one.
    fn integer(self) -> Option<i128> {
        match self {
            Scalar::U64(u) => Some(i128::from(u)),
            Scalar::I64(i) => Some(i128::from(i)),
            Scalar::F64(f) => Some(f)
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e19)
                .map(|f| f as i128),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(_) => None,
        }
    }

    /// A double from a number, a numeric string, or `"Infinity"`-like strings.
    fn float(self) -> Option<f64> {
        match self {
            Scalar::U64(u) => Some(u as f64),
            Scalar::I64(i) => Some(i as f64),
            Scalar::F64(f) => Some(f),
            Scalar::Str(s) => match s.trim() {
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                "NaN" => Some(f64::NAN),
                other => other.parse().ok(),
            },
            Scalar::Bool(_) => None,
        }
    }
}

/// Writes one scalar as field `number` of kind `kind` (not a message);
/// `false` if it was left out (an enum name our schema does not know, which
/// Mesos drops silently). `name` is the field's JSON key, for errors.
pub(crate) fn write_scalar(
    plans: &Plans,
    name: &str,
    kind: Kind,
    number: u32,
    json: Scalar<'_>,
    out: &mut Vec<u8>,
) -> Result<bool> {
    let wrong = || {
        Error::Json(format!(
            "Not expecting a JSON {} for field '{name}'",
            json.kind_name()
        ))
    };
    match kind {
        Kind::Message(_) => return Err(wrong()),
        Kind::Enum(plan) => {
            // Names only; a number is an error, an unknown name is dropped.
            let Scalar::Str(text) = json else {
                return Err(wrong());
            };
            let Some(&value) = plans.enums[plan].by_name.get(text) else {
                return Ok(false);
            };
            write_key(out, number, 0);
            write_varint(out, value as i64 as u64);
        }
        Kind::String => {
            let Scalar::Str(text) = json else {
                return Err(wrong());
            };
            write_key(out, number, 2);
            write_varint(out, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        Kind::Bytes => {
            let Scalar::Str(text) = json else {
                return Err(wrong());
            };
            let bytes = decode_base64(name, text)?;
            write_key(out, number, 2);
            write_varint(out, bytes.len() as u64);
            out.extend_from_slice(&bytes);
        }
        Kind::Bool => {
            let b = match json {
                Scalar::Bool(b) => b,
                Scalar::Str("true") => true,
                Scalar::Str("false") => false,
                _ => return Err(wrong()),
            };
            write_key(out, number, 0);
            write_varint(out, u64::from(b));
        }
        Kind::Double => {
            write_key(out, number, 1);
            out.extend_from_slice(&json.float().ok_or_else(wrong)?.to_bits().to_le_bytes());
        }
        Kind::Float => {
            write_key(out, number, 5);
            out.extend_from_slice(
                &(json.float().ok_or_else(wrong)? as f32)
                    .to_bits()
                    .to_le_bytes(),
            );
        }
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Sint32 | Kind::Sint64 => {
            let n = json.integer().ok_or_else(wrong)?;
            let varint = match kind {
                Kind::Int32 => i32::try_from(n).map(|v| v as i64 as u64).ok(),
                Kind::Int64 => i64::try_from(n).map(|v| v as u64).ok(),
                Kind::Uint32 => u32::try_from(n).map(u64::from).ok(),
                Kind::Uint64 => u64::try_from(n).ok(),
                Kind::Sint32 => i32::try_from(n)
                    .map(|v| ((v << 1) ^ (v >> 31)) as u32 as u64)
                    .ok(),
                _ => i64::try_from(n).map(|v| ((v << 1) ^ (v >> 63)) as u64).ok(),
            }
            .ok_or_else(wrong)?;
            write_key(out, number, 0);
            write_varint(out, varint);
        }
        Kind::Fixed32 | Kind::Sfixed32 => {
            let n = json.integer().ok_or_else(wrong)?;
            let bits = match kind {
                Kind::Fixed32 => u32::try_from(n).ok(),
                _ => i32::try_from(n).map(|v| v as u32).ok(),
            }
            .ok_or_else(wrong)?;
            write_key(out, number, 5);
            out.extend_from_slice(&bits.to_le_bytes());
        }
        Kind::Fixed64 | Kind::Sfixed64 => {
            let n = json.integer().ok_or_else(wrong)?;
            let bits = match kind {
                Kind::Fixed64 => u64::try_from(n).ok(),
                _ => i64::try_from(n).map(|v| v as u64).ok(),
            }
            .ok_or_else(wrong)?;
            write_key(out, number, 1);
            out.extend_from_slice(&bits.to_le_bytes());
        }
    }
    Ok(true)
}

/// A map key (always a string in JSON) as the JSON value of its kind.
fn map_key_json(kind: Kind, key: &str) -> Option<Json> {
    match kind {
        Kind::String => Some(Json::String(key.to_string())),
        Kind::Bool => key.parse::<bool>().ok().map(Json::Bool),
        _ => key
            .parse::<i128>()
            .ok()
            .map(|_| Json::String(key.to_string())),
    }
}

/// An integer from a JSON number or a string holding one.
#[cfg(test)]
pub(crate) fn integer_of(json: &Json) -> Option<i128> {
    Scalar::of(json)?.integer()
}

/// A double from a number, a numeric string, or `"Infinity"`-like strings.
#[cfg(test)]
pub(crate) fn float_of(json: &Json) -> Option<f64> {
    Scalar::of(json)?.float()
}

/// Standard-alphabet base64 the way Mesos reads it: whitespace is ignored,
/// padding is optional and decoding stops at the first `=`; the URL-safe
/// characters `-` and `_` are errors.
pub(crate) fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut bit_count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.chars() {
        let sextet = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => break,
            c if c.is_whitespace() => continue,
            other => {
                return Err(Error::Json(format!(
                    "Failed to base64 decode bytes field '{field}': Invalid character '{other}'"
                )));
            }
        };
        bits = (bits << 6) | sextet;
        bit_count += 6;
        if bit_count >= 8 {
            bit_count -= 8;
            out.push((bits >> bit_count) as u8);
            bits &= (1 << bit_count) - 1;
        }
    }
    Ok(out)
}

pub(crate) fn kind_of(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
