//! Compiles our `.proto` schema at build time.
//!
//! protox parses the schema in pure Rust, so nobody needs a system `protoc`.
//! The same descriptor set is used twice: prost-build turns it into Rust
//! types, and it is embedded in the library so the JSON mapping can walk
//! message descriptors (field names, labels, defaults) at run time.
//! From the same descriptors it also writes `checked_decode.rs`, the
//! one-pass protobuf decoder of `src/protobuf.rs` (see `checked_decoders`).

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use std::collections::HashMap;
use std::fmt::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/mesos/v1/mesos.proto",
        "proto/mesos/v1/scheduler/scheduler.proto",
        "proto/mesos/v1/executor/executor.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={file}");
    }

    let descriptors = protox::compile(files, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("mesos_descriptors.bin"),
        descriptors.encode_to_vec(),
    )?;

    // Fields marked `deprecated` in the schema (Resource.role,
    // FrameworkInfo.role, ...) are still on the wire: every pre-refinement
    // offer carries `"role":"*"`, and a scheduler must hand it back. So the
    // Rust types get no `#[deprecated]` warnings; the flag stays in the
    // embedded descriptors, where the JSON writer needs it (Mesos writes a
    // deprecated field's default only when the field is set).
    let mut for_codegen = descriptors.clone();
    for file in &mut for_codegen.file {
        for message in &mut file.message_type {
            clear_deprecated(message);
        }
    }

    prost_build::Config::new()
        // `prost::Name` lets the JSON mapping find a type's descriptor.
        .enable_type_names()
        // Sorted maps give a stable JSON and protobuf output.
        .btree_map(["."])
        // Keep enum variants spelled as in Mesos (`SOURCE_EXECUTOR` becomes
        // `SourceExecutor`, not `Executor`), so they can be grepped for.
        .retain_enum_prefix()
        // `Resource.DiskInfo` held a `Volume` and a `Source` inline: 712 of
        // the 984 bytes of every `Resource`, which nearly never carries a
        // disk. Boxed, a `Resource` is about a third of that, and every
        // offer's resources are cheaper to build, move and free.
        .boxed(".mesos.v1.Resource.DiskInfo.volume")
        .boxed(".mesos.v1.Resource.DiskInfo.source")
        .compile_fds(for_codegen)?;

    std::fs::write(
        out_dir.join("checked_decode.rs"),
        checked_decoders(&descriptors),
    )?;
    Ok(())
}

/// Drops the `deprecated` option of every field of a message and its nested messages.
fn clear_deprecated(message: &mut prost_types::DescriptorProto) {
    for field in &mut message.field {
        if let Some(options) = field.options.as_mut() {
            options.deprecated = None;
        }
    }
    for nested in &mut message.nested_type {
        clear_deprecated(nested);
    }
}

/// The schema's messages and enums by full name (".mesos.v1.Resource").
struct Schema<'a> {
    messages: HashMap<String, &'a DescriptorProto>,
    enums: HashMap<String, &'a EnumDescriptorProto>,
}

/// Writes, for every generated message type, an implementation of
/// `CheckedMerge` (`src/protobuf.rs`): one pass over the wire bytes that fills
/// the prost type and notes which `required` fields occur, instead of a
/// separate walk before prost's own decode. Also `register`, which lists
/// every type with its implementation.
///
/// The generated code handles most fields itself: sub-messages, strings,
/// numbers, bools and enums (singular, optional, repeated; a required enum's
/// unknown value counts as absent). The rest (bytes, packed runs, oneofs,
/// maps, unknown numbers, wire types that do not match the field) is handed
/// to prost's own generated `merge_field`, so its decoding is prost's.
/// Fields inside a oneof and maps whose values are messages are walked for
/// `required` fields after prost has merged them.
fn checked_decoders(set: &FileDescriptorSet) -> String {
    let mut schema = Schema {
        messages: HashMap::new(),
        enums: HashMap::new(),
    };
    for file in &set.file {
        let scope = format!(".{}", file.package());
        for e in &file.enum_type {
            schema.enums.insert(format!("{scope}.{}", e.name()), e);
        }
        for message in &file.message_type {
            index_messages(&scope, message, &mut schema);
        }
    }
    let mut impls = String::new();
    let mut types = Vec::new();
    for file in &set.file {
        // Package `mesos.v1.scheduler` is module `crate::v1::scheduler`.
        let package = file.package();
        let module: Vec<String> = package
            .strip_prefix("mesos.")
            .unwrap_or(package)
            .split('.')
            .map(to_snake)
            .collect();
        for message in &file.message_type {
            write_message(&mut impls, &mut types, &module, message, &schema);
        }
    }
    let mut out = String::from(
        "/// Every generated message type with its `CheckedMerge`.\n\
         pub(crate) fn register(table: &mut Vec<(std::any::TypeId, MergeFn)>) {\n",
    );
    for path in &types {
        writeln!(
            out,
            "    table.push((std::any::TypeId::of::<{path}>(), merge_any::<{path}>));"
        )
        .unwrap();
    }
    out.push_str("}\n");
    out + &impls
}

fn index_messages<'a>(scope: &str, message: &'a DescriptorProto, schema: &mut Schema<'a>) {
    let full = format!("{scope}.{}", message.name());
    for e in &message.enum_type {
        schema.enums.insert(format!("{full}.{}", e.name()), e);
    }
    for nested in &message.nested_type {
        index_messages(&full, nested, schema);
    }
    schema.messages.insert(full, message);
}

fn is_map_entry(message: &DescriptorProto) -> bool {
    message
        .options
        .as_ref()
        .and_then(|o| o.map_entry)
        .unwrap_or(false)
}

/// Writes the impl of one message and of its nested messages.
fn write_message(
    out: &mut String,
    types: &mut Vec<String>,
    module: &[String],
    message: &DescriptorProto,
    schema: &Schema<'_>,
) {
    if is_map_entry(message) {
        return; // prost generates no type for map entries
    }
    let path = format!(
        "crate::{}::{}",
        module.join("::"),
        to_upper_camel(message.name())
    );
    types.push(path.clone());
    let mut nested_module = module.to_vec();
    nested_module.push(to_snake(message.name()));
    for nested in &message.nested_type {
        write_message(out, types, &nested_module, nested, schema);
    }

    let mut mask: u64 = 0;
    let mut arms = String::new();
    for field in &message.field {
        let number = field.number();
        let ident = to_snake(field.name());
        let required = field.label() == Label::Required;
        let repeated = field.label() == Label::Repeated;
        if required && number < 64 {
            mask |= 1 << number;
        }
        let in_oneof = field.oneof_index.is_some() && !field.proto3_optional();
        let map_entry = if field.r#type() == Type::Message {
            schema
                .messages
                .get(field.type_name())
                .copied()
                .filter(|m| is_map_entry(m))
        } else {
            None
        };
        let walk_after_prost = format!(
            "({number}, LEN) => complete &= merge_then_walk(self, &PLAN, {number}, &mut buf, depth)?,"
        );
        match field.r#type() {
            Type::Message if in_oneof => writeln!(arms, "{walk_after_prost}").unwrap(),
            _ if in_oneof => {}
            ty if scalar(ty).is_some() && !(ty == Type::Enum && required) => {
                let (wire, value) = scalar(ty).expect("checked above");
                let store = if required {
                    format!("self.{ident} = {value}")
                } else if repeated {
                    // Only the unpacked form; a packed run (wire type 2)
                    // goes to prost.
                    format!("self.{ident}.push({value})")
                } else {
                    format!("self.{ident} = Some({value})")
                };
                writeln!(arms, "({number}, {wire}) => {{ {store}; }}").unwrap();
            }
            Type::Message if map_entry.is_some() => {
                let values_are_messages = map_entry
                    .and_then(|m| m.field.iter().find(|f| f.number() == 2))
                    .is_some_and(|v| v.r#type() == Type::Message);
                if values_are_messages {
                    writeln!(arms, "{walk_after_prost}").unwrap();
                }
            }
            Type::Message => {
                let slot = if required {
                    format!("&mut self.{ident}")
                } else if repeated {
                    format!("push_slot(&mut self.{ident})")
                } else {
                    format!("option_slot(&mut self.{ident})")
                };
                writeln!(
                    arms,
                    "({number}, LEN) => {{ let sub = take_len(&mut buf)?; \
                     complete &= CheckedMerge::merge_checked({slot}, sub, depth + 1)?; }}"
                )
                .unwrap();
            }
            Type::String => {
                let store = if required {
                    format!("set_string(&mut self.{ident}, text)")
                } else if repeated {
                    format!("self.{ident}.push(text.to_owned())")
                } else {
                    format!("set_string(self.{ident}.get_or_insert_with(String::new), text)")
                };
                writeln!(
                    arms,
                    "({number}, LEN) => {{ let text = take_str(&mut buf)?; {store}; }}"
                )
                .unwrap();
            }
            Type::Enum if required => {
                // The values the schema names; another value counts as absent.
                let e = schema
                    .enums
                    .get(field.type_name())
                    .unwrap_or_else(|| panic!("enum {} is in the schema", field.type_name()));
                let values = enum_values(e);
                writeln!(
                    arms,
                    "({number}, VARINT) => {{ self.{ident} = read_varint(&mut buf)? as i32; \
                     present = matches!(self.{ident}, {values}); }}"
                )
                .unwrap();
            }
            _ => {}
        }
    }
    writeln!(
        out,
        "impl CheckedMerge for {path} {{
    fn merge_checked(&mut self, mut buf: &[u8], depth: usize) -> Result<bool> {{
        #[allow(dead_code)]
        static PLAN: OnceLock<usize> = OnceLock::new();
        if depth > MAX_DEPTH {{
            return Err(too_deep());
        }}
        let mut seen: u64 = 0;
        let mut complete = true;
        while !buf.is_empty() {{
            let (number, wire_type) = read_key(&mut buf)?;
            #[allow(unused_mut)]
            let mut present = true;
            match (number, wire_type) {{
                {arms}
                _ => merge_other(self, number, wire_type, &mut buf)?,
            }}
            note(&mut seen, number, present);
        }}
        Ok(complete && seen & {mask:#x} == {mask:#x})
    }}
}}"
    )
    .unwrap();
}

/// For a number, bool or enum field: its wire type (a constant of
/// `protobuf.rs`) and how the generated code reads its value, with the
/// conversions prost's own decoders make.
fn scalar(ty: Type) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        Type::Double => ("I64", "f64::from_le_bytes(take_8(&mut buf)?)"),
        Type::Float => ("I32", "f32::from_le_bytes(take_4(&mut buf)?)"),
        Type::Fixed64 => ("I64", "u64::from_le_bytes(take_8(&mut buf)?)"),
        Type::Sfixed64 => ("I64", "i64::from_le_bytes(take_8(&mut buf)?)"),
        Type::Fixed32 => ("I32", "u32::from_le_bytes(take_4(&mut buf)?)"),
        Type::Sfixed32 => ("I32", "i32::from_le_bytes(take_4(&mut buf)?)"),
        Type::Int64 => ("VARINT", "read_varint(&mut buf)? as i64"),
        Type::Uint64 => ("VARINT", "read_varint(&mut buf)?"),
        Type::Int32 | Type::Enum => ("VARINT", "read_varint(&mut buf)? as i32"),
        Type::Uint32 => ("VARINT", "read_varint(&mut buf)? as u32"),
        Type::Bool => ("VARINT", "read_varint(&mut buf)? != 0"),
        Type::Sint32 => ("VARINT", "zigzag_32(read_varint(&mut buf)?)"),
        Type::Sint64 => ("VARINT", "zigzag_64(read_varint(&mut buf)?)"),
        _ => return None,
    })
}

/// `1 | 2 | 5`: the numbers of an enum's values, as a pattern.
fn enum_values(e: &EnumDescriptorProto) -> String {
    let mut numbers: Vec<i32> = e.value.iter().map(|v| v.number()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The words of an identifier, split as prost-build (through `heck`) splits
/// them: at non-alphanumerics, after a lower-case letter followed by an
/// upper-case one, and before the last capital of a run followed by a
/// lower-case letter (`IPAddress` is `IP`, `Address`).
fn words(s: &str) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }
    let mut words = Vec::new();
    for word in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = word.chars().collect();
        let mut start = 0;
        let mut mode = Mode::Boundary;
        for i in 0..chars.len() {
            let c = chars[i];
            let Some(&next) = chars.get(i + 1) else {
                words.push(chars[start..].iter().collect());
                break;
            };
            let next_mode = if c.is_ascii_lowercase() {
                Mode::Lower
            } else if c.is_ascii_uppercase() {
                Mode::Upper
            } else {
                mode
            };
            if next_mode == Mode::Lower && next.is_ascii_uppercase() {
                words.push(chars[start..=i].iter().collect());
                start = i + 1;
                mode = Mode::Boundary;
            } else if mode == Mode::Upper && c.is_ascii_uppercase() && next.is_ascii_lowercase() {
                words.push(chars[start..i].iter().collect());
                start = i;
                mode = Mode::Boundary;
            } else {
                mode = next_mode;
            }
        }
    }
    words
}

/// A Rust keyword as prost-build writes it (`r#type`).
fn sanitize(ident: String) -> String {
    const RAW: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl",
        "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
        "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "dyn", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
        "virtual", "yield", "async", "await", "try", "gen",
    ];
    if RAW.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else if ["_", "super", "self", "Self", "extern", "crate"].contains(&ident.as_str()) {
        format!("{ident}_")
    } else {
        ident
    }
}

/// A field or module name as prost-build writes it.
fn to_snake(s: &str) -> String {
    let words: Vec<String> = words(s).iter().map(|w| w.to_ascii_lowercase()).collect();
    sanitize(words.join("_"))
}

/// A type name as prost-build writes it.
fn to_upper_camel(s: &str) -> String {
    let words: Vec<String> = words(s)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect();
    sanitize(words.concat())
}
