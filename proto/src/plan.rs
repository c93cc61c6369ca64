//! What the fast codecs need to know about each message type, computed once
//! from the embedded descriptors.
//!
//! The JSON codecs and the `required` check run on every event and every
//! call, so instead of asking the reflective descriptor API field by field
//! they read these flat tables: per message, its fields in declaration order
//! with their wire numbers, kinds, labels and the JSON default Mesos writes.

use prost_reflect::{Cardinality, FieldDescriptor, Kind as ReflectKind, MessageDescriptor};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The value type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    /// An enum: index into [`Plans::enums`].
    Enum(usize),
    /// A message: index into [`Plans::messages`].
    Message(usize),
}

/// Singular, repeated, or a map (whose entries are messages with fields 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    Single,
    Repeated,
    Map { key: Kind, value: Kind },
}

/// One field of a message.
pub(crate) struct FieldPlan {
    pub name: String,
    pub number: u32,
    pub kind: Kind,
    pub label: Label,
    pub required: bool,
    /// The JSON text of the default Mesos writes when the field is unset
    /// (fields with an explicit, non-deprecated `[default = ...]`).
    pub default_json: Option<String>,
}

/// One message type.
pub(crate) struct MessagePlan {
    /// In declaration order: the order Mesos writes JSON keys in.
    pub fields: Vec<FieldPlan>,
    /// Field number -> index into `fields` (`NONE` for unused numbers). A
    /// dense table: field numbers are small, and this lookup runs for every
    /// field of every message decoded.
    by_number: Vec<usize>,
    /// `.proto` field name -> index into `fields`.
    pub by_name: HashMap<String, usize>,
    /// Field number -> what the `required` walk does with it (dense, like
    /// `by_number`; numbers past the end are [`Check::Plain`]).
    checks: Vec<Check>,
    /// Bit `n` is set when field `n` (< 64) is `required`. Required fields
    /// numbered 64 and up are not tracked (Mesos has none).
    pub required_mask: u64,
}

/// What the `required` walk (`protobuf.rs`) does with one field number: the
/// answer to "must I look inside this value?", precomputed so the walk does
/// one table lookup per field on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Nothing to look at: an unknown number, or a scalar, string, bytes or
    /// optional enum value.
    Plain,
    /// A required enum: a value the schema does not name counts as absent.
    /// Index into [`Plans::enums`].
    RequiredEnum(u32),
    /// A message (singular or repeated): walk it. Index into [`Plans::messages`].
    Message(u32),
    /// A map whose values are messages: walk each entry's value. Index into
    /// [`Plans::messages`] of the value type.
    MapOfMessages(u32),
}

/// Marks a field number the message does not use.
const NONE: usize = usize::MAX;

impl MessagePlan {
    /// The index into `fields` of the field with this number.
    pub fn field_index(&self, number: u32) -> Option<usize> {
        match self.by_number.get(number as usize) {
            Some(&index) if index != NONE => Some(index),
            _ => None,
        }
    }

    /// What the `required` walk does with field `number`.
    #[inline]
    pub fn check(&self, number: u32) -> Check {
        self.checks
            .get(number as usize)
            .copied()
            .unwrap_or(Check::Plain)
    }
}

/// One enum type.
pub(crate) struct EnumPlan {
    /// (number, name), sorted by number for binary search.
    by_number: Vec<(i32, String)>,
    pub by_name: HashMap<String, i32>,
}

impl EnumPlan {
    /// The name of the value with this number, if the schema names it.
    pub fn name_of(&self, number: i32) -> Option<&str> {
        self.by_number
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.by_number[i].1.as_str())
    }
}

/// Every message and enum of the schema.
pub(crate) struct Plans {
    pub messages: Vec<MessagePlan>,
    pub enums: Vec<EnumPlan>,
    /// Full name (`mesos.v1.TaskInfo`) -> index into `messages`.
    pub index: HashMap<String, usize>,
}

/// The plans, built on first use.
pub(crate) fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(build)
}

/// The plan index of a generated type.
pub(crate) fn plan_of<T: prost::Name>() -> usize {
    let name = T::full_name();
    *plans()
        .index
        .get(&name)
        .unwrap_or_else(|| panic!("{name} is generated from our schema, so it has a plan"))
}

fn build() -> Plans {
    let pool = crate::descriptors::pool();
    let messages: Vec<MessageDescriptor> = pool.all_messages().collect();
    let index: HashMap<String, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.full_name().to_string(), i))
        .collect();
    let enums: Vec<_> = pool.all_enums().collect();
    let enum_index: HashMap<String, usize> = enums
        .iter()
        .enumerate()
        .map(|(i, e)| (e.full_name().to_string(), i))
        .collect();

    let kind_of = |kind: &ReflectKind| match kind {
        ReflectKind::Double => Kind::Double,
        ReflectKind::Float => Kind::Float,
        ReflectKind::Int32 => Kind::Int32,
        ReflectKind::Int64 => Kind::Int64,
        ReflectKind::Uint32 => Kind::Uint32,
        ReflectKind::Uint64 => Kind::Uint64,
        ReflectKind::Sint32 => Kind::Sint32,
        ReflectKind::Sint64 => Kind::Sint64,
        ReflectKind::Fixed32 => Kind::Fixed32,
        ReflectKind::Fixed64 => Kind::Fixed64,
        ReflectKind::Sfixed32 => Kind::Sfixed32,
        ReflectKind::Sfixed64 => Kind::Sfixed64,
        ReflectKind::Bool => Kind::Bool,
        ReflectKind::String => Kind::String,
        ReflectKind::Bytes => Kind::Bytes,
        ReflectKind::Enum(e) => Kind::Enum(enum_index[e.full_name()]),
        ReflectKind::Message(m) => Kind::Message(index[m.full_name()]),
    };

    let message_plans = messages
        .iter()
        .map(|message| {
            // descriptor_proto().field is in declaration order;
            // MessageDescriptor::fields() would give number order.
            let fields: Vec<FieldPlan> = message
                .descriptor_proto()
                .field
                .iter()
                .filter_map(|proto| message.get_field(proto.number() as u32))
                .map(|field| field_plan(&field, &kind_of))
                .collect();
            let highest = fields.iter().map(|f| f.number as usize).max().unwrap_or(0);
            let mut by_number = vec![NONE; highest + 1];
            for (i, f) in fields.iter().enumerate() {
                by_number[f.number as usize] = i;
            }
            let by_name = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect();
            let mut checks = vec![Check::Plain; highest + 1];
            let mut required_mask = 0u64;
            for f in &fields {
                checks[f.number as usize] = check_of(f);
                if f.required && f.number < 64 {
                    required_mask |= 1 << f.number;
                }
            }
            MessagePlan {
                fields,
                by_number,
                by_name,
                checks,
                required_mask,
            }
        })
        .collect();

    let enum_plans = enums
        .iter()
        .map(|e| EnumPlan {
            by_number: {
                let mut values: Vec<(i32, String)> = e
                    .values()
                    .map(|v| (v.number(), v.name().to_string()))
                    .collect();
                values.sort_by_key(|(n, _)| *n);
                values
            },
            by_name: e
                .values()
                .map(|v| (v.name().to_string(), v.number()))
                .collect(),
        })
        .collect();

    Plans {
        messages: message_plans,
        enums: enum_plans,
        index,
    }
}

/// What the `required` walk must do with values of field `f`.
fn check_of(f: &FieldPlan) -> Check {
    let index = |i: usize| u32::try_from(i).expect("fewer than 4 billion types");
    match (f.kind, f.label) {
        (Kind::Message(child), Label::Single | Label::Repeated) => Check::Message(index(child)),
        (
            _,
            Label::Map {
                value: Kind::Message(child),
                ..
            },
        ) => Check::MapOfMessages(index(child)),
        (Kind::Enum(e), Label::Single) if f.required => Check::RequiredEnum(index(e)),
        _ => Check::Plain,
    }
}

fn field_plan(field: &FieldDescriptor, kind_of: &dyn Fn(&ReflectKind) -> Kind) -> FieldPlan {
    let label = if field.is_map() {
        let ReflectKind::Message(entry) = field.kind() else {
            unreachable!("maps have entry messages")
        };
        Label::Map {
            key: kind_of(&entry.map_entry_key_field().kind()),
            value: kind_of(&entry.map_entry_value_field().kind()),
        }
    } else if field.is_list() {
        Label::Repeated
    } else {
        Label::Single
    };
    let proto = field.field_descriptor_proto();
    let deprecated = proto
        .options
        .as_ref()
        .and_then(|o| o.deprecated)
        .unwrap_or(false);
    let default_json = match (&proto.default_value, label) {
        // Mesos writes an unset field with an explicit default, unless the
        // field is deprecated: that is why `"shell":true` always appears.
        (Some(_), Label::Single) if !deprecated => {
            let json = crate::json::reflect_default_json(field);
            Some(serde_json::to_string(&json).expect("a JSON value serializes"))
        }
        _ => None,
    };
    FieldPlan {
        name: field.name().to_string(),
        number: field.number(),
        kind: kind_of(&field.kind()),
        label,
        required: field.cardinality() == Cardinality::Required,
        default_json,
    }
}
