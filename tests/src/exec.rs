//! The test plays the executor: the agent launches a placeholder process (`sleep`) as the
//! custom executor, and the test talks the executor API in its place with the ids the
//! scheduler chose, exactly as any HTTP executor would.

use mesos_proto::v1::executor::{Event, event};
use serde_json::{Value, json};

use crate::http::{self, EventStream, Response};
use crate::sched::{WAIT, b64};

/// The executor endpoint path.
pub const EXECUTOR: &str = "/api/v1/executor";

/// The command of a placeholder executor process: it only has to stay alive.
pub const PLACEHOLDER: &str = "sleep 30";

/// POSTs a JSON executor call to the agent at `addr`.
pub fn post_json(addr: &str, body: &Value) -> Response {
    http::post(
        addr,
        EXECUTOR,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// The call envelope every executor call carries.
pub fn envelope(framework_id: &str, executor_id: &str, kind: &str) -> Value {
    json!({
        "framework_id": {"value": framework_id},
        "executor_id": {"value": executor_id},
        "type": kind
    })
}

/// A status update an executor would send (fresh v4 uuid, `SOURCE_EXECUTOR`).
pub fn update_body(
    framework_id: &str,
    executor_id: &str,
    task: &str,
    state: &str,
) -> (Value, Vec<u8>) {
    let uuid = mesos_proto::uuid::new_v4();
    let mut body = envelope(framework_id, executor_id, "UPDATE");
    body["update"] = json!({"status": {
        "task_id": {"value": task},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "executor_id": {"value": executor_id},
        "uuid": b64(&uuid)
    }});
    (body, uuid)
}

/// A subscribed executor.
pub struct Exec {
    /// `host:port` of the agent.
    pub addr: String,
    /// The framework id.
    pub framework_id: String,
    /// The executor id.
    pub executor_id: String,
    /// The executor event stream.
    pub stream: EventStream<Event>,
    /// The SUBSCRIBED event and its raw JSON.
    pub subscribed: (Event, Vec<u8>),
}

impl Exec {
    /// Subscribes (JSON, no `Accept`) as `executor_id` of `framework_id`; retries while the
    /// agent has not launched the executor yet (400 `Executor cannot be found`).
    pub fn subscribe(addr: &str, framework_id: &str, executor_id: &str) -> Exec {
        let mut body = envelope(framework_id, executor_id, "SUBSCRIBE");
        body["subscribe"] = json!({});
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            match http::open_stream::<Event>(
                addr,
                EXECUTOR,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            ) {
                Ok(mut stream) => {
                    let subscribed = stream.next_event(WAIT);
                    assert_eq!(
                        subscribed.0.r#type(),
                        event::Type::Subscribed,
                        "{:?}",
                        subscribed.0
                    );
                    return Exec {
                        addr: addr.to_string(),
                        framework_id: framework_id.to_string(),
                        executor_id: executor_id.to_string(),
                        stream,
                        subscribed,
                    };
                }
                Err(r) if std::time::Instant::now() < deadline && r.status() != 200 => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(r) => panic!("executor SUBSCRIBE answered {}: {}", r.status(), r.text()),
            }
        }
    }

    /// Sends a status update for `task`; returns the response and the uuid used.
    pub fn update(&self, task: &str, state: &str) -> (Response, Vec<u8>) {
        let (body, uuid) = update_body(&self.framework_id, &self.executor_id, task, state);
        (post_json(&self.addr, &body), uuid)
    }

    /// Sends a MESSAGE with `data`.
    pub fn message(&self, data: &[u8]) -> Response {
        let mut body = envelope(&self.framework_id, &self.executor_id, "MESSAGE");
        body["message"] = json!({"data": b64(data)});
        post_json(&self.addr, &body)
    }

    /// Waits for the next event of type `t`.
    pub fn wait_type(&mut self, t: event::Type) -> Event {
        self.stream.wait_for(WAIT, |e| e.r#type() == t).0
    }
}
