//! Runs step 02 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch02_offers::{Config, Outcome, run};
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
fn declines_offers_and_sees_them_again_after_the_filter() {
    let cluster = Cluster::start(ClusterConfig::for_tests(2)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.refuse_seconds = 0.2;
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.offer_rounds, 3, "{outcome:?}");
    // Every offer was answered.
    assert!(outcome.offers_seen >= 3);
    assert_eq!(outcome.offers_declined, outcome.offers_seen);
    // Both agents' resources were offered.
    assert_eq!(outcome.agents.len(), 2, "{outcome:?}");
    assert!(!cluster.framework_ids().contains(&outcome.framework_id));
}
