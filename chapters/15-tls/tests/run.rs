//! Runs step 15 against a devcluster with a password and TLS in the test's process, and
//! checks what the cluster saw.

use ch15_tls::{Args, PRINCIPAL, run};
use clap::Parser;
use devcluster::ClusterConfig;
use mesos_client::local::LockedCluster;
use mesos_proto::v1::TaskState::TaskRunning;
use observe::{Seen, run_step};

fn locked() -> LockedCluster {
    LockedCluster::start(ClusterConfig::for_tests(1), PRINCIPAL, true).expect("devcluster starts")
}

fn args(cluster: &LockedCluster, ca_file: &std::path::Path) -> Args {
    Args::parse_from([
        "ch15-scheduler",
        "--master",
        &cluster.master_url(),
        "--executor",
        env!("CARGO_BIN_EXE_ch15-executor"),
        "--principal",
        PRINCIPAL,
        "--secret-file",
        cluster.secret_file().to_str().expect("UTF-8"),
        "--ca-file",
        ca_file.to_str().expect("UTF-8"),
        "--max-attempts",
        "1",
    ])
}

#[test]
fn refused_without_credentials_then_runs_tasks_over_https() {
    let cluster = locked();
    assert!(cluster.master_url().starts_with("https://"));
    let args = args(&cluster, cluster.ca_file().expect("TLS"));
    run_step(move || run(args)).expect("the step runs to completion");

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
fn an_unknown_ca_is_not_trusted() {
    let cluster = locked();
    let other = LockedCluster::start(ClusterConfig::for_tests(0), PRINCIPAL, true)
        .expect("devcluster starts");
    let args = args(&cluster, other.ca_file().expect("TLS"));
    let err = run_step(move || run(args)).expect_err("the certificate is not trusted");
    assert!(err.contains("connection failed"), "{err}");
    assert!(Seen::all(cluster.cluster()).is_empty());
}
