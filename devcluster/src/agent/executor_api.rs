//! `POST /api/v1/executor` (and `/slave(1)/api/v1/executor`): the checks of the executor
//! table in §1.7, SUBSCRIBE (§3.3), UPDATE (§3.1, §3.4), MESSAGE, HEARTBEAT.

use mesos_proto::v1::executor::{Call, Event, call, event};
use mesos_proto::v1::{KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState, task_status};
use mesos_proto::{ContentType, recordio};

use super::{Agent, ExecKind};
use crate::http::{Request, Response, StreamItem};
use crate::master::scheduler_api::{decode_call, method_not_allowed, negotiate};
use crate::messages::ToMaster;

/// An executor event of `kind` with nothing else set.
pub(crate) fn event_of(kind: event::Type) -> Event {
    let mut e = Event::default();
    e.set_type(kind);
    e
}

/// One RecordIO record as one HTTP chunk.
pub(crate) fn record(ct: ContentType, e: &Event) -> StreamItem {
    StreamItem::Chunk(record_bytes(ct, e))
}

/// One RecordIO record.
pub(crate) fn record_bytes(ct: ContentType, e: &Event) -> Vec<u8> {
    recordio::encode(&ct.encode(e))
}

pub(crate) fn launch_event(task: &TaskInfo) -> Event {
    let mut e = event_of(event::Type::Launch);
    e.launch = Some(event::Launch { task: task.clone() });
    e
}

pub(crate) fn launch_group_event(group: &TaskGroupInfo) -> Event {
    let mut e = event_of(event::Type::LaunchGroup);
    e.launch_group = Some(event::LaunchGroup {
        task_group: group.clone(),
    });
    e
}

pub(crate) fn kill_event(task_id: &str, kill_policy: Option<KillPolicy>) -> Event {
    let mut e = event_of(event::Type::Kill);
    e.kill = Some(event::Kill {
        task_id: TaskId {
            value: task_id.to_string(),
        },
        kill_policy,
    });
    e
}

/// §3.1 validation; the text follows "Failed to validate Executor::Call: ".
fn validate(c: &Call) -> Result<(), String> {
    let Some(kind) = c.r#type else {
        return Err("Expecting 'type' to be present".into());
    };
    match call::Type::try_from(kind).unwrap_or(call::Type::Unknown) {
        call::Type::Subscribe if c.subscribe.is_none() => {
            Err("Expecting 'subscribe' to be present".into())
        }
        call::Type::Message if c.message.is_none() => {
            Err("Expecting 'message' to be present".into())
        }
        call::Type::Update => {
            let Some(u) = &c.update else {
                return Err("Expecting 'update' to be present".into());
            };
            let s = &u.status;
            let who = format!(
                "executor {} of framework {}",
                c.executor_id.value, c.framework_id.value
            );
            let Some(uuid) = &s.uuid else {
                return Err("Expecting 'uuid' to be present".into());
            };
            if !mesos_proto::uuid::is_valid(uuid) {
                return Err("Not a valid UUID".into());
            }
            if s.executor_id
                .as_ref()
                .is_some_and(|e| e.value != c.executor_id.value)
            {
                return Err(format!(
                    "ExecutorID in Call: {} does not match ExecutorID in TaskStatus: {}",
                    c.executor_id.value,
                    s.executor_id
                        .as_ref()
                        .map(|e| e.value.as_str())
                        .unwrap_or("")
                ));
            }
            if s.source() != task_status::Source::SourceExecutor {
                return Err(format!(
                    "Received Call from {who} with invalid source, expecting 'SOURCE_EXECUTOR'"
                ));
            }
            if s.state() == TaskState::TaskStaging {
                return Err(format!(
                    "Received TASK_STAGING from {who} which is not allowed"
                ));
            }
            match &s.check_status {
                Some(cs) => check_status(cs),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Mesos' `validateCheckStatusInfo`: a type, and the result part of that type.
fn check_status(cs: &mesos_proto::v1::CheckStatusInfo) -> Result<(), String> {
    use mesos_proto::v1::check_info::Type as T;
    let Some(kind) = cs.r#type else {
        return Err("CheckStatusInfo must specify 'type'".into());
    };
    match T::try_from(kind) {
        Ok(T::Command) if cs.command.is_none() => {
            Err("Expecting 'command' to be set for COMMAND check's status".into())
        }
        Ok(T::Http) if cs.http.is_none() => {
            Err("Expecting 'http' to be set for HTTP check's status".into())
        }
        Ok(T::Tcp) if cs.tcp.is_none() => {
            Err("Expecting 'tcp' to be set for TCP check's status".into())
        }
        Ok(T::Command | T::Http | T::Tcp) => Ok(()),
        _ => Err("'UNKNOWN' is not a valid check's status type".into()),
    }
}

impl Agent {
    /// Puts `e` on an executor's event stream and records it in the framework's timeline
    /// (the live page draws it as an arrow agent -> executor).
    pub(crate) fn send_to_executor(
        &self,
        fw_id: &str,
        exec_id: &str,
        tx: &crate::http::BoundedSender,
        ct: ContentType,
        e: &Event,
    ) {
        self.shared
            .timeline
            .executor_event(fw_id, &self.id, exec_id, e);
        // Protocol events are always queued (their number is bounded by the tasks).
        let _ = tx.send_raw(record(ct, e));
    }

    /// [`Agent::send_to_executor`] for a framework message: recorded, and queued only
    /// while the executor's stream is within its bound. Returns whether it was queued.
    pub(crate) fn send_message_to_executor(
        &self,
        fw_id: &str,
        exec_id: &str,
        tx: &crate::http::BoundedSender,
        ct: ContentType,
        e: &Event,
    ) -> bool {
        self.shared
            .timeline
            .executor_event(fw_id, &self.id, exec_id, e);
        tx.send_chunk(record_bytes(ct, e)).is_ok()
    }

    /// Handles one executor API request.
    pub(crate) fn executor_api(&self, req: &Request) -> Response {
        if !self.is_recovered() {
            return Response::text(503, "Agent has not finished recovery");
        }
        if req.method != "POST" {
            return method_not_allowed(&req.method);
        }
        let Some(ct_header) = req.header("Content-Type") else {
            return Response::text(400, "Expecting 'Content-Type' to be present");
        };
        let Some(ct) = ContentType::from_mime(ct_header) else {
            return Response::text(
                415,
                "Expecting 'Content-Type' of application/json or application/x-protobuf",
            );
        };
        let c: Call = match decode_call(ct, &req.body, "Call") {
            Ok(c) => c,
            Err(e) => return Response::text(400, e),
        };
        if let Err(e) = validate(&c) {
            return Response::text(400, format!("Failed to validate Executor::Call: {e}"));
        }
        let kind = call::Type::try_from(c.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
        let accept = negotiate(req.header("Accept"));
        if kind == call::Type::Subscribe && accept.is_none() {
            return Response::text(
                406,
                "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
            );
        }
        if kind == call::Type::Heartbeat {
            return Response::empty(202);
        }
        let fw_id = c.framework_id.value.clone();
        let exec_id = c.executor_id.value.clone();
        let mut st = self.lock();
        let Some(fw) = st.frameworks.get_mut(&fw_id) else {
            return Response::text(400, "Framework cannot be found");
        };
        let fw_info = (*fw.info).clone();
        let Some(ex) = fw
            .executors
            .get_mut(&exec_id)
            .filter(|e| e.kind == ExecKind::Custom)
        else {
            return Response::text(400, "Executor cannot be found");
        };
        if kind != call::Type::Subscribe && ex.sub.is_none() {
            return Response::text(403, "Executor is not subscribed");
        }
        self.shared.timeline.executor_call(&self.id, &c);
        match kind {
            call::Type::Subscribe => {
                let ct = accept.unwrap_or(ContentType::Json);
                let bounds = &self.cfg.bounds;
                let (tx, rx) = crate::http::BoundedSender::new(
                    bounds.subscriber_queue_events,
                    bounds.subscriber_queue_bytes,
                );
                let response = Response::stream(200, ct.mime(), rx);
                if ex.terminated || ex.shutting_down {
                    self.send_to_executor(
                        &fw_id,
                        &exec_id,
                        &tx,
                        ct,
                        &event_of(event::Type::Shutdown),
                    );
                    return response;
                }
                // A new subscription replaces the old one (closed without ERROR).
                ex.sub = None;
                let resubscribing = ex.subscribed_ever;
                ex.subscribed_ever = true;
                let sub_call = c.subscribe.unwrap_or_default();
                // On re-subscription, tasks delivered but still STAGING that the executor
                // does not list as unacknowledged were lost on the way (§3.3).
                let lost: Vec<String> = if resubscribing {
                    ex.tasks
                        .values()
                        .filter(|t| t.state == TaskState::TaskStaging)
                        .filter(|t| !ex.queued.iter().any(|q| q.task_id == t.info.task_id))
                        .filter(|t| {
                            !ex.queued_groups
                                .iter()
                                .any(|g| g.tasks.iter().any(|q| q.task_id == t.info.task_id))
                        })
                        .filter(|t| {
                            !sub_call
                                .unacknowledged_tasks
                                .iter()
                                .any(|u| u.task_id == t.info.task_id)
                        })
                        .map(|t| t.info.task_id.value.clone())
                        .collect()
                } else {
                    Vec::new()
                };
                let fw_info_for_loss = fw_info.clone();
                let mut e = event_of(event::Type::Subscribed);
                e.subscribed = Some(event::Subscribed {
                    executor_info: (*ex.info).clone(),
                    framework_info: fw_info,
                    agent_info: self.info.clone(),
                    container_id: Some(mesos_proto::v1::ContainerId {
                        value: ex.container_id.clone(),
                        parent: None,
                    }),
                });
                self.send_to_executor(&fw_id, &exec_id, &tx, ct, &e);
                for t in std::mem::take(&mut ex.queued) {
                    self.send_to_executor(&fw_id, &exec_id, &tx, ct, &launch_event(&t));
                }
                for g in std::mem::take(&mut ex.queued_groups) {
                    self.send_to_executor(&fw_id, &exec_id, &tx, ct, &launch_group_event(&g));
                }
                ex.next_heartbeat = std::time::Instant::now() + super::EXECUTOR_HEARTBEAT;
                ex.sub = Some((tx, ct));
                for u in sub_call.unacknowledged_updates {
                    self.handle_update(&mut st, &fw_id, &exec_id, u.status);
                }
                let pa = crate::master::has_capability(
                    &fw_info_for_loss,
                    mesos_proto::v1::framework_info::capability::Type::PartitionAware,
                );
                for t in lost {
                    let state = if pa {
                        TaskState::TaskDropped
                    } else {
                        TaskState::TaskLost
                    };
                    let mut s =
                        self.new_status(&t, state, "Task launched during agent restart", None);
                    s.set_source(task_status::Source::SourceAgent);
                    s.set_reason(task_status::Reason::ReasonAgentRestarted);
                    self.handle_update(&mut st, &fw_id, &exec_id, s);
                }
                response
            }
            call::Type::Update => {
                let Some(u) = c.update else {
                    return Response::empty(202);
                };
                let status = u.status;
                let ack = event::Acknowledged {
                    task_id: status.task_id.clone(),
                    uuid: status.uuid.clone().unwrap_or_default(),
                };
                self.handle_update(&mut st, &fw_id, &exec_id, status);
                if let Some((tx, ct)) = st
                    .frameworks
                    .get(&fw_id)
                    .and_then(|f| f.executors.get(&exec_id))
                    .and_then(|e| e.sub.as_ref())
                {
                    let mut e = event_of(event::Type::Acknowledged);
                    e.acknowledged = Some(ack);
                    self.send_to_executor(&fw_id, &exec_id, tx, *ct, &e);
                }
                Response::empty(202)
            }
            call::Type::Message => {
                drop(st);
                if let Some(m) = c.message {
                    self.to_master(ToMaster::ExecutorMessage {
                        framework_id: fw_id,
                        agent_id: self.id.clone(),
                        executor_id: exec_id,
                        data: m.data,
                    });
                }
                Response::empty(202)
            }
            _ => Response::text(501, "Received an unexpected call of type UNKNOWN"),
        }
    }
}
