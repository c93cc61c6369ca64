//! A non-Rust client works unchanged: `fixtures-py/scheduler_lifecycle.py` (Python 3
//! stdlib only) subscribes, launches `echo hello`, acknowledges, sees TASK_FINISHED and
//! tears down, against devcluster.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::{http, project_root, testcluster};

#[test]
fn python_stdlib_scheduler_full_lifecycle() {
    let (_c, addr) = testcluster::start(1);
    let script = project_root().join("tests/fixtures-py/scheduler_lifecycle.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&addr)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    // The script has its own 30 s deadline; this one only guards against a hang.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            // Ends only the process this test started, by its PID.
            let _ = child.kill();
            let _ = child.wait();
            panic!("python scheduler hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON summary");
    assert_eq!(
        summary["states"],
        serde_json::json!(["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"])
    );
    assert_eq!(summary["acks"], 3);
    assert_eq!(summary["message"], "Command exited with status 0");
    assert_eq!(summary["teardown"], 202);
    assert_eq!(summary["stream_ended"], true);
    assert_eq!(summary["types"][0], "SUBSCRIBED");
    // The master saw it all: the framework is completed, its task finished.
    let state = http::get(&addr, "/master/state").json();
    let fw = state["completed_frameworks"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|f| f["id"] == summary["framework_id"])
                .cloned()
        })
        .expect("framework completed");
    assert_eq!(fw["completed_tasks"][0]["state"], "TASK_FINISHED");
}

/// The absolute path of `python3` on this test's PATH (executors get a default PATH).
fn python3() -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| std::path::Path::new(d).join("python3"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/usr/bin/python3".to_string())
}

/// A non-Rust executor works unchanged: `fixtures-py/executor.py` (stdlib only) finds the
/// agent through the environment the agent gives it, runs a task, echoes a message and
/// exits on SHUTDOWN (a FAILURE with status 0 follows).
#[test]
fn python_stdlib_executor_full_lifecycle() {
    use e2e_tests::sched::{Sched, WAIT, b64, executor_task, framework};
    use mesos_proto::v1::TaskState;
    use mesos_proto::v1::scheduler::event;
    let (_c, addr) = testcluster::start(1);
    let script = project_root().join("tests/fixtures-py/executor.py");
    let cmd = format!("{} {}", python3(), script.display());
    let mut s = Sched::subscribe(&addr, framework("py-executor"));
    let offer = s.launch_one(|o| executor_task("py-t", &o.agent_id.value, "py-e", &cmd));
    let seen = s.wait_state(WAIT, "py-t", TaskState::TaskFinished);
    let states: Vec<TaskState> = seen.iter().map(|st| st.state()).collect();
    assert_eq!(states, [TaskState::TaskRunning, TaskState::TaskFinished]);
    let msg = serde_json::json!({"agent_id": {"value": offer.agent_id.value},
                                 "executor_id": {"value": "py-e"}, "data": b64(b"hi")});
    s.call_ok("MESSAGE", Some(("message", msg)));
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Message);
    assert_eq!(ev.message.unwrap().data, b"echo:hi");
    let shutdown = serde_json::json!({"executor_id": {"value": "py-e"},
                                      "agent_id": {"value": offer.agent_id.value}});
    s.call_ok("SHUTDOWN", Some(("shutdown", shutdown)));
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Failure);
    let f = ev.failure.unwrap();
    assert_eq!(f.executor_id.map(|e| e.value).as_deref(), Some("py-e"));
    assert_eq!(f.status, Some(0), "the executor exited 0 on SHUTDOWN");
}
