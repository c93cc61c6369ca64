//! Conformance of event *shapes*: the JSON devcluster sends has exactly the key paths of
//! what a real Mesos 1.12 sent in the same situation (captured fixtures), so clients that
//! read any field Mesos always sends keep working. Named after the checklist items whose
//! events they look at.

use devcluster::AgentConfig;
use e2e_tests::exec::Exec;
use e2e_tests::sched::{Sched, WAIT, agent_addr, b64, command_task, executor_task, framework};
use e2e_tests::shape::{assert_same_shape, fixture, shape_diff};
use e2e_tests::{pidwatch, testcluster};
use mesos_proto::v1::TaskState;
use mesos_proto::v1::executor::event as xevent;
use mesos_proto::v1::scheduler::event;
use serde_json::{Value, json};

/// A cluster whose agent looks like the one of the capture (resources and attributes).
fn fixture_like_cluster() -> (devcluster::Cluster, String) {
    testcluster::start_with(1, |cfg| {
        cfg.agents = vec![AgentConfig {
            resources: "cpus:4;mem:2048;disk:4096;ports:[31000-32000];colors:{red,green,blue}"
                .into(),
            attributes: "rack:r1;zone:z1;level:3.5;slots:[1-4]".into(),
        }];
    })
}

fn json_of(raw: &[u8]) -> Value {
    serde_json::from_slice(raw).expect("JSON record")
}

const SJ: &str = "scheduler-json/";

#[test]
fn c17_subscribed_event_shape_and_master_info() {
    let (_c, addr) = fixture_like_cluster();
    let h = [("Content-Type", "application/json")];
    let body = e2e_tests::sched::subscribe_body(&framework("shape-raw")).to_string();
    let mut st = e2e_tests::http::open_stream::<mesos_proto::v1::scheduler::Event>(
        &addr,
        e2e_tests::sched::SCHEDULER,
        &h,
        body.as_bytes(),
    )
    .expect("200");
    let (_, raw) = st.next_event(WAIT);
    let ours = json_of(&raw);
    assert_same_shape(&ours, &fixture(&format!("{SJ}event-subscribed.json")), &[]);
    let mi = &ours["subscribed"]["master_info"];
    let port: u64 = addr.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(mi["ip"], 16777343, "127.0.0.1 as Mesos' legacy integer");
    assert_eq!(mi["pid"], format!("master@127.0.0.1:{port}").as_str());
    assert_eq!(mi["version"], "1.12.0");
    assert_eq!(
        mi["address"],
        json!({"hostname": "localhost", "ip": "127.0.0.1", "port": port})
    );
    assert_eq!(
        mi["capabilities"],
        fixture(&format!("{SJ}event-subscribed.json"))["subscribed"]["master_info"]["capabilities"]
    );
    assert!(raw.starts_with(b"{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\""));
}

#[test]
fn c41_c47_offers_event_shape() {
    let (_c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Offers);
    let ours = json_of(&raw);
    assert_same_shape(&ours, &fixture(&format!("{SJ}event-offers.json")), &[]);
    let offer = &ours["offers"]["offers"][0];
    assert_eq!(offer["url"]["scheme"], "http");
    assert_eq!(offer["url"]["path"], "/slave(1)");
    assert_eq!(offer["hostname"], "localhost");
}

#[test]
fn c59_command_task_update_shapes() {
    let (_c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    s.launch_one(|o| command_task("shape-cmd", &o.agent_id.value, "echo hello"));
    let mut diffs = Vec::new();
    for (state, file) in [
        (TaskState::TaskStarting, "event-update-starting.json"),
        (TaskState::TaskRunning, "event-update-running.json"),
        (TaskState::TaskFinished, "event-update-finished.json"),
    ] {
        let (st, raw) = s.update_for(WAIT, "shape-cmd");
        assert_eq!(st.state(), state);
        let theirs = fixture(&format!("{SJ}{file}"));
        diffs.extend(shape_diff(&json_of(&raw), &theirs, &[]).map(|d| format!("{state:?}: {d}")));
        s.ack(&st);
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn c61_reconciliation_update_shape() {
    let (_c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    let offer = s.launch_one(|o| command_task("shape-sleep", &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, "shape-sleep", TaskState::TaskRunning);
    s.call_ok(
        "RECONCILE",
        Some((
            "reconcile",
            json!({"tasks": [{"task_id": {"value": "shape-sleep"},
                                             "agent_id": {"value": offer.agent_id.value}}]}),
        )),
    );
    let (_, raw) = s.update_for(WAIT, "shape-sleep");
    let theirs = fixture(&format!(
        "{SJ}event-update-reconcile-explicit-cmd-sleep.json"
    ));
    assert_same_shape(&json_of(&raw), &theirs, &[]);
}

#[test]
fn c48_c49_c55_master_generated_update_shapes() {
    let (_c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    let offer = s.offers(WAIT).remove(0);
    let mut fake = offer.clone();
    fake.id.value = "no-such-offer".into();
    s.launch(
        &fake,
        vec![command_task("shape-lost", &offer.agent_id.value, "true")],
        None,
    );
    let (_, raw) = s.update_for(WAIT, "shape-lost");
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{SJ}event-update-unknown-offer.json")),
        &[],
    );
    let msg = json_of(&raw)["update"]["status"]["message"].clone();
    assert_eq!(
        msg,
        "Task launched with invalid offers: Offer no-such-offer is no longer valid"
    );

    let mut huge = command_task("shape-huge", &offer.agent_id.value, "true");
    huge["resources"] = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 100.0}}]);
    s.launch(&offer, vec![huge], Some(json!({"refuse_seconds": 0.0})));
    let (_, raw) = s.update_for(WAIT, "shape-huge");
    let theirs = fixture(&format!("{SJ}event-update-error-invalid-task.json"));
    assert_same_shape(&json_of(&raw), &theirs, &[]);

    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "shape-ghost"}}))),
    );
    let (_, raw) = s.update_for(WAIT, "shape-ghost");
    let theirs = fixture(&format!("{SJ}event-update-kill-unknown-task.json"));
    assert_same_shape(&json_of(&raw), &theirs, &[]);
}

#[test]
fn c20_error_event_shape() {
    let (_c, addr) = fixture_like_cluster();
    let mut info = framework("shape");
    info["role"] = json!("/test/test1");
    let h = [("Content-Type", "application/json")];
    let body = e2e_tests::sched::subscribe_body(&info).to_string();
    let mut st = e2e_tests::http::open_stream::<mesos_proto::v1::scheduler::Event>(
        &addr,
        e2e_tests::sched::SCHEDULER,
        &h,
        body.as_bytes(),
    )
    .expect("200");
    let (_, raw) = st.next_event(WAIT);
    let theirs = fixture(&format!("{SJ}event-error-bad-role.json"));
    assert_same_shape(&json_of(&raw), &theirs, &[]);
    assert_eq!(json_of(&raw), theirs, "same message text");
}

#[test]
fn c51_rescind_and_agent_failure_shapes() {
    let (c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    s.offers(WAIT);
    assert!(c.rescind_offer(None));
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Rescind);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{SJ}event-rescind.json")),
        &[],
    );
    assert!(c.lose_agent(0));
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Failure);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{SJ}event-failure-agent.json")),
        &[],
    );
}

#[test]
fn c52_c56_c57_executor_side_shapes() {
    let (_c, addr) = fixture_like_cluster();
    let mut s = Sched::subscribe(&addr, framework("shape"));
    // A real executor subscribes only once its process runs; wait for that, so the agent
    // knows the executor's pid (container_status.executor_pid).
    let pid_file = pidwatch::pid_file("shape-e");
    let cmd = pidwatch::pid_command(&pid_file);
    let offer = s.launch_one(|o| executor_task("shape-t", &o.agent_id.value, "shape-e", &cmd));
    pidwatch::read_pid(&pid_file, WAIT);
    let mut x = Exec::subscribe(&agent_addr(&offer), &s.framework_id, "shape-e");
    let ex = "executor/run1-launch/events/";

    // SUBSCRIBED: the parts that do not depend on what the framework put in.
    let sub = json_of(&x.subscribed.1);
    let theirs = fixture(&format!("{ex}001-SUBSCRIBED.json"));
    let ignore = [".subscribed.executor_info", ".subscribed.framework_info"];
    assert_same_shape(&sub, &theirs, &ignore);
    for key in ["id", "failover_timeout", "checkpoint"] {
        assert!(
            sub["subscribed"]["framework_info"].get(key).is_some(),
            "framework_info.{key}"
        );
    }
    for r in sub["subscribed"]["executor_info"]["resources"]
        .as_array()
        .unwrap()
    {
        assert_eq!(
            r["allocation_info"]["role"], "*",
            "allocation_info even without MULTI_ROLE"
        );
    }

    // LAUNCH: task resources carry allocation_info (and no `role` was added).
    let (ev, raw) = x
        .stream
        .wait_for(WAIT, |e| e.r#type() == xevent::Type::Launch);
    let launch = json_of(&raw);
    for r in launch["launch"]["task"]["resources"].as_array().unwrap() {
        assert_eq!(r["allocation_info"]["role"], "*", "{r}");
    }
    assert_eq!(
        ev.launch
            .unwrap()
            .task
            .executor
            .unwrap()
            .framework_id
            .unwrap()
            .value,
        s.framework_id
    );

    x.update("shape-t", "TASK_RUNNING");
    let (_, raw) = x
        .stream
        .wait_for(WAIT, |e| e.r#type() == xevent::Type::Acknowledged);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{ex}003-ACKNOWLEDGED.json")),
        &[],
    );
    let (st, raw) = s.update_for(WAIT, "shape-t");
    let theirs = fixture(&format!("{SJ}event-update-running-custom-executor.json"));
    // The captured executor also sent `data`, `labels` and `message`: those are echoed.
    let echoed = [
        ".update.status.data",
        ".update.status.labels",
        ".update.status.message",
    ];
    assert_same_shape(&json_of(&raw), &theirs, &echoed);
    s.ack(&st);

    s.call_ok(
        "MESSAGE",
        Some((
            "message",
            json!({"agent_id": {"value": offer.agent_id.value},
                                "executor_id": {"value": "shape-e"}, "data": b64(b"ping")}),
        )),
    );
    let (_, raw) = x
        .stream
        .wait_for(WAIT, |e| e.r#type() == xevent::Type::Message);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{ex}004-MESSAGE.json")),
        &[],
    );
    x.message(b"pong");
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Message);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{SJ}event-message.json")),
        &[],
    );

    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "shape-t"}}))),
    );
    let (_, raw) = x
        .stream
        .wait_for(WAIT, |e| e.r#type() == xevent::Type::Kill);
    assert_same_shape(
        &json_of(&raw),
        &fixture(&format!("{ex}010-KILL-exec-task-1.json")),
        &[],
    );
    x.update("shape-t", "TASK_KILLED");
    s.wait_state(WAIT, "shape-t", TaskState::TaskKilled);

    s.call_ok(
        "SHUTDOWN",
        Some((
            "shutdown",
            json!({"executor_id": {"value": "shape-e"},
                                 "agent_id": {"value": offer.agent_id.value}}),
        )),
    );
    let (_, raw) = x
        .stream
        .wait_for(WAIT, |e| e.r#type() == xevent::Type::Shutdown);
    assert_eq!(raw, br#"{"type":"SHUTDOWN"}"#);
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Failure);
    let theirs = fixture(&format!("{SJ}event-failure-executor-exit-0.json"));
    assert_same_shape(&json_of(&raw), &theirs, &[]);
}
