//! The compiled schema, embedded so JSON conversion can look at field names,
//! labels and defaults at run time.

use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::sync::OnceLock;

/// The descriptor set written by `build.rs` from our `.proto` files.
static DESCRIPTOR_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mesos_descriptors.bin"));

/// The pool of every message of our schema, decoded once.
pub(crate) fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTOR_BYTES)
            .expect("build.rs wrote a valid descriptor set for our own schema")
    })
}

/// The descriptor of a generated type, found through its `prost::Name`.
pub(crate) fn descriptor_of<T: prost::Name>() -> MessageDescriptor {
    let name = T::full_name();
    pool()
        .get_message_by_name(&name)
        .unwrap_or_else(|| panic!("{name} is generated from our schema, so it is in the pool"))
}
