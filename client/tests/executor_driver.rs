//! The executor driver against a scripted loopback agent.
//!
//! The fake agent is a std `TcpListener` on 127.0.0.1:0 that speaks just
//! enough HTTP/1.1: calls get `202 Accepted` and are handed to the test;
//! a SUBSCRIBE gets a chunked `200 OK` (or a scripted error status) and its
//! socket is handed to the test, which writes RecordIO events into it.
//! Events are the real ones captured from Mesos 1.12
//! (`fixtures/mesos-1.12/executor/run1-launch/events/`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use crossbeam_channel::{Receiver, Sender, unbounded};
use mesos_client::executor::ExecutorEnv;
use mesos_client::{Executor, ExecutorDriver, ExecutorHandle};
use mesos_proto::ContentType;
use mesos_proto::v1::executor::{Call, Event, event};
use mesos_proto::v1::{TaskId, TaskInfo, TaskState};
use serde_json::{Value, json};

const FRAMEWORK: &str = "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-0000";
const EXECUTOR: &str = "py-exec-1";
/// Every wait in these tests: long enough never to fail on a slow machine,
/// short enough that a bug fails instead of hanging.
const WAIT: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/mesos-1.12/executor/run1-launch")
        .join(name)
}

fn fixture_json(name: &str) -> Value {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

// ---------------------------------------------------------------- fake agent

/// One non-SUBSCRIBE request as the agent saw it.
struct Request {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An accepted SUBSCRIBE: the request, and the socket to stream events on.
struct Subscription {
    request: Request,
    stream: TcpStream,
    content_type: ContentType,
}

impl Subscription {
    /// Writes one event as one RecordIO record in one HTTP chunk.
    fn send(&mut self, event: &Event) {
        let record = mesos_proto::recordio::encode(&self.content_type.encode(event));
        let mut chunk = format!("{:x}\r\n", record.len()).into_bytes();
        chunk.extend_from_slice(&record);
        chunk.extend_from_slice(b"\r\n");
        self.stream.write_all(&chunk).unwrap();
    }

    fn send_json(&mut self, event: Value) {
        let event: Event = mesos_proto::json::from_value(&event).unwrap();
        self.send(&event);
    }

    /// Ends the stream the way Mesos does (chunked terminator), then closes.
    fn close(mut self) {
        let _ = self.stream.write_all(b"0\r\n\r\n");
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.request.body).unwrap()
    }
}

struct FakeAgent {
    endpoint: String,
    calls: Receiver<Request>,
    subscriptions: Receiver<Subscription>,
    /// Statuses for the next SUBSCRIBEs (popped in order; empty = 200).
    subscribe_script: Arc<Mutex<VecDeque<u16>>>,
}

impl FakeAgent {
    fn start() -> FakeAgent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let (call_tx, calls) = unbounded();
        let (sub_tx, subscriptions) = unbounded();
        let subscribe_script = Arc::new(Mutex::new(VecDeque::new()));
        let script = subscribe_script.clone();
        // The accept thread ends with the test process; it owns no resources
        // beyond the listening socket.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (call_tx, sub_tx, script) = (call_tx.clone(), sub_tx.clone(), script.clone());
                thread::spawn(move || serve(stream, call_tx, sub_tx, script));
            }
        });
        FakeAgent {
            endpoint,
            calls,
            subscriptions,
            subscribe_script,
        }
    }

    fn subscription(&self) -> Subscription {
        self.subscriptions
            .recv_timeout(WAIT)
            .expect("the executor did not subscribe")
    }

    fn call(&self) -> Request {
        self.calls.recv_timeout(WAIT).expect("no call arrived")
    }

    /// The next call that is not a HEARTBEAT, as JSON.
    fn call_json(&self) -> Value {
        loop {
            let request = self.call();
            let value: Value = serde_json::from_slice(&request.body).unwrap();
            if value["type"] != "HEARTBEAT" {
                return value;
            }
        }
    }

    fn env(&self, extra: &[(&str, &str)]) -> ExecutorEnv {
        let mut vars = vec![
            ("MESOS_FRAMEWORK_ID", FRAMEWORK),
            ("MESOS_EXECUTOR_ID", EXECUTOR),
            ("MESOS_AGENT_ENDPOINT", self.endpoint.as_str()),
            ("MESOS_DIRECTORY", "/tmp/sandbox"),
            ("MESOS_CHECKPOINT", "0"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "3secs"),
        ];
        vars.extend_from_slice(extra);
        ExecutorEnv::from_vars(vars).unwrap()
    }
}

/// Serves one connection: any number of calls, or one SUBSCRIBE.
fn serve(
    stream: TcpStream,
    calls: Sender<Request>,
    subs: Sender<Subscription>,
    script: Arc<Mutex<VecDeque<u16>>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        let content_type = request
            .header("Content-Type")
            .and_then(ContentType::from_mime)
            .unwrap_or(ContentType::Json);
        let call: Call = content_type.decode(&request.body).unwrap();
        if call.r#type() == mesos_proto::v1::executor::call::Type::Subscribe {
            let status = script.lock().unwrap().pop_front().unwrap_or(200);
            if status != 200 {
                let body = "scripted failure";
                write!(
                    out,
                    "HTTP/1.1 {status} Nope\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                continue;
            }
            write!(
                out,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: {}\r\n\r\n",
                content_type.mime()
            )
            .unwrap();
            let _ = subs.send(Subscription {
                request,
                stream: out,
                content_type,
            });
            return;
        }
        let _ = calls.send(request);
        if out
            .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request { headers, body })
}

// ------------------------------------------------------- a recording executor

/// Records every callback; answers LAUNCH with TASK_RUNNING; keeps a handle
/// so the test can look at the driver's books.
#[derive(Clone, Default)]
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
    handle: Arc<Mutex<Option<ExecutorHandle>>>,
}

impl Recorder {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn push(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }
    fn handle(&self) -> ExecutorHandle {
        self.handle
            .lock()
            .unwrap()
            .clone()
            .expect("not subscribed yet")
    }
    /// Polls until `entry` has been logged (callbacks run on the driver thread).
    fn wait_for(&self, entry: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        while !self.log().iter().any(|e| e == entry) {
            assert!(
                std::time::Instant::now() < deadline,
                "never saw {entry:?} in {:?}",
                self.log()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Executor for Recorder {
    fn subscribed(
        &mut self,
        handle: &ExecutorHandle,
        subscribed: event::Subscribed,
    ) -> mesos_client::Result<()> {
        *self.handle.lock().unwrap() = Some(handle.clone());
        self.push(format!(
            "subscribed {}",
            subscribed.executor_info.executor_id.value
        ));
        Ok(())
    }
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> mesos_client::Result<()> {
        self.push(format!("launch {}", task.task_id.value));
        handle
            .update(&task.task_id, TaskState::TaskRunning, "running")
            .unwrap();
        Ok(())
    }
    fn acknowledged(
        &mut self,
        _: &ExecutorHandle,
        task_id: TaskId,
        _: Vec<u8>,
    ) -> mesos_client::Result<()> {
        self.push(format!("acknowledged {}", task_id.value));
        Ok(())
    }
    fn message(&mut self, _: &ExecutorHandle, data: Vec<u8>) -> mesos_client::Result<()> {
        self.push(format!("message {}", String::from_utf8_lossy(&data)));
        Ok(())
    }
    fn disconnected(&mut self, _: &ExecutorHandle) -> mesos_client::Result<()> {
        self.push("disconnected".into());
        Ok(())
    }
    // kill and shutdown: the trait's defaults, which these tests check too.
}

/// Runs the driver on its own thread; the receiver yields run's result.
fn start(
    driver: ExecutorDriver,
    mut executor: impl Executor + Send + 'static,
) -> Receiver<mesos_client::Result<()>> {
    let (tx, rx) = unbounded();
    thread::spawn(move || {
        let _ = tx.send(driver.run(&mut executor));
    });
    rx
}

fn event_json(name: &str) -> Value {
    fixture_json(&format!("events/{name}"))
}

fn ack(task: &str, uuid_b64: &str) -> Value {
    json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": task}, "uuid": uuid_b64}})
}

fn launch(task: &str) -> Value {
    let mut event = event_json("002-LAUNCH-exec-task-1.json");
    event["launch"]["task"]["task_id"]["value"] = json!(task);
    event["launch"]["task"]["name"] = json!(task);
    event
}

/// Checks an UPDATE call's shape; returns its uuid (base64, as sent).
fn check_update(call: &Value, task: &str, state: &str) -> String {
    assert_eq!(call["type"], "UPDATE", "{call}");
    assert_eq!(call["executor_id"]["value"], EXECUTOR);
    assert_eq!(call["framework_id"]["value"], FRAMEWORK);
    let status = &call["update"]["status"];
    assert_eq!(status["task_id"]["value"], task);
    assert_eq!(status["state"], state);
    assert_eq!(status["source"], "SOURCE_EXECUTOR");
    assert_eq!(status["executor_id"]["value"], EXECUTOR);
    assert!(status["timestamp"].as_f64().unwrap() > 1.0e9);
    let uuid_b64 = status["uuid"].as_str().unwrap().to_string();
    let uuid = base64::engine::general_purpose::STANDARD
        .decode(&uuid_b64)
        .unwrap();
    assert!(mesos_proto::uuid::is_valid(&uuid));
    assert_eq!(uuid[6] >> 4, 4, "a version 4 uuid");
    uuid_b64
}

// ---------------------------------------------------------------------- tests

#[test]
fn subscribe_launch_update_acknowledge_kill_shutdown() {
    let agent = FakeAgent::start();
    let recorder = Recorder::default();
    let done = start(ExecutorDriver::new(agent.env(&[])), recorder.clone());

    // SUBSCRIBE: byte-for-byte the JSON the real executor sent (same ids).
    let mut sub = agent.subscription();
    assert_eq!(sub.json(), fixture_json("subscribe.request.json"));
    assert_eq!(sub.request.header("Content-Type"), Some("application/json"));
    assert_eq!(sub.request.header("Accept"), Some("application/json"));
    assert_eq!(sub.request.header("Authorization"), None);

    sub.send_json(event_json("001-SUBSCRIBED.json"));
    sub.send_json(event_json("002-LAUNCH-exec-task-1.json"));
    let uuid1 = check_update(&agent.call_json(), "exec-task-1", "TASK_RUNNING");
    assert_eq!(
        recorder.log(),
        vec!["subscribed py-exec-1", "launch exec-task-1"]
    );
    let handle = recorder.handle();
    assert_eq!(handle.unacknowledged_updates().len(), 1);
    assert_eq!(handle.unacknowledged_tasks().len(), 1);

    // ACKNOWLEDGED clears both books.
    sub.send_json(ack("exec-task-1", &uuid1));
    recorder.wait_for("acknowledged exec-task-1");
    assert!(handle.unacknowledged_updates().is_empty());
    assert!(handle.unacknowledged_tasks().is_empty());

    // MESSAGE reaches the callback with its bytes.
    sub.send_json(json!({"type": "MESSAGE", "message": {"data": "cGluZw=="}}));
    recorder.wait_for("message ping");

    // KILL: the default answers TASK_KILLED.
    sub.send_json(event_json("010-KILL-exec-task-1.json"));
    let uuid_killed = check_update(&agent.call_json(), "exec-task-1", "TASK_KILLED");
    assert!(handle.live_tasks().is_empty());

    // SHUTDOWN with one live task: the default kills it; the driver returns
    // once every update is acknowledged.
    sub.send_json(launch("exec-task-2"));
    let uuid2 = check_update(&agent.call_json(), "exec-task-2", "TASK_RUNNING");
    sub.send_json(event_json("012-SHUTDOWN.json"));
    let uuid3 = check_update(&agent.call_json(), "exec-task-2", "TASK_KILLED");
    assert!(done.try_recv().is_err(), "must wait for acknowledgements");
    for (task, uuid) in [
        ("exec-task-1", uuid_killed),
        ("exec-task-2", uuid2),
        ("exec-task-2", uuid3),
    ] {
        sub.send_json(ack(task, &uuid));
    }
    done.recv_timeout(WAIT).unwrap().unwrap();
}

#[test]
fn replaying_a_real_agent_stream_calls_back_in_order() {
    let agent = FakeAgent::start();
    let recorder = Recorder::default();
    let done = start(ExecutorDriver::new(agent.env(&[])), recorder.clone());
    let mut sub = agent.subscription();

    // What the callbacks should log, from the captured events (KILL and
    // SHUTDOWN go to the trait's defaults, which log nothing).
    let events = fixture("events");
    let mut names: Vec<_> = std::fs::read_dir(&events)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", events.display()))
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let expected: Vec<String> = names
        .iter()
        .filter_map(|path| {
            let event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            match event["type"].as_str().unwrap() {
                "SUBSCRIBED" => Some(format!("subscribed {EXECUTOR}")),
                "LAUNCH" => Some(format!(
                    "launch {}",
                    event["launch"]["task"]["task_id"]["value"]
                        .as_str()
                        .unwrap()
                )),
                "ACKNOWLEDGED" => Some(format!(
                    "acknowledged {}",
                    event["acknowledged"]["task_id"]["value"].as_str().unwrap()
                )),
                "MESSAGE" => {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(event["message"]["data"].as_str().unwrap())
                        .unwrap();
                    Some(format!("message {}", String::from_utf8_lossy(&data)))
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(expected.len(), 11);

    // The whole captured RecordIO body in one chunk, then the end.
    let path = fixture("subscribe.recordio");
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    write!(sub.stream, "{:x}\r\n", body.len()).unwrap();
    sub.stream.write_all(&body).unwrap();
    sub.stream.write_all(b"\r\n").unwrap();
    sub.close();
    // SHUTDOWN came before the stream ended, so this is a normal exit.
    done.recv_timeout(WAIT).unwrap().unwrap();
    assert_eq!(recorder.log(), expected);

    let updates: Vec<(String, String)> = (0..6)
        .map(|_| {
            let call = agent.call_json();
            let status = &call["update"]["status"];
            (
                status["task_id"]["value"].as_str().unwrap().to_string(),
                status["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected_updates = [
        ("exec-task-1", "TASK_RUNNING"),
        ("exec-task-2", "TASK_RUNNING"),
        ("exec-task-3", "TASK_RUNNING"),
        ("exec-task-1", "TASK_KILLED"), // the KILL event
        ("exec-task-2", "TASK_KILLED"), // SHUTDOWN kills the live ones
        ("exec-task-3", "TASK_KILLED"),
    ];
    let expected_updates: Vec<(String, String)> = expected_updates
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
    assert_eq!(updates, expected_updates);
}

#[test]
fn the_handle_can_go_to_other_threads() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<ExecutorHandle>();
}

#[test]
fn checkpointing_executor_resubscribes_with_what_is_unacknowledged() {
    let agent = FakeAgent::start();
    let recorder = Recorder::default();
    let env = agent.env(&[
        ("MESOS_CHECKPOINT", "1"),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "50ms"),
        ("MESOS_RECOVERY_TIMEOUT", "10secs"),
    ]);
    let done = start(ExecutorDriver::new(env), recorder.clone());

    let mut sub = agent.subscription();
    sub.send_json(event_json("001-SUBSCRIBED.json"));
    sub.send_json(event_json("002-LAUNCH-exec-task-1.json"));
    let uuid = check_update(&agent.call_json(), "exec-task-1", "TASK_RUNNING");

    // The agent "restarts": the stream ends, the first retry finds it still
    // recovering (503), the next one gets through.
    agent.subscribe_script.lock().unwrap().extend([503, 404]);
    sub.close();
    let mut sub = agent.subscription();
    recorder.wait_for("disconnected");
    assert!(
        agent.subscribe_script.lock().unwrap().is_empty(),
        "503 and 404 were retried"
    );

    let body = sub.json();
    assert_eq!(body["type"], "SUBSCRIBE");
    let tasks = body["subscribe"]["unacknowledged_tasks"]
        .as_array()
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["task_id"]["value"], "exec-task-1");
    let updates = body["subscribe"]["unacknowledged_updates"]
        .as_array()
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["status"]["uuid"], uuid.as_str());
    assert_eq!(updates[0]["status"]["state"], "TASK_RUNNING");

    // Subscribed again; the agent re-acknowledges; then SHUTDOWN.
    sub.send_json(event_json("001-SUBSCRIBED.json"));
    sub.send_json(ack("exec-task-1", &uuid));
    recorder.wait_for("acknowledged exec-task-1");
    let subscribed = recorder
        .log()
        .iter()
        .filter(|e| e.starts_with("subscribed"))
        .count();
    assert_eq!(subscribed, 2);
    sub.send_json(json!({"type": "SHUTDOWN"}));
    let killed = check_update(&agent.call_json(), "exec-task-1", "TASK_KILLED");
    sub.send_json(ack("exec-task-1", &killed));
    done.recv_timeout(WAIT).unwrap().unwrap();
}

#[test]
fn checkpointing_gives_up_after_the_recovery_timeout() {
    let agent = FakeAgent::start();
    let recorder = Recorder::default();
    let env = agent.env(&[
        ("MESOS_CHECKPOINT", "1"),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "20ms"),
        ("MESOS_RECOVERY_TIMEOUT", "300ms"),
    ]);
    let done = start(ExecutorDriver::new(env), recorder.clone());
    let mut sub = agent.subscription();
    sub.send_json(event_json("001-SUBSCRIBED.json"));
    // The agent stays in recovery for good.
    agent.subscribe_script.lock().unwrap().extend([503; 1000]);
    sub.close();
    let result = done.recv_timeout(WAIT).unwrap();
    let message = result.unwrap_err().to_string();
    assert!(message.contains("MESOS_RECOVERY_TIMEOUT"), "{message}");
    assert_eq!(recorder.log(), vec!["subscribed py-exec-1", "disconnected"]);
}

#[test]
fn without_checkpointing_a_lost_agent_ends_the_run() {
    let agent = FakeAgent::start();
    let recorder = Recorder::default();
    let done = start(ExecutorDriver::new(agent.env(&[])), recorder.clone());
    let mut sub = agent.subscription();
    sub.send_json(event_json("001-SUBSCRIBED.json"));
    sub.close();
    let result = done.recv_timeout(WAIT).unwrap();
    assert!(
        matches!(result, Err(mesos_client::Error::Transport(_))),
        "{result:?}"
    );
    assert_eq!(recorder.log(), vec!["subscribed py-exec-1", "disconnected"]);
}

#[test]
fn a_refused_subscription_is_an_error() {
    let agent = FakeAgent::start();
    agent.subscribe_script.lock().unwrap().push_back(400);
    let done = start(ExecutorDriver::new(agent.env(&[])), Recorder::default());
    match done.recv_timeout(WAIT).unwrap() {
        Err(mesos_client::Error::Http { status: 400, body }) => {
            assert_eq!(body, "scripted failure")
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

/// An executor that implements nothing: the defaults must fail launches.
struct Nothing;
impl Executor for Nothing {}

#[test]
fn default_launch_and_launch_group_fail_the_tasks() {
    let agent = FakeAgent::start();
    let done = start(ExecutorDriver::new(agent.env(&[])), Nothing);
    let mut sub = agent.subscription();
    sub.send_json(event_json("001-SUBSCRIBED.json"));
    sub.send_json(event_json("002-LAUNCH-exec-task-1.json"));
    let call = agent.call_json();
    check_update(&call, "exec-task-1", "TASK_FAILED");
    assert!(
        call["update"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("does not implement launch")
    );

    let group = fixture_json("../run2-launch-group/events/002-LAUNCH_GROUP.json");
    let tasks = group["launch_group"]["task_group"]["tasks"]
        .as_array()
        .unwrap()
        .len();
    sub.send_json(group);
    for _ in 0..tasks {
        let call = agent.call_json();
        assert_eq!(call["update"]["status"]["state"], "TASK_FAILED");
    }
    sub.close();
    assert!(done.recv_timeout(WAIT).unwrap().is_err());
}

/// Stops itself as soon as it is subscribed.
struct StopAtOnce;
impl Executor for StopAtOnce {
    fn subscribed(
        &mut self,
        handle: &ExecutorHandle,
        _: event::Subscribed,
    ) -> mesos_client::Result<()> {
        handle.send_message(b"bye".to_vec()).unwrap();
        handle.stop();
        Ok(())
    }
}

#[test]
fn protobuf_bearer_token_heartbeats_and_stop() {
    let agent = FakeAgent::start();
    let env = agent.env(&[("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "s3cret")]);
    assert!(
        !format!("{env:?}").contains("s3cret"),
        "Debug must redact the token"
    );
    let driver = ExecutorDriver::new(env)
        .content_type(ContentType::Protobuf)
        .heartbeat_interval(Duration::from_millis(50));
    let done = start(driver, StopAtOnce);

    let mut sub = agent.subscription();
    assert_eq!(
        sub.request.header("Content-Type"),
        Some("application/x-protobuf")
    );
    assert_eq!(sub.request.header("Accept"), Some("application/x-protobuf"));
    assert_eq!(sub.request.header("Authorization"), Some("Bearer s3cret"));
    let call: Call = ContentType::Protobuf.decode(&sub.request.body).unwrap();
    assert_eq!(call.executor_id.value, EXECUTOR);
    assert!(call.subscribe.is_some());

    // Heartbeat calls start before anything else happens.
    let heartbeat = agent.call();
    let call: Call = ContentType::Protobuf.decode(&heartbeat.body).unwrap();
    assert_eq!(
        call.r#type(),
        mesos_proto::v1::executor::call::Type::Heartbeat
    );
    assert_eq!(heartbeat.header("Authorization"), Some("Bearer s3cret"));

    let subscribed: Event =
        mesos_proto::json::from_value(&event_json("001-SUBSCRIBED.json")).unwrap();
    sub.send(&subscribed);
    // The MESSAGE call, then stop() with nothing unacknowledged: run returns.
    let message = loop {
        let request = agent.call();
        let call: Call = ContentType::Protobuf.decode(&request.body).unwrap();
        if call.r#type() == mesos_proto::v1::executor::call::Type::Message {
            break call;
        }
    };
    assert_eq!(message.message.unwrap().data, b"bye");
    done.recv_timeout(WAIT).unwrap().unwrap();
}
