//! Conformance, scheduler calls other than SUBSCRIBE: checklist items 30-40 (§9).

use std::time::Duration;

use e2e_tests::http::End;
use e2e_tests::sched::{Sched, WAIT, b64, command_task, framework, post_json};
use e2e_tests::{pidwatch, testcluster};
use mesos_proto::v1::TaskState;
use mesos_proto::v1::scheduler::event;
use serde_json::{Value, json};

fn reconcile_body(fw: &str) -> Value {
    json!({"framework_id": {"value": fw}, "type": "RECONCILE", "reconcile": {"tasks": []}})
}

#[test]
fn c30_call_without_stream_id_is_400() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c30"));
    let body = json!({"framework_id": {"value": s.framework_id}, "type": "TEARDOWN"});
    let r = post_json(&addr, &[], &body);
    assert_eq!(r.status(), 400, "{}", r.text());
    assert_eq!(
        r.text(),
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
    );
    let r = post_json(&addr, &[], &reconcile_body(&s.framework_id));
    assert_eq!(r.status(), 400);
    // Header names are case-insensitive.
    let h = [("mesos-stream-id", s.stream_id.as_str())];
    let r = post_json(&addr, &h, &reconcile_body(&s.framework_id));
    assert_eq!(r.status(), 202, "{}", r.text());
}

#[test]
fn c31_call_with_a_superseded_or_wrong_stream_id_is_400() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c31");
    info["failover_timeout"] = json!(60.0);
    let s1 = Sched::subscribe(&addr, info.clone());
    info["id"] = json!({"value": s1.framework_id});
    let s2 = Sched::subscribe(&addr, info);
    let body = json!({"framework_id": {"value": s1.framework_id}, "type": "TEARDOWN"});
    let r = post_json(&addr, &[("Mesos-Stream-Id", &s1.stream_id)], &body);
    assert_eq!(r.status(), 400, "{}", r.text());
    let random = mesos_proto::uuid::to_string(&mesos_proto::uuid::new_v4());
    let r = post_json(
        &addr,
        &[("Mesos-Stream-Id", &random)],
        &reconcile_body(&s2.framework_id),
    );
    assert_eq!(r.status(), 400, "{}", r.text());
    assert!(r.text().starts_with(&format!(
        "The stream ID '{random}' included in this request"
    )));
    assert_eq!(s2.post(&reconcile_body(&s2.framework_id)).status(), 202);
}

#[test]
fn c32_unknown_framework_is_400_disconnected_is_403() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c32");
    info["failover_timeout"] = json!(60.0);
    let s = Sched::subscribe(&addr, info);
    let r = s.post(&reconcile_body("no-such-framework"));
    assert_eq!(r.status(), 400);
    assert_eq!(r.text(), "Framework cannot be found");
    let (id, sid, a) = (s.framework_id.clone(), s.stream_id.clone(), s.addr.clone());
    drop(s);
    // The master notices the closed connection; from then on the framework is known but
    // disconnected.
    let mut last = None;
    for _ in 0..100 {
        let r = post_json(&a, &[("Mesos-Stream-Id", &sid)], &reconcile_body(&id));
        if r.status() == 403 {
            assert_eq!(r.text(), "Framework is not subscribed");
            // The connection check comes before the stream-id checks: 403 even without
            // the header.
            let r = post_json(&a, &[], &reconcile_body(&id));
            assert_eq!(r.status(), 403, "{}", r.text());
            return;
        }
        last = Some((r.status(), r.text()));
        std::thread::sleep(Duration::from_millis(30));
    }
    panic!("never 403: {last:?}");
}

#[test]
fn c33_call_without_framework_id_is_400() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c33"));
    let r = s.post(&json!({"type": "RECONCILE", "reconcile": {}}));
    assert_eq!(r.status(), 400, "{}", r.text());
}

#[test]
fn c34_acknowledge_with_invalid_uuid_is_400() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c34"));
    let ack = |uuid: &str| {
        s.call(
            "ACKNOWLEDGE",
            Some((
                "acknowledge",
                json!({"agent_id": {"value": "a"}, "task_id": {"value": "t"},
                                       "uuid": uuid}),
            )),
        )
    };
    for bad in [b64(b"bad-uuid"), b64(b"not-a-uuid"), b64(&[0u8; 16])] {
        let r = ack(&bad);
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(
            r.text(),
            "Failed to validate scheduler::Call: Not a valid UUID"
        );
    }
    let r = ack("bad-uuid");
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .starts_with("Failed to convert JSON into Call protobuf"),
        "{}",
        r.text()
    );
}

#[test]
fn c35_reconcile_needs_its_payload_object() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c35"));
    let r = s.call("RECONCILE", None);
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Expecting 'reconcile' to be present"
    );
    assert_eq!(
        s.call("RECONCILE", Some(("reconcile", json!({})))).status(),
        202
    );
}

#[test]
fn c36_calls_without_their_payload_are_400() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c36"));
    for kind in [
        "ACCEPT",
        "DECLINE",
        "KILL",
        "SHUTDOWN",
        "MESSAGE",
        "REQUEST",
        "ACKNOWLEDGE",
    ] {
        let r = s.call(kind, None);
        assert_eq!(r.status(), 400, "{kind}: {}", r.text());
        assert!(
            r.text().starts_with("Failed to validate scheduler::Call"),
            "{kind}: {}",
            r.text()
        );
    }
}

#[test]
fn c37_accepted_calls_are_202_with_empty_body() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c37"));
    let offer = s.offers(WAIT).remove(0);
    let calls = [
        ("REVIVE", None),
        ("SUPPRESS", None),
        ("RECONCILE", Some(("reconcile", json!({})))),
        ("REQUEST", Some(("request", json!({"requests": []})))),
        (
            "DECLINE",
            Some(("decline", json!({"offer_ids": [{"value": offer.id.value}]}))),
        ),
        (
            "KILL",
            Some(("kill", json!({"task_id": {"value": "nope"}}))),
        ),
    ];
    for (kind, payload) in calls {
        let r = s.call(kind, payload);
        assert_eq!(r.status(), 202, "{kind}: {}", r.text());
        assert_eq!(r.header("Content-Length"), Some("0"), "{kind}");
        assert!(
            r.body.is_empty() && r.header("Content-Type").is_none(),
            "{kind}"
        );
    }
}

#[test]
fn c38_update_framework() {
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("c38"));
    let update = |info: Value, fw: &str| {
        s.post(
            &json!({"framework_id": {"value": fw}, "type": "UPDATE_FRAMEWORK",
                       "update_framework": {"framework_info": info}}),
        )
    };
    let mut info = framework("c38-renamed");
    info["id"] = json!({"value": s.framework_id});
    let r = update(info.clone(), &s.framework_id);
    assert_eq!(r.status(), 200, "{}", r.text());
    assert!(r.body.is_empty() && r.header("Content-Length") == Some("0"));
    for (key, value) in [
        ("user", json!("other")),
        ("principal", json!("p")),
        ("checkpoint", json!(true)),
    ] {
        let mut changed = info.clone();
        changed[key] = value;
        assert_eq!(
            update(changed, &s.framework_id).status(),
            400,
            "changing {key}"
        );
    }
    let mut other = info.clone();
    other["id"] = json!({"value": "another-id"});
    assert_eq!(
        update(other, &s.framework_id).status(),
        400,
        "framework_id mismatch"
    );
}

#[test]
fn c39_teardown_ends_stream_completes_framework_kills_tasks() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c39"));
    let pid_file = pidwatch::pid_file("c39");
    let cmd = pidwatch::pid_command(&pid_file);
    s.launch_one(|o| command_task("c39-t", &o.agent_id.value, &cmd));
    s.wait_state(WAIT, "c39-t", TaskState::TaskRunning);
    let pid = pidwatch::read_pid(&pid_file, WAIT);
    assert!(pidwatch::alive(pid));
    s.call_ok("TEARDOWN", None);
    assert_eq!(s.stream.wait_end(WAIT), End::Terminated);
    // The framework is gone: calls with its id and old stream id find nothing.
    let r = s.call("RECONCILE", Some(("reconcile", json!({"tasks": []}))));
    assert_eq!(
        (r.status(), r.text().as_str()),
        (400, "Framework cannot be found")
    );
    let state = e2e_tests::http::get(&addr, "/master/state").json();
    let completed = state["completed_frameworks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fw = completed
        .iter()
        .find(|f| f["id"] == s.framework_id.as_str())
        .expect("completed");
    let tasks = fw["completed_tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let t = tasks
        .iter()
        .find(|t| t["id"] == "c39-t")
        .expect("task among completed_tasks");
    assert_eq!(t["state"], "TASK_KILLED");
    assert!(
        pidwatch::gone_within(pid, WAIT),
        "the task process {pid} was killed"
    );
    let active = state["frameworks"].as_array().cloned().unwrap_or_default();
    assert!(active.iter().all(|f| f["id"] != s.framework_id.as_str()));
}

#[test]
fn c40_request_is_202_and_nothing_else() {
    let (_c, addr) = testcluster::start(0);
    let mut s = Sched::subscribe(&addr, framework("c40"));
    let r = s.call(
        "REQUEST",
        Some((
            "request",
            json!({"requests": [{"agent_id": {"value": "x"}}]}),
        )),
    );
    assert_eq!(r.status(), 202);
    let (events, end) = s.stream.collect_for(Duration::from_millis(300));
    assert!(end.is_none());
    assert!(
        events.iter().all(|e| e.r#type() == event::Type::Heartbeat),
        "{events:?}"
    );
}

/// §1.7 row 19: a dev master should answer `UNKNOWN` with 501 (Mesos 1.12 aborts instead,
/// which no client can rely on); it must at least not break the framework's stream.
#[test]
fn c37_type_unknown_answers_501() {
    let (_c, addr) = testcluster::start(0);
    let mut s = Sched::subscribe(&addr, framework("c37-unknown"));
    let r = s.call("UNKNOWN", None);
    assert_eq!(r.status(), 501, "{}", r.text());
    assert!(
        s.stream.collect_for(Duration::from_millis(200)).1.is_none(),
        "stream still open"
    );
}

/// c38: UPDATE_FRAMEWORK removing a role rescinds that role's outstanding offers.
#[test]
fn c38_update_framework_removing_a_role_rescinds_its_offers() {
    let (_c, addr) = testcluster::start(1);
    let mut info = json!({"user": "u", "name": "c38-roles", "roles": ["a"],
                          "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut s = Sched::subscribe(&addr, info.clone());
    let offer = s.offers(WAIT).remove(0);
    info["id"] = json!({"value": s.framework_id});
    info["roles"] = json!(["b"]);
    let r = s.post(
        &json!({"framework_id": {"value": s.framework_id}, "type": "UPDATE_FRAMEWORK",
                           "update_framework": {"framework_info": info}}),
    );
    assert_eq!(r.status(), 200, "{}", r.text());
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Rescind);
    assert_eq!(ev.rescind.unwrap().offer_id, offer.id);
    // And the new role gets offers.
    let o = s.offers(WAIT).remove(0);
    assert_eq!(o.allocation_info.and_then(|a| a.role).as_deref(), Some("b"));
}
