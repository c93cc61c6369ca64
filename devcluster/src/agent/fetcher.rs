//! The URI fetcher: copies `CommandInfo.uris` into the sandbox before a task or executor
//! starts. Sources: local paths (plain or `file://`) and `http(s)://`. Archives
//! (`.tar`, `.tar.gz`, `.tgz`, `.zip`) are extracted unless `extract` is false or
//! `executable` is set; `executable` sets the mode to 0755. No name may leave the
//! sandbox: `output_file` must be relative without `..`, and archive entries that would
//! escape are skipped (the tar and zip crates' own checks).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use mesos_proto::v1::command_info::Uri;

/// The largest download accepted (256 MiB).
const MAX_DOWNLOAD: u64 = 256 << 20;

/// Fetches every URI into `sandbox`, stopping at the first failure.
pub(crate) fn fetch_all(uris: &[Uri], sandbox: &Path) -> Result<(), String> {
    for u in uris {
        fetch(u, sandbox)?;
    }
    Ok(())
}

/// A relative name that stays inside the sandbox.
fn safe_name(name: &str) -> Result<PathBuf, String> {
    let p = Path::new(name);
    if name.is_empty() || p.is_absolute() {
        return Err(format!("Invalid output file name '{name}'"));
    }
    for c in p.components() {
        if !matches!(c, Component::Normal(_)) {
            return Err(format!("Invalid output file name '{name}'"));
        }
    }
    Ok(p.to_path_buf())
}

fn base_name(uri: &str) -> String {
    let no_query = uri.split(['?', '#']).next().unwrap_or(uri);
    no_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string()
}

fn fetch(u: &Uri, sandbox: &Path) -> Result<(), String> {
    let value = u.value.trim();
    let name = match &u.output_file {
        Some(o) => o.clone(),
        None => base_name(value),
    };
    let rel = safe_name(&name)?;
    let dest = sandbox.join(&rel);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("Failed to create '{}': {e}", parent.display()))?;
    }
    let bytes = if value.starts_with("http://") || value.starts_with("https://") {
        let resp = ureq::get(value)
            .call()
            .map_err(|e| format!("Failed to fetch '{value}': {e}"))?;
        resp.into_body()
            .into_with_config()
            .limit(MAX_DOWNLOAD)
            .read_to_vec()
            .map_err(|e| format!("Failed to fetch '{value}': {e}"))?
    } else {
        let path = value.strip_prefix("file://").unwrap_or(value);
        if path.contains("://") {
            return Err(format!("Unsupported URI scheme in '{value}'"));
        }
        if link_local(Path::new(path), &dest, u) {
            return Ok(());
        }
        let mut buf = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_DOWNLOAD).read_to_end(&mut buf))
            .map_err(|e| format!("Failed to fetch '{value}': {e}"))?;
        buf
    };
    std::fs::write(&dest, &bytes)
        .map_err(|e| format!("Failed to write '{}': {e}", dest.display()))?;
    if u.executable() {
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    if u.extract() {
        extract(&dest, sandbox)?;
    }
    Ok(())
}

/// Puts a local file into the sandbox as a hard link instead of a copy, when that
/// changes nothing a task can see: the file is a regular one on the same file system,
/// it is not to be extracted, and it already has the mode `executable` asks for (so
/// nothing is changed on the shared inode). A 100 MB executor then costs no disk per
/// task, as Mesos' fetcher cache keeps one copy per agent. Returns false to copy.
fn link_local(source: &Path, dest: &Path, u: &Uri) -> bool {
    let Ok(meta) = std::fs::metadata(source) else {
        return false;
    };
    let mode = meta.permissions().mode();
    let extracted = !u.executable() && u.extract() && is_archive(source);
    let mode_ok = !u.executable() || mode & 0o555 == 0o555;
    if !meta.is_file() || extracted || !mode_ok {
        return false;
    }
    let _ = std::fs::remove_file(dest);
    std::fs::hard_link(source, dest).is_ok()
}

/// Whether `path` has an archive extension the fetcher extracts.
fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    [".tar", ".tar.gz", ".tgz", ".zip"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn extract(archive: &Path, sandbox: &Path) -> Result<(), String> {
    let name = archive
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let open = || std::fs::File::open(archive).map_err(|e| e.to_string());
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(open()?));
        // `unpack` refuses entries that would land outside `sandbox`.
        a.unpack(sandbox)
            .map_err(|e| format!("Failed to extract '{name}': {e}"))?;
    } else if name.ends_with(".tar") {
        let mut a = tar::Archive::new(open()?);
        a.unpack(sandbox)
            .map_err(|e| format!("Failed to extract '{name}': {e}"))?;
    } else if name.ends_with(".zip") {
        let mut z = zip::ZipArchive::new(open()?)
            .map_err(|e| format!("Failed to extract '{name}': {e}"))?;
        for i in 0..z.len() {
            let mut f = z.by_index(i).map_err(|e| e.to_string())?;
            // `enclosed_name` is None for names with `..` or absolute paths.
            let Some(rel) = f.enclosed_name() else {
                continue;
            };
            let out = sandbox.join(rel);
            if f.is_dir() {
                std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                continue;
            }
            if let Some(p) = out.parent() {
                std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
            }
            let mut w = std::fs::File::create(&out).map_err(|e| e.to_string())?;
            std::io::copy(&mut (&mut f).take(MAX_DOWNLOAD), &mut w).map_err(|e| e.to_string())?;
            if let Some(mode) = f.unix_mode() {
                let _ =
                    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode & 0o777));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert!(safe_name("a/b.txt").is_ok());
        assert!(safe_name("../x").is_err());
        assert!(safe_name("/etc/passwd").is_err());
        assert!(safe_name("a/../../x").is_err());
        assert_eq!(base_name("http://h/p/file.tgz?x=1"), "file.tgz");
    }

    fn uri(path: &Path, executable: bool) -> Uri {
        Uri {
            value: path.display().to_string(),
            executable: Some(executable),
            ..Default::default()
        }
    }

    #[test]
    fn an_executable_is_linked_not_copied() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (source, sandbox) = (dir.path().join("exec"), dir.path().join("sandbox"));
        std::fs::create_dir(&sandbox).unwrap();
        std::fs::write(&source, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o755)).unwrap();
        fetch(&uri(&source, true), &sandbox).unwrap();
        let fetched = std::fs::metadata(sandbox.join("exec")).unwrap();
        assert_eq!(fetched.ino(), std::fs::metadata(&source).unwrap().ino());
    }

    #[test]
    fn a_file_whose_mode_must_change_is_copied_and_the_source_left_alone() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (source, sandbox) = (dir.path().join("exec"), dir.path().join("sandbox"));
        std::fs::create_dir(&sandbox).unwrap();
        std::fs::write(&source, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o644)).unwrap();
        fetch(&uri(&source, true), &sandbox).unwrap();
        let fetched = std::fs::metadata(sandbox.join("exec")).unwrap();
        assert_ne!(fetched.ino(), std::fs::metadata(&source).unwrap().ino());
        assert_eq!(fetched.permissions().mode() & 0o777, 0o755);
        let source_mode = std::fs::metadata(&source).unwrap().permissions().mode();
        assert_eq!(source_mode & 0o777, 0o644);
    }
}
