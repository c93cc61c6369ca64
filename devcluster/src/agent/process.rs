//! Spawning and signalling processes.
//!
//! Each task or executor runs in its own process group (`process_group(0)`), so a signal
//! reaches the whole tree it forks. The crate forbids `unsafe`, so signals are sent by
//! running `kill -<SIG> -- -<pgid>` (procps or the shell's `kill`) instead of calling
//! `libc::kill`: one fork per signal is cheap next to the task itself, and honest.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::CommandInfo;

use super::Agent;

/// Starts `cmd` in `dir` with exactly `env` (the agent's environment is not inherited),
/// stdout/stderr appended to the sandbox files, in a new process group.
pub(crate) fn spawn(
    cmd: &CommandInfo,
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> std::io::Result<Child> {
    let value = cmd.value.clone().unwrap_or_default();
    let mut c = if cmd.shell() {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(&value);
        c
    } else {
        let mut c = Command::new(&value);
        if let Some((first, rest)) = cmd.arguments.split_first() {
            c.arg0(first);
            c.args(rest);
        }
        c
    };
    let open = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
    };
    c.env_clear()
        .envs(env)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(open("stdout")?)
        .stderr(open("stderr")?)
        .process_group(0);
    c.spawn()
}

/// Waits for the child; returns the raw wait status (-1 if waiting failed).
pub(crate) fn wait(mut child: Child) -> i32 {
    match child.wait() {
        Ok(s) => s.into_raw(),
        Err(_) => -1,
    }
}

/// (exit code, terminating signal) from a raw wait status.
pub(crate) fn decode_wait_status(status: i32) -> (i32, Option<i32>) {
    let sig = status & 0x7f;
    if sig == 0 {
        ((status >> 8) & 0xff, None)
    } else {
        (0, Some(sig))
    }
}

/// Sends `sig` (e.g. `TERM`, `KILL`) to process group `pgid`.
pub(crate) fn signal_group(pgid: u32, sig: &str) {
    if pgid <= 1 {
        return;
    }
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// SIGTERM now, SIGKILL after `grace` if the group is still alive (§3.8 step 4).
pub(crate) fn terminate_with_grace(agent: Arc<Agent>, pgid: u32, grace: Duration) {
    signal_group(pgid, "TERM");
    kill_after(agent, pgid, grace);
}

/// SIGKILL after `grace` unless the process has been reaped by then.
pub(crate) fn kill_after(agent: Arc<Agent>, pgid: u32, grace: Duration) {
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if !agent.lock().pgids.contains(&pgid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if agent.lock().pgids.contains(&pgid) {
            signal_group(pgid, "KILL");
        }
    });
}

/// Appends a line to a sandbox file (fetcher and launch errors go to `stderr`).
pub(crate) fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}
