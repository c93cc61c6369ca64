//! Runs step 13 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch13_suppress_revive::{Config, Outcome, run};
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
fn no_offers_while_suppressed_and_offers_at_once_after_revive() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch13-executor").into();
    // Declined resources would come back after 0.1 s, were we not suppressed.
    config.refuse_seconds = 0.1;
    config.quiet_seconds = 1.0;
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    assert!(outcome.suppressed, "{outcome:?}");
    assert_eq!(outcome.offers_while_suppressed, 0, "{outcome:?}");
    assert!(outcome.offers_after_revive > 0, "{outcome:?}");
    assert!(outcome.torn_down);
}
