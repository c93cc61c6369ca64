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
