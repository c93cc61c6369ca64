//! What the integration tests of `mesos-proto` share: the captured fixtures
//! of `fixtures/mesos-1.12/` and their RecordIO records.
#![allow(dead_code)] // each test binary uses its own part

use mesos_proto::recordio::Decoder;
use std::path::{Path, PathBuf};

/// The captured fixtures; a clear failure (naming the folder) when they are missing.
pub fn fixtures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mesos-1.12");
    assert!(dir.is_dir(), "fixture folder {} is missing", dir.display());
    dir
}

/// Every record of a captured RecordIO stream.
pub fn records(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Decoder::new(file)
        .map(|r| r.expect("captured stream decodes"))
        .collect()
}

/// Every file below `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
}
