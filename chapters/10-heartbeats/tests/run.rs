//! Runs step 10 against a devcluster in the test's process and checks what the cluster saw.

use std::time::Duration;

use ch10_heartbeats::{Args, run};
use clap::Parser;
use devcluster::{Cluster, ClusterConfig};
use mesos_proto::v1::scheduler::event;
use observe::{Seen, run_step};

#[test]
fn notices_the_silence_and_subscribes_again() {
    // Heartbeats every 200 ms, so that "two missed heartbeats" takes 0.4 s, not 30 s.
    let mut config = ClusterConfig::for_tests(1);
    config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(config).expect("devcluster starts");
    let executor = env!("CARGO_BIN_EXE_ch10-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch10-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    assert_eq!(seen.launched_ids().len(), 2, "{:?}", seen.kinds());
    // The fault came once the tasks ran and were reconciled; then a second SUBSCRIBE with
    // the same id.
    assert_eq!(seen.faults(), ["stall-heartbeats"]);
    assert!(seen.events_of(event::Type::Heartbeat) > 0);
    let ids = seen.subscribed_ids();
    assert_eq!(ids, [seen.framework_id.clone(), seen.framework_id.clone()]);
    assert!(
        seen.in_order(&["RECONCILE", "FAULT", "SUBSCRIBE", "SUBSCRIBED", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    observe::check_diagram!(&cluster);
}
