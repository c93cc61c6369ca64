//! Issue 17, row 6: after `kill -9` of devcluster its task processes kept running, and a
//! devcluster started again answered reconciliation with TASK_LOST at once, so a
//! scheduler ran the work a second time while the first copy still ran. Now a devcluster
//! started again on the same `--work-dir` kills what the earlier run left before it
//! serves, and reports the tasks of checkpointing frameworks as a Mesos agent does.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use mesos_proto::v1::TaskState;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::Reason;
use serde_json::json;

/// A `devcluster` process, killed (SIGKILL, by its own pid) when dropped.
struct Devcluster(Child);

impl Devcluster {
    fn start(port: u16, work_dir: &std::path::Path) -> Devcluster {
        let child = Command::new(env!("CARGO_BIN_EXE_devcluster"))
            .args(["--port", &port.to_string(), "--agents", "1"])
            .args(["--heartbeat-secs", "1", "--allocation-secs", "0.1"])
            .arg("--work-dir")
            .arg(work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("devcluster starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr(&url)).is_err() {
            assert!(Instant::now() < deadline, "devcluster did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Devcluster(child)
    }

    fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Devcluster {
    fn drop(&mut self) {
        self.kill_9();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The pid a task wrote to `file` (its shell `exec`s the sleep, so it is the task).
fn pid_in(file: &std::path::Path) -> u32 {
    let mut pid = None;
    eventually(10, || {
        pid = std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        pid.is_some()
    });
    pid.expect("pid")
}

/// Whether `pid` runs (a zombie counts as gone).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_string()))
        .is_some_and(|r| !r.starts_with('Z'))
}

fn launch_sleeper(s: &mut Stream, id: &str, pid_file: &std::path::Path) {
    let offer = s.offers(10).remove(0);
    let cmd = format!("echo $$ > {}; exec sleep 300", pid_file.display());
    assert_eq!(
        launch(s, &offer, vec![command_task(id, &offer, &cmd)]).status,
        202
    );
    wait_state(s, 10, id, TaskState::TaskRunning);
}

#[test]
fn a_restarted_devcluster_kills_what_the_crashed_one_left_and_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut first = Devcluster::start(port, &work);

    let mut keep = framework("keeps-checkpoints");
    keep["checkpoint"] = json!(true);
    keep["failover_timeout"] = json!(300.0);
    let mut plain = framework("no-checkpoints");
    plain["failover_timeout"] = json!(300.0);
    let mut a = subscribe(&url, keep.clone());
    let mut b = subscribe(&url, plain.clone());
    let (pid_a, pid_b) = (dir.path().join("a.pid"), dir.path().join("b.pid"));
    launch_sleeper(&mut a, "ta", &pid_a);
    launch_sleeper(&mut b, "tb", &pid_b);
    let (pa, pb) = (pid_in(&pid_a), pid_in(&pid_b));
    assert!(running(pa) && running(pb));

    let (fa, fb) = (a.framework_id.clone(), b.framework_id.clone());
    first.kill_9();
    drop((a, b));
    // The crash leaves the tasks running (nothing could stop them).
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        running(pa) && running(pb),
        "tasks survive a kill -9 of devcluster"
    );

    let _second = Devcluster::start(port, &work);
    // Before the restarted master answered anything, the old copies were gone.
    assert!(
        !running(pa),
        "the checkpointing framework's task was killed"
    );
    assert!(!running(pb), "the other framework's task was killed");

    // The checkpointing framework hears of its task as from a Mesos agent whose
    // executor did not reregister.
    keep["id"] = json!({"value": fa});
    let mut a = subscribe(&url, keep);
    let e = a.wait_for(15, |e| {
        e.r#type() == event::Type::Update
            && e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.value == "ta")
    });
    let status = e.update.expect("update").status;
    assert_eq!(status.state(), TaskState::TaskLost, "{status:?}");
    assert_eq!(status.reason(), Reason::ReasonExecutorReregistrationTimeout);
    ack(&a, &status);

    // The other one reconciles and hears TASK_LOST, with its old copy already dead.
    plain["id"] = json!({"value": fb});
    let mut b = subscribe(&url, plain);
    let r = call(
        &b,
        "RECONCILE",
        Some((
            "reconcile",
            json!({"tasks": [{"task_id": {"value": "tb"}}]}),
        )),
    );
    assert_eq!(r.status, 202);
    let s = b.update_for(10, "tb");
    assert_eq!(s.state(), TaskState::TaskLost, "{s:?}");
    assert!(!running(pb));
}

/// Recovery kills what an earlier run left: a second devcluster on a work dir that a live
/// one uses must therefore be refused, not kill the live one's tasks.
#[test]
fn a_work_dir_in_use_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _first = Devcluster::start(port, &work);
    let mut s = subscribe(&url, framework("first"));
    let pid_file = dir.path().join("t.pid");
    launch_sleeper(&mut s, "t", &pid_file);
    let pid = pid_in(&pid_file);
    let out = Command::new(env!("CARGO_BIN_EXE_devcluster"))
        .args(["--port", "0", "--agents", "1", "--work-dir"])
        .arg(&work)
        .output()
        .expect("devcluster runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another devcluster"), "{err}");
    assert!(running(pid), "the live cluster's task was left alone");
}
