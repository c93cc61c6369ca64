//! Runs step 03 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch03_command_task::{Config, Outcome, run};
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
fn launches_command_tasks_that_finish() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let outcome = run_with_deadline(Config::new(cluster.master_url()));

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    assert_eq!(outcome.finished.len(), 2, "{outcome:?}");
    assert!(outcome.failed.is_empty(), "{outcome:?}");
    assert!(
        outcome
            .launched
            .iter()
            .all(|id| outcome.finished.contains(id))
    );
}

#[test]
fn a_failing_command_is_reported_failed() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.tasks = 1;
    config.command = "exit 3".into();
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 1, "{outcome:?}");
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
}
