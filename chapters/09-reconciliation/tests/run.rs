//! Runs step 09 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch09_reconciliation::{Config, Outcome, run};
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
fn the_master_answers_explicit_and_implicit_reconciliation() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch09-executor").into();
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    let (first, second) = (&outcome.launched[0], &outcome.launched[1]);
    // Explicit: the task we named, and the one that never existed.
    assert_eq!(outcome.explicit_answers.len(), 2, "{outcome:?}");
    assert_eq!(outcome.explicit_answers[first], "TASK_RUNNING");
    assert_eq!(outcome.explicit_answers["ch09-ghost"], "TASK_LOST");
    // Implicit: every task the master knows, and nothing else.
    let implicit: Vec<(&str, &str)> = outcome
        .implicit_answers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        implicit,
        [
            (first.as_str(), "TASK_RUNNING"),
            (second.as_str(), "TASK_RUNNING")
        ]
    );
    // The four answers carried no uuid, and were not acknowledged.
    assert_eq!(outcome.without_uuid, 4, "{outcome:?}");
    assert_eq!(outcome.acknowledged, 2, "{outcome:?}");
    assert!(outcome.torn_down);
}
