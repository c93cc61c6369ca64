//! Comparing the *shape* of JSON that devcluster sends with what a real Mesos 1.12 sent
//! (the captured fixtures in `fixtures/mesos-1.12/` at the project root).
//!
//! A shape is the set of key paths of a JSON value, with array positions collapsed to
//! `[]`: `.update.status.container_status.network_infos[].ip_addresses[].protocol`.
//! Values (ids, timestamps) differ between runs; the paths must not, or a client that
//! reads a field real Mesos always sends would break.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// The captured fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    let dir = crate::project_root().join("fixtures/mesos-1.12");
    assert!(dir.is_dir(), "fixture folder {} is missing", dir.display());
    dir
}

/// A fixture file parsed as JSON (panics with the path if it is missing).
pub fn fixture(rel: &str) -> Value {
    let path = fixtures_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// The key paths of a JSON value.
pub fn paths(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &Value, prefix: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = format!("{prefix}.{k}");
                out.insert(p.clone());
                walk(x, p, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                walk(x, format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The differences between the key paths of `ours` and `theirs` (ignoring paths that
/// start with one of `ignore`), or `None` when they have the same shape.
pub fn shape_diff(ours: &Value, theirs: &Value, ignore: &[&str]) -> Option<String> {
    let keep = |p: &String| !ignore.iter().any(|i| p.starts_with(i));
    let a: BTreeSet<String> = paths(ours).into_iter().filter(keep).collect();
    let b: BTreeSet<String> = paths(theirs).into_iter().filter(keep).collect();
    let missing: Vec<_> = b.difference(&a).collect();
    let extra: Vec<_> = a.difference(&b).collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    Some(format!(
        "shape differs from Mesos 1.12\n  missing (Mesos sends): {missing:#?}\n  \
         extra (Mesos does not send): {extra:#?}\n  ours: {ours}"
    ))
}

/// Asserts that `ours` has exactly the key paths of `theirs`, except paths starting with
/// one of `ignore` (context-dependent parts). The message lists both differences.
pub fn assert_same_shape(ours: &Value, theirs: &Value, ignore: &[&str]) {
    if let Some(diff) = shape_diff(ours, theirs, ignore) {
        panic!("{diff}");
    }
}
