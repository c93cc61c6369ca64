//! Runs step 14 against a devcluster with a password in the test's process, and checks
//! what the cluster saw.

use ch14_basic_auth::{Args, PRINCIPAL, run};
use clap::Parser;
use devcluster::ClusterConfig;
use mesos_client::local::LockedCluster;
use mesos_proto::v1::TaskState::TaskRunning;
use observe::{Seen, run_step};

fn locked() -> LockedCluster {
    LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, false).expect("devcluster starts")
}

fn args(cluster: &LockedCluster, secret_file: &str) -> Args {
    Args::parse_from([
        "ch14-scheduler",
        "--master",
        &cluster.master_url(),
        "--executor",
        env!("CARGO_BIN_EXE_ch14-executor"),
        "--principal",
        PRINCIPAL,
        "--secret-file",
        secret_file,
    ])
}

#[test]
fn refused_without_credentials_then_runs_tasks_authenticated() {
    let cluster = locked();
    let args = args(&cluster, cluster.secret_file().to_str().expect("UTF-8"));
    run_step(move || run(args)).expect("the step runs to completion");

    // One framework: the SUBSCRIBE without credentials was refused, never registered.
    let seen = Seen::of(cluster.cluster());
    let subscribe = seen.calls().into_iter().find_map(|c| c.subscribe.clone());
    let info = subscribe.expect("a SUBSCRIBE").framework_info;
    assert_eq!(info.principal.as_deref(), Some(PRINCIPAL));
    let ids = seen.launched_ids();
    assert_eq!(ids.len(), 2, "{:?}", seen.kinds());
    for id in &ids {
        assert!(seen.states()[id].contains(&TaskRunning), "{id}");
    }
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
    observe::check_diagram!(cluster.cluster());
}

#[test]
fn a_wrong_secret_is_refused() {
    let cluster = locked();
    let wrong = cluster.secret_file().with_extension("wrong");
    std::fs::write(&wrong, "not the secret").expect("a temp file");
    let args = args(&cluster, wrong.to_str().expect("UTF-8"));
    let err = run_step(move || run(args)).expect_err("the master refuses a wrong secret");
    let _ = std::fs::remove_file(&wrong);
    assert!(err.contains("401"), "{err}");
    // The secret never shows up in an error.
    assert!(!err.contains("not the secret"), "{err}");
    assert!(Seen::all(cluster.cluster()).is_empty());
}
