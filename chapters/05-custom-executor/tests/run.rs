//! Runs step 05 against a devcluster in the test's process and checks what the cluster saw.

use ch05_custom_executor::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::TaskFinished;
use observe::{Seen, cluster, run_step};

#[test]
fn the_custom_executor_answers_with_the_task_data() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch05-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch05-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let launched = seen.launched();
    assert_eq!(launched.len(), 2, "{:?}", seen.kinds());
    for task in &launched {
        let executor = task.executor.as_ref().expect("our executor runs it");
        assert_eq!(executor.executor_id.value, "ch05-executor");
        assert!(
            executor
                .command
                .as_ref()
                .is_some_and(|c| !c.uris.is_empty())
        );
    }
    let replies: Vec<String> = seen
        .updates()
        .iter()
        .filter(|s| s.state() == TaskFinished)
        .map(|s| String::from_utf8_lossy(s.data()).into_owned())
        .collect();
    assert_eq!(replies, ["HELLO FROM CH05!", "MESOS IN ACTION"]);
    assert!(seen.acknowledged_every_reliable_update());
    observe::check_diagram!(&cluster);
}

/// A task that does not end as the step teaches makes the scheduler exit non-zero, saying
/// which task ended how. Here its executor cannot start (no such program): the agent fails
/// the task (TASK_FAILED, `Executor terminated`), where the step expects TASK_FINISHED.
#[test]
fn a_task_that_does_not_finish_fails_the_run_and_names_the_task() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let args = [
        "--master",
        "local",
        "--executor",
        "/nonexistent/ch05-executor",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_ch05-scheduler"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ch05-scheduler starts");
    // A deadline to fail by instead of hanging (a step that waits forever is the bug).
    let deadline = Instant::now() + observe::STEP_DEADLINE;
    while child.try_wait().expect("waitable").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ch05-scheduler did not end within {:?}",
                observe::STEP_DEADLINE
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("its output");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("task task-") && text.contains("ended TASK_FAILED unexpectedly"),
        "the error names the task and its state:\n{text}"
    );
    assert!(!text.contains("stopping after TEARDOWN"), "{text}");
}
