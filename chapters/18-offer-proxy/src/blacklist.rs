//! The host blacklist: `<config-dir>/blacklist`, one hostname per line,
//! `#` starts a comment. Offers from these hosts are declined without
//! asking the backend.
//!
//! Why re-read on change instead of on a signal: operators edit the file
//! while the proxy runs (to drain a broken host); checking the file's
//! modification time and size before each batch of offers costs one
//! `stat` and needs no extra thread.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The blacklist, re-read whenever its file changes.
#[derive(Debug)]
pub struct Blacklist {
    path: Option<PathBuf>,
    /// Modification time and length when last read (`None`: no file).
    seen: Option<(SystemTime, u64)>,
    hosts: BTreeSet<String>,
}

impl Blacklist {
    /// The blacklist in `config_dir/blacklist`; `None` means no blacklist.
    pub fn new(config_dir: Option<&Path>) -> Blacklist {
        let mut list = Blacklist {
            path: config_dir.map(|dir| dir.join("blacklist")),
            seen: None,
            hosts: BTreeSet::new(),
        };
        list.refresh();
        list
    }

    /// Re-reads the file if it changed (or appeared, or went away).
    pub fn refresh(&mut self) {
        let Some(path) = &self.path else { return };
        let stamp = std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if stamp == self.seen {
            return;
        }
        self.seen = stamp;
        self.hosts = match std::fs::read_to_string(path) {
            Ok(text) => parse(&text),
            // Missing or unreadable: nothing is blacklisted (logged, so an
            // operator who mistyped the path finds out).
            Err(err) => {
                log::warn!("blacklist {} not read: {err}", path.display());
                BTreeSet::new()
            }
        };
        log::info!(
            "blacklist {}: {} host(s) {:?}",
            path.display(),
            self.hosts.len(),
            self.hosts
        );
    }

    /// Whether offers from `hostname` must be declined.
    pub fn contains(&self, hostname: &str) -> bool {
        self.hosts.contains(hostname)
    }
}

/// Hostnames in `text`: one per line, `#` comments, blanks ignored.
pub fn parse(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|host| !host.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blanks_are_skipped() {
        let hosts = parse("# broken disks\nhost1\n\n  host2  # flaky\n#host3\n");
        assert_eq!(hosts.into_iter().collect::<Vec<_>>(), ["host1", "host2"]);
    }

    #[test]
    fn a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = Blacklist::new(Some(dir.path()));
        assert!(!list.contains("a"));
        std::fs::write(dir.path().join("blacklist"), "a\n").unwrap();
        list.refresh();
        assert!(list.contains("a"));
        // Same mtime granularity is possible: the length changes too.
        std::fs::write(dir.path().join("blacklist"), "b\nc\n").unwrap();
        list.refresh();
        assert!(!list.contains("a") && list.contains("b"));
    }
}
