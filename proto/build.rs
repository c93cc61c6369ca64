//! Compiles our `.proto` schema at build time.
//!
//! protox parses the schema in pure Rust, so nobody needs a system `protoc`.
//! The same descriptor set is used twice: prost-build turns it into Rust
//! types, and it is embedded in the library so the JSON mapping can walk
//! message descriptors (field names, labels, defaults) at run time.

use prost::Message;

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
        .compile_fds(for_codegen)?;
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
