//! Running the example binaries (`minimal-*`, `skeleton-*`) as processes: building them
//! once, reading their output line by line with deadlines, and killing what is left.
//!
//! The binaries belong to other packages, so `CARGO_BIN_EXE_*` does not name them; they
//! are the ones `cargo test --workspace` built (see [`crate::binaries::workspace_bins`]).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path of example binary `name` (see [`crate::binaries::workspace_bin`]).
///
/// # Panics
///
/// When the workspace does not build (the test cannot run without it).
pub fn example_bin(name: &str) -> PathBuf {
    crate::binaries::workspace_bin(name)
}

/// A running example process whose stdout and stderr are collected line by line.
pub struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    name: String,
}

impl Proc {
    /// Starts `bin` with `args`, output piped, `MESOS_MASTER` removed (the tests always say
    /// which master they mean) and `envs` added.
    pub fn spawn(bin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env_remove("MESOS_MASTER")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            collect(out, lines.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect(err, lines.clone());
        }
        let name = bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Proc { child, lines, name }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// How many lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .map(|l| l.iter().filter(|s| s.contains(needle)).count())
            .unwrap_or(0)
    }

    /// Waits until `n` lines contain `needle`; returns the last such line.
    ///
    /// # Panics
    ///
    /// After `within`, or if the process exits first, with its output.
    pub fn wait_lines(&mut self, needle: &str, n: usize, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(lines) = self.lines.lock() {
                let found: Vec<&String> = lines.iter().filter(|s| s.contains(needle)).collect();
                if found.len() >= n {
                    return found[n - 1].clone();
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: no {n} line(s) with {needle:?} in {within:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers drain what is left before judging.
                std::thread::sleep(Duration::from_millis(100));
                if self.count(needle) < n {
                    panic!(
                        "{}: exited ({status}) before {needle:?}:\n{}",
                        self.name,
                        self.output()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for `needle` once.
    pub fn wait_line(&mut self, needle: &str, within: Duration) -> String {
        self.wait_lines(needle, 1, within)
    }

    /// Waits for the process to exit.
    ///
    /// # Panics
    ///
    /// After `within` (the process is killed first), with its output.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50)); // readers drain
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{}: still running after {within:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for exit and asserts success.
    pub fn assert_success(&mut self, within: Duration) {
        let status = self.wait_exit(within);
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            self.name,
            self.output()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Only our own child, by handle; a test that failed half-way leaves nothing behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut l) = lines.lock() {
                l.push(line);
            }
        }
    });
}

/// Every file named `name` under `dir`, recursively (sandbox `stdout` files).
pub fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                found.push(p);
            }
        }
    }
    found
}

/// The concatenated contents of every sandbox `stdout` under `dir`.
pub fn sandbox_stdout(dir: &Path) -> String {
    files_named(dir, "stdout")
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n")
}
