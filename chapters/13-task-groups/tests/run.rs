//! Runs step 13 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch13_task_groups::{Config, Outcome, run};
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
fn groups_run_together_and_fail_together() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.groups[1][0] = "sleep 0.2; exit 1".into();
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 4, "{outcome:?}");
    let task = |i: usize| outcome.launched[i].as_str();
    // Group 1: both finished, on one executor.
    assert_eq!(outcome.states[task(0)].last().unwrap(), "TASK_FINISHED");
    assert_eq!(outcome.states[task(1)].last().unwrap(), "TASK_FINISHED");
    assert_eq!(outcome.executors[task(0)], "ch13-group-1");
    assert_eq!(outcome.executors[task(1)], "ch13-group-1");
    // Group 2: one failed, and the default executor killed its sibling.
    assert_eq!(outcome.states[task(2)].last().unwrap(), "TASK_FAILED");
    assert_eq!(outcome.states[task(3)].last().unwrap(), "TASK_KILLED");
    assert_eq!(outcome.executors[task(3)], "ch13-group-2");
    assert!(outcome.torn_down);
}
