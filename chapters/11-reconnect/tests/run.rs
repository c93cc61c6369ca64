//! Runs step 11 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch11_reconnect::{Config, Outcome, run};
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
fn reconnects_after_a_cut_stream_and_after_silence() {
    // Heartbeats every 200 ms, so that "two missed heartbeats" takes 0.4 s, not 30 s.
    let mut cluster_config = ClusterConfig::for_tests(1);
    cluster_config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(cluster_config).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch11-executor").into();
    let outcome = run_with_deadline(config);

    // Subscribed three times (the first and after each fault), always with the same id.
    assert_eq!(outcome.disconnections, 2, "{outcome:?}");
    assert_eq!(outcome.subscriptions, 3, "{outcome:?}");
    assert_eq!(outcome.framework_ids.len(), 1, "{outcome:?}");
    assert!(outcome.heartbeats > 0, "{outcome:?}");
    // The tasks kept running through both disconnections.
    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    for task in &outcome.launched {
        assert_eq!(
            outcome.implicit_answers[task], "TASK_RUNNING",
            "{outcome:?}"
        );
    }
    assert!(outcome.torn_down);
}
