//! Runs step 14 against an in-process devcluster with a password.

use std::sync::mpsc;
use std::time::Duration;

use ch17_default_executor::PRINCIPAL;
use ch17_default_executor::{Config, Outcome, run};
use devcluster::ClusterConfig;
use mesos_client::local::LockedCluster;

/// Runs the step on its own thread so a bug fails the test instead of hanging it.
fn run_with_deadline(config: Config) -> Result<Outcome, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The receiver is gone only if the test already failed.
        let _ = tx.send(run(config).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result,
        Err(_) => panic!("the step did not finish within 20 s"),
    }
}

fn secured_config(cluster: &LockedCluster) -> Config {
    let mut config = Config::new(cluster.master_url());
    config.connection.principal = Some(PRINCIPAL.into());
    config.connection.secret_file = Some(cluster.secret_file().to_path_buf());
    config.connection.ca_file = cluster.ca_file().map(|p| p.to_path_buf());
    config
}

#[test]
fn a_failed_task_takes_its_group_down() {
    let cluster = LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true)
        .expect("devcluster starts");
    let mut config = secured_config(&cluster);
    config.commands[0] = "sleep 0.2; exit 1".into();
    let outcome = run_with_deadline(config).expect("the step runs");

    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    let (first, second) = (&outcome.launched[0], &outcome.launched[1]);
    assert_eq!(outcome.executors[first], "ch17-group");
    assert_eq!(outcome.executors[second], "ch17-group");
    // The first failed; the default executor killed its sibling.
    assert_eq!(outcome.states[first].last().unwrap(), "TASK_FAILED");
    assert_eq!(outcome.states[second].last().unwrap(), "TASK_KILLED");
    assert_eq!(outcome.ended, [first.clone(), second.clone()]);
    assert!(outcome.torn_down);
}
