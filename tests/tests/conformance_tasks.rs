//! Conformance, task lifecycle and status updates: checklist items 52-60 (§9).
//!
//! Custom-executor items run a placeholder process as the executor and let the test speak
//! the executor API in its place (see `e2e_tests::exec`).

use std::time::Duration;

use e2e_tests::exec::{Exec, PLACEHOLDER};
use e2e_tests::sched::{Sched, WAIT, agent_addr, b64, command_task, executor_task, framework};
use e2e_tests::testcluster;
use mesos_proto::v1::executor::event as xevent;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{Offer, TaskState};
use serde_json::json;

/// Subscribes a framework, launches `task` on custom executor `exec_id` and subscribes
/// as that executor; returns both ends after the executor got its LAUNCH.
fn launched(addr: &str, name: &str, task: &str, exec_id: &str) -> (Sched, Exec, Offer) {
    let mut s = Sched::subscribe(addr, framework(name));
    let offer = s.launch_one(|o| executor_task(task, &o.agent_id.value, exec_id, PLACEHOLDER));
    let mut x = Exec::subscribe(&agent_addr(&offer), &s.framework_id, exec_id);
    let launch = x.wait_type(xevent::Type::Launch);
    assert_eq!(
        launch.launch.expect("launch payload").task.task_id.value,
        task
    );
    (s, x, offer)
}

#[test]
fn c52_custom_executor_launch_update_and_acknowledged() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, offer) = launched(&addr, "c52", "c52-t", "c52-e");
    let sub = x
        .subscribed
        .0
        .subscribed
        .clone()
        .expect("subscribed payload");
    assert_eq!(sub.executor_info.executor_id.value, "c52-e");
    assert_eq!(
        sub.framework_info.id.as_ref().map(|i| i.value.as_str()),
        Some(s.framework_id.as_str())
    );
    let (r, uuid) = x.update("c52-t", "TASK_RUNNING");
    assert_eq!(r.status(), 202, "{}", r.text());
    let ack = x
        .wait_type(xevent::Type::Acknowledged)
        .acknowledged
        .unwrap();
    assert_eq!((ack.task_id.value.as_str(), &ack.uuid), ("c52-t", &uuid));
    let (st, _) = s.update_for(WAIT, "c52-t");
    assert_eq!(st.state(), TaskState::TaskRunning);
    assert_eq!(st.uuid.as_ref(), Some(&uuid));
    assert_eq!(st.source(), Source::SourceExecutor);
    assert_eq!(
        st.agent_id.as_ref(),
        Some(&offer.agent_id),
        "the agent fills in agent_id"
    );
    assert_eq!(
        st.executor_id.as_ref().map(|e| e.value.as_str()),
        Some("c52-e")
    );
    s.ack(&st);

    // The agent does not add `executor_id` when the executor left it out.
    let mut body =
        e2e_tests::exec::update_body(&s.framework_id, "c52-e", "c52-t", "TASK_FINISHED").0;
    body["update"]["status"]
        .as_object_mut()
        .unwrap()
        .remove("executor_id");
    assert_eq!(e2e_tests::exec::post_json(&x.addr, &body).status(), 202);
    let (st, _) = s.update_for(WAIT, "c52-t");
    assert_eq!(st.state(), TaskState::TaskFinished);
    assert!(st.executor_id.is_none(), "{st:?}");
}

#[test]
fn c53_next_update_waits_for_the_ack_and_unacked_updates_are_retried() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, x, _) = launched(&addr, "c53", "c53-t", "c53-e");
    let (_, running) = x.update("c53-t", "TASK_RUNNING");
    let (_, finished) = x.update("c53-t", "TASK_FINISHED");
    let (st, _) = s.update_for(WAIT, "c53-t");
    assert_eq!(st.uuid.as_ref(), Some(&running));
    // Not acked: the same update comes again (first retry after status_update_retry, 1 s
    // in the test configuration) and FINISHED is held back.
    let (again, _) = s.update_for(WAIT, "c53-t");
    assert_eq!(
        again.uuid.as_ref(),
        Some(&running),
        "a retry of the first update: {again:?}"
    );
    s.ack(&again);
    let (st, _) = s.update_for(WAIT, "c53-t");
    assert_eq!(st.state(), TaskState::TaskFinished);
    assert_eq!(st.uuid.as_ref(), Some(&finished));
    s.ack(&st);
}

#[test]
fn c54_kill_reaches_the_executor_and_killed_reaches_the_scheduler() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, _) = launched(&addr, "c54", "c54-t", "c54-e");
    x.update("c54-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c54-t", TaskState::TaskRunning);
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c54-t"}}))),
    );
    let kill = x.wait_type(xevent::Type::Kill).kill.unwrap();
    assert_eq!(kill.task_id.value, "c54-t");
    x.update("c54-t", "TASK_KILLED");
    s.wait_state(WAIT, "c54-t", TaskState::TaskKilled);
}

#[test]
fn c55_kill_of_unknown_task_is_task_lost_reconciliation() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c55"));
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "no-such-task"}}))),
    );
    let (st, _) = s.update_for(WAIT, "no-such-task");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonReconciliation);
    assert_eq!(st.source(), Source::SourceMaster);
    assert!(st.uuid.is_none());
}

#[test]
fn c56_shutdown_reaches_executor_then_failure_when_it_exits() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, offer) = launched(&addr, "c56", "c56-t", "c56-e");
    x.update("c56-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c56-t", TaskState::TaskRunning);
    s.call_ok(
        "SHUTDOWN",
        Some((
            "shutdown",
            json!({"executor_id": {"value": "c56-e"},
                                 "agent_id": {"value": offer.agent_id.value}}),
        )),
    );
    x.wait_type(xevent::Type::Shutdown);
    // The placeholder does not exit by itself: the agent destroys it after the grace period.
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Failure);
    let f = ev.failure.unwrap();
    assert_eq!(f.executor_id.map(|e| e.value).as_deref(), Some("c56-e"));
    assert_eq!(f.agent_id.as_ref(), Some(&offer.agent_id));
    assert!(f.status.is_some(), "executor FAILURE carries status");
}

#[test]
fn c57_messages_both_ways() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, offer) = launched(&addr, "c57", "c57-t", "c57-e");
    let data = b"hello \x00\xff executor".to_vec();
    s.call_ok(
        "MESSAGE",
        Some((
            "message",
            json!({"agent_id": {"value": offer.agent_id.value},
                                "executor_id": {"value": "c57-e"}, "data": b64(&data)}),
        )),
    );
    let m = x.wait_type(xevent::Type::Message).message.unwrap();
    assert_eq!(m.data, data);
    assert_eq!(x.message(b"hello scheduler").status(), 202);
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Message);
    let m = ev.message.unwrap();
    assert_eq!(m.data, b"hello scheduler");
    assert_eq!(m.executor_id.value, "c57-e");
    assert_eq!(m.agent_id, offer.agent_id);
}

#[test]
fn c58_agent_generated_updates_carry_a_uuid() {
    let (c, addr) = testcluster::start(1);
    let (mut s, x, _) = launched(&addr, "c58", "c58-t", "c58-e");
    x.update("c58-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c58-t", TaskState::TaskRunning);
    assert!(c.crash_executor(&s.framework_id, "c58-e"));
    let (st, _) = s.update_for(WAIT, "c58-t");
    assert_eq!(st.state(), TaskState::TaskFailed);
    assert_eq!(st.source(), Source::SourceAgent);
    assert_eq!(st.reason(), Reason::ReasonExecutorTerminated);
    assert!(st.uuid.is_some(), "agent-generated updates must be acked");
    s.ack(&st);
    // (Master-generated updates without uuid: c48, c49, c55, c61.)
}

#[test]
fn c59_command_task_lifecycle() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c59"));
    s.launch_one(|o| command_task("c59-ok", &o.agent_id.value, "echo hello"));
    let seen = s.wait_state(WAIT, "c59-ok", TaskState::TaskFinished);
    let states: Vec<TaskState> = seen.iter().map(|st| st.state()).collect();
    assert_eq!(
        states,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );
    for st in &seen {
        assert_eq!(st.source(), Source::SourceExecutor);
        assert_eq!(
            st.executor_id.as_ref().map(|e| e.value.as_str()),
            Some("c59-ok")
        );
        assert!(st.uuid.is_some() && st.timestamp.is_some());
    }
    assert_eq!(
        seen[2].message.as_deref(),
        Some("Command exited with status 0")
    );

    s.launch_one(|o| command_task("c59-fail", &o.agent_id.value, "exit 3"));
    let seen = s.wait_state(WAIT, "c59-fail", TaskState::TaskFailed);
    assert_eq!(
        seen.last().unwrap().message.as_deref(),
        Some("Command exited with status 3")
    );
}

#[test]
fn c60_command_task_kill_with_and_without_killing_state() {
    let (_c, addr) = testcluster::start(1);
    let mut info = framework("c60");
    info["capabilities"] = json!([{"type": "TASK_KILLING_STATE"}]);
    let mut s = Sched::subscribe(&addr, info);
    // The task ignores SIGTERM: only the SIGKILL after the kill policy's grace ends it.
    s.launch_one(|o| {
        let mut t = command_task("c60-k", &o.agent_id.value, "trap '' TERM; sleep 30");
        t["kill_policy"] = json!({"grace_period": {"nanoseconds": 300_000_000}});
        t
    });
    s.wait_state(WAIT, "c60-k", TaskState::TaskRunning);
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c60-k"}}))),
    );
    let seen = s.wait_state(WAIT, "c60-k", TaskState::TaskKilled);
    let states: Vec<TaskState> = seen.iter().map(|st| st.state()).collect();
    assert_eq!(states, [TaskState::TaskKilling, TaskState::TaskKilled]);
    let msg = seen[1].message.clone().unwrap_or_default();
    assert!(msg.starts_with("Command terminated with signal"), "{msg}");

    // Without the capability: TASK_KILLED only.
    s.call_ok("TEARDOWN", None);
    let mut s = Sched::subscribe(&addr, framework("c60-plain"));
    s.launch_one(|o| command_task("c60-p", &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, "c60-p", TaskState::TaskRunning);
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c60-p"}}))),
    );
    let seen = s.wait_state(Duration::from_secs(10), "c60-p", TaskState::TaskKilled);
    assert_eq!(seen.len(), 1, "{seen:?}");
}
