//! Runs step 07 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch07_kill_task::{Config, Outcome, run};
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
fn kill_ends_one_task_and_the_other_keeps_running() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch07-executor").into();
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    let (first, second) = (&outcome.launched[0], &outcome.launched[1]);
    assert_eq!(outcome.killed_task.as_ref(), Some(first));
    assert_eq!(
        outcome.states[first],
        ["TASK_RUNNING", "TASK_KILLED"],
        "{outcome:?}"
    );
    // The other task was still running when we tore the framework down.
    assert_eq!(outcome.states[second], ["TASK_RUNNING"], "{outcome:?}");
    assert!(outcome.finished.is_empty(), "{outcome:?}");
    assert!(outcome.acknowledged >= 3, "{outcome:?}");
    assert!(outcome.torn_down);
    // TEARDOWN ended the executor too: no process is left behind.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cluster.running_pids().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cluster.running_pids().is_empty());
}
