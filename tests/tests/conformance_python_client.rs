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
