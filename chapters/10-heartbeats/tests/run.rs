//! Runs step 10 against a devcluster in the test's process and checks what the cluster saw;
//! then against one that passes for a real Mesos master (no fault endpoint), where the test
//! pauses the master by hand, as the step asks, or does not.

use std::time::Duration;

use ch10_heartbeats::{Args, run};
use clap::Parser;
use devcluster::{Cluster, ClusterConfig};
use mesos_client::faults::{FaultError, set_by_hand_wait};
use mesos_proto::v1::scheduler::event;
use observe::by_hand::{Logs, real_master};
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

/// How long the step waits for the person below: the same in both by-hand tests (it is one
/// setting for the whole test binary), long enough to see a pause, short enough to fail by.
const BY_HAND_WAIT: Duration = Duration::from_secs(10);

/// Runs step 10 against `master` on its own thread; its result, within a deadline.
fn run_against(master: &str) -> Result<(), mesos_client::Error> {
    let executor = env!("CARGO_BIN_EXE_ch10-executor");
    let args = Args::parse_from(["ch10-scheduler", "--master", master, "--executor", executor]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(args));
    });
    rx.recv_timeout(observe::STEP_DEADLINE)
        .expect("the step ends within its deadline")
}

#[test]
fn on_a_master_that_is_not_a_devcluster_you_pause_it_by_hand() {
    let logs = Logs::capture();
    set_by_hand_wait(BY_HAND_WAIT);
    let (cluster, front) = real_master();
    let master = front.url();
    std::thread::scope(|scope| {
        // The person at the master's host, doing what the step asks.
        scope.spawn(|| {
            let asked = front.next_fault_request(observe::STEP_DEADLINE);
            assert_eq!(asked.as_deref(), Some("stall-heartbeats"));
            front.pause(); // kill -STOP
            std::thread::sleep(Duration::from_secs(6)); // longer than the step needs to notice
            front.resume(); // kill -CONT
        });
        run_against(&master).expect("the step runs to completion");
    });

    // It said what to do, and no bare 404.
    let text = logs.text();
    assert!(
        text.contains(&format!("{master} is not a devcluster")),
        "{text}"
    );
    assert!(
        text.contains("kill -STOP") && text.contains("kill -CONT"),
        "{text}"
    );
    assert!(!text.contains("HTTP 404"), "{text}");
    // devcluster injected nothing: the silence was the pause. Back with the same id.
    let seen = Seen::of(&cluster);
    assert!(seen.faults().is_empty(), "{:?}", seen.faults());
    let ids = seen.subscribed_ids();
    assert_eq!(ids, [seen.framework_id.clone(), seen.framework_id.clone()]);
    assert!(
        seen.in_order(&["RECONCILE", "SUBSCRIBE", "SUBSCRIBED", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
}

#[test]
fn on_a_master_that_is_not_a_devcluster_nobody_pausing_it_is_a_clear_error() {
    let logs = Logs::capture();
    set_by_hand_wait(BY_HAND_WAIT);
    let (cluster, front) = real_master();
    let master = front.url();
    let err = run_against(&master).expect_err("the step fails: its fault never came");

    match FaultError::of(&err) {
        Some(FaultError::NotSeen { fault, .. }) => {
            assert_eq!(fault.name(), "stall-heartbeats");
        }
        other => panic!("{other:?}: {err}"),
    }
    assert!(!err.to_string().contains("404"), "{err}");
    let text = logs.text();
    assert!(
        text.contains(&format!("{master} is not a devcluster")),
        "{text}"
    );
    // The step stopped there: one subscription, no TEARDOWN.
    let seen = Seen::of(&cluster);
    assert_eq!(seen.subscribed_ids().len(), 1);
    assert!(
        !seen.kinds().iter().any(|k| k == "TEARDOWN"),
        "{:?}",
        seen.kinds()
    );
}
