//! Runs step 04 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch04_status_updates::{Config, Outcome, run};
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
fn acknowledges_every_reliable_update() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let outcome = run_with_deadline(Config::new(cluster.master_url()));

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    assert_eq!(outcome.finished.len(), 1, "{outcome:?}");
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    let (ok, failing) = (&outcome.launched[0], &outcome.launched[1]);
    // Each task went through RUNNING to its end; updates came in order.
    assert_eq!(outcome.states[ok].last().unwrap(), "TASK_FINISHED");
    assert_eq!(outcome.states[failing].last().unwrap(), "TASK_FAILED");
    for history in outcome.states.values() {
        assert!(history.contains(&"TASK_RUNNING".to_string()), "{history:?}");
    }
    // All updates came from the agent, with a uuid, and each was acknowledged: had one not
    // been, the agent would have held back the terminal update and the run would not end.
    let updates: usize = outcome.states.values().map(Vec::len).sum();
    assert_eq!(outcome.acknowledged, updates, "{outcome:?}");
    assert_eq!(outcome.without_uuid, 0);
}
