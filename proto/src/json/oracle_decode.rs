//! The reflective reference implementation of JSON -> message (test oracle
//! for `decode.rs`).

use super::decode::{decode_base64, float_of, integer_of, kind_of};
use crate::error::{Error, Result};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Builds a message from a JSON object. Unknown keys are ignored, `null`
/// leaves a field unset. `required` fields are checked by the caller, after
/// the whole tree is built, so the error can name all of them.
pub(crate) fn value_to_message(
    descriptor: MessageDescriptor,
    json: &Json,
) -> Result<DynamicMessage> {
    let Json::Object(object) = json else {
        return Err(Error::Json(format!(
            "Expecting a JSON object for message '{}', found {}",
            descriptor.name(),
            kind_of(json)
        )));
    };
    let mut message = DynamicMessage::new(descriptor.clone());
    for (key, value) in object {
        // Only the exact .proto name counts; `frameworkId` is just unknown.
        let Some(field) = descriptor.get_field_by_name(key) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        if let Some(converted) = field_value(&field, value)? {
            message.set_field(&field, converted);
        }
    }
    Ok(message)
}

/// The value of one field, or `None` when it is to stay unset (an enum name
/// we do not know, on a singular field).
fn field_value(field: &FieldDescriptor, json: &Json) -> Result<Option<Value>> {
    if field.is_map() {
        return map_value(field, json).map(Some);
    }
    if field.is_list() {
        // A lone value is accepted as a one-element list, as Mesos does.
        let items: &[Json] = match json {
            Json::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            if let Some(value) = single_value(field, &field.kind(), item)? {
                list.push(value);
            }
        }
        return Ok(Some(Value::List(list)));
    }
    if json.is_array() {
        return Err(Error::Json(format!(
            "Not expecting a JSON array for field '{}'",
            field.name()
        )));
    }
    single_value(field, &field.kind(), json)
}

fn map_value(field: &FieldDescriptor, json: &Json) -> Result<Value> {
    let Json::Object(object) = json else {
        return Err(Error::Json(format!(
            "Expecting a JSON object for map field '{}'",
            field.name()
        )));
    };
    let Kind::Message(entry) = field.kind() else {
        return Err(Error::Json(format!(
            "Map field '{}' has no entry type",
            field.name()
        )));
    };
    let key_field = entry.map_entry_key_field();
    let value_field = entry.map_entry_value_field();
    let mut map = HashMap::with_capacity(object.len());
    for (key, value) in object {
        let key = map_key(&key_field.kind(), key).ok_or_else(|| {
            Error::Json(format!(
                "Invalid key '{key}' for map field '{}'",
                field.name()
            ))
        })?;
        if let Some(value) = single_value(field, &value_field.kind(), value)? {
            map.insert(key, value);
        }
    }
    Ok(Value::Map(map))
}

fn map_key(kind: &Kind, key: &str) -> Option<MapKey> {
    Some(match kind {
        Kind::String => MapKey::String(key.to_string()),
        Kind::Bool => MapKey::Bool(key.parse().ok()?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(key.parse().ok()?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(key.parse().ok()?),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(key.parse().ok()?),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(key.parse().ok()?),
        _ => return None,
    })
}

/// Converts one JSON value of the given kind. `field` is only for messages.
fn single_value(field: &FieldDescriptor, kind: &Kind, json: &Json) -> Result<Option<Value>> {
    let name = field.name();
    let wrong = || {
        Error::Json(format!(
            "Not expecting a JSON {} for field '{name}'",
            kind_of(json)
        ))
    };
    let value = match kind {
        Kind::Message(descriptor) => Value::Message(value_to_message(descriptor.clone(), json)?),
        Kind::Enum(descriptor) => {
            // Names only; a number is an error, an unknown name is dropped.
            let Json::String(text) = json else {
                return Err(wrong());
            };
            match descriptor.get_value_by_name(text) {
                Some(v) => Value::EnumNumber(v.number()),
                None => return Ok(None),
            }
        }
        Kind::String => match json {
            Json::String(text) => Value::String(text.clone()),
            _ => return Err(wrong()),
        },
        Kind::Bytes => match json {
            Json::String(text) => Value::Bytes(decode_base64(name, text)?.into()),
            _ => return Err(wrong()),
        },
        Kind::Bool => match json {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) if s == "true" => Value::Bool(true),
            Json::String(s) if s == "false" => Value::Bool(false),
            _ => return Err(wrong()),
        },
        Kind::Double | Kind::Float => {
            let n = float_of(json).ok_or_else(wrong)?;
            if matches!(kind, Kind::Float) {
                Value::F32(n as f32)
            } else {
                Value::F64(n)
            }
        }
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(
            integer_of(json)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(wrong)?,
        ),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(
            integer_of(json)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(wrong)?,
        ),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(
            integer_of(json)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(wrong)?,
        ),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(
            integer_of(json)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(wrong)?,
        ),
    };
    Ok(Some(value))
}
