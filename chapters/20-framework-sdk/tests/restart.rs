//! The SDK layer against an in-process devcluster.

use std::time::Duration;

use ch20_framework_sdk::{App, Config, Outcome, Phase, run};
use devcluster::{AgentConfig, Cluster, ClusterConfig};

/// Runs the scheduler on its own thread so a bug fails the test instead of hanging it.
fn run_with_deadline(config: Config) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(config).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result.expect("the scheduler runs to completion"),
        Err(_) => panic!("the scheduler did not finish within 20 s"),
    }
}

/// Two agents, in zones `a` and `b`.
fn cluster() -> Cluster {
    let mut config = ClusterConfig::for_tests(2);
    config.agents = vec![
        AgentConfig {
            attributes: "zone:a".into(),
            ..AgentConfig::default()
        },
        AgentConfig {
            attributes: "zone:b".into(),
            ..AgentConfig::default()
        },
    ];
    Cluster::start(config).expect("devcluster starts")
}

const APP: &str = r#"{
  "name": "sdk-test",
  "tasks": [
    {"name": "svc", "instances": 4, "resources": {"cpus": 0.1, "mem": 32},
     "command": "sleep 30", "labels": {"tier": "front"}},
    {"name": "zonal", "instances": 1, "resources": {"cpus": 0.1, "mem": 32},
     "command": "sleep 30", "attributes": [{"name": "zone", "value": "b"}]}
  ]
}"#;

fn config(cluster: &Cluster, app: &str) -> Config {
    let mut config = Config::new(App::from_json(app).expect("the app parses"));
    config.connection.master = cluster.master_url();
    config.refuse_seconds = 0.1;
    config.running_grace = Duration::from_millis(300);
    config
}

#[test]
fn a_restarted_scheduler_reconciles_and_ends_with_every_instance_running() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");

    // First run: "crashes" after two launches (the framework stays).
    let mut first = config(&cluster, APP);
    first.state_file = Some(state.clone());
    first.stop_after_launches = Some(2);
    let first = run_with_deadline(first);
    assert_eq!(first.launches, 2, "{first:?}");

    // Second run, same state file: asks about the two, launches the rest.
    let mut second = config(&cluster, APP);
    second.state_file = Some(state);
    second.until_running = true;
    let second = run_with_deadline(second);

    assert_eq!(second.framework_id, first.framework_id);
    assert_eq!(second.reconciled, 2, "{second:?}");
    assert_eq!(second.launches, 3, "only the missing instances: {second:?}");
    assert!(
        second.instances.iter().all(|i| i.phase == Phase::Running),
        "{second:?}"
    );
    // The instances the first run launched kept their tasks.
    let launched_first = first
        .instances
        .iter()
        .filter(|i| !matches!(i.phase, Phase::Pending { .. }));
    for old in launched_first {
        let now = second
            .instances
            .iter()
            .find(|i| i.name == old.name)
            .unwrap();
        assert_eq!(now.task_id, old.task_id, "{} kept its task", old.name);
    }
    // The attribute filter put `zonal` on the zone-b agent.
    let zonal = second
        .instances
        .iter()
        .find(|i| i.name == "zonal-0")
        .unwrap();
    assert_eq!(zonal.agent_id, cluster.agent_ids()[1]);
    devcluster::check_diagram!(&cluster);
}

#[test]
fn a_failing_instance_is_retried_then_given_up() {
    let cluster = cluster();
    let app = r#"{"name": "sdk-fail", "tasks": [
        {"name": "bad", "instances": 1, "resources": {"cpus": 0.1, "mem": 32}, "command": "exit 1",
         "retry": {"backoff_min_secs": 0.05, "backoff_max_secs": 0.1, "max_failures": 3}}]}"#;
    let mut config = config(&cluster, app);
    config.until_running = true;
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launches, 3, "{outcome:?}");
    assert_eq!(outcome.instances[0].phase, Phase::GaveUp);
    assert_eq!(outcome.instances[0].failures, 3);
}
