//! Conformance checklist §9, executor endpoint (items 64-78).

mod common;

use common::*;
use mesos_proto::v1::executor::event::Type as ExecEvent;
use serde_json::json;

/// A cluster with one custom executor launched (process `cmd`), not yet subscribed.
fn with_executor(cmd: &str) -> (devcluster::Cluster, Stream, String, String) {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("exec-tests"));
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![executor_task("t1", "ex1", &o, cmd)]);
    let agent = agent_url(&c, &o.agent_id.value);
    let fw = s.framework_id.clone();
    eventually(5, || !c.running_pids().is_empty());
    (c, s, agent, fw)
}

#[test]
fn c64_c66_c68_http_layer() {
    let c = cluster(1);
    let agent = c.agent_urls()[0].clone();
    let body = br#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"HEARTBEAT"}"#;
    let r = request(&agent, "POST", "/api/v1/executor", &[], body);
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "Expecting 'Content-Type' to be present")
    );
    let r = request(
        &agent,
        "POST",
        "/api/v1/executor",
        &[("Content-Type", "application/unknown-media-type")],
        body,
    );
    assert_eq!(r.status, 415);
    for ct in ["application/json", "application/x-protobuf"] {
        let r = request(
            &agent,
            "POST",
            "/api/v1/executor",
            &[("Content-Type", ct)],
            b"MALFORMED",
        );
        assert_eq!(r.status, 400);
    }
    for path in ["/api/v1/executor", "/slave(1)/api/v1/executor"] {
        let r = request(&agent, "GET", path, &[], b"");
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("POST"));
    }
}

#[test]
fn c65_valid_json_not_a_call() {
    let c = cluster(1);
    let r = request(
        &c.agent_urls()[0],
        "POST",
        "/api/v1/executor",
        &[("Content-Type", "application/json")],
        br#"{"string":"valid_json"}"#,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn c67_c70_c75_lookups_and_validation() {
    let c = cluster(1);
    let a = c.agent_urls()[0].clone();
    let r = exec_call(
        &a,
        "nofw",
        "noex",
        "MESSAGE",
        Some(("message", json!({"data":"eA=="}))),
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "Framework cannot be found")
    );
    for kind in ["SUBSCRIBE", "UPDATE", "MESSAGE"] {
        let r = exec_call(&a, "nofw", "noex", kind, None);
        assert_eq!(r.status, 400, "{kind}");
        assert!(
            r.text()
                .starts_with("Failed to validate Executor::Call: Expecting"),
            "{}",
            r.text()
        );
    }
    let r = exec_call(&a, "nofw", "noex", "HEARTBEAT", None);
    assert_eq!(r.status, 202);
}

#[test]
fn c69_c73_c74_c76_c77_subscribe() {
    let (_c, _s, agent, fw) = with_executor("sleep 60");
    // c76: calls before SUBSCRIBE are refused.
    let r = exec_call(
        &agent,
        &fw,
        "ex1",
        "MESSAGE",
        Some(("message", json!({"data":"eA=="}))),
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "Executor is not subscribed")
    );
    let r = exec_call(
        &agent,
        &fw,
        "nope",
        "MESSAGE",
        Some(("message", json!({"data":"eA=="}))),
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "Executor cannot be found")
    );
    // c69: Accept: foo -> 406.
    let body = json!({"executor_id":{"value":"ex1"},"framework_id":{"value":fw},"type":"SUBSCRIBE","subscribe":{}}).to_string();
    let r = request(
        &agent,
        "POST",
        "/api/v1/executor",
        &[("Content-Type", "application/json"), ("Accept", "foo")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 406);
    let mut ex = exec_subscribe(&agent, &fw, "ex1");
    assert_eq!(ex.status, 200);
    assert_eq!(ex.header("Content-Type"), Some("application/json"));
    assert_eq!(ex.header("Transfer-Encoding"), Some("chunked"));
    assert!(ex.header("Mesos-Stream-Id").is_none());
    let sub = ex.next_exec().unwrap();
    assert_eq!(sub.r#type(), ExecEvent::Subscribed);
    let sub = sub.subscribed.unwrap();
    assert_eq!(sub.executor_info.executor_id.value, "ex1");
    assert!(sub.container_id.is_some());
    assert_eq!(sub.framework_info.id.unwrap().value, fw);
    assert_eq!(ex.next_exec().unwrap().r#type(), ExecEvent::Launch);
    // c77: a second SUBSCRIBE closes the first stream without ERROR.
    let mut ex2 = exec_subscribe(&agent, &fw, "ex1");
    assert_eq!(ex2.next_exec().unwrap().r#type(), ExecEvent::Subscribed);
    assert!(ex.next_exec().is_none());
    // The alias path works too.
    let r = request(
        &agent,
        "POST",
        "/slave(1)/api/v1/executor",
        &[("Content-Type", "application/json")],
        json!({"executor_id":{"value":"ex1"},"framework_id":{"value":fw},"type":"HEARTBEAT"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 202);
}

#[test]
fn c71_update_validation() {
    let (_c, _s, agent, fw) = with_executor("sleep 60");
    let mut ex = exec_subscribe(&agent, &fw, "ex1");
    ex.next_exec();
    let up = |status: serde_json::Value| {
        exec_call(
            &agent,
            &fw,
            "ex1",
            "UPDATE",
            Some(("update", json!({"status": status}))),
        )
    };
    let uuid = "P46cGitNTm+KG5wNLj9KWw==";
    let cases = [
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":uuid,"executor_id":{"value":"other"}}),
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"bm90LWEtdXVpZA=="}),
        json!({"task_id":{"value":"t1"},"state":"TASK_STAGING","source":"SOURCE_EXECUTOR","uuid":uuid}),
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_MASTER","uuid":uuid}),
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","uuid":uuid}),
        json!({"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR"}),
    ];
    for st in cases {
        let r = up(st.clone());
        assert_eq!(r.status, 400, "{st}: {}", r.text());
    }
    let r = up(
        json!({"task_id":{"value":"t1"},"state":"TASK_STAGING","source":"SOURCE_EXECUTOR","uuid":uuid}),
    );
    assert!(r.text().contains("TASK_STAGING"), "{}", r.text());
}

#[test]
fn executor_heartbeat_is_202_before_lookups() {
    // HEARTBEAT is answered before any framework/executor lookup (§1.7 executor row 9).
    let c = cluster(1);
    let r = exec_call(&c.agent_urls()[0], "f", "e", "HEARTBEAT", None);
    assert_eq!(r.status, 202);
}

#[test]
fn c78_executor_environment() {
    let (c, _s, _agent, fw) = with_executor("env > env.txt; sleep 60");
    let dir = c
        .work_dir()
        .join("slaves")
        .join(&c.agent_ids()[0])
        .join("frameworks")
        .join(&fw)
        .join("executors")
        .join("ex1")
        .join("runs");
    let run = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut env = String::new();
    eventually(5, || {
        env = std::fs::read_to_string(run.join("env.txt")).unwrap_or_default();
        env.contains("PATH=")
    });
    for var in [
        "MESOS_FRAMEWORK_ID=",
        "MESOS_EXECUTOR_ID=ex1",
        "MESOS_DIRECTORY=",
        "MESOS_SANDBOX=",
        "MESOS_AGENT_ENDPOINT=127.0.0.1:",
        "MESOS_SLAVE_PID=slave(1)@127.0.0.1:",
        "MESOS_SLAVE_ID=",
        "MESOS_CHECKPOINT=0",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=2secs",
        "MESOS_HTTP_COMMAND_EXECUTOR=0",
        "LIBPROCESS_PORT=0",
    ] {
        assert!(
            env.lines().any(|l| l.starts_with(var)),
            "{var} missing in {env}"
        );
    }
    assert!(
        !env.lines().any(|l| l.starts_with("HOME=")),
        "agent environment leaked"
    );
}

#[test]
fn executor_exit_gives_failure_and_failed_tasks() {
    let (_c, mut s, _agent, _fw) = with_executor("sleep 0.3; exit 3");
    let f = s
        .wait_type(10, mesos_proto::v1::scheduler::event::Type::Failure)
        .failure
        .unwrap();
    assert_eq!(f.executor_id.unwrap().value, "ex1");
    assert_eq!(f.status, Some(768));
}

#[test]
fn registration_timeout_kills_silent_executor() {
    let mut cfg = devcluster::ClusterConfig::for_tests(1);
    cfg.executor_registration_timeout = std::time::Duration::from_millis(500);
    let c = devcluster::Cluster::start(cfg).unwrap();
    let mut s = subscribe(&c.master_url(), framework("reg"));
    let o = s.offers(5).remove(0);
    launch(&s, &o, vec![executor_task("t1", "ex1", &o, "sleep 60")]);
    let st = s
        .wait_for(10, |e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.state() == mesos_proto::v1::TaskState::TaskFailed)
        })
        .update
        .unwrap()
        .status;
    assert_eq!(
        st.reason(),
        mesos_proto::v1::task_status::Reason::ReasonExecutorRegistrationTimeout
    );
}

#[test]
fn c72_subscribe_before_recovery_is_503() {
    let mut cfg = devcluster::ClusterConfig::for_tests(1);
    cfg.agent_recovery_delay = std::time::Duration::from_millis(800);
    let c = devcluster::Cluster::start(cfg).unwrap();
    let a = c.agent_urls()[0].clone();
    let r = exec_call(&a, "f", "e", "SUBSCRIBE", Some(("subscribe", json!({}))));
    assert_eq!(
        (r.status, r.text().as_str()),
        (503, "Agent has not finished recovery")
    );
    eventually(5, || {
        exec_call(&a, "f", "e", "SUBSCRIBE", Some(("subscribe", json!({})))).status == 400
    });
}
