//! Runs step 06 against a devcluster in the test's process and checks what the cluster saw.

use ch06_framework_messages::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskFinished, TaskRunning};
use observe::{Seen, cluster, run_step};

#[test]
fn scheduler_and_executor_exchange_messages() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch06-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch06-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    // The executor's MESSAGE events, then our MESSAGE calls naming each task, and only
    // then did the task finish.
    let mut received = seen.messages_received();
    received.sort();
    let expected = [
        format!("{} HELLO FROM CH06!", ids[0]),
        format!("{} MESOS IN ACTION", ids[1]),
    ];
    assert_eq!(received, expected);
    let mut sent = seen.messages_sent();
    sent.sort();
    assert_eq!(sent, ids);
    assert!(
        seen.in_order(&["MESSAGE", "MESSAGE", "UPDATE", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    for id in &ids {
        assert!(
            seen.states()[id].ends_with(&[TaskRunning, TaskFinished]),
            "{id}"
        );
    }
    observe::check_diagram!(&cluster);
}
