//! Conformance, executor endpoint on the agent: checklist items 64-78 (§9).
//!
//! The agent runs a placeholder process as the custom executor; the test speaks the
//! executor API with the ids the scheduler chose (see `e2e_tests::exec`).

use std::collections::BTreeMap;
use std::time::Duration;

use e2e_tests::exec::{EXECUTOR, Exec, PLACEHOLDER, envelope, post_json, update_body};
use e2e_tests::http::{self, End, Next, open_stream};
use e2e_tests::sched::{Sched, WAIT, agent_addr, b64, executor_task, framework};
use e2e_tests::testcluster;
use mesos_proto::ContentType;
use mesos_proto::v1::executor::{Call, Event, call, event};
use mesos_proto::v1::{ExecutorId, FrameworkId};
use serde_json::{Value, json};

/// A framework with one task launched on custom executor `exec_id` running `cmd`; the
/// executor is not subscribed yet. Returns the framework and the agent's `host:port`.
fn launch(addr: &str, name: &str, exec_id: &str, cmd: &str) -> (Sched, String) {
    let mut s = Sched::subscribe(addr, framework(name));
    let offer = s
        .launch_one(|o| executor_task(&format!("{exec_id}-task"), &o.agent_id.value, exec_id, cmd));
    (s, agent_addr(&offer))
}

/// Any agent's `host:port` (for checks that need no executor).
fn any_agent(c: &devcluster::Cluster) -> String {
    http::host_port(&c.agent_urls()[0])
}

fn assert_status(r: &http::Response, status: u16, body: &str) {
    assert_eq!((r.status(), r.text().as_str()), (status, body));
}

#[test]
fn c64_no_content_type_is_400() {
    let (c, _) = testcluster::start(1);
    let body = envelope("fw", "ex", "HEARTBEAT").to_string();
    let r = http::post(&any_agent(&c), EXECUTOR, &[], body.as_bytes());
    assert_status(&r, 400, "Expecting 'Content-Type' to be present");
}

#[test]
fn c65_json_that_is_not_a_call_is_400() {
    let (c, _) = testcluster::start(1);
    let r = post_json(&any_agent(&c), &json!({"string": "valid_json"}));
    assert_eq!(r.status(), 400, "{}", r.text());
}

#[test]
fn c66_malformed_body_is_400_unknown_media_type_is_415() {
    let (c, _) = testcluster::start(1);
    let agent = any_agent(&c);
    for ct in ["application/json", "application/x-protobuf"] {
        let r = http::post(
            &agent,
            EXECUTOR,
            &[("Content-Type", ct)],
            b"MALFORMED_CONTENT",
        );
        assert_eq!(r.status(), 400, "{ct}: {}", r.text());
    }
    let body = envelope("fw", "ex", "HEARTBEAT").to_string();
    let h = [("Content-Type", "application/unknown-media-type")];
    let r = http::post(&agent, EXECUTOR, &h, body.as_bytes());
    assert_status(
        &r,
        415,
        "Expecting 'Content-Type' of application/json or application/x-protobuf",
    );
}

#[test]
fn c67_message_for_unknown_framework_is_400() {
    let (c, _) = testcluster::start(1);
    let mut body = envelope("no-such-framework", "ex", "MESSAGE");
    body["message"] = json!({"data": b64(b"x")});
    assert_status(
        &post_json(&any_agent(&c), &body),
        400,
        "Framework cannot be found",
    );
}

#[test]
fn c67_message_for_unknown_executor_is_400_unknown_type_is_501() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c67", "c67-e", PLACEHOLDER);
    drop(Exec::subscribe(&agent, &s.framework_id, "c67-e"));
    let mut body = envelope(&s.framework_id, "no-such-executor", "MESSAGE");
    body["message"] = json!({"data": b64(b"x")});
    assert_status(&post_json(&agent, &body), 400, "Executor cannot be found");
    let r = post_json(&agent, &envelope(&s.framework_id, "c67-e", "UNKNOWN"));
    assert_eq!(r.status(), 501, "{}", r.text());
}

#[test]
fn c68_get_is_405_with_allow_post() {
    let (c, _) = testcluster::start(1);
    let r = http::get(&any_agent(&c), EXECUTOR);
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("Allow"), Some("POST"));
}

fn executor_subscribe(
    agent: &str,
    fw: &str,
    ex: &str,
    accept: Option<&str>,
) -> Result<e2e_tests::http::EventStream<Event>, http::Response> {
    let mut body = envelope(fw, ex, "SUBSCRIBE");
    body["subscribe"] = json!({});
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = accept {
        h.push(("Accept", a));
    }
    open_stream::<Event>(agent, EXECUTOR, &h, body.to_string().as_bytes())
}

#[test]
fn c69_subscribe_accept_negotiation() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c69", "c69-e", PLACEHOLDER);
    let r = executor_subscribe(&agent, &s.framework_id, "c69-e", Some("foo"))
        .err()
        .expect("406");
    assert_eq!(r.status(), 406, "{}", r.text());
    // Wait until the executor is known, then subscribe with `*/*` and with no Accept.
    drop(Exec::subscribe(&agent, &s.framework_id, "c69-e"));
    for accept in [Some("*/*"), None] {
        let st = executor_subscribe(&agent, &s.framework_id, "c69-e", accept)
            .unwrap_or_else(|r| panic!("{accept:?}: {} {}", r.status(), r.text()));
        assert_eq!(
            st.head.header("Content-Type"),
            Some("application/json"),
            "{accept:?}"
        );
    }
    // A protobuf executor: protobuf SUBSCRIBE body and protobuf records.
    let mut sub = Call {
        executor_id: ExecutorId {
            value: "c69-e".into(),
        },
        framework_id: FrameworkId {
            value: s.framework_id.clone(),
        },
        subscribe: Some(call::Subscribe::default()),
        ..Default::default()
    };
    sub.set_type(call::Type::Subscribe);
    let pb = ContentType::Protobuf;
    let h = [("Content-Type", pb.mime()), ("Accept", pb.mime())];
    let mut st = open_stream::<Event>(&agent, EXECUTOR, &h, &pb.encode(&sub))
        .unwrap_or_else(|r| panic!("protobuf: {} {}", r.status(), r.text()));
    assert_eq!(st.head.header("Content-Type"), Some(pb.mime()));
    assert_eq!(st.next_event(WAIT).0.r#type(), event::Type::Subscribed);
}

#[test]
fn c70_missing_payloads_are_400_even_for_unknown_ids() {
    let (c, _) = testcluster::start(1);
    let agent = any_agent(&c);
    for (kind, field) in [
        ("SUBSCRIBE", "subscribe"),
        ("UPDATE", "update"),
        ("MESSAGE", "message"),
    ] {
        let r = post_json(&agent, &envelope("no-such-fw", "no-such-ex", kind));
        assert_status(
            &r,
            400,
            &format!("Failed to validate Executor::Call: Expecting '{field}' to be present"),
        );
    }
}

#[test]
fn c71_update_validation() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c71", "c71-e", PLACEHOLDER);
    let x = Exec::subscribe(&agent, &s.framework_id, "c71-e");
    let fw = s.framework_id.clone();
    let base = || update_body(&fw, "c71-e", "c71-e-task", "TASK_RUNNING").0;
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut b = base();
    b["update"]["status"]["executor_id"] = json!({"value": "someone-else"});
    cases.push(("executor_id mismatch", b));
    let mut b = base();
    b["update"]["status"]["uuid"] = json!(b64(b"not-a-uuid"));
    cases.push(("uuid not 16 bytes", b));
    let mut b = base();
    b["update"]["status"]["uuid"] = json!(b64(&[0u8; 16]));
    cases.push(("uuid version 0", b));
    let mut b = base();
    b["update"]["status"]["state"] = json!("TASK_STAGING");
    cases.push(("TASK_STAGING", b));
    let mut b = base();
    b["update"]["status"]["source"] = json!("SOURCE_MASTER");
    cases.push(("SOURCE_MASTER", b));
    let mut b = base();
    b["update"]["status"]
        .as_object_mut()
        .unwrap()
        .remove("uuid");
    cases.push(("no uuid", b));
    let mut b = base();
    b["update"]["status"]
        .as_object_mut()
        .unwrap()
        .remove("source");
    cases.push(("no source", b));
    for (what, body) in cases {
        let r = post_json(&x.addr, &body);
        assert_eq!(r.status(), 400, "{what}: {}", r.text());
        assert!(
            r.text().starts_with("Failed to validate Executor::Call: "),
            "{what}: {}",
            r.text()
        );
    }
    // The valid one passes.
    assert_eq!(post_json(&x.addr, &base()).status(), 202);
}

#[test]
fn c73_subscribe_response_and_subscribed_event() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c73", "c73-e", PLACEHOLDER);
    let x = Exec::subscribe(&agent, &s.framework_id, "c73-e");
    let head = &x.stream.head;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(head.header("Content-Type"), Some("application/json"));
    assert!(!head.has("Mesos-Stream-Id") && !head.has("Content-Length"));
    let (ev, raw) = &x.subscribed;
    let v: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(
        v["subscribed"]["executor_info"]["executor_id"]["value"],
        "c73-e"
    );
    assert_eq!(
        v["subscribed"]["framework_info"]["id"]["value"],
        s.framework_id.as_str()
    );
    assert!(
        v["subscribed"]["container_id"]["value"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(v["subscribed"]["agent_info"]["hostname"].is_string());
    assert_eq!(ev.r#type(), event::Type::Subscribed);
}

#[test]
fn c74_launch_follows_subscribed_and_no_early_heartbeat() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c74", "c74-e", PLACEHOLDER);
    let mut x = Exec::subscribe(&agent, &s.framework_id, "c74-e");
    let (ev, _) = x.stream.next_event(WAIT);
    assert_eq!(
        ev.r#type(),
        event::Type::Launch,
        "LAUNCH right after SUBSCRIBED"
    );
    assert_eq!(ev.launch.unwrap().task.task_id.value, "c74-e-task");
    let (events, _) = x.stream.collect_for(Duration::from_secs(1));
    assert!(
        events.iter().all(|e| e.r#type() != event::Type::Heartbeat),
        "{events:?}"
    );
}

#[test]
fn c75_heartbeat_call_is_202_in_both_encodings() {
    let (c, addr) = testcluster::start(1);
    // HEARTBEAT is answered before any lookup: unknown ids are fine.
    let r = post_json(
        &any_agent(&c),
        &envelope("no-such-fw", "no-such-ex", "HEARTBEAT"),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
    let (s, agent) = launch(&addr, "c75", "c75-e", PLACEHOLDER);
    let x = Exec::subscribe(&agent, &s.framework_id, "c75-e");
    assert_eq!(
        post_json(&x.addr, &envelope(&s.framework_id, "c75-e", "HEARTBEAT")).status(),
        202
    );
    let mut hb = Call {
        executor_id: ExecutorId {
            value: "c75-e".into(),
        },
        framework_id: FrameworkId {
            value: s.framework_id.clone(),
        },
        ..Default::default()
    };
    hb.set_type(call::Type::Heartbeat);
    let pb = ContentType::Protobuf;
    let r = http::post(
        &x.addr,
        EXECUTOR,
        &[("Content-Type", pb.mime())],
        &pb.encode(&hb),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
}

#[test]
fn c76_call_before_subscribe_is_403() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c76", "c76-e", PLACEHOLDER);
    let mut body = envelope(&s.framework_id, "c76-e", "MESSAGE");
    body["message"] = json!({"data": b64(b"too early")});
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = post_json(&agent, &body);
        // 400 while the agent has not created the executor yet.
        if r.status() == 400 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(30));
            continue;
        }
        assert_status(&r, 403, "Executor is not subscribed");
        break;
    }
}

#[test]
fn c77_second_subscribe_closes_the_first_stream_without_error() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent) = launch(&addr, "c77", "c77-e", PLACEHOLDER);
    let mut first = Exec::subscribe(&agent, &s.framework_id, "c77-e");
    let second = Exec::subscribe(&agent, &s.framework_id, "c77-e");
    loop {
        match first.stream.next_within(WAIT) {
            Next::Event(ev, _) => assert_ne!(ev.r#type(), event::Type::Error),
            Next::End(End::Terminated | End::Closed(_)) => break,
            Next::Timeout => panic!("first stream still open"),
        }
    }
    assert_eq!(second.message(b"still here").status(), 202);
}

/// Launches a custom executor whose process writes its environment to a file first;
/// returns the framework, the agent's `host:port` and the environment.
fn executor_env(
    addr: &str,
    info: Value,
    exec_id: &str,
) -> (Sched, String, BTreeMap<String, String>) {
    let out =
        std::env::temp_dir().join(format!("conformance-{exec_id}-{}.env", std::process::id()));
    let cmd = format!(
        "env > {}.tmp && mv {0}.tmp {0} && {PLACEHOLDER}",
        out.display()
    );
    let mut s = Sched::subscribe(addr, info);
    let offer = s.launch_one(|o| {
        executor_task(&format!("{exec_id}-task"), &o.agent_id.value, exec_id, &cmd)
    });
    let deadline = std::time::Instant::now() + WAIT;
    while !out.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "executor never wrote its environment"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let env = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (s, agent_addr(&offer), env)
}

#[test]
fn c78_executor_environment_and_path_aliases() {
    let (_c, addr) = testcluster::start(1);
    let (s, agent, env) = executor_env(&addr, framework("c78"), "c78-e");
    let text = format!("{env:#?}");
    for key in [
        "MESOS_FRAMEWORK_ID",
        "MESOS_EXECUTOR_ID",
        "MESOS_DIRECTORY",
        "MESOS_SANDBOX",
        "MESOS_AGENT_ENDPOINT",
        "MESOS_SLAVE_PID",
        "MESOS_SLAVE_ID",
        "MESOS_CHECKPOINT",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
    ] {
        assert!(
            env.get(key).is_some_and(|v| !v.is_empty()),
            "{key} missing: {text}"
        );
    }
    assert_eq!(env["MESOS_FRAMEWORK_ID"], s.framework_id);
    assert_eq!(env["MESOS_EXECUTOR_ID"], "c78-e");
    assert_eq!(env["MESOS_AGENT_ENDPOINT"], agent);
    assert_eq!(env["MESOS_SLAVE_PID"], format!("slave(1)@{agent}"));
    assert_eq!(env["MESOS_CHECKPOINT"], "0");
    // Both paths serve the executor API (the C++ library uses the `slave(1)` one).
    let mut body = envelope(&s.framework_id, "c78-e", "SUBSCRIBE");
    body["subscribe"] = json!({});
    for path in [
        "/slave(1)/api/v1/executor",
        "/slave%281%29/api/v1/executor",
        EXECUTOR,
    ] {
        let h = [("Content-Type", "application/json")];
        let mut st = open_stream::<Event>(&agent, path, &h, body.to_string().as_bytes())
            .unwrap_or_else(|r| panic!("{path}: {} {}", r.status(), r.text()));
        assert_eq!(
            st.next_event(WAIT).0.r#type(),
            event::Type::Subscribed,
            "{path}"
        );
    }
}

/// §3.7: with checkpointing the recovery variables are added; the grace period is a Mesos
/// duration string; the agent's own environment is not passed through.
#[test]
fn c78_checkpointing_executor_environment() {
    let (_c, addr) = testcluster::start(1);
    let mut info = framework("c78-cp");
    info["checkpoint"] = json!(true);
    let (_s, _, env) = executor_env(&addr, info, "c78-cp-e");
    let get = |k: &str| env.get(k).map(String::as_str);
    assert_eq!(get("MESOS_CHECKPOINT"), Some("1"));
    assert_eq!(get("MESOS_RECOVERY_TIMEOUT"), Some("15mins"));
    assert_eq!(get("MESOS_SUBSCRIPTION_BACKOFF_MAX"), Some("2secs"));
    assert_eq!(get("MESOS_HTTP_COMMAND_EXECUTOR"), Some("0"));
    assert_eq!(get("LIBPROCESS_PORT"), Some("0"));
    assert_eq!(get("LIBPROCESS_IP"), Some("127.0.0.1"));
    assert_eq!(get("MESOS_DIRECTORY"), get("MESOS_SANDBOX"));
    // A Mesos duration string (the test cluster's grace period is 2 s).
    assert_eq!(get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"), Some("2secs"));
    assert!(get("PATH").is_some(), "a default PATH");
    let leaked: Vec<&String> = env.keys().filter(|k| k.starts_with("CARGO")).collect();
    assert!(
        leaked.is_empty(),
        "agent environment leaked into the executor: {leaked:?}"
    );
}
