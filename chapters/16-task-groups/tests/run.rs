//! Runs step 14 against an in-process devcluster with a password.

use std::sync::mpsc;
use std::time::Duration;

use ch16_task_groups::PRINCIPAL;
use ch16_task_groups::{Config, Outcome, run};
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
fn a_group_runs_together_on_one_default_executor() {
    let cluster = LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true)
        .expect("devcluster starts");
    let outcome = run_with_deadline(secured_config(&cluster)).expect("the step runs");

    assert_eq!(outcome.principal.as_deref(), Some(PRINCIPAL));
    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    for task in &outcome.launched {
        assert_eq!(outcome.states[task].last().unwrap(), "TASK_RUNNING");
        // Both on the one executor that came with the group.
        assert_eq!(outcome.executors[task], "ch16-group");
    }
    assert!(outcome.acknowledged >= 2, "{outcome:?}");
    assert!(outcome.torn_down);
    // TEARDOWN ended the group: no process is left behind.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cluster.cluster().running_pids().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cluster.cluster().running_pids().is_empty());
}
