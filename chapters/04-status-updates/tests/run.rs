//! Runs step 04 against a devcluster in the test's process and checks what the cluster saw.

use ch04_status_updates::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskFailed, TaskFinished, TaskRunning};
use observe::{Seen, cluster, run_step};

#[test]
fn acknowledges_every_reliable_update() {
    let cluster = cluster(1);
    let args = Args::parse_from(["ch04-scheduler", "--master", &cluster.master_url()]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    let states = seen.states();
    assert!(
        states[&ids[0]].ends_with(&[TaskRunning, TaskFinished]),
        "{states:?}"
    );
    assert!(
        states[&ids[1]].ends_with(&[TaskRunning, TaskFailed]),
        "{states:?}"
    );
    // Every update came from the agent with a uuid, and each was acknowledged: had one not
    // been, the agent would have held back the terminal update and the run would not end.
    assert!(seen.updates().iter().all(|s| s.uuid.is_some()));
    assert_eq!(seen.acknowledged().len(), seen.updates().len());
    assert!(seen.acknowledged_every_reliable_update());
    observe::check_diagram!(&cluster);
}
