//! A scheduler as a foreign client writes it: JSON (or protobuf) bodies over the raw HTTP
//! client of [`crate::http`], one subscription stream, every other call on its own
//! connection with the `Mesos-Stream-Id` header.

use std::time::Duration;

use base64::Engine;
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Event, event};
use mesos_proto::v1::{Offer, TaskState, TaskStatus};
use serde_json::{Value, json};

use crate::http::{self, EventStream, Response};

/// The scheduler endpoint path.
pub const SCHEDULER: &str = "/api/v1/scheduler";

/// A generous deadline for events that normally arrive in milliseconds.
pub const WAIT: Duration = Duration::from_secs(10);

/// Standard base64 (with padding), as Mesos writes and reads `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A minimal `FrameworkInfo` (JSON).
pub fn framework(name: &str) -> Value {
    json!({"user": "conformance", "name": name})
}

/// The SUBSCRIBE body for `info`; when `info` has an `id`, the call-level `framework_id`
/// is set to it as well (they must match).
pub fn subscribe_body(info: &Value) -> Value {
    let mut body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
    if let Some(id) = info.get("id") {
        body["framework_id"] = id.clone();
    }
    body
}

/// POSTs a JSON body to the scheduler endpoint with extra headers.
pub fn post_json(addr: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    http::post(addr, SCHEDULER, &h, body.to_string().as_bytes())
}

/// A subscribed framework.
pub struct Sched {
    /// `host:port` of the master.
    pub addr: String,
    /// The event stream.
    pub stream: EventStream<Event>,
    /// The `Mesos-Stream-Id` of this subscription.
    pub stream_id: String,
    /// The framework id from SUBSCRIBED.
    pub framework_id: String,
    /// The SUBSCRIBED event itself.
    pub subscribed: Event,
    /// Offers that arrived while waiting for something else (see [`Sched::update_for`]).
    pub stashed_offers: Vec<Offer>,
}

impl Sched {
    /// Subscribes with a JSON body, asserts 200 and a first SUBSCRIBED event.
    pub fn subscribe(addr: &str, info: Value) -> Sched {
        Sched::subscribe_raw(addr, &[], &subscribe_body(&info))
    }

    /// Subscribes with a JSON body and extra headers (e.g. `Accept`).
    pub fn subscribe_raw(addr: &str, headers: &[(&str, &str)], body: &Value) -> Sched {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        let stream = http::open_stream::<Event>(addr, SCHEDULER, &h, body.to_string().as_bytes())
            .unwrap_or_else(|r| panic!("SUBSCRIBE answered {}: {}", r.status(), r.text()));
        Sched::from_stream(addr, stream)
    }

    /// Takes over an open stream: reads SUBSCRIBED.
    pub fn from_stream(addr: &str, mut stream: EventStream<Event>) -> Sched {
        let stream_id = stream
            .head
            .header("Mesos-Stream-Id")
            .unwrap_or_default()
            .to_string();
        let (ev, raw) = stream.next_event(WAIT);
        assert_eq!(
            ev.r#type(),
            event::Type::Subscribed,
            "first event: {}",
            String::from_utf8_lossy(&raw)
        );
        let framework_id = ev
            .subscribed
            .as_ref()
            .expect("subscribed payload")
            .framework_id
            .value
            .clone();
        Sched {
            addr: addr.to_string(),
            stream,
            stream_id,
            framework_id,
            subscribed: ev,
            stashed_offers: Vec::new(),
        }
    }

    /// A JSON call with this framework's id, type `kind` and an optional payload.
    pub fn call(&self, kind: &str, payload: Option<(&str, Value)>) -> Response {
        let mut body = json!({"framework_id": {"value": self.framework_id}, "type": kind});
        if let Some((key, value)) = payload {
            body[key] = value;
        }
        self.post(&body)
    }

    /// POSTs any JSON body with this subscription's stream id.
    pub fn post(&self, body: &Value) -> Response {
        post_json(&self.addr, &[("Mesos-Stream-Id", &self.stream_id)], body)
    }

    /// POSTs a protobuf-encoded call with this subscription's stream id.
    pub fn post_pb(&self, call: &mesos_proto::v1::scheduler::Call) -> Response {
        let ct = ContentType::Protobuf;
        http::post(
            &self.addr,
            SCHEDULER,
            &[
                ("Content-Type", ct.mime()),
                ("Mesos-Stream-Id", &self.stream_id),
            ],
            &ct.encode(call),
        )
    }

    /// Like [`Sched::call`] but asserts 202.
    pub fn call_ok(&self, kind: &str, payload: Option<(&str, Value)>) {
        let r = self.call(kind, payload);
        assert_eq!(r.status(), 202, "{kind}: {}", r.text());
    }

    /// The offers stashed while waiting for updates, else the next OFFERS event's offers.
    pub fn offers(&mut self, d: Duration) -> Vec<Offer> {
        if !self.stashed_offers.is_empty() {
            return std::mem::take(&mut self.stashed_offers);
        }
        let (ev, _) = self
            .stream
            .wait_for(d, |e| e.r#type() == event::Type::Offers);
        ev.offers.expect("offers payload").offers
    }

    /// Waits for the next UPDATE of `task`. Offers that arrive meanwhile are stashed for
    /// [`Sched::offers`]; other events are skipped.
    pub fn update_for(&mut self, d: Duration, task: &str) -> (TaskStatus, Vec<u8>) {
        let stash = &mut self.stashed_offers;
        let (ev, raw) = self.stream.wait_for(d, |e| {
            if let Some(o) = &e.offers {
                stash.extend(o.offers.iter().cloned());
            }
            e.r#type() == event::Type::Update
                && e.update
                    .as_ref()
                    .is_some_and(|u| u.status.task_id.value == task)
        });
        (ev.update.expect("update payload").status, raw)
    }

    /// ACKNOWLEDGEs a status if it carries a uuid.
    pub fn ack(&self, status: &TaskStatus) {
        let Some(uuid) = &status.uuid else { return };
        let agent = status
            .agent_id
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or_default();
        self.call_ok(
            "ACKNOWLEDGE",
            Some((
                "acknowledge",
                json!({"agent_id": {"value": agent}, "task_id": {"value": status.task_id.value},
                       "uuid": b64(uuid)}),
            )),
        );
    }

    /// Follows `task` (acknowledging every update) until it reaches `state`; returns every
    /// status seen, the last one in `state`.
    pub fn wait_state(&mut self, d: Duration, task: &str, state: TaskState) -> Vec<TaskStatus> {
        let deadline = std::time::Instant::now() + d;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "task {task} never reached {state:?}; saw {seen:?}"
            );
            let (st, _) = self.update_for(left, task);
            self.ack(&st);
            let done = st.state() == state;
            seen.push(st);
            if done {
                return seen;
            }
        }
    }

    /// ACCEPTs one offer with LAUNCH of `tasks`, with optional `filters`.
    pub fn launch(&self, offer: &Offer, tasks: Vec<Value>, filters: Option<Value>) -> Response {
        let mut accept = json!({
            "offer_ids": [{"value": offer.id.value}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}]
        });
        if let Some(f) = filters {
            accept["filters"] = f;
        }
        self.call("ACCEPT", Some(("accept", accept)))
    }

    /// DECLINEs offers with an optional `refuse_seconds`.
    pub fn decline(&self, offers: &[Offer], refuse_seconds: Option<f64>) {
        let ids: Vec<Value> = offers
            .iter()
            .map(|o| json!({"value": o.id.value}))
            .collect();
        let mut decline = json!({"offer_ids": ids});
        if let Some(s) = refuse_seconds {
            decline["filters"] = json!({"refuse_seconds": s});
        }
        self.call_ok("DECLINE", Some(("decline", decline)));
    }

    /// Waits for an offer, launches one task made by `make(offer)` with `refuse_seconds: 0`
    /// for the rest, and returns the offer used.
    pub fn launch_one(&mut self, make: impl FnOnce(&Offer) -> Value) -> Offer {
        let offer = self.offers(WAIT).remove(0);
        let r = self.launch(
            &offer,
            vec![make(&offer)],
            Some(json!({"refuse_seconds": 0.0})),
        );
        assert_eq!(r.status(), 202, "ACCEPT: {}", r.text());
        offer
    }
}

/// Small resources every test task uses.
pub fn small_resources() -> Value {
    json!([
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}
    ])
}

/// A command task (built-in command executor) running `cmd` with `/bin/sh -c`.
pub fn command_task(id: &str, agent_id: &str, cmd: &str) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": agent_id},
        "resources": small_resources(),
        "command": {"value": cmd}
    })
}

/// A task on a custom executor `executor_id` whose process runs `cmd`.
pub fn executor_task(id: &str, agent_id: &str, executor_id: &str, cmd: &str) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": agent_id},
        "resources": small_resources(),
        "executor": {
            "executor_id": {"value": executor_id},
            "type": "CUSTOM",
            "command": {"value": cmd},
            "resources": small_resources()
        }
    })
}

/// `ip:port` of the agent that made `offer`, from `Offer.url` (what a framework sees).
pub fn agent_addr(offer: &Offer) -> String {
    let url = offer.url.as_ref().expect("Offer.url is set");
    let host = url
        .address
        .ip
        .clone()
        .or(url.address.hostname.clone())
        .expect("agent address");
    format!("{host}:{}", url.address.port)
}

/// A task status as the JSON the event carried, found in the raw record.
pub fn raw_status(raw: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(raw).expect("JSON record");
    v["update"]["status"].clone()
}
