//! Runs step 01 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch01_subscribe::{Config, Outcome, run};
use devcluster::{Cluster, ClusterConfig};

/// Runs the step on its own thread so a bug fails the test instead of hanging it.
fn run_with_deadline(config: Config) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The receiver is gone only if the test already failed.
        let _ = tx.send(run(config).map_err(|e| e.to_string()));
    });

    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result.expect("the step runs to completion"),
        Err(_) => panic!("the step did not finish within 20 s"),
    }
}

#[test]
fn subscribes_and_sees_its_framework_id() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let outcome = run_with_deadline(Config::new(cluster.master_url()));

    assert!(!outcome.framework_id.is_empty(), "{outcome:?}");
    assert_eq!(outcome.heartbeat_interval_seconds, 15.0);
    assert!(outcome.torn_down);
    // TEARDOWN removed the framework from the master.
    assert!(!cluster.framework_ids().contains(&outcome.framework_id));
}
