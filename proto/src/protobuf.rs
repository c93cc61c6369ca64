//! Protobuf decoding with proto2's `required` check.
//!
//! prost decodes proto2 messages happily when `required` fields are missing
//! (it fills in defaults). Mesos does not: a call that lacks a required field
//! is answered `400 Bad Request`. [`decode`] therefore decodes twice: once
//! into a reflective message to see which fields were really present, and
//! once into the generated type.

use crate::descriptors::descriptor_of;
use crate::error::{Error, Result};
use prost_reflect::{DynamicMessage, MapKey, ReflectMessage, Value};

/// Decodes a protobuf message and checks that every `required` field,
/// recursively, is present.
pub fn decode<T: prost::Message + prost::Name + Default>(bytes: &[u8]) -> Result<T> {
    let dynamic = DynamicMessage::decode(descriptor_of::<T>(), bytes)
        .map_err(|err| Error::Protobuf(err.to_string()))?;
    check_required(&dynamic)?;
    T::decode(bytes).map_err(|err| Error::Protobuf(err.to_string()))
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
        if field.cardinality() == prost_reflect::Cardinality::Required && !message.has_field(&field)
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
                        collect_missing(sub, &format!("{path}[{}].", map_key_text(key)), missing);
                    }
                }
            }
            _ => {}
        }
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
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
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&[0xff_u8, 0xff, 0xff][..], &[0x0a, 0x05, 0x01], &[0x08]] {
            assert!(decode::<Call>(bytes).is_err());
        }
    }
}
