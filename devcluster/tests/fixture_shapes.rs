//! Our events have the shape of the captured Mesos 1.12 events: every key present in a
//! fixture (recursively) is present in ours, with the same JSON type.

mod common;

use common::*;
use devcluster::{AgentConfig, Cluster, ClusterConfig};
use mesos_proto::v1::TaskState;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let p = format!(
        "{}/../fixtures/mesos-1.12/scheduler-json/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {p}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {p}: {e}"))
}

/// Every key of `theirs` exists in `ours` with the same JSON type (arrays: first items).
fn same_shape(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            for (k, v) in t {
                let Some(mine) = o.get(k) else {
                    panic!("{path}.{k} missing in {ours}")
                };
                same_shape(mine, v, &format!("{path}.{k}"));
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            if let (Some(a), Some(b)) = (o.first(), t.first()) {
                same_shape(a, b, &format!("{path}[0]"));
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        _ => panic!("{path}: type differs: ours {ours} theirs {theirs}"),
    }
}

fn check(ours: &mesos_proto::v1::scheduler::Event, name: &str) {
    same_shape(&mesos_proto::json::to_value(ours), &fixture(name), name);
}

#[test]
fn executor_events_match_fixture_shapes() {
    let p = format!(
        "{}/../fixtures/mesos-1.12/executor/run1-launch/events/001-SUBSCRIBED.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {p}: {e}"));
    let mut theirs: Value = serde_json::from_str(&text).unwrap();
    // Input-dependent parts: the fixture executor had URIs, environment and labels, the
    // framework had labels and a hostname, the agent had attributes.
    let ei = &mut theirs["subscribed"]["executor_info"];
    ei.as_object_mut().unwrap().remove("labels");
    ei["command"] = json!({"shell": true, "value": "x"});
    theirs["subscribed"]["framework_info"]
        .as_object_mut()
        .unwrap()
        .remove("labels");
    theirs["subscribed"]["framework_info"]
        .as_object_mut()
        .unwrap()
        .remove("hostname");
    theirs["subscribed"]["agent_info"]
        .as_object_mut()
        .unwrap()
        .remove("attributes");
    let c = cluster(1);
    let mut s = subscribe(
        &c.master_url(),
        json!({"user":"root","name":"shape","failover_timeout":1.0}),
    );
    let o = s.offers(5).remove(0);
    let mut t = executor_task("t1", "ex1", &o, "sleep 30");
    t["executor"]["name"] = json!("shape executor");
    launch(&s, &o, vec![t]);
    eventually(5, || !c.running_pids().is_empty());
    let mut ex = exec_subscribe(&agent_url(&c, &o.agent_id.value), &s.framework_id, "ex1");
    let sub = ex.next_exec().unwrap();
    same_shape(
        &mesos_proto::json::to_value(&sub),
        &theirs,
        "executor SUBSCRIBED",
    );
}

#[test]
fn events_match_fixture_shapes() {
    let mut cfg = ClusterConfig::for_tests(0);
    cfg.agents = vec![AgentConfig {
        resources: "cpus:4;mem:2048;disk:4096;ports:[31000-32000];colors:{red,green,blue}".into(),
        attributes: "rack:r1;zone:z1;level:3.5;slots:[1-4]".into(),
    }];
    cfg.offer_timeout = Some(std::time::Duration::from_millis(500));
    let c = Cluster::start(cfg).unwrap();
    let info = json!({"user":"root","name":"fixtures-json","failover_timeout":120.0});
    let body = subscribe_body(info).to_string();
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    let sub = s.next().unwrap();
    s.framework_id = sub.subscribed.as_ref().unwrap().framework_id.value.clone();
    check(&sub, "event-subscribed.json");
    let hb = s.next().unwrap();
    check(&hb, "event-heartbeat.json");
    let offers = s.wait_type(5, mesos_proto::v1::scheduler::event::Type::Offers);
    check(&offers, "event-offers.json");
    let rescind = s.wait_type(5, mesos_proto::v1::scheduler::event::Type::Rescind);
    check(&rescind, "event-rescind.json");
    let o = s.offers(5).remove(0);
    launch(
        &s,
        &o,
        vec![
            command_task("cmd-ok", &o, "true"),
            command_task("cmd-fail", &o, "exit 3"),
        ],
    );
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 4 {
        let e = s.wait_type(10, mesos_proto::v1::scheduler::event::Type::Update);
        let st = e.update.as_ref().unwrap().status.clone();
        ack(&s, &st);
        let name = match (st.task_id.value.as_str(), st.state()) {
            ("cmd-ok", TaskState::TaskStarting) => "event-update-starting.json",
            ("cmd-ok", TaskState::TaskRunning) => "event-update-running.json",
            ("cmd-ok", TaskState::TaskFinished) => "event-update-finished.json",
            ("cmd-fail", TaskState::TaskFailed) => "event-update-failed.json",
            _ => continue,
        };
        check(&e, name);
        seen.insert(name);
    }
    call(
        &s,
        "KILL",
        Some(("kill", json!({"task_id":{"value":"no-such-task"}}))),
    );
    let e = s.wait_for(5, |e| {
        e.update
            .as_ref()
            .is_some_and(|u| u.status.task_id.value == "no-such-task")
    });
    check(&e, "event-update-kill-unknown-task.json");
    let bad = subscribe_body(json!({"user":"u","name":"n","role":"/test/test1"})).to_string();
    let mut err = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        bad.as_bytes(),
    );
    check(&err.next().unwrap(), "event-error-bad-role.json");
}
