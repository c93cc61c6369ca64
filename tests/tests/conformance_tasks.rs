//! Conformance, task lifecycle and status updates: checklist items 52-60 (§9).
//!
//! Custom-executor items run a placeholder process as the executor and let the test speak
//! the executor API in its place (see `e2e_tests::exec`).

use std::time::Duration;

use e2e_tests::exec::{Exec, PLACEHOLDER};
use e2e_tests::sched::{
    Sched, WAIT, agent_addr, b64, command_task, executor_task, framework, small_resources,
};
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

/// §3.6: tasks still live when the executor is destroyed after SHUTDOWN are failed by the
/// agent (`TASK_FAILED`/`REASON_EXECUTOR_TERMINATED`; older Mesos said `TASK_LOST`).
#[test]
fn c56_live_tasks_of_a_shut_down_executor_are_failed() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, offer) = launched(&addr, "c56b", "c56b-t", "c56b-e");
    x.update("c56b-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c56b-t", TaskState::TaskRunning);
    let shutdown = json!({"executor_id": {"value": "c56b-e"},
                          "agent_id": {"value": offer.agent_id.value}});
    s.call_ok("SHUTDOWN", Some(("shutdown", shutdown)));
    x.wait_type(xevent::Type::Shutdown);
    let (st, _) = s.update_for(WAIT, "c56b-t");
    assert!(
        matches!(st.state(), TaskState::TaskFailed | TaskState::TaskLost),
        "{st:?}"
    );
    assert_eq!(st.source(), Source::SourceAgent);
    assert_eq!(st.reason(), Reason::ReasonExecutorTerminated);
    assert_eq!(st.message.as_deref(), Some("Executor terminated"));
    assert!(st.uuid.is_some());
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
    // The agent starts the executor's process on its own thread: under load the test's
    // executor connection can run ahead of it, so wait (bounded) until there is a pid to kill.
    let deadline = std::time::Instant::now() + WAIT;
    while !c.crash_executor(&s.framework_id, "c58-e") {
        assert!(
            std::time::Instant::now() < deadline,
            "c58-e never had a process"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
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

    // Killed by a signal nobody asked for: TASK_FAILED with the signal's name.
    s.launch_one(|o| command_task("c59-sig", &o.agent_id.value, "kill -9 $$"));
    let seen = s.wait_state(WAIT, "c59-sig", TaskState::TaskFailed);
    assert_eq!(
        seen.last().unwrap().message.as_deref(),
        Some("Command terminated with signal Killed")
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
    // SIGTERM was ignored, so the SIGKILL after the grace period ended it.
    let msg = seen[1].message.clone().unwrap_or_default();
    assert_eq!(msg, "Command terminated with signal Killed");

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
    let msg = seen[0].message.clone().unwrap_or_default();
    assert_eq!(msg, "Command terminated with signal Terminated");
}

/// §2.3 KILL: a task not yet delivered to its executor is killed by the agent with
/// `REASON_TASK_KILLED_DURING_LAUNCH` (an agent-generated update: it has a uuid).
#[test]
fn c58_kill_before_the_executor_subscribed() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c58-kdl"));
    s.launch_one(|o| executor_task("c58-k", &o.agent_id.value, "c58-k-e", PLACEHOLDER));
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c58-k"}}))),
    );
    let (st, _) = s.update_for(WAIT, "c58-k");
    assert_eq!(st.state(), TaskState::TaskKilled, "{st:?}");
    assert_eq!(st.reason(), Reason::ReasonTaskKilledDuringLaunch);
    assert!(st.uuid.is_some(), "agent-generated: {st:?}");
    s.ack(&st);
}

/// §3.4: a second terminal update for a task is acknowledged to the executor but dropped.
#[test]
fn c53_duplicate_terminal_update_is_dropped() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, _) = launched(&addr, "c53-dup", "c53d-t", "c53d-e");
    let (_, first) = x.update("c53d-t", "TASK_FINISHED");
    let (r, second) = x.update("c53d-t", "TASK_FINISHED");
    assert_eq!(r.status(), 202);
    for uuid in [&first, &second] {
        let (ev, _) = x.stream.wait_for(WAIT, |e| {
            e.acknowledged.as_ref().is_some_and(|a| &a.uuid == uuid)
        });
        assert_eq!(ev.r#type(), xevent::Type::Acknowledged);
    }
    let (st, _) = s.update_for(WAIT, "c53d-t");
    assert_eq!(st.uuid.as_ref(), Some(&first));
    s.ack(&st);
    let (events, _) = s.stream.collect_for(Duration::from_millis(1500));
    let dups: Vec<_> = events
        .iter()
        .filter_map(|e| e.update.as_ref())
        .filter(|u| u.status.task_id.value == "c53d-t")
        .collect();
    assert!(dups.is_empty(), "{dups:?}");
}

/// What a task group's executor needs on Mesos 1.12 (§3.5): ≥ 0.01 cpus, ≥ 32 MB mem, disk.
fn group_executor_resources() -> serde_json::Value {
    let mut r = small_resources();
    r.as_array_mut()
        .unwrap()
        .push(json!({"name": "disk", "type": "SCALAR", "scalar": {"value": 10.0}}));
    r
}

/// §3.5 / fixtures NOTES 1: LAUNCH_GROUP to a CUSTOM executor arrives as one LAUNCH_GROUP
/// event, with the group's executor copied into each task.
#[test]
fn c52_launch_group_on_a_custom_executor() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c52-group"));
    let offer = s.offers(WAIT).remove(0);
    let agent = offer.agent_id.value.clone();
    let task = |id: &str| {
        json!({"name": id, "task_id": {"value": id}, "agent_id": {"value": agent},
               "resources": small_resources()})
    };
    let accept = json!({
        "offer_ids": [{"value": offer.id.value}],
        "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
            "executor": {"executor_id": {"value": "c52g-e"}, "type": "CUSTOM",
                         "framework_id": {"value": s.framework_id},
                         "command": {"value": PLACEHOLDER}, "resources": group_executor_resources()},
            "task_group": {"tasks": [task("c52g-a"), task("c52g-b")]}
        }}]
    });
    s.call_ok("ACCEPT", Some(("accept", accept)));
    let mut x = Exec::subscribe(&agent_addr(&offer), &s.framework_id, "c52g-e");
    let ev = x.wait_type(xevent::Type::LaunchGroup);
    let tasks = ev.launch_group.unwrap().task_group.tasks;
    let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, ["c52g-a", "c52g-b"]);
    for t in &tasks {
        let e = t.executor.as_ref().expect("executor copied into the task");
        assert_eq!(e.executor_id.value, "c52g-e");
    }
    for id in ["c52g-a", "c52g-b"] {
        x.update(id, "TASK_RUNNING");
        s.wait_state(WAIT, id, TaskState::TaskRunning);
    }
}

/// §3.3: an executor that never subscribes is destroyed after the registration timeout
/// and its tasks fail with `REASON_EXECUTOR_REGISTRATION_TIMEOUT`.
#[test]
fn c76_executor_that_never_subscribes_times_out() {
    let (_c, addr) = testcluster::start_with(1, |cfg| {
        cfg.executor_registration_timeout = Duration::from_millis(500);
    });
    let mut s = Sched::subscribe(&addr, framework("c76-timeout"));
    s.launch_one(|o| executor_task("c76-t", &o.agent_id.value, "c76-t-e", PLACEHOLDER));
    let (st, _) = s.update_for(WAIT, "c76-t");
    assert_eq!(st.state(), TaskState::TaskFailed, "{st:?}");
    assert_eq!(st.reason(), Reason::ReasonExecutorRegistrationTimeout);
    assert_eq!(st.source(), Source::SourceAgent);
}

/// §3.3: on re-subscription, a task still in TASK_STAGING that the executor does not list
/// in `unacknowledged_tasks` is declared lost (`REASON_AGENT_RESTARTED`); re-sent
/// `unacknowledged_updates` are processed again (duplicates tolerated).
#[test]
fn c77_resubscribe_declares_unlisted_staging_tasks_lost() {
    let (c, addr) = testcluster::start(1);
    let (mut s, x, _) = launched(&addr, "c77-lost", "c77l-t", "c77l-e");
    // The executor got LAUNCH but sent nothing: the task is still STAGING. Re-subscribe
    // without listing it.
    drop(x);
    let mut body = e2e_tests::exec::envelope(&s.framework_id, "c77l-e", "SUBSCRIBE");
    body["subscribe"] = json!({"unacknowledged_tasks": [], "unacknowledged_updates": []});
    let agent = e2e_tests::http::host_port(&c.agent_urls()[0]);
    let h = [("Content-Type", "application/json")];
    let mut st = e2e_tests::http::open_stream::<mesos_proto::v1::executor::Event>(
        &agent,
        e2e_tests::exec::EXECUTOR,
        &h,
        body.to_string().as_bytes(),
    )
    .unwrap_or_else(|r| panic!("{} {}", r.status(), r.text()));
    assert_eq!(st.next_event(WAIT).0.r#type(), xevent::Type::Subscribed);
    let (status, _) = s.update_for(WAIT, "c77l-t");
    assert_eq!(status.state(), TaskState::TaskLost, "{status:?}");
    assert_eq!(status.reason(), Reason::ReasonAgentRestarted);
    assert_eq!(status.source(), Source::SourceAgent);
}

/// §2.3 KILL: an `agent_id` that is not the task's agent makes the master ignore the call.
#[test]
fn c54_kill_naming_the_wrong_agent_is_ignored() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c54-wrong"));
    s.launch_one(|o| command_task("c54-w", &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, "c54-w", TaskState::TaskRunning);
    let kill = json!({"task_id": {"value": "c54-w"}, "agent_id": {"value": "other-agent"}});
    s.call_ok("KILL", Some(("kill", kill)));
    let (events, _) = s.stream.collect_for(Duration::from_millis(800));
    let updates: Vec<_> = events.iter().filter_map(|e| e.update.as_ref()).collect();
    assert!(updates.is_empty(), "{updates:?}");
}

/// §2.4 FAILURE: a custom executor exiting with code 3 gives the raw wait status 768;
/// its live task fails with `Executor terminated` (agent-generated, with `executor_id`).
#[test]
fn c56_executor_exit_status_is_the_raw_wait_status() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c56-exit"));
    // The process stays long enough for the test to subscribe in its place, then exits 3.
    let offer =
        s.launch_one(|o| executor_task("c56x-t", &o.agent_id.value, "c56x-e", "sleep 1; exit 3"));
    let x = Exec::subscribe(&agent_addr(&offer), &s.framework_id, "c56x-e");
    x.update("c56x-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c56x-t", TaskState::TaskRunning);
    let (mut failure, mut failed) = (None, None);
    while failure.is_none() || failed.is_none() {
        let (ev, _) = s.stream.next_event(WAIT);
        if let Some(f) = ev.failure {
            failure = Some(f);
        } else if let Some(u) = ev.update {
            s.ack(&u.status);
            failed = Some(u.status);
        }
    }
    let f = failure.unwrap();
    assert_eq!(f.executor_id.map(|e| e.value).as_deref(), Some("c56x-e"));
    assert_eq!(f.status, Some(768), "WEXITSTATUS 3 as a raw wait status");
    let st = failed.unwrap();
    assert_eq!(st.state(), TaskState::TaskFailed);
    assert_eq!(st.reason(), Reason::ReasonExecutorTerminated);
    assert_eq!(st.message.as_deref(), Some("Executor terminated"));
    assert_eq!(st.executor_id.map(|e| e.value).as_deref(), Some("c56x-e"));
}

/// §3.3: SUBSCRIBE from an executor that is being shut down gets SHUTDOWN at once; one
/// whose only queued task was killed before it subscribed is shut down too.
#[test]
fn c77_subscribe_of_a_terminating_executor_gets_shutdown() {
    let (c, addr) = testcluster::start(1);
    let agent = e2e_tests::http::host_port(&c.agent_urls()[0]);
    let mut s = Sched::subscribe(&addr, framework("c77-term"));
    s.launch_one(|o| executor_task("c77t-t", &o.agent_id.value, "c77t-e", PLACEHOLDER));
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c77t-t"}}))),
    );
    let (st, _) = s.update_for(WAIT, "c77t-t");
    assert_eq!(st.state(), TaskState::TaskKilled);
    s.ack(&st);
    let mut body = e2e_tests::exec::envelope(&s.framework_id, "c77t-e", "SUBSCRIBE");
    body["subscribe"] = json!({});
    let h = [("Content-Type", "application/json")];
    match e2e_tests::http::open_stream::<mesos_proto::v1::executor::Event>(
        &agent,
        e2e_tests::exec::EXECUTOR,
        &h,
        body.to_string().as_bytes(),
    ) {
        Ok(mut st) => {
            let (events, end) = st.collect_for(Duration::from_secs(3));
            let types: Vec<_> = events.iter().map(|e| e.r#type()).collect();
            assert!(types.contains(&xevent::Type::Shutdown), "{types:?}");
            assert!(!types.contains(&xevent::Type::Launch), "{types:?}");
            assert!(end.is_some(), "the stream is closed after SHUTDOWN");
        }
        // Already gone is acceptable too: the executor was destroyed meanwhile.
        Err(r) => assert_eq!(r.status(), 400, "{}", r.text()),
    }
}

/// §3.3: an executor re-subscribing while it is being shut down gets SHUTDOWN at once
/// (and no SUBSCRIBED/LAUNCH).
#[test]
fn c77_resubscribe_during_shutdown_gets_shutdown() {
    let (_c, addr) = testcluster::start(1);
    let (mut s, mut x, offer) = launched(&addr, "c77-sd", "c77sd-t", "c77sd-e");
    x.update("c77sd-t", "TASK_RUNNING");
    s.wait_state(WAIT, "c77sd-t", TaskState::TaskRunning);
    let shutdown = json!({"executor_id": {"value": "c77sd-e"},
                          "agent_id": {"value": offer.agent_id.value}});
    s.call_ok("SHUTDOWN", Some(("shutdown", shutdown)));
    x.wait_type(xevent::Type::Shutdown);
    let mut body = e2e_tests::exec::envelope(&s.framework_id, "c77sd-e", "SUBSCRIBE");
    body["subscribe"] = json!({});
    let h = [("Content-Type", "application/json")];
    match e2e_tests::http::open_stream::<mesos_proto::v1::executor::Event>(
        &x.addr,
        e2e_tests::exec::EXECUTOR,
        &h,
        body.to_string().as_bytes(),
    ) {
        Ok(mut st) => {
            let (ev, _) = st.next_event(WAIT);
            assert_eq!(ev.r#type(), xevent::Type::Shutdown, "{ev:?}");
        }
        // Destroyed already (grace period over): unknown executor.
        Err(r) => assert_eq!(r.status(), 400, "{}", r.text()),
    }
}
