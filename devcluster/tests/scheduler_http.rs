//! Conformance checklist §9, scheduler endpoint, HTTP layer and subscription
//! (items 2-29) and other calls (30-40).

mod common;

use common::*;
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::event;
use serde_json::json;

const RECONCILE: &str =
    r#"{"framework_id":{"value":"x"},"type":"RECONCILE","reconcile":{"tasks":[]}}"#;

#[test]
fn c2_no_content_type_is_400() {
    let c = cluster(0);
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[],
        RECONCILE.as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), "Expecting 'Content-Type' to be present");
}

#[test]
fn c3_json_that_is_not_a_call_is_400() {
    let c = cluster(0);
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        br#"{"string":"valid_json"}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Expecting 'type' to be present"
    );
}

#[test]
fn c4_malformed_body_is_400() {
    let c = cluster(0);
    for ct in ["application/json", "application/x-protobuf"] {
        let r = request(
            &c.master_url(),
            "POST",
            "/api/v1/scheduler",
            &[("Content-Type", ct)],
            b"MALFORMED_CONTENT",
        );
        assert_eq!(r.status, 400, "{ct}");
    }
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    assert!(
        r.text().starts_with("Failed to parse body into JSON: "),
        "{}",
        r.text()
    );
}

#[test]
fn c5_c6_unknown_media_types_are_415() {
    let c = cluster(0);
    let body = subscribe_body(framework("c5")).to_string();
    for ct in [
        "application/unknown-media-type",
        "application/json; charset=utf-8",
        "text/plain",
    ] {
        let r = request(
            &c.master_url(),
            "POST",
            "/api/v1/scheduler",
            &[("Content-Type", ct)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 415, "{ct}");
        assert_eq!(
            r.text(),
            "Expecting 'Content-Type' of application/json or application/x-protobuf"
        );
    }
}

#[test]
fn c7_get_is_405_with_allow() {
    let c = cluster(0);
    let r = request(&c.master_url(), "GET", "/api/v1/scheduler", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("POST"));
    assert_eq!(
        r.text(),
        "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'."
    );
}

#[test]
fn c8_accept_foo_is_406() {
    let c = cluster(0);
    let body = subscribe_body(framework("c8")).to_string();
    for accept in ["foo", "text/html", "application/recordio"] {
        let r = request(
            &c.master_url(),
            "POST",
            "/api/v1/scheduler",
            &[("Content-Type", "application/json"), ("Accept", accept)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 406, "{accept}");
    }
}

#[test]
fn c9_c10_c11_accept_negotiation() {
    let c = cluster(0);
    let body = subscribe_body(framework("c9")).to_string();
    let cases: [(Option<&str>, &str); 4] = [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/x-protobuf"), "application/x-protobuf"),
        (
            Some("application/x-protobuf, application/json"),
            "application/json",
        ),
    ];
    for (accept, want) in cases {
        let mut h = vec![("Content-Type", "application/json")];
        if let Some(a) = accept {
            h.push(("Accept", a));
        }
        let mut s = subscribe_raw(&c.master_url(), &h, body.as_bytes());
        assert_eq!(s.status, 200);
        assert_eq!(s.header("Content-Type"), Some(want));
        let e = s.next().expect("event");
        assert_eq!(e.r#type(), event::Type::Subscribed);
    }
}

#[test]
fn c11_protobuf_subscribe_body_and_events() {
    let c = cluster(1);
    let body: mesos_proto::v1::scheduler::Call =
        mesos_proto::json::from_value(&subscribe_body(framework("pb"))).unwrap();
    let bytes = ContentType::Protobuf.encode(&body);
    let mut s = subscribe_raw(
        &c.master_url(),
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Accept", "application/x-protobuf"),
        ],
        &bytes,
    );
    assert_eq!(s.header("Content-Type"), Some("application/x-protobuf"));
    assert_eq!(s.next().unwrap().r#type(), event::Type::Subscribed);
    s.offers(5);
}

#[test]
fn c12_subscribe_with_stream_id_is_400() {
    let c = cluster(0);
    let body = subscribe_body(framework("c12")).to_string();
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", "x"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Subscribe calls should not include the 'Mesos-Stream-Id' header"
    );
}

#[test]
fn c13_framework_id_mismatch_is_400() {
    let c = cluster(0);
    let body = json!({"type":"SUBSCRIBE","framework_id":{"value":"a"},"subscribe":{"framework_info":{"user":"u","name":"n"}}});
    assert_eq!(post(&c.master_url(), None, &body).status, 400);
    let body = json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","id":{"value":"a"}}}});
    assert_eq!(post(&c.master_url(), None, &body).status, 400);
}

#[test]
fn c14_missing_user_or_name_is_400() {
    let c = cluster(0);
    for info in [json!({"name":"n"}), json!({"user":"u"})] {
        let body = json!({"type":"SUBSCRIBE","subscribe":{"framework_info": info}});
        assert_eq!(post(&c.master_url(), None, &body).status, 400);
    }
}

#[test]
fn c16_aliases_and_trailing_slash() {
    let c = cluster(0);
    let body = subscribe_body(framework("c16")).to_string();
    for path in [
        "/master/api/v1/scheduler",
        "/api/v1/scheduler/",
        "/master/api/v1/scheduler/",
    ] {
        let r = request(&c.master_url(), "GET", path, &[], body.as_bytes());
        assert_eq!(r.status, 405, "{path}");
    }
    let r = request(&c.master_url(), "GET", "/no/such/path", &[], b"");
    assert_eq!(r.status, 404);
}

#[test]
fn c17_subscribe_stream_headers() {
    let c = cluster(0);
    let body = subscribe_body(framework("c17")).to_string();
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s.status, 200);
    assert_eq!(s.header("Transfer-Encoding"), Some("chunked"));
    assert!(s.header("Content-Length").is_none());
    assert_eq!(s.stream_id.len(), 36);
    let e = s.next().unwrap();
    let sub = e.subscribed.unwrap();
    assert!(sub.framework_id.value.ends_with("-0000"));
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    let mi = sub.master_info.unwrap();
    assert_eq!(mi.version.as_deref(), Some("1.12.0"));
    assert_eq!(mi.ip, 16777343);
    assert!(sub.framework_id.value.starts_with(&mi.id));
}

#[test]
fn c18_heartbeat_follows_subscribed() {
    let mut cfg = devcluster::ClusterConfig::for_tests(0);
    cfg.heartbeat_interval = std::time::Duration::from_millis(300);
    let c = devcluster::Cluster::start(cfg).unwrap();
    let mut s = subscribe(&c.master_url(), framework("c18"));
    assert_eq!(s.next().unwrap().r#type(), event::Type::Heartbeat);
    let t = std::time::Instant::now();
    assert_eq!(s.next().unwrap().r#type(), event::Type::Heartbeat);
    assert!(t.elapsed() >= std::time::Duration::from_millis(200));
}

#[test]
fn c19_recordio_framing() {
    let c = cluster(1);
    let body = subscribe_body(framework("c19")).to_string();
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    for _ in 0..3 {
        let r = s.next_raw().unwrap().unwrap();
        assert!(!r.is_empty());
        assert!(
            r.starts_with(b"{\"type\":\""),
            "{}",
            String::from_utf8_lossy(&r)
        );
        assert!(!r.ends_with(b"\n"));
    }
}

#[test]
fn c20_c21_invalid_framework_gets_error_event() {
    let c = cluster(0);
    let cases = [
        json!({"user":"u","name":"n","role":"/test/test1"}),
        json!({"user":"u","name":"n","roles":["a"]}),
        json!({"user":"u","name":"n","role":"a","roles":["a"],"capabilities":[{"type":"MULTI_ROLE"}]}),
        json!({"user":"u","name":"n","roles":["a","a"],"capabilities":[{"type":"MULTI_ROLE"}]}),
    ];
    for info in cases {
        let body = subscribe_body(info).to_string();
        let mut s = subscribe_raw(
            &c.master_url(),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(s.status, 200);
        assert!(!s.stream_id.is_empty());
        let e = s.next().unwrap();
        assert_eq!(e.r#type(), event::Type::Error);
        assert!(s.next().is_none(), "stream closes after ERROR");
    }
    let body = subscribe_body(json!({"user":"u","name":"n","role":"/test/test1"})).to_string();
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    let e = s.next().unwrap();
    assert_eq!(
        e.error.unwrap().message,
        "'FrameworkInfo.role' is not a valid role: Role '/test/test1' cannot start with a slash"
    );
    // Suppressed roles must be among the roles.
    let body = json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"},"suppressed_roles":["x"]}});
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(s.next().unwrap().r#type(), event::Type::Error);
}

#[test]
fn c22_c23_resubscribe_keeps_id_new_stream_id() {
    let c = cluster(0);
    let s1 = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","failover_timeout":60.0}),
    );
    let id = s1.framework_id.clone();
    let sid1 = s1.stream_id.clone();
    drop(s1);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let mut s2 = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","id":{"value":id},"failover_timeout":60.0}),
    );
    assert_eq!(s2.framework_id, id);
    assert_ne!(s2.stream_id, sid1);
    assert_eq!(s2.next().unwrap().r#type(), event::Type::Heartbeat);
}

#[test]
fn c24_second_subscription_fails_over_the_first() {
    let c = cluster(0);
    let mut s1 = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","failover_timeout":60.0}),
    );
    let id = s1.framework_id.clone();
    let _s2 = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","id":{"value":id},"failover_timeout":60.0}),
    );
    let e = s1.wait_type(5, event::Type::Error);
    assert_eq!(e.error.unwrap().message, "Framework failed over");
    assert!(s1.next().is_none());
    // The old stream id is no longer valid.
    let r = call(&s1, "REVIVE", None);
    assert_eq!(r.status, 400);
}

#[test]
fn c25_unknown_id_is_adopted() {
    let c = cluster(0);
    let s = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","id":{"value":"made-up-id"}}),
    );
    assert_eq!(s.framework_id, "made-up-id");
}

#[test]
fn c26_removed_framework_cannot_subscribe() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c26"));
    assert_eq!(call(&s, "TEARDOWN", None).status, 202);
    let id = s.framework_id.clone();
    let body = subscribe_body(json!({"user":"u","name":"n","id":{"value":id}})).to_string();
    let mut s2 = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s2.status, 200);
    assert_eq!(
        s2.next().unwrap().error.unwrap().message,
        "Framework has been removed"
    );
    assert!(s2.next().is_none());
}

#[test]
fn c27_principal_change_is_refused_user_change_ignored() {
    let c = cluster(0);
    let s = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","principal":"p","failover_timeout":60.0}),
    );
    let id = s.framework_id.clone();
    let body = subscribe_body(json!({"user":"u","name":"n","principal":"other","id":{"value":id}}))
        .to_string();
    let mut s2 = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s2.next().unwrap().r#type(), event::Type::Error);
    let _s3 = subscribe(
        &c.master_url(),
        json!({"user":"changed","name":"n","principal":"p","id":{"value":id}}),
    );
    let state = request(&c.master_url(), "GET", "/master/state", &[], b"").json();
    assert_eq!(state["frameworks"][0]["user"], "u");
}

#[test]
fn c29_failover_timeout_zero_removes_framework() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c29"));
    let id = s.framework_id.clone();
    drop(s);
    eventually(5, || {
        let st = request(&c.master_url(), "GET", "/master/state", &[], b"").json();
        st["completed_frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id.as_str())
    });
}

#[test]
fn c30_c31_stream_id_checks() {
    let c = cluster(0);
    let s = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","failover_timeout":60.0}),
    );
    let body = json!({"framework_id":{"value":s.framework_id},"type":"TEARDOWN"});
    let r = post(&c.master_url(), None, &body);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
    );
    let old = s.stream_id.clone();
    let _s2 = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","id":{"value":s.framework_id},"failover_timeout":60.0}),
    );
    let r = post(&c.master_url(), Some(&old), &body);
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with(&format!(
        "The stream ID '{old}' included in this request didn't match"
    )));
}

#[test]
fn c32_c33_unknown_and_disconnected_frameworks() {
    let c = cluster(0);
    let body = json!({"framework_id":{"value":"nope"},"type":"REVIVE"});
    let r = post(&c.master_url(), Some("x"), &body);
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "Framework cannot be found")
    );
    let s = subscribe(
        &c.master_url(),
        json!({"user":"u","name":"n","failover_timeout":60.0}),
    );
    let id = s.framework_id.clone();
    let sid = s.stream_id.clone();
    drop(s);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let body = json!({"framework_id":{"value":id},"type":"REVIVE"});
    let r = post(&c.master_url(), Some(&sid), &body);
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "Framework is not subscribed")
    );
    let r = post(&c.master_url(), Some(&sid), &json!({"type":"REVIVE"}));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
    );
}

#[test]
fn c34_invalid_uuid() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c34"));
    let ackb = |uuid: &str| json!({"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":uuid});
    let r = call(
        &s,
        "ACKNOWLEDGE",
        Some(("acknowledge", ackb("YmFkLXV1aWQ="))),
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "Failed to validate scheduler::Call: Not a valid UUID")
    );
    let r = call(
        &s,
        "ACKNOWLEDGE",
        Some(("acknowledge", ackb("AAAAAAAAAAAAAAAAAAAAAA=="))),
    );
    assert_eq!(r.status, 400);
    let r = call(&s, "ACKNOWLEDGE", Some(("acknowledge", ackb("bad-uuid"))));
    assert_eq!(r.status, 400);
    assert!(
        r.text()
            .starts_with("Failed to convert JSON into Call protobuf: "),
        "{}",
        r.text()
    );
}

#[test]
fn c35_c36_c37_payloads_and_202() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c35"));
    let r = call(&s, "RECONCILE", None);
    assert_eq!(
        (r.status, r.text().as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'reconcile' to be present"
        )
    );
    for kind in [
        "ACCEPT", "DECLINE", "KILL", "SHUTDOWN", "MESSAGE", "REQUEST",
    ] {
        assert_eq!(call(&s, kind, None).status, 400, "{kind}");
    }
    let r = call(&s, "RECONCILE", Some(("reconcile", json!({}))));
    assert_eq!(r.status, 202);
    assert_eq!(r.header("Content-Length"), Some("0"));
    assert!(r.header("Content-Type").is_none());
    assert!(r.body.is_empty());
    for (kind, payload) in [
        ("REVIVE", None),
        ("SUPPRESS", None),
        (
            "DECLINE",
            Some(("decline", json!({"offer_ids":[{"value":"x"}]}))),
        ),
        (
            "ACCEPT_INVERSE_OFFERS",
            Some(("accept_inverse_offers", json!({"inverse_offer_ids":[]}))),
        ),
        (
            "DECLINE_INVERSE_OFFERS",
            Some(("decline_inverse_offers", json!({"inverse_offer_ids":[]}))),
        ),
        (
            "RECONCILE_OPERATIONS",
            Some(("reconcile_operations", json!({}))),
        ),
    ] {
        assert_eq!(call(&s, kind, payload).status, 202, "{kind}");
    }
}

#[test]
fn c38_update_framework() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c38"));
    let mut info = framework("c38-renamed");
    info["id"] = json!({"value": s.framework_id});
    let r = call(
        &s,
        "UPDATE_FRAMEWORK",
        Some(("update_framework", json!({"framework_info": info.clone()}))),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.is_empty());
    let mut bad = info.clone();
    bad["user"] = json!("someone-else");
    assert_eq!(
        call(
            &s,
            "UPDATE_FRAMEWORK",
            Some(("update_framework", json!({"framework_info": bad})))
        )
        .status,
        400
    );
    let mut other = info;
    other["id"] = json!({"value": "other"});
    assert_eq!(
        call(
            &s,
            "UPDATE_FRAMEWORK",
            Some(("update_framework", json!({"framework_info": other})))
        )
        .status,
        400
    );
}

#[test]
fn c39_teardown_ends_stream_and_completes_framework() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("c39"));
    let offers = s.offers(5);
    assert_eq!(
        launch(
            &s,
            &offers[0],
            vec![command_task("sleepy", &offers[0], "sleep 30")]
        )
        .status,
        202
    );
    wait_state(
        &mut s,
        10,
        "sleepy",
        mesos_proto::v1::TaskState::TaskRunning,
    );
    assert_eq!(call(&s, "TEARDOWN", None).status, 202);
    // The stream ends cleanly (chunked terminator).
    loop {
        match s.next_raw() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!("stream broke: {e}"),
        }
    }
    let st = request(&c.master_url(), "GET", "/master/state", &[], b"").json();
    let done = &st["completed_frameworks"][0];
    assert_eq!(done["id"], s.framework_id.as_str());
    assert_eq!(done["completed_tasks"][0]["state"], "TASK_KILLED");
    eventually(10, || c.running_pids().is_empty());
}

#[test]
fn c40_request_is_a_noop() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("c40"));
    assert_eq!(
        call(&s, "REQUEST", Some(("request", json!({"requests": []})))).status,
        202
    );
}

#[test]
fn unknown_type_answers_501() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("u"));
    assert_eq!(call(&s, "UNKNOWN", None).status, 501);
}
