//! Protobuf clients (mesos-go's default codec): every body and every event in
//! `application/x-protobuf`, through a whole scheduler and executor lifecycle. Calls are
//! written as JSON for readability and converted to protobuf before they hit the wire.

use e2e_tests::exec::{EXECUTOR, PLACEHOLDER};
use e2e_tests::http::{self, End, open_stream};
use e2e_tests::sched::{
    SCHEDULER, Sched, WAIT, agent_addr, b64, command_task, executor_task, subscribe_body,
};
use e2e_tests::testcluster;
use mesos_proto::ContentType;
use mesos_proto::v1::TaskState;
use mesos_proto::v1::executor::{self as xapi, event as xevent};
use mesos_proto::v1::scheduler::{Call, Event, event};
use serde_json::{Value, json};

const PB: ContentType = ContentType::Protobuf;

fn call_pb(v: &Value) -> Call {
    mesos_proto::json::from_value(v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn post(s: &Sched, kind: &str, payload: Option<(&str, Value)>) -> http::Response {
    let mut body = json!({"framework_id": {"value": s.framework_id}, "type": kind});
    if let Some((k, v)) = payload {
        body[k] = v;
    }
    s.post_pb(&call_pb(&body))
}

#[test]
fn c11_protobuf_scheduler_full_lifecycle() {
    let (_c, addr) = testcluster::start(1);
    let sub = call_pb(&subscribe_body(
        &json!({"user": "pb", "name": "pb-lifecycle"}),
    ));
    let h = [("Content-Type", PB.mime()), ("Accept", PB.mime())];
    let stream = open_stream::<Event>(&addr, SCHEDULER, &h, &PB.encode(&sub))
        .unwrap_or_else(|r| panic!("{} {}", r.status(), r.text()));
    assert_eq!(stream.head.header("Content-Type"), Some(PB.mime()));
    let mut s = Sched::from_stream(&addr, stream);
    let offer = s.offers(WAIT).remove(0);
    let accept = json!({
        "offer_ids": [{"value": offer.id.value}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [
            command_task("pb-task", &offer.agent_id.value, "echo from-pb-task")
        ]}}]
    });
    let r = post(&s, "ACCEPT", Some(("accept", accept)));
    assert_eq!(r.status(), 202, "{}", r.text());
    let mut states = Vec::new();
    loop {
        let (st, raw) = s.update_for(WAIT, "pb-task");
        assert!(
            serde_json::from_slice::<Value>(&raw).is_err(),
            "binary records"
        );
        states.push(st.state());
        let uuid = st.uuid.clone().expect("executor updates carry a uuid");
        let ack = json!({"agent_id": {"value": offer.agent_id.value},
                         "task_id": {"value": "pb-task"}, "uuid": b64(&uuid)});
        assert_eq!(
            post(&s, "ACKNOWLEDGE", Some(("acknowledge", ack))).status(),
            202
        );
        if st.state() == TaskState::TaskFinished {
            assert_eq!(st.message.as_deref(), Some("Command exited with status 0"));
            break;
        }
    }
    assert_eq!(
        states,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );
    assert_eq!(post(&s, "TEARDOWN", None).status(), 202);
    assert_eq!(s.stream.wait_end(WAIT), End::Terminated);
}

#[test]
fn c73_protobuf_executor_subscribe_update_and_events() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, json!({"user": "pb", "name": "pb-exec"}));
    let offer = s.launch_one(|o| executor_task("pbx-t", &o.agent_id.value, "pbx-e", PLACEHOLDER));
    let agent = agent_addr(&offer);
    let fw = s.framework_id.clone();
    let envelope = |kind: &str| json!({"framework_id": {"value": fw}, "executor_id": {"value": "pbx-e"}, "type": kind});
    let mut sub = envelope("SUBSCRIBE");
    sub["subscribe"] = json!({});
    let sub: xapi::Call = mesos_proto::json::from_value(&sub).unwrap();
    let h = [("Content-Type", PB.mime()), ("Accept", PB.mime())];
    let deadline = std::time::Instant::now() + WAIT;
    let mut x = loop {
        match open_stream::<xapi::Event>(&agent, EXECUTOR, &h, &PB.encode(&sub)) {
            Ok(x) => break x,
            Err(r) if r.status() == 400 && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(r) => panic!("{} {}", r.status(), r.text()),
        }
    };
    assert_eq!(x.head.header("Content-Type"), Some(PB.mime()));
    assert_eq!(x.next_event(WAIT).0.r#type(), xevent::Type::Subscribed);
    assert_eq!(x.next_event(WAIT).0.r#type(), xevent::Type::Launch);
    let uuid = mesos_proto::uuid::new_v4();
    let mut update = envelope("UPDATE");
    update["update"] = json!({"status": {"task_id": {"value": "pbx-t"}, "state": "TASK_RUNNING",
                                         "source": "SOURCE_EXECUTOR", "uuid": b64(&uuid)}});
    let update: xapi::Call = mesos_proto::json::from_value(&update).unwrap();
    let r = http::post(
        &agent,
        EXECUTOR,
        &[("Content-Type", PB.mime())],
        &PB.encode(&update),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
    let (ack, _) = x.wait_for(WAIT, |e| e.r#type() == xevent::Type::Acknowledged);
    assert_eq!(ack.acknowledged.unwrap().uuid, uuid);
    let (st, _) = s.update_for(WAIT, "pbx-t");
    assert_eq!(st.uuid.as_ref(), Some(&uuid));
    // An executor MESSAGE in protobuf: `data` is field 2 of Call.Message.
    let mut msg = envelope("MESSAGE");
    msg["message"] = json!({"data": b64(b"pb-hello")});
    let msg: xapi::Call = mesos_proto::json::from_value(&msg).unwrap();
    let r = http::post(
        &agent,
        EXECUTOR,
        &[("Content-Type", PB.mime())],
        &PB.encode(&msg),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Message);
    assert_eq!(ev.message.unwrap().data, b"pb-hello");
}
