//! The driver against a scripted master: SUBSCRIBE, events dispatched in
//! order, automatic acknowledgements, calls with the stream id, JSON and
//! protobuf.

mod scheduler_peer;

use base64::Engine as _;
use mesos_client::{Error, Scheduler, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::ContentType;
use mesos_proto::v1::TaskStatus;
use mesos_proto::v1::scheduler::{Event, call};
use scheduler_peer::*;
use serde_json::json;

/// The canned stream every test here starts with.
fn script(events: Vec<String>) -> impl FnMut(&Request) -> Reply + Send + 'static {
    move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("stream-1", &events, After::Hold),
        _ => Reply::accepted(),
    }
}

#[test]
fn events_are_dispatched_in_order_and_only_uuid_updates_are_acknowledged() {
    let events = vec![
        subscribed(15.0),
        heartbeat(),
        offers(),
        update_with_uuid(),
        update_without_uuid(),
    ];
    let peer = Peer::start(script(events));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("update cmd-sleep TASK_RUNNING", StopMode::Teardown);

    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();

    assert_eq!(
        recorder.seen,
        [
            format!("subscribed {FRAMEWORK_ID}"),
            "heartbeat".into(),
            "offers 1".into(),
            "update cmd-ok TASK_RUNNING".into(),
            "update cmd-sleep TASK_RUNNING".into(),
        ]
    );

    let requests = peer.requests();
    let kinds: Vec<_> = requests.iter().map(Request::call_type).collect();
    // The DECLINE and the ACKNOWLEDGE go on connections of their own, so
    // either may arrive first (their order means nothing to Mesos);
    // TEARDOWN comes after both.
    let mut middle = kinds[1..kinds.len().min(3)].to_vec();
    middle.sort_unstable();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert_eq!((kinds[0], kinds[3]), ("SUBSCRIBE", "TEARDOWN"), "{kinds:?}");
    assert_eq!(middle, ["ACKNOWLEDGE", "DECLINE"], "{kinds:?}");
    let of = |kind: &str| {
        requests
            .iter()
            .find(|r| r.call_type() == kind)
            .unwrap_or_else(|| panic!("a {kind}"))
    };

    // SUBSCRIBE: JSON both ways, no stream id, no framework id yet.
    let subscribe = &requests[0];
    assert_eq!(subscribe.method, "POST");
    assert_eq!(subscribe.path, "/api/v1/scheduler");
    assert_eq!(subscribe.header("content-type"), Some("application/json"));
    assert_eq!(subscribe.header("accept"), Some("application/json"));
    assert_eq!(subscribe.header("mesos-stream-id"), None);
    let body = subscribe.json();
    assert_eq!(body["type"], "SUBSCRIBE");
    assert!(body.get("framework_id").is_none());
    assert_eq!(body["subscribe"]["framework_info"]["user"], "root");
    assert_eq!(body["subscribe"]["framework_info"]["name"], "fixtures-json");
    assert!(body["subscribe"]["framework_info"].get("id").is_none());

    // Calls go on keep-alive connections, never the stream's (§1.2): one for
    // the queued acknowledgements, one for every other call.
    let call_connections: std::collections::BTreeSet<usize> =
        requests[1..].iter().map(|r| r.connection).collect();
    assert!(!call_connections.contains(&subscribe.connection));
    assert!(call_connections.len() <= 2, "{call_connections:?}");

    // Every other call: the stream id header and the framework id.
    for request in &requests[1..] {
        assert_eq!(request.header("mesos-stream-id"), Some("stream-1"));
        assert_eq!(request.json()["framework_id"]["value"], FRAMEWORK_ID);
    }
    assert_eq!(
        of("DECLINE").json()["decline"],
        json!({"offer_ids": [{"value": "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-O0"}]})
    );
    // The one ACKNOWLEDGE, in the shape of the fixture `calls/acknowledge`.
    assert_eq!(
        of("ACKNOWLEDGE").json(),
        json!({
            "framework_id": {"value": FRAMEWORK_ID},
            "type": "ACKNOWLEDGE",
            "acknowledge": {
                "agent_id": {"value": AGENT_ID},
                "task_id": {"value": "cmd-ok"},
                "uuid": UPDATE_UUID
            }
        })
    );
    assert_eq!(requests[3].json()["type"], "TEARDOWN");
}

/// Acknowledges by hand, for both updates; only the one with a uuid goes out.
struct ManualAck {
    updates: usize,
}

impl Scheduler for ManualAck {
    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        handle.acknowledge(status).expect("acknowledge");
        self.updates += 1;
        if self.updates == 2 {
            handle.stop(StopMode::Failover);
        }
        Ok(())
    }
}

#[test]
fn without_auto_acknowledge_only_explicit_acks_are_sent() {
    let events = vec![subscribed(15.0), update_with_uuid(), update_without_uuid()];
    let peer = Peer::start(script(events));
    let mut config = fast_config(&peer.addr());
    config.auto_acknowledge = false;
    let driver = SchedulerDriver::new(config).unwrap();

    let (result, _) = run_with_deadline(driver, ManualAck { updates: 0 });
    result.unwrap();

    let requests = peer.requests();
    let acks = of_type(&requests, "ACKNOWLEDGE");
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].json()["acknowledge"]["task_id"]["value"], "cmd-ok");
    // Failover stop: no TEARDOWN.
    assert!(of_type(&requests, "TEARDOWN").is_empty());
}

#[test]
fn auto_acknowledge_off_sends_nothing_by_itself() {
    let events = vec![subscribed(15.0), update_with_uuid()];
    let peer = Peer::start(script(events));
    let mut config = fast_config(&peer.addr());
    config.auto_acknowledge = false;
    let driver = SchedulerDriver::new(config).unwrap();
    let recorder = Recorder::stopping_on("update cmd-ok TASK_RUNNING", StopMode::Failover);
    let (result, _) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert!(of_type(&peer.requests(), "ACKNOWLEDGE").is_empty());
}

#[test]
fn protobuf_mode_uses_protobuf_both_ways() {
    // The same events, protobuf-encoded, as the master sends them after
    // `Accept: application/x-protobuf` (fixtures `scheduler-protobuf/`).
    let mut body = Vec::new();
    for json in [subscribed(15.0), offers(), update_with_uuid()] {
        let event: Event = ContentType::Json.decode(json.as_bytes()).unwrap();
        body.extend(mesos_proto::recordio::encode(
            &ContentType::Protobuf.encode(&event),
        ));
    }
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::Stream {
            stream_id: "stream-pb".into(),
            content_type: ContentType::Protobuf,
            body: body.clone(),
            chunk_size: 5,
            after: After::Hold,
        },
        _ => Reply::accepted(),
    });
    let mut config = fast_config(&peer.addr());
    config.content_type = ContentType::Protobuf;
    let driver = SchedulerDriver::new(config).unwrap();
    let recorder = Recorder::stopping_on("update cmd-ok TASK_RUNNING", StopMode::Teardown);

    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(recorder.seen.len(), 3, "{:?}", recorder.seen);

    let requests = peer.requests();
    for request in &requests {
        assert_eq!(
            request.header("content-type"),
            Some("application/x-protobuf")
        );
    }
    assert_eq!(requests[0].header("accept"), Some("application/x-protobuf"));
    let acks = of_type(&requests, "ACKNOWLEDGE");
    assert_eq!(acks.len(), 1);
    let ack = acks[0].call();
    assert_eq!(ack.r#type(), call::Type::Acknowledge);
    assert_eq!(acks[0].header("mesos-stream-id"), Some("stream-pb"));
    let uuid = base64::engine::general_purpose::STANDARD
        .decode(UPDATE_UUID)
        .unwrap();
    let acknowledge = ack.acknowledge.unwrap();
    assert_eq!(acknowledge.uuid, uuid);
    assert_eq!(acknowledge.agent_id.value, AGENT_ID);
    assert_eq!(ack.framework_id.unwrap().value, FRAMEWORK_ID);
}

#[test]
fn undecodable_and_unknown_events_are_skipped() {
    let events = vec![
        subscribed(15.0),
        r#"{"type":"SOMETHING_NEW","something_new":{}}"#.to_string(),
        r#"{"type":"OFFERS","offers":{"offers":[{"id":7}]}}"#.to_string(),
        r#"{"type":"UPDATE"}"#.to_string(),
        heartbeat(),
    ];
    let peer = Peer::start(script(events));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("heartbeat", StopMode::Failover);
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [format!("subscribed {FRAMEWORK_ID}"), "heartbeat".into()]
    );
}

#[test]
fn calls_need_a_subscription_and_subscribe_is_not_a_call() {
    let peer = Peer::start(script(vec![]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let handle = driver.handle();
    assert!(matches!(
        handle.decline_offers(vec![], None),
        Err(Error::NotSubscribed)
    ));
    assert!(matches!(handle.reconcile_all(), Err(Error::NotSubscribed)));
    let mut subscribe = mesos_proto::v1::scheduler::Call::default();
    subscribe.set_type(call::Type::Subscribe);
    assert!(matches!(handle.call(subscribe), Err(Error::Config(_))));
    assert!(peer.requests().is_empty());
}

#[test]
fn a_refused_call_is_an_http_error_with_the_masters_reason() {
    let peer = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s", &[subscribed(15.0)], After::Hold),
        _ => Reply::status(400, "Failed to validate scheduler::Call: Not a valid UUID"),
    });
    struct BadCall(Option<Error>);
    impl Scheduler for BadCall {
        fn subscribed(
            &mut self,
            handle: &SchedulerHandle,
            _: &mesos_proto::v1::scheduler::event::Subscribed,
        ) -> mesos_client::Result<()> {
            self.0 = handle.revive(vec![]).err();
            handle.stop(StopMode::Failover);
            Ok(())
        }
    }
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, scheduler) = run_with_deadline(driver, BadCall(None));
    result.unwrap();
    match scheduler.0 {
        Some(Error::Http { status: 400, body }) => assert!(body.contains("Not a valid UUID")),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

#[test]
fn the_handle_can_be_shared_with_other_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<SchedulerHandle>();
}

/// Makes one call of every type from the `subscribed` callback.
struct EveryCall(Vec<mesos_client::Result<()>>);

impl Scheduler for EveryCall {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &mesos_proto::v1::scheduler::event::Subscribed,
    ) -> mesos_client::Result<()> {
        use mesos_proto::v1::*;
        let offer = OfferId { value: "O1".into() };
        let agent = AgentId {
            value: AGENT_ID.into(),
        };
        let task = TaskId { value: "t1".into() };
        let executor = ExecutorId { value: "e1".into() };
        let launch = TaskInfo {
            name: "t1".into(),
            task_id: task.clone(),
            agent_id: agent.clone(),
            command: Some(CommandInfo {
                value: Some("true".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let status = TaskStatus {
            task_id: task.clone(),
            agent_id: Some(agent.clone()),
            uuid: Some(mesos_proto::uuid::new_v4()),
            ..Default::default()
        };
        let operation = OperationStatus {
            operation_id: Some(OperationId {
                value: "op1".into(),
            }),
            agent_id: Some(agent.clone()),
            uuid: Some(Uuid {
                value: mesos_proto::uuid::new_v4(),
            }),
            ..Default::default()
        };
        let mut info = framework_info();
        info.name = "renamed".into();
        let whole_offer = Offer {
            id: offer.clone(),
            agent_id: agent.clone(),
            ..Default::default()
        };
        let group_executor = mesos_client::tasks::ExecutorBuilder::default_executor("g1").build();
        self.0 = vec![
            handle.launch(&whole_offer, vec![launch.clone()]),
            handle.launch_offers(vec![offer.clone()], vec![launch.clone()], None),
            handle.launch_group(&whole_offer, group_executor, vec![launch]),
            handle.decline(&whole_offer, 3600.0),
            handle.decline_offers(vec![offer.clone()], Some(3600.0)),
            handle.accept_inverse_offers(vec![offer.clone()], None),
            handle.decline_inverse_offers(vec![offer], None),
            handle.revive(vec!["*".into()]),
            handle.kill(&task),
            handle.kill_on(task.clone(), Some(agent.clone())),
            handle.shutdown(executor.clone(), agent.clone()),
            handle.acknowledge(&status),
            handle.acknowledge_operation_status(&operation),
            handle.reconcile(std::slice::from_ref(&task)),
            handle.reconcile_tasks(vec![call::reconcile::Task {
                task_id: task,
                agent_id: Some(agent.clone()),
            }]),
            handle.reconcile_all(),
            handle.reconcile_operations(vec![]),
            handle.message(agent, executor, b"hello".to_vec()),
            handle.request(vec![]),
            handle.suppress(vec![]),
            handle.update_framework(info, vec![]),
            handle.teardown(),
        ];
        Ok(())
    }
}

#[test]
fn every_call_type_goes_out_with_its_payload() {
    let peer = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s", &[subscribed(15.0)], After::Hold),
        // UPDATE_FRAMEWORK is answered synchronously with 200 (fact sheet §2.3).
        "UPDATE_FRAMEWORK" => Reply::status(200, ""),
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, calls) = run_with_deadline(driver, EveryCall(Vec::new()));
    result.unwrap();
    for (i, call) in calls.0.iter().enumerate() {
        assert!(call.is_ok(), "call #{i}: {call:?}");
    }

    let requests = peer.requests();
    // Acknowledgements are queued and may be overtaken by the calls that
    // wait for their answer; each group keeps its order, TEARDOWN comes last.
    let (acks, others): (Vec<&Request>, Vec<&Request>) = requests[1..]
        .iter()
        .partition(|r| r.call_type().starts_with("ACKNOWLEDGE"));
    let ack_kinds: Vec<_> = acks.iter().map(|r| r.call_type()).collect();
    assert_eq!(ack_kinds, ["ACKNOWLEDGE", "ACKNOWLEDGE_OPERATION_STATUS"]);
    assert_eq!(requests.last().map(Request::call_type), Some("TEARDOWN"));
    let bodies: Vec<_> = others.iter().map(|r| r.json()).collect();
    let kinds: Vec<_> = bodies
        .iter()
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "ACCEPT",
            "ACCEPT",
            "ACCEPT",
            "DECLINE",
            "DECLINE",
            "ACCEPT_INVERSE_OFFERS",
            "DECLINE_INVERSE_OFFERS",
            "REVIVE",
            "KILL",
            "KILL",
            "SHUTDOWN",
            "RECONCILE",
            "RECONCILE",
            "RECONCILE",
            "RECONCILE_OPERATIONS",
            "MESSAGE",
            "REQUEST",
            "SUPPRESS",
            "UPDATE_FRAMEWORK",
            "TEARDOWN",
        ]
    );
    for body in &bodies {
        assert_eq!(body["framework_id"]["value"], FRAMEWORK_ID, "{body}");
        // Every payload sits under the lower-cased type name (fact sheet §2.1).
        let kind = body["type"].as_str().unwrap();
        if kind != "TEARDOWN" && kind != "SUPPRESS" {
            assert!(body.get(kind.to_ascii_lowercase()).is_some(), "{body}");
        }
    }
    let launch = &bodies[0]["accept"];
    assert_eq!(launch["offer_ids"], json!([{"value": "O1"}]));
    assert_eq!(launch["operations"][0]["type"], "LAUNCH");
    assert_eq!(
        launch["operations"][0]["launch"]["task_infos"][0]["task_id"]["value"],
        "t1"
    );
    // launch(&offer, tasks) is launch_offers with the offer's id and no filters.
    assert_eq!(bodies[0], bodies[1]);
    let group = &bodies[2]["accept"]["operations"][0];
    assert_eq!(group["type"], "LAUNCH_GROUP");
    assert_eq!(group["launch_group"]["executor"]["type"], "DEFAULT");
    assert_eq!(
        group["launch_group"]["task_group"]["tasks"][0]["task_id"]["value"],
        "t1"
    );
    for decline in [&bodies[3], &bodies[4]] {
        assert_eq!(decline["decline"]["offer_ids"], json!([{"value": "O1"}]));
        assert_eq!(
            decline["decline"]["filters"],
            json!({"refuse_seconds": 3600.0})
        );
    }
    assert_eq!(bodies[7]["revive"], json!({"roles": ["*"]}));
    assert!(bodies[8]["kill"].get("agent_id").is_none(), "{}", bodies[8]);
    assert_eq!(bodies[9]["kill"]["agent_id"]["value"], AGENT_ID);
    // The operation uuid goes out raw (base64), not wrapped (fact sheet §10).
    let ack_operation = acks[1].json();
    assert_eq!(ack_operation["framework_id"]["value"], FRAMEWORK_ID);
    assert!(ack_operation["acknowledge_operation_status"]["uuid"].is_string());
    assert_eq!(
        ack_operation["acknowledge_operation_status"]["operation_id"],
        json!({"value": "op1"})
    );
    // reconcile(&[ids]): tasks by id only; the master finds their agents.
    assert_eq!(
        bodies[11]["reconcile"],
        json!({"tasks": [{"task_id": {"value": "t1"}}]})
    );
    assert_eq!(
        bodies[12]["reconcile"]["tasks"][0]["agent_id"]["value"],
        AGENT_ID
    );
    // Implicit reconciliation still needs the (empty) object (fact sheet §2.1).
    assert_eq!(bodies[13]["reconcile"], json!({}));
    assert_eq!(bodies[15]["message"]["data"], "aGVsbG8=");
    // UPDATE_FRAMEWORK needs framework_info.id = framework_id (fact sheet §10).
    let update = &bodies[18]["update_framework"]["framework_info"];
    assert_eq!(update["id"]["value"], FRAMEWORK_ID);
    assert_eq!(update["name"], "renamed");
}

/// Tears the framework down from inside `update`, as a finished job does.
struct TearDownOnFirstUpdate;

impl Scheduler for TearDownOnFirstUpdate {
    fn update(
        &mut self,
        handle: &SchedulerHandle,
        _status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        handle.teardown().unwrap();
        Ok(())
    }
}

#[test]
fn no_acknowledgement_follows_a_teardown_made_in_update() {
    // The master forgets a torn-down framework, so acknowledging the update
    // afterwards could only earn a 400 "Framework cannot be found".
    let peer = Peer::start(script(vec![subscribed(15.0), update_with_uuid()]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, _) = run_with_deadline(driver, TearDownOnFirstUpdate);
    result.unwrap();
    let kinds: Vec<_> = peer
        .requests()
        .iter()
        .map(|r| r.call_type().to_string())
        .collect();
    assert_eq!(kinds, ["SUBSCRIBE", "TEARDOWN"]);
}

/// Fails its `update` callback with a given error, and counts the calls.
struct FailingUpdate {
    error: fn() -> Error,
    updates: usize,
}

impl Scheduler for FailingUpdate {
    fn update(
        &mut self,
        handle: &SchedulerHandle,
        _status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        self.updates += 1;
        if self.updates == 2 {
            handle.stop(StopMode::Failover);
        }
        Err((self.error)())
    }
}

#[test]
fn an_error_of_the_framework_from_a_callback_ends_run_with_it_unacknowledged() {
    let peer = Peer::start(script(vec![
        subscribed(15.0),
        update_with_uuid(),
        heartbeat(),
    ]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let failing = FailingUpdate {
        error: || Error::other(std::io::Error::other("my bookkeeping broke")),
        updates: 0,
    };
    let (result, failing) = run_with_deadline(driver, failing);
    match result {
        Err(Error::Other(err)) => assert_eq!(err.to_string(), "my bookkeeping broke"),
        other => panic!("expected the callback's own error, got {other:?}"),
    }
    assert_eq!(failing.updates, 1);
    // Not handled, so not acknowledged (the agent sends it again), and no
    // TEARDOWN: the framework stays registered, as after a crash.
    let kinds: Vec<_> = peer
        .requests()
        .iter()
        .map(|r| r.call_type().to_string())
        .collect();
    assert_eq!(kinds, ["SUBSCRIBE"]);
}

#[test]
fn a_lost_connection_from_a_callback_is_logged_and_the_driver_goes_on() {
    let peer = Peer::start(script(vec![
        subscribed(15.0),
        update_with_uuid(),
        update_without_uuid(),
    ]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let failing = FailingUpdate {
        error: || Error::NotSubscribed,
        updates: 0,
    };
    let (result, failing) = run_with_deadline(driver, failing);
    result.unwrap();
    // The second update still came: `run` went on after the first error.
    assert_eq!(failing.updates, 2);
    let kinds: Vec<_> = peer
        .requests()
        .iter()
        .map(|r| r.call_type().to_string())
        .collect();
    assert_eq!(kinds, ["SUBSCRIBE"], "a failed update is not acknowledged");
}

#[test]
fn a_refused_call_from_a_callback_is_logged_and_the_driver_goes_on() {
    // A 400 as Mesos gives a call on a stream another scheduler has just taken over.
    let failing = FailingUpdate {
        error: || Error::Http {
            status: 400,
            body: "stream id mismatch".into(),
        },
        updates: 0,
    };
    let peer = Peer::start(script(vec![
        subscribed(15.0),
        update_with_uuid(),
        update_without_uuid(),
    ]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, failing) = run_with_deadline(driver, failing);
    result.unwrap();
    assert_eq!(failing.updates, 2, "run went on after the refusal");
}

#[test]
fn many_events_come_in_order_and_a_stop_overtakes_those_already_read() {
    // More events than the driver hands over at once (they arrive together,
    // so they are read ahead in batches): all in the stream's order, and
    // none dispatched after the callback that asked to stop.
    let mut events = vec![subscribed(15.0)];
    events.extend((0..100u8).map(|n| update_numbered(&format!("t{n}"), n)));
    events.push(heartbeat());
    let peer = Peer::start(script(events));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("update t40 TASK_RUNNING", StopMode::Failover);

    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();

    let mut expected = vec![format!("subscribed {FRAMEWORK_ID}")];
    expected.extend((0..=40).map(|n| format!("update t{n} TASK_RUNNING")));
    assert_eq!(recorder.seen, expected);
    // Each dispatched update acknowledged once, in order, before `run`
    // returned; none of the others.
    let acked: Vec<String> = of_type(&peer.requests(), "ACKNOWLEDGE")
        .iter()
        .map(|r| {
            r.json()["acknowledge"]["task_id"]["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: Vec<String> = (0..=40).map(|n| format!("t{n}")).collect();
    assert_eq!(acked, expected);
}
