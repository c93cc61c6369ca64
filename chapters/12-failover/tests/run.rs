//! Runs step 12 against a devcluster in the test's process and checks what the cluster saw.

use std::time::Duration;

use ch12_failover::{Args, run};
use clap::Parser;
use devcluster::{Cluster, ClusterConfig};
use mesos_client::faults::set_by_hand_wait;
use mesos_proto::v1::TaskState::TaskRunning;
use observe::by_hand::{Logs, real_master};
use observe::{Seen, run_step};

#[test]
fn survives_a_leader_change_and_a_scheduler_restart() {
    let mut config = ClusterConfig::for_tests(1);
    config.masters = 3;
    // Short heartbeats, so that streams left behind are noticed and closed quickly.
    config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(config).expect("devcluster starts");
    let executor = env!("CARGO_BIN_EXE_ch12-executor");
    let masters = cluster.master_urls().join(",");
    let id_file = std::env::temp_dir().join(format!("ch12-test-{}.id", std::process::id()));
    let args = Args::parse_from([
        "ch12-scheduler",
        "--master",
        &masters,
        "--executor",
        executor,
        "--framework-id-file",
        id_file.to_str().expect("a UTF-8 temp dir"),
    ]);
    let leader_before = cluster.master_url();
    run_step(move || run(args)).expect("the step runs to completion");
    let _ = std::fs::remove_file(&id_file);

    let seen = Seen::of(&cluster);
    // One framework id throughout: after the leader change and after the restart.
    assert_eq!(seen.faults(), ["fail-over-leader"]);
    assert_eq!(seen.subscribed_ids(), vec![seen.framework_id.clone(); 3]);
    assert_ne!(cluster.master_url(), leader_before, "another master leads");
    let leaders: Vec<String> = seen
        .events()
        .iter()
        .filter_map(|e| e.subscribed.as_ref()?.master_info.as_ref())
        .map(|m| format!("{}:{}", m.hostname(), m.port))
        .collect();
    assert_ne!(leaders[0], leaders[1], "{leaders:?}");
    assert_eq!(leaders[1], leaders[2], "{leaders:?}");
    // The scheduler that took over found both tasks still running.
    let ids = seen.launched_ids();
    assert_eq!(
        seen.last_reconciled(2),
        [(ids[0].clone(), TaskRunning), (ids[1].clone(), TaskRunning)]
    );
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
    observe::check_diagram!(&cluster);
}

/// On a single master that is not a devcluster (a front that answers 404 on the fault
/// endpoint, as Apache Mesos does) the step says what to do and waits: the test is the person
/// at the master's host, who stops it and starts it again (no other master to take over).
#[test]
fn on_a_single_master_that_is_not_a_devcluster_you_stop_and_start_it_by_hand() {
    let logs = Logs::capture();
    set_by_hand_wait(Duration::from_secs(10));
    let (cluster, front) = real_master();
    let master = front.url();
    let executor = env!("CARGO_BIN_EXE_ch12-executor");
    let id_file = std::env::temp_dir().join(format!("ch12-by-hand-{}.id", std::process::id()));
    let args = Args::parse_from([
        "ch12-scheduler",
        "--master",
        &master,
        "--executor",
        executor,
        "--framework-id-file",
        id_file.to_str().expect("a UTF-8 temp dir"),
    ]);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let asked = front.next_fault_request(observe::STEP_DEADLINE);
            assert_eq!(asked.as_deref(), Some("fail-over-leader"));
            front.restart(Duration::from_secs(1)); // stop mesos-master, start it again
        });
        run_step(move || run(args)).expect("the step runs to completion");
    });
    let _ = std::fs::remove_file(&id_file);

    let text = logs.text();
    assert!(
        text.contains(&format!("{master} is not a devcluster")),
        "{text}"
    );
    assert!(text.contains("stop the leading master"), "{text}");
    assert!(!text.contains("HTTP 404"), "{text}");
    let seen = Seen::of(&cluster);
    assert!(seen.faults().is_empty(), "{:?}", seen.faults());
    assert_eq!(seen.subscribed_ids(), vec![seen.framework_id.clone(); 3]);
    let ids = seen.launched_ids();
    assert_eq!(
        seen.last_reconciled(2),
        [(ids[0].clone(), TaskRunning), (ids[1].clone(), TaskRunning)]
    );
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
}
