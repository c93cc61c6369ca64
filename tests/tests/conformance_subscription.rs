//! Conformance, scheduler subscription: checklist items 17-29 (§9).

use std::time::Duration;

use e2e_tests::http::{End, Next, open_stream};
use e2e_tests::sched::{SCHEDULER, Sched, WAIT, command_task, framework, subscribe_body};
use e2e_tests::{pidwatch, testcluster};
use mesos_proto::v1::TaskState;
use mesos_proto::v1::scheduler::{Event, event};
use serde_json::{Value, json};

/// Subscribes with a raw body and returns the stream's events until it closes.
fn subscribe_expect_error(addr: &str, body: &Value) -> (String, End) {
    let h = [("Content-Type", "application/json")];
    let mut s = open_stream::<Event>(addr, SCHEDULER, &h, body.to_string().as_bytes())
        .unwrap_or_else(|r| panic!("expected 200 + ERROR, got {}: {}", r.status(), r.text()));
    assert!(
        s.head.has("Mesos-Stream-Id"),
        "200-with-ERROR still carries a stream id"
    );
    let (ev, raw) = s.next_event(WAIT);
    assert_eq!(
        ev.r#type(),
        event::Type::Error,
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let v: Value = serde_json::from_slice(&raw).unwrap();
    let message = v["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_string();
    let end = s.wait_end(WAIT);
    (message, end)
}

#[test]
fn c17_subscribe_stream_headers_and_first_events() {
    let (c, addr) = testcluster::start(1);
    let h = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    let body = subscribe_body(&framework("c17")).to_string();
    let stream = open_stream::<Event>(&addr, SCHEDULER, &h, body.as_bytes()).expect("200");
    assert_eq!(stream.head.status, 200);
    assert_eq!(stream.head.header("Transfer-Encoding"), Some("chunked"));
    assert!(!stream.head.has("Content-Length"));
    assert!(stream.head.has("Date"));
    assert_eq!(stream.head.header("Content-Type"), Some("application/json"));
    let sid = stream
        .head
        .header("Mesos-Stream-Id")
        .expect("stream id")
        .to_string();
    assert!(!sid.is_empty() && sid.len() <= 128);
    let s = Sched::from_stream(&addr, stream);
    let sub = s.subscribed.subscribed.as_ref().unwrap();
    assert!(!sub.framework_id.value.is_empty());
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    let mi = sub.master_info.as_ref().expect("master_info");
    let port = addr.rsplit(':').next().unwrap().parse::<u32>().unwrap();
    assert_eq!(mi.port, port);
    assert_eq!(mi.address.as_ref().map(|a| a.port as u32), Some(port));
    assert!(!mi.id.is_empty());
    // The framework id has the Mesos shape `<master id>-<NNNN>`.
    assert!(
        sub.framework_id.value.starts_with(&format!("{}-", mi.id)),
        "{}",
        sub.framework_id.value
    );
    // MasterInfo equals what /master/state reports.
    let state = e2e_tests::http::get(&addr, "/master/state").json();
    assert_eq!(state["id"].as_str(), Some(mi.id.as_str()));
    assert_eq!(state["pid"].as_str(), mi.pid.as_deref());
    assert_eq!(state["hostname"].as_str(), mi.hostname.as_deref());
    assert_eq!(state["version"].as_str(), mi.version.as_deref());
    drop(c);
}

#[test]
fn c18_heartbeat_after_subscribed_and_periodically() {
    let (_c, addr) = testcluster::start_with(1, |cfg| {
        cfg.heartbeat_interval = Duration::from_millis(300);
    });
    let mut s = Sched::subscribe(&addr, framework("c18"));
    let announced = s
        .subscribed
        .subscribed
        .as_ref()
        .unwrap()
        .heartbeat_interval_seconds;
    assert_eq!(
        announced,
        Some(0.3),
        "SUBSCRIBED announces the interval in use"
    );
    // The first HEARTBEAT right after SUBSCRIBED (an OFFERS may overtake it).
    let mut first = Vec::new();
    loop {
        let (ev, raw) = s.stream.next_event(WAIT);
        first.push(ev.r#type());
        if ev.r#type() == event::Type::Heartbeat {
            assert_eq!(raw, br#"{"type":"HEARTBEAT"}"#);
            break;
        }
        assert_eq!(
            ev.r#type(),
            event::Type::Offers,
            "only OFFERS may come before it: {first:?}"
        );
    }
    // Then more, at the (shortened) announced interval.
    for _ in 0..2 {
        s.stream.wait_for(Duration::from_secs(5), |e| {
            e.r#type() == event::Type::Heartbeat
        });
    }
}

/// Parses RecordIO strictly: no leading zeros, no zero-length record, nothing between
/// records; returns the records.
fn strict_records(mut body: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let nl = body
            .iter()
            .position(|b| *b == b'\n')
            .expect("a length line");
        let digits = std::str::from_utf8(&body[..nl]).expect("ASCII length");
        assert!(
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            "{digits:?}"
        );
        assert!(
            digits == "0" || !digits.starts_with('0'),
            "leading zero in {digits:?}"
        );
        let n: usize = digits.parse().unwrap();
        assert!(n > 0, "zero-length record");
        let rest = &body[nl + 1..];
        if rest.len() < n {
            break; // the last record may still be in flight
        }
        out.push(rest[..n].to_vec());
        body = &rest[n..];
    }
    out
}

#[test]
fn c19_recordio_framing_is_exact() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c19"));
    s.offers(WAIT);
    let records = strict_records(&s.stream.raw_body());
    assert!(records.len() >= 2, "{records:?}");
    for r in &records {
        let v: Value = serde_json::from_slice(r).expect("each record is one JSON object");
        assert!(v["type"].is_string());
        assert_eq!(
            serde_json::to_vec(&v).unwrap().len(),
            r.len(),
            "compact JSON"
        );
    }
}

#[test]
fn c20_invalid_role_gets_error_event_and_close() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c20");
    info["role"] = json!("/test/test1");
    let (_, end) = subscribe_expect_error(&addr, &subscribe_body(&info));
    assert_eq!(end, End::Terminated);
    // §2.2 role name rules.
    for role in [
        "a//b", "a/", "a/./b", "a/../b", "-a", "a/-b", "a b", "a\tb", "", "a/*",
    ] {
        let mut info = framework("c20");
        info["role"] = json!(role);
        subscribe_expect_error(&addr, &subscribe_body(&info));
    }
    for role in ["*", "eng/frontend", "a.b", "x-y"] {
        let mut info = framework("c20-ok");
        info["role"] = json!(role);
        Sched::subscribe(&addr, info);
    }
}

#[test]
fn c21_framework_level_validation_errors() {
    let (_c, addr) = testcluster::start(0);
    let multi = json!([{"type": "MULTI_ROLE"}]);
    let cases = [
        // suppressed_roles not a subset of roles
        (
            json!({"user": "u", "name": "n", "roles": ["a"], "capabilities": multi}),
            Some(json!(["b"])),
        ),
        // MULTI_ROLE with `role`
        (
            json!({"user": "u", "name": "n", "role": "a", "capabilities": multi}),
            None,
        ),
        // `roles` without MULTI_ROLE
        (json!({"user": "u", "name": "n", "roles": ["a"]}), None),
        // duplicate roles
        (
            json!({"user": "u", "name": "n", "roles": ["a", "a"], "capabilities": multi}),
            None,
        ),
        // failover_timeout not representable in nanoseconds
        (
            json!({"user": "u", "name": "n", "failover_timeout": 1e300}),
            None,
        ),
        // an invalid framework id
        (
            json!({"user": "u", "name": "n", "id": {"value": "a/b"}}),
            None,
        ),
    ];
    for (info, suppressed) in cases {
        let mut body = subscribe_body(&info);
        if let Some(s) = suppressed {
            body["subscribe"]["suppressed_roles"] = s;
        }
        let (msg, end) = subscribe_expect_error(&addr, &body);
        assert!(matches!(end, End::Terminated), "{info}: {msg}");
    }
}

#[test]
fn c22_c23_resubscribe_keeps_id_with_a_new_stream_id() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c22");
    info["failover_timeout"] = json!(60.0);
    let s1 = Sched::subscribe(&addr, info.clone());
    let (id, sid1) = (s1.framework_id.clone(), s1.stream_id.clone());
    drop(s1);
    info["id"] = json!({"value": id});
    // The master may still be noticing the old connection: retry briefly on ERROR.
    let mut s2 = Sched::subscribe(&addr, info);
    assert_eq!(s2.framework_id, id);
    assert_ne!(
        s2.stream_id, sid1,
        "c23: every subscription gets a new stream id"
    );
    s2.stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Heartbeat);
}

#[test]
fn c24_second_subscription_fails_over_the_first() {
    let (_c, addr) = testcluster::start(1);
    let mut info = framework("c24");
    info["failover_timeout"] = json!(60.0);
    let mut s1 = Sched::subscribe(&addr, info.clone());
    s1.offers(WAIT);
    info["id"] = json!({"value": s1.framework_id});
    let mut s2 = Sched::subscribe(&addr, info);
    assert_eq!(s2.framework_id, s1.framework_id);
    // The outstanding offer is discarded silently: no RESCIND before the ERROR.
    let (ev, raw) = s1.stream.wait_for(WAIT, |e| {
        assert_ne!(e.r#type(), event::Type::Rescind, "no RESCIND on failover");
        e.r#type() == event::Type::Error
    });
    assert_eq!(
        ev.error.unwrap().message,
        "Framework failed over",
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(s1.stream.wait_end(WAIT), End::Terminated);
    // The resources are offered again on the new stream.
    assert!(!s2.offers(WAIT).is_empty());
    // The old stream id is now invalid.
    let r = s1.call("RECONCILE", Some(("reconcile", json!({}))));
    assert_eq!(r.status(), 400, "{}", r.text());
    assert_eq!(
        s2.call("RECONCILE", Some(("reconcile", json!({}))))
            .status(),
        202
    );
}

#[test]
fn c25_unknown_framework_id_is_adopted() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c25");
    info["id"] = json!({"value": "adopted-framework-0001"});
    let s = Sched::subscribe(&addr, info);
    assert_eq!(s.framework_id, "adopted-framework-0001");
}

#[test]
fn c26_torn_down_framework_cannot_resubscribe() {
    let (_c, addr) = testcluster::start(0);
    let mut s = Sched::subscribe(&addr, framework("c26"));
    s.call_ok("TEARDOWN", None);
    s.stream.wait_end(WAIT);
    let mut info = framework("c26");
    info["id"] = json!({"value": s.framework_id});
    let (msg, end) = subscribe_expect_error(&addr, &subscribe_body(&info));
    assert_eq!(msg, "Framework has been removed");
    assert_eq!(end, End::Terminated);
}

#[test]
fn c27_principal_change_refused_user_and_checkpoint_change_ignored() {
    let (_c, addr) = testcluster::start(0);
    let mut info = framework("c27");
    info["principal"] = json!("p1");
    info["failover_timeout"] = json!(60.0);
    let s = Sched::subscribe(&addr, info.clone());
    info["id"] = json!({"value": s.framework_id});
    let mut changed = info.clone();
    changed["principal"] = json!("p2");
    let (msg, _) = subscribe_expect_error(&addr, &subscribe_body(&changed));
    assert!(!msg.is_empty());
    let mut changed = info.clone();
    changed["user"] = json!("someone-else");
    changed["checkpoint"] = json!(true);
    let s2 = Sched::subscribe(&addr, changed);
    assert_eq!(s2.framework_id, s.framework_id);
    let state = e2e_tests::http::get(&addr, "/master/state").json();
    let fw = state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == s.framework_id.as_str());
    let fw = fw.expect("framework in /master/state");
    assert_eq!(fw["user"], "conformance", "old user kept");
    assert_eq!(fw["checkpoint"], false, "old checkpoint kept");
}

#[test]
fn c28_all_roles_suppressed_get_no_offers_until_revive() {
    let (_c, addr) = testcluster::start(1);
    let info = json!({"user": "u", "name": "c28", "roles": ["dev"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut body = subscribe_body(&info);
    body["subscribe"]["suppressed_roles"] = json!(["dev"]);
    let mut s = Sched::subscribe_raw(&addr, &[], &body);
    let (events, end) = s.stream.collect_for(Duration::from_millis(800));
    assert!(end.is_none());
    assert!(
        events.iter().all(|e| e.r#type() != event::Type::Offers),
        "{events:?}"
    );
    s.call_ok("REVIVE", Some(("revive", json!({"roles": ["dev"]}))));
    assert!(!s.offers(WAIT).is_empty());
}

#[test]
fn c29_failover_timeout_zero_removes_framework_positive_keeps_it() {
    let (_c, addr) = testcluster::start(1);
    // failover_timeout 0 (the default): closing the stream removes the framework and
    // kills its tasks.
    let mut s = Sched::subscribe(&addr, framework("c29-zero"));
    let pid_file = pidwatch::pid_file("c29");
    let cmd = pidwatch::pid_command(&pid_file);
    s.launch_one(|o| command_task("c29-t", &o.agent_id.value, &cmd));
    s.wait_state(WAIT, "c29-t", TaskState::TaskRunning);
    let pid = pidwatch::read_pid(&pid_file, WAIT);
    let id = s.framework_id.clone();
    drop(s);
    let mut gone = false;
    for _ in 0..100 {
        let state = e2e_tests::http::get(&addr, "/master/state").json();
        let completed = state["completed_frameworks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if completed.iter().any(|f| f["id"] == id.as_str()) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone, "framework removed at once");
    assert!(
        pidwatch::gone_within(pid, WAIT),
        "its task process {pid} was killed"
    );
    let mut info = framework("c29-zero");
    info["id"] = json!({"value": id});
    let (msg, _) = subscribe_expect_error(&addr, &subscribe_body(&info));
    assert_eq!(msg, "Framework has been removed");

    // A positive timeout: the framework comes back with its task.
    let mut info = framework("c29-keep");
    info["failover_timeout"] = json!(60.0);
    let mut s = Sched::subscribe(&addr, info.clone());
    s.launch_one(|o| command_task("c29-k", &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, "c29-k", TaskState::TaskRunning);
    info["id"] = json!({"value": s.framework_id});
    drop(s);
    std::thread::sleep(Duration::from_millis(200));
    let mut s = Sched::subscribe(&addr, info);
    s.call_ok("RECONCILE", Some(("reconcile", json!({}))));
    let (st, _) = s.update_for(WAIT, "c29-k");
    assert_eq!(st.state(), TaskState::TaskRunning);
    if let Next::End(e) = s.stream.next_within(Duration::from_millis(10)) {
        panic!("stream ended: {e:?}");
    }
}

/// c29: when a disconnected framework's failover timeout expires, it is removed: its
/// tasks are killed and its id can no longer subscribe.
#[test]
fn c29_failover_timeout_expiry_removes_the_framework() {
    let (_c, addr) = testcluster::start(1);
    let mut info = framework("c29-expiry");
    info["failover_timeout"] = json!(0.5);
    let mut s = Sched::subscribe(&addr, info.clone());
    let pid_file = pidwatch::pid_file("c29x");
    let cmd = pidwatch::pid_command(&pid_file);
    s.launch_one(|o| command_task("c29x-t", &o.agent_id.value, &cmd));
    s.wait_state(WAIT, "c29x-t", TaskState::TaskRunning);
    let pid = pidwatch::read_pid(&pid_file, WAIT);
    info["id"] = json!({"value": s.framework_id});
    drop(s);
    assert!(
        pidwatch::gone_within(pid, WAIT),
        "task killed once the timeout expired"
    );
    let (msg, _) = subscribe_expect_error(&addr, &subscribe_body(&info));
    assert_eq!(msg, "Framework has been removed");
}
