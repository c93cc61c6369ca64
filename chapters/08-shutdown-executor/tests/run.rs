//! Runs step 08 against a devcluster in the test's process and checks what the cluster saw.

use ch08_shutdown_executor::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskKilled, TaskRunning};
use mesos_proto::v1::scheduler::call;
use observe::{Seen, cluster, run_step};

#[test]
fn shutdown_ends_the_executor_and_failure_reports_its_exit() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch08-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch08-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    assert_eq!(seen.kills().len(), 1);
    // Both tasks were killed: one by KILL, the other by the executor's shutdown.
    for id in &ids {
        assert!(
            seen.states()[id].ends_with(&[TaskRunning, TaskKilled]),
            "{id}"
        );
    }
    let shutdown = seen.calls().into_iter().find_map(|c| c.shutdown.clone());
    assert_eq!(
        shutdown.expect("a SHUTDOWN").executor_id.value,
        "ch08-executor"
    );
    assert_eq!(seen.calls_of(call::Type::Shutdown), 1);
    // The executor exited by itself, cleanly, and the master said so in a FAILURE event.
    let failure = seen.events().into_iter().find_map(|e| e.failure.clone());
    assert_eq!(failure.expect("a FAILURE").status, Some(0));
    assert!(
        seen.in_order(&["KILL", "SHUTDOWN", "FAILURE", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    assert!(cluster.running_pids().is_empty());
    observe::check_diagram!(&cluster);
}
