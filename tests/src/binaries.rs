//! Every framework binary of the workspace (`minimal/`, `skeleton/`, `chapters/*`), found
//! by reading the Cargo manifests, built on first use, for tests that must cover "every
//! binary" (authentication flags, secrets never printed) without a list to keep in sync.
//!
//! The manifests are read line by line: a workspace `members = [...]` line, each member's
//! `[package] name` and its `[[bin]] name`s (or the package name for a `src/main.rs`, and
//! the file stems of `src/bin/*.rs`, as Cargo's automatic targets do).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::project_root;

/// One binary target of a workspace member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binary {
    /// The package it belongs to (for `cargo build -p`).
    pub package: String,
    /// The binary's name.
    pub name: String,
    /// The package folder.
    pub dir: PathBuf,
}

impl Binary {
    /// Whether this is a scheduler-side program (a framework), rather than an executor or
    /// a helper such as an example backend. Schedulers talk to the master and so are the
    /// ones that need credentials.
    pub fn is_framework(&self) -> bool {
        !(self.name.contains("executor") || self.name.contains("backend"))
    }

    /// Whether the package's sources mention a `--secret-file` option (clap's derive
    /// spells a `secret_file` field that way).
    pub fn mentions_secret_file(&self) -> bool {
        rust_sources(&self.dir.join("src"))
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .any(|text| text.contains("secret-file") || text.contains("secret_file"))
    }
}

/// Every `*.rs` file under `dir`, at any depth (in no particular order).
pub fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                found.push(p);
            }
        }
    }
    found
}

/// The value of a `key = "value"` line.
fn string_value(line: &str, key: &str) -> Option<String> {
    let rest = line
        .trim()
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?;
    Some(rest.trim().trim_matches('"').to_string())
}

/// The workspace members, from the root manifest's `members = [...]`.
pub fn workspace_members() -> Vec<String> {
    let text = std::fs::read_to_string(project_root().join("Cargo.toml")).unwrap_or_default();
    let Some(start) = text.find("members") else {
        return Vec::new();
    };
    let list = &text[start..];
    let (Some(open), Some(close)) = (list.find('['), list.find(']')) else {
        return Vec::new();
    };
    list[open + 1..close]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The binaries of the example members (`minimal`, `skeleton`, `chapters/*`).
pub fn example_binaries() -> Vec<Binary> {
    let mut out = BTreeSet::new();
    for member in workspace_members() {
        if !(member == "minimal" || member == "skeleton" || member.starts_with("chapters/")) {
            continue;
        }
        let dir = project_root().join(&member);
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let mut section = String::new();
        let mut package = None;
        let mut names = Vec::new();
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t.to_string();
                continue;
            }
            match section.as_str() {
                "[package]" if package.is_none() => {
                    if let Some(v) = string_value(t, "name") {
                        package = Some(v);
                    }
                }
                "[[bin]]" => {
                    if let Some(v) = string_value(t, "name") {
                        names.push(v);
                    }
                }
                _ => {}
            }
        }
        let Some(package) = package else { continue };
        if names.is_empty() && dir.join("src/main.rs").exists() {
            names.push(package.clone());
        }
        for e in std::fs::read_dir(dir.join("src/bin"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = e.path();
            let explicit =
                text.contains(&format!("\"src/bin/{}\"", e.file_name().to_string_lossy()));
            if p.extension().is_some_and(|x| x == "rs")
                && !explicit
                && let Some(stem) = p.file_stem()
            {
                names.push(stem.to_string_lossy().into_owned());
            }
        }
        for name in names {
            out.insert(Binary {
                package: package.clone(),
                name,
                dir: dir.clone(),
            });
        }
    }
    out.into_iter().collect()
}

/// The folder holding the workspace's binaries, built for this test binary's target
/// directory and profile: the binaries `cargo test --workspace` already built, made
/// fresh once per test process.
///
/// One compile per crate: the build is `cargo build --workspace --bins --tests`, which
/// selects the same packages and targets as `cargo test --workspace` and therefore the
/// same features for every crate. Under `cargo test --workspace` it finds everything
/// fresh and returns at once; under `cargo test -p e2e-tests` it builds what is missing,
/// once. (A narrower `cargo build -p minimal` would unify features differently and
/// compile mesos-client, devcluster and mesos-proto a second time.)
///
/// # Errors
///
/// The build's error output, when the workspace does not build.
pub fn workspace_bins() -> Result<&'static Path, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(build_workspace)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn build_workspace() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = me
        .parent()
        .and_then(Path::parent)
        .ok_or("test binary outside a target dir")?;
    let target_dir = profile_dir.parent().ok_or("no target dir")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => return Err("odd profile dir".into()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project_root())
        .args([
            "build",
            "--workspace",
            "--bins",
            "--tests",
            "--profile",
            &profile,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    // The variables `cargo test` set for this package would make build scripts that watch
    // them rerun in the inner cargo (and everything above them rebuild).
    for (var, _) in std::env::vars_os() {
        let v = var.to_string_lossy();
        let per_package = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| v.starts_with(p))
            || matches!(
                &*v,
                "CARGO_PRIMARY_PACKAGE" | "OUT_DIR" | "CARGO_TARGET_TMPDIR"
            );
        if per_package {
            cmd.env_remove(&var);
        }
    }
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build --workspace --bins --tests failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(profile_dir.to_path_buf())
}

/// The path of workspace binary `name` (e.g. `"etl-runner"`), built on first use.
///
/// # Panics
///
/// When the workspace does not build (the test cannot run without it), or has no such
/// binary.
pub fn workspace_bin(name: &str) -> PathBuf {
    let dir = workspace_bins().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// Every example binary with its path (see [`example_binaries`] and [`workspace_bins`]).
///
/// # Panics
///
/// When the workspace does not build.
pub fn built_examples() -> Vec<(Binary, PathBuf)> {
    let dir = workspace_bins().unwrap_or_else(|e| panic!("{e}"));
    example_binaries()
        .into_iter()
        .map(|b| {
            let path = dir.join(&b.name);
            (b, path)
        })
        .collect()
}
