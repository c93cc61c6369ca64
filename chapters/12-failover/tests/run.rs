//! Runs step 12 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch12_failover::{Config, Outcome, run};
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
fn survives_a_leader_change_and_a_scheduler_restart() {
    let mut cluster_config = ClusterConfig::for_tests(1);
    cluster_config.masters = 3;
    // Short heartbeats, so that streams left behind are noticed and closed quickly.
    cluster_config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(cluster_config).expect("devcluster starts");
    let mut config = Config::new(cluster.master_urls().join(","));
    config.executor = env!("CARGO_BIN_EXE_ch12-executor").into();
    let id_file = std::env::temp_dir().join(format!("ch12-test-{}.id", std::process::id()));
    config.framework_id_file = id_file.clone();
    let outcome = run_with_deadline(config);

    // One framework id throughout: after the leader change and after the restart.
    assert_eq!(outcome.framework_ids.len(), 1, "{outcome:?}");
    assert_eq!(outcome.subscriptions, 3, "{outcome:?}");
    assert_eq!(outcome.disconnections, 1, "{outcome:?}");
    // The leader changed between the first and the second subscription.
    assert_ne!(outcome.masters[0], outcome.masters[1], "{outcome:?}");
    assert_eq!(outcome.masters[1], outcome.masters[2], "{outcome:?}");
    // The restarted scheduler found both tasks still running.
    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    for task in &outcome.launched {
        assert_eq!(
            outcome.implicit_answers[task], "TASK_RUNNING",
            "{outcome:?}"
        );
    }
    assert!(outcome.torn_down);
    assert!(!id_file.exists());
}
