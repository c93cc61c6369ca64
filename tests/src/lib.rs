//! Shared helpers for the end-to-end tests in `tests/tests/`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// The project root (the workspace folder).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the project root")
        .to_path_buf()
}

pub mod binaries;
pub mod example_runs;
pub mod exec;
pub mod fake_master;
pub mod http;
pub mod jobs;
pub mod pidwatch;
pub mod real_master;
pub mod sched;
pub mod shape;
pub mod testcluster;
pub mod zk;
