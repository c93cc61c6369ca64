//! Runs step 07 against a devcluster in the test's process and checks what the cluster saw.

use std::time::{Duration, Instant};

use ch07_kill_task::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskKilled, TaskRunning};
use observe::{Seen, cluster, run_step};

#[test]
fn kill_ends_one_task_and_the_other_keeps_running() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch07-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch07-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    let killed = seen.kills();
    assert_eq!(killed.len(), 1, "{:?}", seen.kinds());
    let other = ids.iter().find(|id| **id != killed[0]).expect("two tasks");
    let states = seen.states();
    assert!(
        states[&killed[0]].ends_with(&[TaskRunning, TaskKilled]),
        "{states:?}"
    );
    // The other task was still running when the framework was torn down.
    assert_eq!(states[other].last(), Some(&TaskRunning), "{states:?}");
    assert!(
        seen.in_order(&["KILL", "UPDATE", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    // TEARDOWN ended the executor too: no process is left behind (a deadline, not a timing).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cluster.running_pids().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cluster.running_pids().is_empty());
    observe::check_diagram!(&cluster);
}
