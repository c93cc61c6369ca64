//! Crash safety: what an agent writes to its work directory so that a devcluster started
//! again on the same `--work-dir` after `kill -9` recovers as a Mesos agent does.
//!
//! Layout (under `<work_dir>/meta/`, after Mesos' `meta/slaves/<id>/...`):
//! - `agents/<index>`: the id of agent `index`, so that it keeps its id across restarts.
//! - `slaves/<id>/processes/<pgid>`: every process group the agent started, with the
//!   leader's start time (clock ticks since boot), removed once the group is reaped.
//! - `slaves/<id>/tasks/<uuid>`: each task of a framework with `checkpoint` set (only
//!   those, as in Mesos): its framework, executor and task (protobuf, base64), removed
//!   once the task has left the agent.
//!
//! Recovery, before anything serves (see [`kill_leftovers`] and [`recovered_tasks`]):
//! devcluster's executors cannot reconnect (the command and default executors ran inside
//! the dead process; custom executors knew the old agent's port), so every process group
//! left behind is killed first, whatever its framework. Tasks of frameworks without
//! checkpointing are then forgotten, as a Mesos agent forgets them (it never wrote them
//! down); the master, restarted too, answers reconciliation for them with `TASK_LOST`.
//! Tasks of checkpointing frameworks are reported when the agent registers, as a Mesos
//! agent reports the tasks of executors that did not reregister in time: `TASK_LOST`
//! (`TASK_GONE` for partition-aware frameworks), reason
//! `REASON_EXECUTOR_REREGISTRATION_TIMEOUT`, through the reliable update path. Either way
//! the old copy of a task is dead before any scheduler hears about it, so a scheduler
//! that runs lost work again never runs it twice at once.
//!
//! A recorded process group is killed only if it is still the one that was started: the
//! leader's start time must match (after a reboot, or once the pid was reused, it does
//! not), or, with the leader gone, a member must have started after it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mesos_proto::v1::{FrameworkInfo, TaskInfo};
use prost::Message as _;
use serde_json::{Value, json};

use super::{ExecKind, process};

/// How long recovery waits for killed process groups to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

fn meta(work_dir: &Path) -> PathBuf {
    work_dir.join("meta")
}

/// The checkpoint directory of one agent.
pub(crate) fn agent_dir(work_dir: &Path, agent_id: &str) -> PathBuf {
    meta(work_dir).join("slaves").join(agent_id)
}

/// The id agent `index` had in an earlier run on this work directory, if any.
pub(crate) fn previous_agent_id(work_dir: &Path, index: usize) -> Option<String> {
    let id = std::fs::read_to_string(meta(work_dir).join("agents").join(index.to_string())).ok()?;
    let id = id.trim();
    super::launch::safe_component(id).then(|| id.to_string())
}

/// The indexes of every agent an earlier run on this work directory wrote down (also
/// those beyond the number configured now: what they left must be killed too).
pub(crate) fn previous_agent_indexes(work_dir: &Path) -> Vec<usize> {
    let Ok(entries) = std::fs::read_dir(meta(work_dir).join("agents")) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    out.sort_unstable();
    out
}

/// Claims the work directory for this process: refused while another live devcluster
/// process holds it (recovery would kill that one's tasks). The claim is that process's
/// pid and start time in `meta/owner`; the same process may start clusters on it again.
pub(crate) fn claim_work_dir(work_dir: &Path) -> Result<(), String> {
    let me = std::process::id();
    let my_start = group_and_start(me).map_or(0, |(_, s)| s);
    let owner = meta(work_dir).join("owner");
    if let Ok(text) = std::fs::read_to_string(&owner) {
        let mut words = text.split_whitespace().map(|w| w.parse::<u64>().ok());
        if let (Some(Some(pid)), Some(Some(start))) = (words.next(), words.next())
            && let Ok(pid) = u32::try_from(pid)
            && pid != me
            && group_and_start(pid).is_some_and(|(_, s)| s == start)
        {
            return Err(format!(
                "work directory {} is in use by another devcluster (pid {pid})",
                work_dir.display()
            ));
        }
    }
    std::fs::create_dir_all(meta(work_dir))
        .and_then(|()| write_atomically(&owner, format!("{me} {my_start}").as_bytes()))
        .map_err(|e| format!("cannot claim work directory {}: {e}", work_dir.display()))
}

/// Writes agent `index`'s id down for the next run.
pub(crate) fn remember_agent_id(work_dir: &Path, index: usize, id: &str) -> std::io::Result<()> {
    let dir = meta(work_dir).join("agents");
    std::fs::create_dir_all(&dir)?;
    write_atomically(&dir.join(index.to_string()), id.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that a crash
/// leaves the old content or the new, never half of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Fields of `/proc/<pid>/stat` after the command name: index 0 is field 3 (state).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// (process group, start time in clock ticks since boot) of a live process (a zombie,
/// dead but not yet reaped, counts as gone).
fn group_and_start(pid: u32) -> Option<(u32, u64)> {
    let f = stat_fields(pid)?;
    if f.first().is_some_and(|state| state == "Z") {
        return None;
    }
    Some((f.get(2)?.parse().ok()?, f.get(19)?.parse().ok()?))
}

/// Records a process group the agent started (its leader is `pgid`).
pub(crate) fn record_process(dir: &Path, pgid: u32) {
    let Some((_, start)) = group_and_start(pgid) else {
        return;
    };
    let procs = dir.join("processes");
    let written = std::fs::create_dir_all(&procs).and_then(|()| {
        write_atomically(&procs.join(pgid.to_string()), start.to_string().as_bytes())
    });
    if let Err(e) = written {
        log::warn!("cannot checkpoint process {pgid}: {e}");
    }
}

/// Forgets a process group once it was reaped.
pub(crate) fn forget_process(dir: &Path, pgid: u32) {
    let _ = std::fs::remove_file(dir.join("processes").join(pgid.to_string()));
}

/// Whether process group `pgid` is still the one whose leader started at `start`: the
/// leader is alive with that start time, or it is gone and members remain (Linux does not
/// give a pid to a new process while a group of that id exists, so they are its
/// children). A leader alive with another start time is a reused pid: not ours.
fn still_ours(pgid: u32, start: u64) -> bool {
    if let Some((_, s)) = group_and_start(pgid) {
        return s == start;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .any(|pid| group_and_start(pid).is_some_and(|(g, _)| g == pgid))
}

/// Kills every process group an earlier run of agent `agent_id` left behind and waits
/// (bounded) until they are gone. Returns how many groups were killed.
pub(crate) fn kill_leftovers(work_dir: &Path, agent_id: &str) -> usize {
    let procs = agent_dir(work_dir, agent_id).join("processes");
    let Ok(entries) = std::fs::read_dir(&procs) else {
        return 0;
    };
    let mut killed = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let pgid = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok());
        let start = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        if let (Some(pgid), Some(start)) = (pgid, start)
            && pgid > 1
            && still_ours(pgid, start)
        {
            log::warn!("agent {agent_id}: killing process group {pgid} left by an earlier run");
            process::signal_group(pgid, "KILL");
            killed.push((pgid, start));
        }
        let _ = std::fs::remove_file(&path);
    }
    let deadline = Instant::now() + KILL_WAIT;
    while killed.iter().any(|(g, s)| still_ours(*g, *s)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    killed.len()
}

/// A task written down for a checkpointing framework.
pub(crate) struct RecordedTask {
    pub path: PathBuf,
    pub framework: FrameworkInfo,
    pub executor_id: String,
    pub kind: ExecKind,
    pub task: TaskInfo,
}

fn kind_name(k: ExecKind) -> &'static str {
    match k {
        ExecKind::Command => "command",
        ExecKind::Custom => "custom",
        ExecKind::Default => "default",
    }
}

/// Writes a task of a checkpointing framework down; returns the record's path.
pub(crate) fn record_task(
    dir: &Path,
    framework: &FrameworkInfo,
    executor_id: &str,
    kind: ExecKind,
    task: &TaskInfo,
) -> Option<PathBuf> {
    let tasks = dir.join("tasks");
    let path = tasks.join(uuid::Uuid::new_v4().to_string());
    let record = json!({
        "framework": STANDARD.encode(framework.encode_to_vec()),
        "executor_id": executor_id,
        "kind": kind_name(kind),
        "task": STANDARD.encode(task.encode_to_vec()),
    });
    let written = std::fs::create_dir_all(&tasks)
        .and_then(|()| write_atomically(&path, record.to_string().as_bytes()));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            log::warn!("cannot checkpoint task {}: {e}", task.task_id.value);
            None
        }
    }
}

/// Forgets a task record.
pub(crate) fn forget_task(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The tasks an earlier run of agent `agent_id` wrote down (unreadable records are
/// skipped and removed).
pub(crate) fn recorded_tasks(work_dir: &Path, agent_id: &str) -> Vec<RecordedTask> {
    let Ok(entries) = std::fs::read_dir(agent_dir(work_dir, agent_id).join("tasks")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "tmp") {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        match parse_task(&path) {
            Some(t) => out.push(t),
            None => {
                log::warn!("skipping unreadable checkpoint {}", path.display());
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    out
}

fn parse_task(path: &Path) -> Option<RecordedTask> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let bytes = |k: &str| STANDARD.decode(v[k].as_str()?).ok();
    let kind = match v["kind"].as_str()? {
        "command" => ExecKind::Command,
        "custom" => ExecKind::Custom,
        "default" => ExecKind::Default,
        _ => return None,
    };
    Some(RecordedTask {
        path: path.to_path_buf(),
        framework: FrameworkInfo::decode(bytes("framework")?.as_slice()).ok()?,
        executor_id: v["executor_id"].as_str()?.to_string(),
        kind,
        task: TaskInfo::decode(bytes("task")?.as_slice()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_round_trip_and_garbage_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let adir = agent_dir(dir.path(), "A-S0");
        let fw = FrameworkInfo {
            name: "fw".into(),
            checkpoint: Some(true),
            ..Default::default()
        };
        let task = TaskInfo {
            name: "t".into(),
            ..Default::default()
        };
        let path = record_task(&adir, &fw, "e1", ExecKind::Command, &task).expect("written");
        std::fs::write(adir.join("tasks").join("junk"), b"{").expect("junk");
        let got = recorded_tasks(dir.path(), "A-S0");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, path);
        assert_eq!(got[0].framework, fw);
        assert_eq!(got[0].task, task);
        assert_eq!(got[0].executor_id, "e1");
        assert!(!adir.join("tasks").join("junk").exists());
        forget_task(&path);
        assert!(recorded_tasks(dir.path(), "A-S0").is_empty());
        remember_agent_id(dir.path(), 3, "A-S0").expect("id");
        assert_eq!(previous_agent_id(dir.path(), 3).as_deref(), Some("A-S0"));
        assert_eq!(previous_agent_id(dir.path(), 4), None);
    }

    #[test]
    fn a_recorded_group_is_killed_only_while_it_is_the_same() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let adir = agent_dir(dir.path(), "A-S1");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("sleep");
        let pgid = child.id();
        record_process(&adir, pgid);
        // A record whose start time does not match (a reused pid) is not killed.
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("sleep");
        std::fs::write(adir.join("processes").join(other.id().to_string()), b"1").expect("w");
        assert_eq!(kill_leftovers(dir.path(), "A-S1"), 1);
        let status = child.wait().expect("wait");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
        assert!(other.try_wait().expect("try_wait").is_none());
        let _ = other.kill();
        let _ = other.wait();
        assert_eq!(kill_leftovers(dir.path(), "A-S1"), 0);
    }
}
