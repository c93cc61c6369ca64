//! Conformance checklist §9: offers (41-51), task lifecycle (52-60), reconciliation (61-63).

mod common;

use common::*;
use mesos_proto::v1::TaskState;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::{Reason, Source};
use serde_json::json;

fn offers_in(events: &[mesos_proto::v1::scheduler::Event]) -> usize {
    events
        .iter()
        .filter(|e| e.r#type() == event::Type::Offers)
        .count()
}

fn decline(s: &Stream, offer: &mesos_proto::v1::Offer, filters: Option<serde_json::Value>) {
    let mut d = json!({"offer_ids":[{"value": offer.id.value}]});
    if let Some(f) = filters {
        d["filters"] = f;
    }
    assert_eq!(call(s, "DECLINE", Some(("decline", d))).status, 202);
}

#[test]
fn c41_c47_offers_arrive_unreserved_star() {
    let c = cluster(2);
    let mut s = subscribe(&c.master_url(), framework("c41"));
    let mut offers = s.offers(5);
    if offers.len() < 2 {
        offers.extend(s.offers(5));
    }
    assert_eq!(offers.len(), 2, "one offer per agent");
    let o = &offers[0];
    assert!(o.id.value.contains("-O"));
    assert!(o.agent_id.value.contains("-S"));
    assert_eq!(o.url.as_ref().unwrap().path.as_deref(), Some("/slave(1)"));
    for r in &o.resources {
        assert_eq!(r.role.as_deref(), Some("*"));
        assert!(r.allocation_info.is_none());
    }
    assert!(o.allocation_info.is_none());
    let cpus = o.resources.iter().find(|r| r.name == "cpus").unwrap();
    assert_eq!(cpus.scalar.as_ref().unwrap().value, 4.0);
}

#[test]
fn c42_decline_zero_reoffers() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c42"));
    let o = s.offers(5).remove(0);
    decline(&s, &o, Some(json!({"refuse_seconds": 0.0})));
    let again = s.offers(5).remove(0);
    assert_ne!(again.id.value, o.id.value);
    assert_eq!(again.resources, o.resources);
}

#[test]
fn c43_c45_decline_filters_then_revive() {
    let c = fast_cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c43"));
    let o = s.offers(5).remove(0);
    decline(&s, &o, Some(json!({"refuse_seconds": 3600.0})));
    assert_eq!(offers_in(&collect_for(&mut s, 800)), 0);
    assert_eq!(call(&s, "REVIVE", None).status, 202);
    let again = s.offers(5).remove(0);
    assert_eq!(again.resources, o.resources);
    // c45: no filters -> 5 s refusal.
    decline(&s, &again, None);
    assert_eq!(offers_in(&collect_for(&mut s, 800)), 0);
}

#[test]
fn c28_c44_suppress_and_revive() {
    let c = fast_cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c44"));
    let o = s.offers(5).remove(0);
    assert_eq!(call(&s, "SUPPRESS", None).status, 202);
    decline(&s, &o, Some(json!({"refuse_seconds": 0.0})));
    assert_eq!(offers_in(&collect_for(&mut s, 800)), 0);
    assert_eq!(
        call(&s, "REVIVE", Some(("revive", json!({"roles":["*"]})))).status,
        202
    );
    assert_eq!(s.offers(5)[0].resources, o.resources);
    // c28: subscribing with every role suppressed gives no offers until REVIVE.
    let body = json!({"type":"SUBSCRIBE","subscribe":{"framework_info":framework("c28"),"suppressed_roles":["*"]}});
    let mut s2 = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    let sub = s2.next().unwrap();
    s2.framework_id = sub.subscribed.unwrap().framework_id.value;
    assert_eq!(call(&s, "TEARDOWN", None).status, 202);
    assert_eq!(offers_in(&collect_for(&mut s2, 800)), 0);
    assert_eq!(call(&s2, "REVIVE", None).status, 202);
    s2.offers(5);
}

#[test]
fn c46_multi_role_allocation_info() {
    let c = cluster(1);
    let info =
        json!({"user":"u","name":"mr","roles":["dev"],"capabilities":[{"type":"MULTI_ROLE"}]});
    let mut s = subscribe(&c.master_url(), info);
    let o = s.offers(5).remove(0);
    assert_eq!(
        o.allocation_info.as_ref().unwrap().role.as_deref(),
        Some("dev")
    );
    for r in &o.resources {
        assert_eq!(
            r.allocation_info.as_ref().unwrap().role.as_deref(),
            Some("dev")
        );
    }
}

#[test]
fn c48_c58_invalid_offer_lost_or_dropped() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c48"));
    let mut o = s.offers(5).remove(0);
    o.id.value = "no-such-offer".into();
    assert_eq!(
        launch(&s, &o, vec![command_task("bad-offer-task", &o, "true")]).status,
        202
    );
    let st = s.update_for(5, "bad-offer-task");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
    assert_eq!(st.source(), Source::SourceMaster);
    assert!(st.uuid.is_none());
    assert_eq!(
        st.message.as_deref(),
        Some("Task launched with invalid offers: Offer no-such-offer is no longer valid")
    );
    let pa = json!({"user":"u","name":"pa","capabilities":[{"type":"PARTITION_AWARE"}]});
    let mut s2 = subscribe(&c.master_url(), pa);
    assert_eq!(call(&s, "TEARDOWN", None).status, 202);
    let mut o2 = s2.offers(5).remove(0);
    o2.id.value = "no-such-offer".into();
    launch(&s2, &o2, vec![command_task("t", &o2, "true")]);
    assert_eq!(s2.update_for(5, "t").state(), TaskState::TaskDropped);
}

#[test]
fn c49_invalid_tasks_get_task_error() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c49"));
    let o = s.offers(5).remove(0);
    let mut no_res = command_task("no-res", &o, "true");
    no_res["resources"] = json!([]);
    let mut too_big = command_task("too-big", &o, "true");
    too_big["resources"][0]["scalar"]["value"] = json!(100.0);
    let mut both = command_task("both", &o, "true");
    both["executor"] = json!({"executor_id":{"value":"e"},"command":{"value":"true"}});
    let mut neither = command_task("neither", &o, "true");
    neither.as_object_mut().unwrap().remove("command");
    let tasks = vec![
        command_task("dup", &o, "sleep 5"),
        command_task("dup", &o, "true"),
        no_res,
        too_big,
        both,
        neither,
    ];
    launch(&s, &o, tasks);
    let mut seen = std::collections::BTreeMap::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 5 && std::time::Instant::now() < deadline {
        let e = s.wait_type(10, event::Type::Update);
        let st = e.update.unwrap().status;
        ack(&s, &st);
        if st.state() == TaskState::TaskError {
            assert_eq!(st.reason(), Reason::ReasonTaskInvalid);
            assert!(st.uuid.is_none());
            seen.insert(
                st.task_id.value.clone(),
                st.message.clone().unwrap_or_default(),
            );
        }
    }
    for id in ["no-res", "too-big", "both", "neither", "dup"] {
        assert!(seen.contains_key(id), "{id}: {seen:?}");
    }
    assert_eq!(seen["dup"], "Task has duplicate ID: dup");
    assert_eq!(seen["no-res"], "Task uses no resources");
    assert!(seen["too-big"].starts_with("Total resources cpus(allocated: *):100; mem(allocated: *):32 required by task and its executor is more than available "), "{}", seen["too-big"]);
}

#[test]
fn c50_unused_accept_resources_are_filtered() {
    let c = fast_cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c50"));
    let o = s.offers(5).remove(0);
    let body = json!({"offer_ids":[{"value":o.id.value}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[command_task("t", &o, "sleep 20")]}}]});
    assert_eq!(call(&s, "ACCEPT", Some(("accept", body))).status, 202);
    let events = collect_for(&mut s, 800);
    assert_eq!(offers_in(&events), 0);
}

#[test]
fn c51_lost_agent() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c51"));
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![command_task("cmd-lost", &o, "sleep 30")]);
    wait_state(&mut s, 10, "cmd-lost", TaskState::TaskRunning);
    // The rest of the agent was offered again meanwhile; that offer gets rescinded.
    assert!(c.lose_agent(0));
    let mut rescinded = false;
    let mut lost = false;
    let mut failure = false;
    while !(rescinded && lost && failure) {
        let e = s.wait_for(10, |_| true);
        match e.r#type() {
            event::Type::Rescind => rescinded = e.rescind.is_some(),
            event::Type::Update => {
                let st = e.update.unwrap().status;
                assert_eq!(st.state(), TaskState::TaskLost);
                assert_eq!(st.reason(), Reason::ReasonAgentDisconnected);
                assert_eq!(st.message.as_deref(), Some("Agent localhost disconnected"));
                assert!(st.uuid.is_none());
                lost = true;
            }
            event::Type::Failure => {
                let f = e.failure.unwrap();
                assert_eq!(f.agent_id.unwrap().value, o.agent_id.value);
                assert!(f.executor_id.is_none());
                failure = true;
            }
            _ => {}
        }
    }
    // Reconciling the lost task now says unreachable.
    let r =
        json!({"tasks":[{"task_id":{"value":"cmd-lost"},"agent_id":{"value":o.agent_id.value}}]});
    call(&s, "RECONCILE", Some(("reconcile", r)));
    let st = s.update_for(5, "cmd-lost");
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unreachable")
    );
    assert!(st.unreachable_time.is_some());
    assert!(c.running_pids().is_empty());
}

#[test]
fn c52_c53_c54_c57_custom_executor() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c52"));
    let o = s.offers(5).remove(0);
    let agent = agent_url(&c, &o.agent_id.value);
    launch(
        &s,
        &o,
        vec![executor_task("exec-task-1", "ex1", &o, "sleep 60")],
    );
    let fw = s.framework_id.clone();
    // The executor process runs; we speak the executor API on its behalf.
    eventually(5, || !c.running_pids().is_empty());
    let mut ex = exec_subscribe(&agent, &fw, "ex1");
    assert_eq!(ex.status, 200);
    let sub = ex.next_exec().unwrap();
    assert_eq!(
        sub.r#type(),
        mesos_proto::v1::executor::event::Type::Subscribed
    );
    let launch_ev = ex.next_exec().unwrap();
    assert_eq!(launch_ev.launch.unwrap().task.task_id.value, "exec-task-1");
    let (r, uuid) = exec_update(&agent, &fw, "ex1", "exec-task-1", "TASK_RUNNING");
    assert_eq!(r.status, 202);
    let acked = ex.next_exec().unwrap().acknowledged.unwrap();
    assert_eq!(acked.task_id.value, "exec-task-1");
    let st = s.update_for(5, "exec-task-1");
    assert_eq!(st.state(), TaskState::TaskRunning);
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(st.uuid.as_ref().unwrap()),
        uuid
    );
    // c53: a second update waits for the first ack.
    exec_update(&agent, &fw, "ex1", "exec-task-1", "TASK_RUNNING");
    ex.next_exec().unwrap();
    let before = collect_for(&mut s, 300);
    assert!(
        before
            .iter()
            .all(|e| e.update.is_none() || e.update.as_ref().unwrap().status.uuid == st.uuid),
        "only retries of the first update"
    );
    ack(&s, &st);
    let st2 = s
        .wait_for(5, |e| {
            e.update.as_ref().is_some_and(|u| u.status.uuid != st.uuid)
        })
        .update
        .unwrap()
        .status;
    ack(&s, &st2);
    // c57: messages both ways.
    let m = json!({"agent_id":{"value":o.agent_id.value},"executor_id":{"value":"ex1"},"data":"aGVsbG8="});
    assert_eq!(call(&s, "MESSAGE", Some(("message", m))).status, 202);
    let me = ex.next_exec().unwrap();
    assert_eq!(me.message.unwrap().data, b"hello");
    let r = exec_call(
        &agent,
        &fw,
        "ex1",
        "MESSAGE",
        Some(("message", json!({"data":"YmFjaw=="}))),
    );
    assert_eq!(r.status, 202);
    let back = s.wait_type(5, event::Type::Message).message.unwrap();
    assert_eq!(
        (back.data.as_slice(), back.executor_id.value.as_str()),
        (&b"back"[..], "ex1")
    );
    // c54: KILL -> executor KILL event -> TASK_KILLED.
    call(
        &s,
        "KILL",
        Some(("kill", json!({"task_id":{"value":"exec-task-1"}}))),
    );
    let k = ex.wait_exec_kill();
    assert_eq!(k, "exec-task-1");
    exec_update(&agent, &fw, "ex1", "exec-task-1", "TASK_KILLED");
    wait_state(&mut s, 5, "exec-task-1", TaskState::TaskKilled);
}

trait ExecWait {
    fn wait_exec_kill(&mut self) -> String;
}

impl ExecWait for Stream {
    fn wait_exec_kill(&mut self) -> String {
        loop {
            let e = self.next_exec().expect("executor stream open");
            if let Some(k) = e.kill {
                return k.task_id.value;
            }
        }
    }
}

#[test]
fn c55_kill_unknown_task() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c55"));
    call(
        &s,
        "KILL",
        Some(("kill", json!({"task_id":{"value":"no-such-task"}}))),
    );
    let st = s.update_for(5, "no-such-task");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
}

#[test]
fn c56_shutdown_gives_failure() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c56"));
    let o = s.offers(5).remove(0);
    let agent = agent_url(&c, &o.agent_id.value);
    launch(&s, &o, vec![executor_task("t56", "ex56", &o, "sleep 60")]);
    eventually(5, || !c.running_pids().is_empty());
    let mut ex = exec_subscribe(&agent, &s.framework_id, "ex56");
    ex.next_exec();
    let sd = json!({"executor_id":{"value":"ex56"},"agent_id":{"value":o.agent_id.value}});
    assert_eq!(call(&s, "SHUTDOWN", Some(("shutdown", sd))).status, 202);
    loop {
        let e = ex.next_exec().expect("SHUTDOWN event");
        if e.r#type() == mesos_proto::v1::executor::event::Type::Shutdown {
            break;
        }
    }
    // The process ignores SHUTDOWN; after the grace period it is killed.
    let f = s.wait_type(10, event::Type::Failure).failure.unwrap();
    assert_eq!(f.executor_id.unwrap().value, "ex56");
    assert_eq!(f.status, Some(9));
    let st = s.update_for(5, "t56");
    assert_eq!(st.state(), TaskState::TaskFailed);
    assert_eq!(st.reason(), Reason::ReasonExecutorTerminated);
    assert_eq!(st.source(), Source::SourceAgent);
    assert!(st.uuid.is_some());
}

#[test]
fn docker_tasks_fail_to_launch_as_on_an_agent_without_docker() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("docker"));
    let o = s.offers(5).remove(0);
    let mut task = command_task("in-docker", &o, "echo hi");
    task["container"] = json!({"type": "DOCKER", "docker": {"image": "busybox:latest"}});
    launch(&s, &o, vec![task]);
    let failed = wait_state(&mut s, 10, "in-docker", TaskState::TaskFailed);
    assert_eq!(failed.source(), Source::SourceAgent);
    assert_eq!(failed.reason(), Reason::ReasonContainerLaunchFailed);
    assert!(failed.message().contains("DOCKER"), "{:?}", failed.message);
    assert!(failed.uuid.is_some(), "agent-made updates are reliable");
}

#[test]
fn c59_command_task_lifecycle() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c59"));
    let o = s.offers(5).remove(0);
    launch(
        &s,
        &o,
        vec![
            command_task("cmd-ok", &o, "echo hi"),
            command_task("cmd-fail", &o, "exit 3"),
        ],
    );
    let st = s.update_for(5, "cmd-ok");
    assert_eq!(st.state(), TaskState::TaskStarting);
    assert_eq!(st.source(), Source::SourceExecutor);
    assert_eq!(st.executor_id.as_ref().unwrap().value, "cmd-ok");
    assert!(st.uuid.is_some() && st.timestamp.is_some() && st.container_status.is_some());
    ack(&s, &st);
    let fin = wait_state(&mut s, 10, "cmd-ok", TaskState::TaskFinished);
    assert_eq!(fin.message.as_deref(), Some("Command exited with status 0"));
    let failed = wait_state(&mut s, 10, "cmd-fail", TaskState::TaskFailed);
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 3")
    );
    // The sandbox has the output.
    wait_stdout(&agent_url(&c, &o.agent_id.value), "hi\n");
}

#[test]
fn c60_kill_command_task() {
    let c = cluster(1);
    let info = json!({"user":"u","name":"c60","capabilities":[{"type":"TASK_KILLING_STATE"}]});
    let mut s = subscribe(&c.master_url(), info);
    let o = s.offers(5).remove(0);
    launch(
        &s,
        &o,
        vec![
            command_task("stubborn", &o, "trap '' TERM; sleep 30"),
            command_task("meek", &o, "sleep 30"),
        ],
    );
    wait_state(&mut s, 10, "stubborn", TaskState::TaskRunning);
    wait_state(&mut s, 10, "meek", TaskState::TaskRunning);
    for t in ["stubborn", "meek"] {
        call(&s, "KILL", Some(("kill", json!({"task_id":{"value":t}}))));
    }
    let k = wait_state(&mut s, 10, "meek", TaskState::TaskKilled);
    assert_eq!(
        k.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    let k = wait_state(&mut s, 10, "stubborn", TaskState::TaskKilled);
    assert_eq!(
        k.message.as_deref(),
        Some("Command terminated with signal Killed")
    );
}

#[test]
fn c61_c62_c63_reconciliation() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c61"));
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![command_task("cmd-sleep", &o, "sleep 30")]);
    wait_state(&mut s, 10, "cmd-sleep", TaskState::TaskRunning);
    let explicit = json!({"tasks":[{"task_id":{"value":"cmd-sleep"}},{"task_id":{"value":"nope"}},{"task_id":{"value":"nope2"},"agent_id":{"value":o.agent_id.value}}]});
    call(&s, "RECONCILE", Some(("reconcile", explicit)));
    let st = s.update_for(5, "cmd-sleep");
    assert_eq!(
        (st.state(), st.reason()),
        (TaskState::TaskRunning, Reason::ReasonReconciliation)
    );
    assert!(st.uuid.is_none());
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Latest task state")
    );
    assert_eq!(
        s.update_for(5, "nope").message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
    let n2 = s.update_for(5, "nope2");
    assert_eq!(
        (n2.state(), n2.message.as_deref()),
        (
            TaskState::TaskLost,
            Some("Reconciliation: Task is unknown to the agent")
        )
    );
    call(&s, "RECONCILE", Some(("reconcile", json!({}))));
    let st = s.update_for(5, "cmd-sleep");
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
    // Partition-aware frameworks get TASK_GONE / TASK_UNKNOWN.
    let mut pa = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"pa","capabilities":[{"type":"PARTITION_AWARE"}]}),
    );
    let r = json!({"tasks":[{"task_id":{"value":"x"}},{"task_id":{"value":"y"},"agent_id":{"value":o.agent_id.value}}]});
    call(&pa, "RECONCILE", Some(("reconcile", r)));
    assert_eq!(pa.update_for(5, "x").state(), TaskState::TaskUnknown);
    assert_eq!(pa.update_for(5, "y").state(), TaskState::TaskGone);
}

#[test]
fn c53_unacknowledged_update_is_retried() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c53"));
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![command_task("retry", &o, "sleep 30")]);
    let first = s.update_for(5, "retry");
    assert_eq!(first.state(), TaskState::TaskStarting);
    // Not acknowledged: the same update (same uuid) comes again, RUNNING does not.
    let again = s.update_for(5, "retry");
    assert_eq!(again.uuid, first.uuid);
    ack(&s, &again);
    assert_eq!(s.update_for(5, "retry").state(), TaskState::TaskRunning);
}

#[test]
fn c29_failover_timeout_expiry_removes_framework_and_kills_tasks() {
    let c = cluster(1);
    let mut s = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"c29b","failover_timeout":0.5}),
    );
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![command_task("doomed", &o, "sleep 30")]);
    wait_state(&mut s, 10, "doomed", TaskState::TaskRunning);
    let id = s.framework_id.clone();
    drop(s);
    eventually(10, || {
        let st = request(&c.master_url(), "GET", "/master/state", &[], b"").json();
        st["completed_frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id.as_str())
    });
    eventually(10, || c.running_pids().is_empty());
}

#[test]
fn offer_timeout_rescinds() {
    let mut cfg = devcluster::ClusterConfig::for_tests(1);
    cfg.offer_timeout = Some(std::time::Duration::from_millis(300));
    let c = devcluster::Cluster::start(cfg).unwrap();
    let mut s = subscribe(&c.master_url(), framework("timeout"));
    let o = s.offers(5).remove(0);
    let r = s.wait_type(5, event::Type::Rescind).rescind.unwrap();
    assert_eq!(r.offer_id.value, o.id.value);
    // The resources come back in a new offer.
    assert_eq!(s.offers(5)[0].resources, o.resources);
}

#[test]
fn c51_checkpointing_partition_aware_agent_loss_is_unreachable() {
    let c = cluster(1);
    let info = json!({"user":"u","name":"pa","checkpoint":true,"capabilities":[{"type":"PARTITION_AWARE"}]});
    let mut s = subscribe(&c.master_url(), info);
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![command_task("pa-sleep", &o, "sleep 30")]);
    wait_state(&mut s, 10, "pa-sleep", TaskState::TaskRunning);
    assert!(c.lose_agent(0));
    let st = s.update_for(10, "pa-sleep");
    assert_eq!(st.state(), TaskState::TaskUnreachable);
    assert_eq!(st.reason(), Reason::ReasonAgentRemoved);
    assert!(st.unreachable_time.is_some());
    assert!(!c.lose_agent(0), "already lost");
}

#[test]
fn offers_are_shared_between_frameworks() {
    let c = cluster(2);
    let mut a = subscribe(&c.master_url(), framework("fair-a"));
    let mut got = a.offers(5);
    if got.len() < 2 {
        got.extend(a.offers(5));
    }
    let mut b = subscribe(&c.master_url(), framework("fair-b"));
    for o in &got {
        decline(&a, o, Some(json!({"refuse_seconds": 0.0})));
    }
    // Both now hold nothing: the two agents go one to each framework.
    let oa = a.offers(5);
    let ob = b.offers(5);
    assert_eq!(oa.len(), 1);
    assert_eq!(ob.len(), 1);
    assert_ne!(oa[0].agent_id, ob[0].agent_id);
}

#[test]
fn invalid_task_group_is_task_error() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("bad-group"));
    let o = s.offers(5).remove(0);
    let accept = json!({
        "offer_ids":[{"value":o.id.value}],
        "operations":[{"type":"LAUNCH_GROUP","launch_group":{
            "executor":{"type":"DEFAULT","executor_id":{"value":"d"},"command":{"value":"x"}},
            "task_group":{"tasks":[command_task("g1", &o, "true")]}}}]
    });
    assert_eq!(call(&s, "ACCEPT", Some(("accept", accept))).status, 202);
    let st = s.update_for(5, "g1");
    assert_eq!(st.state(), TaskState::TaskError);
    assert_eq!(st.reason(), Reason::ReasonTaskGroupInvalid);
}

/// The cpus an offer holds.
fn offered_cpus(offer: &mesos_proto::v1::Offer) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == "cpus")
        .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
        .sum()
}

/// Refusal filters are kept one per refusal, each with its own resources and expiry, as
/// Mesos keeps them: the remainders refused by successive ACCEPTs must not add up and hide
/// an agent whose tasks have all ended. (A regression test: devcluster once summed them,
/// and minimal-scheduler then took minutes for what takes a second.)
#[test]
fn refusal_filters_are_kept_per_refusal_not_summed() {
    let mut config = devcluster::ClusterConfig::for_tests(0);
    config.agents = vec![devcluster::AgentConfig {
        resources: "cpus:2;mem:1024".to_string(),
        attributes: String::new(),
    }];
    config.simulate_tasks = Some(std::time::Duration::from_millis(20));
    let c = devcluster::Cluster::start(config).expect("cluster starts");
    let mut s = subscribe(&c.master_url(), framework("per-refusal-filters"));
    // Each round takes part of the agent and refuses the rest for an hour:
    // first (1 cpu, 924 MB) is refused, then (1.5 cpus, 924 MB). Together they cover the
    // whole agent (2 cpus, 1024 MB); neither does alone.
    for (round, cpus) in [1.0, 0.5].into_iter().enumerate() {
        let offer = s.offers(10).remove(0);
        assert_eq!(
            offered_cpus(&offer),
            2.0,
            "round {round}: the idle agent, whole"
        );
        let id = format!("filters-{round}");
        let mut task = command_task(&id, &offer, "true");
        task["resources"][0]["scalar"]["value"] = json!(cpus);
        task["resources"][1]["scalar"]["value"] = json!(100.0);
        let accept = json!({
            "offer_ids": [{"value": offer.id.value}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
            "filters": {"refuse_seconds": 3600.0}
        });
        assert_eq!(call(&s, "ACCEPT", Some(("accept", accept))).status, 202);
        wait_state(&mut s, 10, &id, TaskState::TaskFinished);
    }
    // Both tasks have ended: the agent is idle and no single refusal holds all of it.
    let events = s.wait_for(10, |e| e.r#type() == event::Type::Offers);
    let offer = &events.offers.expect("offers").offers[0];
    assert_eq!(offered_cpus(offer), 2.0);
}
