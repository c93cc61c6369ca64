//! Runs step 17 against a devcluster in the test's process and checks what the cluster saw.

use ch17_default_executor::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskFailed, TaskKilled};
use observe::{Seen, cluster, run_step};

#[test]
fn a_failed_task_takes_its_group_down() {
    let cluster = cluster(1);
    let args = Args::parse_from(["ch17-scheduler", "--master", &cluster.master_url()]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids, ["fails", "sleeps"], "{:?}", seen.kinds());
    // The first failed; the default executor killed its sibling; then TEARDOWN.
    assert_eq!(
        seen.last_state(&ids[0]),
        Some(TaskFailed),
        "{:?}",
        seen.states()
    );
    assert_eq!(
        seen.last_state(&ids[1]),
        Some(TaskKilled),
        "{:?}",
        seen.states()
    );
    assert_eq!(
        seen.kills(),
        Vec::<String>::new(),
        "we killed nothing ourselves"
    );
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
    observe::check_diagram!(&cluster);
}
