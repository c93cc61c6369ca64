//! Runs step 14 against an in-process devcluster with a password.

use std::sync::mpsc;
use std::time::Duration;

use ch15_tls::PRINCIPAL;
use ch15_tls::{Config, Outcome, run};
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
    config.executor = env!("CARGO_BIN_EXE_ch15-executor").into();
    config.connection.principal = Some(PRINCIPAL.into());
    config.connection.secret_file = Some(cluster.secret_file().to_path_buf());
    config.connection.ca_file = cluster.ca_file().map(|p| p.to_path_buf());
    config
}

#[test]
fn refused_without_credentials_then_runs_tasks_over_https() {
    let cluster = LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true)
        .expect("devcluster starts");
    assert!(cluster.master_url().starts_with("https://"));
    let outcome = run_with_deadline(secured_config(&cluster)).expect("the step runs");

    assert_eq!(
        outcome.without_credentials.as_deref(),
        Some("HTTP 401"),
        "{outcome:?}"
    );
    assert_eq!(outcome.scheme, "https");
    assert_eq!(outcome.principal.as_deref(), Some(PRINCIPAL));
    assert!(!outcome.framework_id.is_empty());
    assert_eq!(outcome.launched.len(), 2, "{outcome:?}");
    for task in &outcome.launched {
        assert_eq!(outcome.states[task], ["TASK_RUNNING"], "{outcome:?}");
    }
    assert!(outcome.acknowledged >= 2, "{outcome:?}");
    assert!(outcome.torn_down);
}

#[test]
fn a_wrong_secret_is_refused() {
    let cluster = LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true)
        .expect("devcluster starts");
    let mut config = secured_config(&cluster);
    let wrong = cluster.secret_file().with_extension("wrong");
    std::fs::write(&wrong, "not the secret").unwrap();
    config.connection.secret_file = Some(wrong.clone());
    let err = run_with_deadline(config).expect_err("the master refuses a wrong secret");
    let _ = std::fs::remove_file(&wrong);
    assert!(err.contains("401"), "{err}");
    // The secret never shows up in an error.
    assert!(!err.contains("not the secret"), "{err}");
}

#[test]
fn an_unknown_ca_is_not_trusted() {
    let cluster = LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true)
        .expect("devcluster starts");
    let other = LockedCluster::start(ClusterConfig::for_tests(0), PRINCIPAL, true)
        .expect("devcluster starts");
    let mut config = secured_config(&cluster);
    config.connection.ca_file = Some(other.ca_file().map(|p| p.to_path_buf()).expect("TLS"));
    config.max_attempts = Some(1);
    let err = run_with_deadline(config).expect_err("the certificate is not trusted");
    assert!(err.contains("connection failed"), "{err}");
}
