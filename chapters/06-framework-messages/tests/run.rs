//! Runs step 06 against an in-process devcluster and checks what it saw.

use std::sync::mpsc;
use std::time::Duration;

use ch06_framework_messages::{Config, Outcome, run};
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
fn messages_go_both_ways() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = Config::new(cluster.master_url());
    config.executor = env!("CARGO_BIN_EXE_ch06-executor").into();
    let outcome = run_with_deadline(config);

    assert_eq!(
        outcome.echoes,
        ["echo: ping 1", "echo: ping 2", "echo: ping 3"]
    );
    assert_eq!(outcome.finished.len(), 1, "{outcome:?}");
    let replies: Vec<&str> = outcome.replies.values().map(String::as_str).collect();
    assert_eq!(replies, ["echoed 3 message(s)"]);
    assert!(outcome.torn_down);
}
