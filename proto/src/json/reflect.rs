//! The reflective reference implementation of Message -> JSON.
//!
//! It walks a `prost_reflect::DynamicMessage`: simple and obviously right,
//! but several times slower than `encode.rs`. The fast codec uses it to
//! render default values once, and the tests use it as an oracle.
#![cfg_attr(not(test), allow(dead_code))]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};
use serde_json::{Map, Number, Value as Json};

/// Converts a message; keys come out in declaration order.
pub(crate) fn message_to_value(message: &DynamicMessage) -> Json {
    let mut object = Map::new();
    for field in declaration_order(&message.descriptor()) {
        if message.has_field(&field) {
            object.insert(
                field.name().to_string(),
                field_to_value(&field, &message.get_field(&field)),
            );
        } else if writes_default(&field) {
            object.insert(
                field.name().to_string(),
                single_to_value(&field.kind(), &field.default_value()),
            );
        }
    }
    Json::Object(object)
}

/// The fields of a message in the order the `.proto` file declares them.
/// (`MessageDescriptor::fields` yields them by number; Mesos writes them in
/// declaration order, and so do we.)
fn declaration_order(descriptor: &MessageDescriptor) -> impl Iterator<Item = FieldDescriptor> + '_ {
    descriptor
        .descriptor_proto()
        .field
        .iter()
        .filter_map(|proto| descriptor.get_field(proto.number() as u32))
}

/// Mesos writes an unset field when it has an explicit `[default = ...]`
/// and is not deprecated; this is why `"shell":true` and
/// `"failover_timeout":0.0` always show up.
fn writes_default(field: &FieldDescriptor) -> bool {
    let proto = field.field_descriptor_proto();
    let deprecated = proto
        .options
        .as_ref()
        .and_then(|o| o.deprecated)
        .unwrap_or(false);
    proto.default_value.is_some() && !deprecated && !field.is_list() && !field.is_map()
}

fn field_to_value(field: &FieldDescriptor, value: &Value) -> Json {
    let kind = field.kind();
    match value {
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|item| single_to_value(&kind, item))
                .collect(),
        ),
        Value::Map(entries) => {
            let value_kind = match &kind {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                _ => kind.clone(),
            };
            // Sorted keys: the master's order is unspecified, ours is stable.
            let mut keys: Vec<&MapKey> = entries.keys().collect();
            keys.sort();
            let object = keys
                .into_iter()
                .map(|key| {
                    (
                        map_key_to_string(key),
                        single_to_value(&value_kind, &entries[key]),
                    )
                })
                .collect();
            Json::Object(object)
        }
        single => single_to_value(&kind, single),
    }
}

pub(crate) fn single_to_value(kind: &Kind, value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I32(n) => Json::from(*n),
        Value::I64(n) => Json::from(*n),
        Value::U32(n) => Json::from(*n),
        Value::U64(n) => Json::from(*n),
        Value::F32(n) => float_to_value(f64::from(*n)),
        Value::F64(n) => float_to_value(*n),
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(bytes) => Json::String(STANDARD.encode(bytes)),
        Value::EnumNumber(number) => match kind {
            Kind::Enum(descriptor) => match descriptor.get_value(*number) {
                Some(v) => Json::String(v.name().to_string()),
                // A number our schema does not name (a newer peer): keep it.
                None => Json::from(*number),
            },
            _ => Json::from(*number),
        },
        Value::Message(sub) => message_to_value(sub),
        // Lists and maps only occur at field level, handled by the caller.
        Value::List(_) | Value::Map(_) => Json::Null,
    }
}

/// Finite doubles are JSON numbers (`15.0` keeps its `.0`). Mesos writes
/// infinities as bare `Infinity` tokens, which is not JSON; we write the
/// strings `"Infinity"`/`"-Infinity"`/`"NaN"`, which Mesos reads back.
fn float_to_value(n: f64) -> Json {
    match Number::from_f64(n) {
        Some(number) => Json::Number(number),
        None if n.is_nan() => Json::String("NaN".into()),
        None if n > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

pub(crate) fn map_key_to_string(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}
