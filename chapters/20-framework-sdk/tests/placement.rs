//! An instance no agent can take (the example app's `worker` wants `zone=a`) is reported,
//! with why, and `--until-running --deadline` gives up with an error that says the same.

use std::time::Duration;

use ch20_framework_sdk::manager::Misfit;
use ch20_framework_sdk::placement::NotRunning;
use ch20_framework_sdk::{App, Config, run};
use devcluster::{AgentConfig, Cluster, ClusterConfig};
use mesos_client::Error;
use observe::by_hand::Logs;

#[test]
fn instances_no_offer_suits_are_reported_and_the_deadline_names_them() {
    let logs = Logs::capture();
    // Two agents, neither in zone a: one in zone b, one without attributes.
    let mut cluster = ClusterConfig::for_tests(2);
    cluster.agents = vec![
        AgentConfig {
            attributes: "zone:b".into(),
            ..AgentConfig::default()
        },
        AgentConfig::default(),
    ];
    let cluster = Cluster::start(cluster).expect("devcluster starts");
    let app = App::from_json(include_str!("../app.json")).expect("the example app parses");
    let mut config = Config::new(app);
    config.connection.master = cluster.master_url();
    config.refuse_seconds = 0.1;
    config.running_grace = Duration::from_millis(300);
    config.until_running = true;
    config.report_every = Duration::from_millis(500);
    config.deadline = Some(Duration::from_secs(4));

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(config));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the scheduler ends within 30 s");

    let err = result.expect_err("the workers cannot be placed: the deadline fails the run");
    let Error::Other(inner) = &err else {
        panic!("{err}");
    };
    let not_running = inner
        .downcast_ref::<NotRunning>()
        .unwrap_or_else(|| panic!("{err}"));
    let stuck: Vec<&str> = not_running
        .stuck
        .iter()
        .map(|s| s.instance.as_str())
        .collect();
    assert_eq!(stuck, ["worker-0", "worker-1"], "the web instances run");
    for s in &not_running.stuck {
        let report = s
            .placement
            .as_ref()
            .expect("a pending instance has a report");
        assert!(!report.agents.is_empty(), "{report}");
        for agent in &report.agents {
            assert!(
                matches!(&agent.misfit, Misfit::Attribute { name, wanted, .. } if name == "zone" && wanted == "a"),
                "{report}"
            );
        }
    }
    // Both agents named, with what each has.
    let text = err.to_string();
    assert!(
        text.contains("zone=a wanted, the agent has zone=b"),
        "{text}"
    );
    assert!(
        text.contains("zone=a wanted, the agent has no zone"),
        "{text}"
    );
    // Reported while it waited, not only at the end.
    let logged = logs.text();
    assert!(logged.contains("worker-0: no offer suits it ("), "{logged}");
    assert!(logged.contains("worker-1: no offer suits it ("), "{logged}");
}
