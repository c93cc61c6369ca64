//! Conformance, reconciliation: checklist items 61-63 (§9).

use std::time::Duration;

use e2e_tests::sched::{Sched, WAIT, command_task, framework, raw_status};
use e2e_tests::testcluster;
use mesos_proto::v1::TaskState;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::{Reason, Source};
use serde_json::json;

/// A framework with one running command task (`sleep 30`); returns it and the agent id.
fn with_running_task(addr: &str, info: serde_json::Value, task: &str) -> (Sched, String) {
    let mut s = Sched::subscribe(addr, info);
    let offer = s.launch_one(|o| command_task(task, &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, task, TaskState::TaskRunning);
    (s, offer.agent_id.value)
}

#[test]
fn c61_explicit_reconcile_of_a_running_task() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, agent) = with_running_task(&addr, framework("c61"), "c61-t");
    s.call_ok(
        "RECONCILE",
        Some((
            "reconcile",
            json!({"tasks": [{"task_id": {"value": "c61-t"},
                                             "agent_id": {"value": agent}}]}),
        )),
    );
    let (st, raw) = s.update_for(WAIT, "c61-t");
    assert_eq!(st.state(), TaskState::TaskRunning);
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
    assert_eq!(st.source(), Source::SourceMaster);
    assert!(
        st.uuid.is_none(),
        "never ack reconciliation answers: {}",
        raw_status(&raw)
    );
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Latest task state")
    );
    assert_eq!(
        st.agent_id.as_ref().map(|a| a.value.as_str()),
        Some(agent.as_str())
    );
    // A command task has no executor id in the master.
    assert!(st.executor_id.is_none());
}

#[test]
fn c62_implicit_reconcile_answers_for_every_tracked_task() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, agent) = with_running_task(&addr, framework("c62"), "c62-a");
    let offer = s.offers(WAIT).remove(0);
    assert_eq!(offer.agent_id.value, agent);
    let task = command_task("c62-b", &agent, "sleep 30");
    assert_eq!(s.launch(&offer, vec![task], None).status(), 202);
    s.wait_state(WAIT, "c62-b", TaskState::TaskRunning);
    s.call_ok("RECONCILE", Some(("reconcile", json!({}))));
    let mut answered = std::collections::BTreeSet::new();
    let (events, _) = s.stream.collect_for(Duration::from_millis(700));
    for e in events.iter().filter(|e| e.r#type() == event::Type::Update) {
        let st = &e.update.as_ref().unwrap().status;
        assert_eq!(st.reason(), Reason::ReasonReconciliation, "{st:?}");
        assert!(st.uuid.is_none());
        answered.insert(st.task_id.value.clone());
    }
    let expected: std::collections::BTreeSet<String> = ["c62-a", "c62-b"].map(String::from).into();
    assert_eq!(answered, expected);
}

#[test]
fn c63_explicit_reconcile_of_unknown_tasks() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, agent) = with_running_task(&addr, framework("c63"), "c63-t");
    let reconcile = |s: &Sched, tasks: serde_json::Value| {
        s.call_ok("RECONCILE", Some(("reconcile", json!({"tasks": tasks}))));
    };
    // Not partition-aware: TASK_LOST either way.
    reconcile(&s, json!([{"task_id": {"value": "ghost-1"}}]));
    let (st, _) = s.update_for(WAIT, "ghost-1");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
    reconcile(
        &s,
        json!([{"task_id": {"value": "ghost-2"}, "agent_id": {"value": agent}}]),
    );
    let (st, _) = s.update_for(WAIT, "ghost-2");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
    assert!(st.uuid.is_none());

    // PARTITION_AWARE: TASK_UNKNOWN for an unknown agent, TASK_GONE for a registered one.
    let mut info = framework("c63-pa");
    info["capabilities"] = json!([{"type": "PARTITION_AWARE"}]);
    let mut s = Sched::subscribe(&addr, info);
    reconcile(
        &s,
        json!([{"task_id": {"value": "ghost-3"}, "agent_id": {"value": "no-such-agent"}}]),
    );
    let (st, _) = s.update_for(WAIT, "ghost-3");
    assert_eq!(st.state(), TaskState::TaskUnknown);
    reconcile(
        &s,
        json!([{"task_id": {"value": "ghost-4"}, "agent_id": {"value": agent}}]),
    );
    let (st, _) = s.update_for(WAIT, "ghost-4");
    assert_eq!(st.state(), TaskState::TaskGone);
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
}

/// §8: implicit reconciliation also answers for a terminal task whose terminal update was
/// not acknowledged yet, and no longer once it was.
#[test]
fn c62_implicit_reconcile_includes_unacked_terminal_tasks() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c62-term"));
    s.launch_one(|o| command_task("c62-done", &o.agent_id.value, "true"));
    // Follow it to TASK_FINISHED, but do not acknowledge the terminal update.
    let finished = loop {
        let (st, _) = s.update_for(WAIT, "c62-done");
        if st.state() == TaskState::TaskFinished {
            break st;
        }
        s.ack(&st);
    };
    s.call_ok("RECONCILE", Some(("reconcile", json!({}))));
    let (st, _) = s.update_for(WAIT, "c62-done");
    assert_eq!(st.state(), TaskState::TaskFinished);
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
    assert!(st.uuid.is_none());
    s.ack(&finished);
    // A retried copy of the terminal update may still be in flight; then nothing.
    std::thread::sleep(Duration::from_millis(200));
    let _ = s.stream.collect_for(Duration::from_millis(100));
    s.call_ok("RECONCILE", Some(("reconcile", json!({}))));
    let (events, _) = s.stream.collect_for(Duration::from_millis(500));
    let answers: Vec<_> = events
        .iter()
        .filter(|e| e.r#type() == event::Type::Update)
        .collect();
    assert!(answers.is_empty(), "{answers:?}");
}

/// §8 case 4: an unknown task on an unreachable agent: `TASK_LOST` (not partition-aware)
/// with `unreachable_time`, `Reconciliation: Task is unreachable`.
#[test]
fn c63_explicit_reconcile_on_an_unreachable_agent() {
    let (c, addr) = testcluster::start(1);
    let (mut s, agent) = with_running_task(&addr, framework("c63-unr"), "c63-u");
    assert!(c.lose_agent(0));
    let (st, _) = s.update_for(Duration::from_secs(15), "c63-u");
    assert_eq!(st.state(), TaskState::TaskLost);
    s.call_ok(
        "RECONCILE",
        Some((
            "reconcile",
            json!({"tasks": [{"task_id": {"value": "c63-u"},
                                             "agent_id": {"value": agent}}]}),
        )),
    );
    let (st, _) = s.update_for(WAIT, "c63-u");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unreachable")
    );
    assert!(st.unreachable_time.is_some());
    assert!(st.uuid.is_none());
}
