//! minimal-scheduler as a process: a task that does not finish fails the run. Its executor
//! cannot start here (no such program), so the agent fails the task; the scheduler must exit
//! 1 naming the task and its state, not tear down and exit 0 as if the job were done.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A deadline to fail by instead of hanging (a run normally ends within a second or two).
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn a_task_that_does_not_finish_makes_the_scheduler_exit_1() {
    let args = [
        "--master",
        "local",
        "--tasks",
        "1",
        "--executor",
        "/nonexistent/minimal-executor",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_minimal-scheduler"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("minimal-scheduler starts");
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().expect("waitable").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("minimal-scheduler did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("its output");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("task minimal-1 ended TASK_FAILED unexpectedly"),
        "the error names the task and its state:\n{text}"
    );
    assert!(!text.contains("TEARDOWN"), "{text}");
}
