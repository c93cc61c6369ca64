//! Watching task processes from the outside: a task command records its PID in a file,
//! and the test checks through `/proc` whether that process still lives. This sees what
//! an operator would see, without asking devcluster.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh PID-file path under the temp dir for `name`.
pub fn pid_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("conformance-{name}-{}.pid", std::process::id()))
}

/// A shell command that writes its PID to `path` (atomically) and then becomes
/// `sleep 30` under that same PID.
pub fn pid_command(path: &Path) -> String {
    format!(
        "echo $$ > {0}.tmp && mv {0}.tmp {0} && exec sleep 30",
        path.display()
    )
}

/// Waits up to `d` for the PID file and returns the PID (removing the file).
pub fn read_pid(path: &Path, d: Duration) -> u32 {
    let deadline = Instant::now() + d;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            let _ = std::fs::remove_file(path);
            return text.trim().parse().expect("a PID");
        }
        assert!(Instant::now() < deadline, "no PID file {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to `d` for the process to be gone; false if it still lives.
pub fn gone_within(pid: u32, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}
