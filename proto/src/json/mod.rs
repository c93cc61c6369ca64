//! JSON the way Mesos writes and reads it.
//!
//! Mesos has its own protobuf-to-JSON converter, older than the proto3 JSON
//! mapping and different from it in ways that matter on the wire:
//!
//! | | Mesos (this module) | proto3 canonical JSON |
//! |---|---|---|
//! | keys | `.proto` names: `framework_id` | lowerCamelCase: `frameworkId` |
//! | 64-bit integers | numbers: `"nanoseconds":1700000000000000000` | strings |
//! | enums | names; unknown names on input are dropped | names |
//! | bytes | standard base64, padded | standard base64 |
//! | unset fields with `[default = ...]` | written with the default | omitted |
//! | unknown keys on input | ignored | error (by default) |
//!
//! Writing ([`to_vec`], [`to_value`]) emits keys in `.proto` declaration
//! order, compact, and always includes non-deprecated fields that have an
//! explicit default (`"failover_timeout":0.0`, `"shell":true`), exactly as a
//! master does. Reading ([`from_slice`], [`from_value`]) is as lenient as
//! Mesos: numbers may be given as strings, a single value stands for a
//! one-element list, `null` means unset; and as strict: enum values must be
//! names, bytes must be standard base64, `required` fields must be present.
//! [`from_slice`] (and [`from_slice_by_step`], for servers that name the step
//! that failed) reads the text in one pass straight into protobuf bytes, and
//! goes through a `serde_json::Value` only for what that pass leaves to it:
//! errors, and a few rare shapes (see `stream.rs`).
//!
//! Both directions walk the message descriptors of our schema, so every
//! message is covered without per-type code.

mod decode;
mod encode;
mod keys;
#[cfg(test)]
mod oracle_decode;
mod reflect;
mod stream;

pub(crate) use reflect::map_key_to_string;

use crate::error::{Error, Result};
use crate::plan::{plan_of, plans};

/// Encodes a message as compact Mesos-style JSON.
pub fn to_vec<T: prost::Message + prost::Name>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode::write_message(plans(), plan_of::<T>(), &message.encode_to_vec(), &mut out)
        .expect("bytes prost just encoded are valid for the same schema");
    out
}

/// Encodes a message as a Mesos-style JSON value.
pub fn to_value<T: prost::Message + prost::Name>(message: &T) -> serde_json::Value {
    serde_json::from_slice(&to_vec(message)).expect("we write valid JSON")
}

/// Decodes Mesos-style JSON bytes into a message, checking `required` fields.
///
/// The same answer as `serde_json::from_slice` followed by [`from_value`],
/// errors included, without building the `serde_json::Value`: the text is
/// read in one pass straight into protobuf bytes. A document that pass
/// cannot answer for (any error, and a few rare valid shapes such as a key
/// given twice) is read again through the `Value`, whose answer it is.
pub fn from_slice<T: prost::Message + prost::Name + Default>(bytes: &[u8]) -> Result<T> {
    match stream::encode(plans(), plan_of::<T>(), bytes) {
        Ok(wire) => T::decode(wire.as_slice()).map_err(|err| Error::Protobuf(err.to_string())),
        Err(_) => from_slice_by_value(bytes),
    }
}

/// [`from_slice`] through a `serde_json::Value`: the reference the one-pass
/// reader is held to, and the reader of the documents it leaves.
fn from_slice_by_value<T: prost::Message + prost::Name + Default>(bytes: &[u8]) -> Result<T> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| Error::Json(format!("Malformed JSON: {err}")))?;
    from_value(&value)
}

/// Why [`from_slice_by_step`] refused a document: the step that failed,
/// which is what a server answering like a Mesos master names (`Failed to
/// parse body into JSON: ...`, `Failed to convert JSON into Call protobuf:
/// ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes are not JSON: serde_json's message (with line and column),
    /// as `serde_json::from_slice` gives it.
    Malformed(String),
    /// The document is JSON, but not an object.
    NotAnObject,
    /// A JSON object that does not fit the message: what [`from_value`]
    /// says of it.
    Convert(Error),
}

/// Decodes Mesos-style JSON bytes into a message like [`from_slice`] (in one
/// pass when it can), telling the three ways of failing apart.
///
/// Exactly what this sequence gives, without its `serde_json::Value`:
/// `serde_json::from_slice` (else [`Refusal::Malformed`]), a check that the
/// value is an object (else [`Refusal::NotAnObject`]), [`from_value`] (else
/// [`Refusal::Convert`]).
pub fn from_slice_by_step<T: prost::Message + prost::Name + Default>(
    bytes: &[u8],
) -> std::result::Result<T, Refusal> {
    match stream::encode(plans(), plan_of::<T>(), bytes) {
        Ok(wire) => T::decode(wire.as_slice())
            .map_err(|err| Refusal::Convert(Error::Protobuf(err.to_string()))),
        Err(_) => {
            let value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|err| Refusal::Malformed(err.to_string()))?;
            if !value.is_object() {
                return Err(Refusal::NotAnObject);
            }
            from_value(&value).map_err(Refusal::Convert)
        }
    }
}

/// Decodes a Mesos-style JSON value into a message, checking `required` fields.
pub fn from_value<T: prost::Message + prost::Name + Default>(
    value: &serde_json::Value,
) -> Result<T> {
    let bytes = value_to_wire(plan_of::<T>(), value)?;
    T::decode(bytes.as_slice()).map_err(|err| Error::Protobuf(err.to_string()))
}

/// The protobuf bytes of the message at plan `plan` read from a JSON value
/// (the tree walk), checking `required` fields.
fn value_to_wire(plan: usize, value: &serde_json::Value) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut missing = Vec::new();
    decode::encode_message(
        plans(),
        plan,
        value,
        &decode::Path::ROOT,
        &mut bytes,
        &mut missing,
        0,
    )?;
    if !missing.is_empty() {
        return Err(Error::MissingRequired(missing));
    }
    Ok(bytes)
}

/// The JSON Mesos writes for an unset field with an explicit default.
pub(crate) fn reflect_default_json(field: &prost_reflect::FieldDescriptor) -> serde_json::Value {
    reflect::single_to_value(&field.kind(), &field.default_value())
}

#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
