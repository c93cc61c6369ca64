//! Runs step 11 against a devcluster in the test's process and checks what the cluster saw.

use std::time::Duration;

use ch11_reconnect::{Args, run};
use clap::Parser;
use devcluster::{Cluster, ClusterConfig};
use mesos_client::faults::set_by_hand_wait;
use mesos_proto::v1::TaskState::TaskRunning;
use observe::by_hand::{Logs, real_master};
use observe::{Seen, run_step};

#[test]
fn reconnects_after_a_cut_stream_and_after_silence() {
    // Heartbeats every 200 ms, so that "two missed heartbeats" takes 0.4 s, not 30 s.
    let mut config = ClusterConfig::for_tests(1);
    config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(config).expect("devcluster starts");
    let executor = env!("CARGO_BIN_EXE_ch11-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch11-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    // Subscribed three times (the first and after each fault), always with the same id.
    assert_eq!(seen.faults(), ["cut-streams", "stall-heartbeats"]);
    assert_eq!(seen.subscribed_ids(), vec![seen.framework_id.clone(); 3]);
    let order = [
        "FAULT",
        "SUBSCRIBED",
        "FAULT",
        "SUBSCRIBED",
        "RECONCILE",
        "TEARDOWN",
    ];
    assert!(seen.in_order(&order), "{:?}", seen.kinds());
    // The tasks kept running through both: the last implicit reconciliation says so.
    let ids = seen.launched_ids();
    assert_eq!(
        seen.last_reconciled(2),
        [(ids[0].clone(), TaskRunning), (ids[1].clone(), TaskRunning)]
    );
    observe::check_diagram!(&cluster);
}

/// On a master that is not a devcluster (a front that answers 404 on the fault endpoint, as
/// Apache Mesos does) the step says what to do and waits: the test is the person at the
/// master's host, who closes the scheduler's connections, then pauses the master.
#[test]
fn on_a_master_that_is_not_a_devcluster_you_cut_the_connection_and_pause_it_by_hand() {
    let logs = Logs::capture();
    set_by_hand_wait(Duration::from_secs(10));
    let (cluster, front) = real_master();
    let master = front.url();
    let executor = env!("CARGO_BIN_EXE_ch11-executor");
    let args = Args::parse_from([
        "ch11-scheduler",
        "--master",
        &master,
        "--executor",
        executor,
    ]);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let asked = front.next_fault_request(observe::STEP_DEADLINE);
            assert_eq!(asked.as_deref(), Some("cut-streams"));
            front.cut(); // ss -K dst <master> dport = <port>
            let asked = front.next_fault_request(observe::STEP_DEADLINE);
            assert_eq!(asked.as_deref(), Some("stall-heartbeats"));
            front.pause(); // kill -STOP
            std::thread::sleep(Duration::from_secs(6)); // longer than the step needs to notice
            front.resume(); // kill -CONT
        });
        run_step(move || run(args)).expect("the step runs to completion");
    });

    let text = logs.text();
    assert!(
        text.contains(&format!("{master} is not a devcluster")),
        "{text}"
    );
    assert!(text.contains("ss -K"), "{text}");
    assert!(text.contains("kill -STOP"), "{text}");
    assert!(!text.contains("HTTP 404"), "{text}");
    let seen = Seen::of(&cluster);
    assert!(seen.faults().is_empty(), "{:?}", seen.faults());
    assert_eq!(seen.subscribed_ids(), vec![seen.framework_id.clone(); 3]);
    assert!(
        seen.in_order(&["SUBSCRIBED", "SUBSCRIBED", "RECONCILE", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
}
