//! Runs step 09 against a devcluster in the test's process and checks what the cluster saw.

use ch09_reconciliation::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskLost, TaskRunning};
use mesos_proto::v1::task_status::Reason;
use observe::{Seen, cluster, run_step};

#[test]
fn the_master_answers_explicit_and_implicit_reconciliation() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch09-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch09-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    // First explicit (a task of ours and a ghost), then implicit (no task named).
    let reconciles = seen.reconciles();
    assert_eq!(reconciles.len(), 2, "{reconciles:?}");
    assert_eq!(reconciles[0].len(), 2);
    assert!(ids.contains(&reconciles[0][0]));
    assert_eq!(reconciles[0][1], "ghost");
    assert!(reconciles[1].is_empty());
    let answers: Vec<(String, _)> = seen
        .updates()
        .into_iter()
        .filter(|s| s.reason() == Reason::ReasonReconciliation && s.reason.is_some())
        .inspect(|s| assert!(s.uuid.is_none(), "an answer carries no uuid"))
        .map(|s| (s.task_id.value.clone(), s.state()))
        .collect();
    let mut implicit = answers[2..].to_vec();
    implicit.sort();
    let expected = vec![(ids[0].clone(), TaskRunning), (ids[1].clone(), TaskRunning)];
    assert_eq!(
        answers[..2],
        [
            (reconciles[0][0].clone(), TaskRunning),
            ("ghost".into(), TaskLost)
        ]
    );
    assert_eq!(implicit, expected);
    assert!(seen.acknowledged_every_reliable_update());
    observe::check_diagram!(&cluster);
}
