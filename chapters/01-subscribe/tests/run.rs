//! Runs step 01 against a devcluster in the test's process and checks what the cluster saw.

use ch01_subscribe::{Args, run};
use clap::Parser;
use observe::{Seen, cluster, run_step};

#[test]
fn subscribes_and_tears_down() {
    let cluster = cluster(1);
    let args = Args::parse_from(["ch01-scheduler", "--master", &cluster.master_url()]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    assert_eq!(seen.name, "ch01-subscribe");
    assert!(
        seen.in_order(&["SUBSCRIBE", "SUBSCRIBED", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    assert_eq!(seen.subscribed_ids(), vec![seen.framework_id.clone()]);
    // TEARDOWN removed the framework from the master.
    assert!(!cluster.framework_ids().contains(&seen.framework_id));
    observe::check_diagram!(&cluster);
}
