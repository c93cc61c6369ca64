//! Runs step 08 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch08_shutdown_executor::{Config, Outcome, run};
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
fn shutdown_ends_the_executor_and_failure_reports_its_exit() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch08-executor").into();
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    let (first, second) = (&outcome.launched[0], &outcome.launched[1]);
    assert_eq!(outcome.killed_task.as_ref(), Some(first));
    assert_eq!(outcome.shut_down_executor.as_deref(), Some("ch08-executor"));
    // Neither task finished: one was killed by KILL, the other by SHUTDOWN.
    assert!(outcome.finished.is_empty(), "{outcome:?}");
    for task in [first, second] {
        assert_eq!(
            outcome.states[task],
            ["TASK_RUNNING", "TASK_KILLED"],
            "{outcome:?}"
        );
    }
    // The executor exited by itself, cleanly, and the master said so.
    assert_eq!(outcome.executor_exits, [0], "{outcome:?}");
    // No process is left behind.
    assert!(cluster.running_pids().is_empty());
}
