//! Master-agent messages in the timeline: which ones are recorded, under which Mesos
//! name, and how an entry is shown. Recording keeps the cheap parts (typed ids, and the
//! TaskInfo or TaskStatus the sender already shares, `Arc`); the summary and the JSON are
//! made only when someone asks, as for calls and events. (Recording was a fifth of the
//! cluster's instructions in `bench ceiling` while it built a JSON map of ids and encoded
//! the task or status for every message.)

use std::sync::Arc;

use mesos_proto::v1::{TaskGroupInfo, TaskInfo, TaskStatus};
use serde_json::{Value, json};

use super::{Body, Payload};
use crate::messages::{ToAgent, ToMaster};

/// The master-agent messages drawn in the timeline, by their Mesos names (Mesos masters
/// and agents exchange them as libprocess messages; devcluster as `messages.rs` enums).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AgentMessage {
    RunTask,
    RunTaskGroup,
    KillTask,
    ShutdownExecutor,
    ShutdownFramework,
    FrameworkToExecutor,
    StatusUpdateAcknowledgement,
    StatusUpdate,
    ExecutorToFramework,
    ExitedExecutor,
}

impl AgentMessage {
    pub(super) fn name(self) -> &'static str {
        match self {
            AgentMessage::RunTask => "RunTaskMessage",
            AgentMessage::RunTaskGroup => "RunTaskGroupMessage",
            AgentMessage::KillTask => "KillTaskMessage",
            AgentMessage::ShutdownExecutor => "ShutdownExecutorMessage",
            AgentMessage::ShutdownFramework => "ShutdownFrameworkMessage",
            AgentMessage::FrameworkToExecutor => "FrameworkToExecutorMessage",
            AgentMessage::StatusUpdateAcknowledgement => "StatusUpdateAcknowledgementMessage",
            AgentMessage::StatusUpdate => "StatusUpdateMessage",
            AgentMessage::ExecutorToFramework => "ExecutorToFrameworkMessage",
            AgentMessage::ExitedExecutor => "ExitedExecutorMessage",
        }
    }

    /// `to_agent` or `from_agent`, as entries show it.
    pub(super) fn direction(self) -> &'static str {
        if self.to_agent() {
            "to_agent"
        } else {
            "from_agent"
        }
    }

    /// Sent by the master (else by the agent).
    fn to_agent(self) -> bool {
        !matches!(
            self,
            AgentMessage::StatusUpdate
                | AgentMessage::ExecutorToFramework
                | AgentMessage::ExitedExecutor
        )
    }
}

/// A recorded master-agent message: the ids it names besides its framework (the entry is in
/// that framework's timeline) and the task, group or status it carries. Typed, and the task
/// and status are the sender's own shared records: recording allocates little and encodes
/// nothing (three of these go by per task); JSON is made only when someone reads the entry.
#[derive(Clone)]
pub(super) enum Sent {
    RunTask(Carried<TaskInfo>),
    RunTaskGroup {
        executor_id: String,
        group: Carried<TaskGroupInfo>,
    },
    KillTask {
        task_id: String,
    },
    ShutdownExecutor {
        executor_id: String,
    },
    ShutdownFramework,
    FrameworkToExecutor {
        executor_id: String,
        bytes: usize,
    },
    StatusUpdateAcknowledgement {
        task_id: String,
        uuid: Vec<u8>,
    },
    StatusUpdate(Carried<TaskStatus>),
    ExecutorToFramework {
        executor_id: String,
        bytes: usize,
    },
    ExitedExecutor {
        executor_id: String,
        status: i32,
    },
}

/// The TaskInfo, TaskGroupInfo or TaskStatus of a message: the sender's record itself
/// (immutable once sent, so the entry shows it as it was), or its protobuf encoding when
/// the message was not shared (a task group) or is over `timeline_max_message_bytes`
/// (then only a prefix and the size are kept, as for calls and events).
#[derive(Clone)]
pub(super) enum Carried<M> {
    /// Shared with the sender, with its encoded size (for the byte bound).
    Shared(Arc<M>, usize),
    /// Encoded: whole, or over the bound its first bytes.
    Encoded(Body),
}

impl<M: prost::Message> Carried<M> {
    /// `m` shared, or (over `max` encoded bytes) the prefix of its encoding.
    fn shared(m: &Arc<M>, max: usize) -> Carried<M> {
        let len = m.encoded_len();
        if len <= max {
            Carried::Shared(Arc::clone(m), len)
        } else {
            Carried::Encoded(Body::of(m.encode_to_vec(), max))
        }
    }

    /// `m` encoded (whole, or its prefix over `max` bytes).
    fn encoded(m: &M, max: usize) -> Carried<M> {
        Carried::Encoded(Body::of(m.encode_to_vec(), max))
    }

    /// What the entry keeps alive, for `timeline_max_bytes`. A shared record counts in
    /// full even while its sender still holds it too (the entry may outlive it): its
    /// struct plus its strings and lists, which take about as many bytes as their encoding.
    fn cost(&self) -> usize {
        match self {
            Carried::Shared(_, len) => std::mem::size_of::<M>() + len,
            Carried::Encoded(body) => body.bytes.len(),
        }
    }
}

impl<M: prost::Message + Default> Carried<M> {
    /// The message, or `Err(body)` when only a prefix of its encoding was kept.
    fn message(&self) -> Result<MessageRef<'_, M>, &Body> {
        match self {
            Carried::Shared(m, _) => Ok(MessageRef::Shared(m)),
            // Our own encoding: decoding cannot fail (if it did, the entry shows defaults).
            Carried::Encoded(body) => match body.whole() {
                Some(bytes) => Ok(MessageRef::Decoded(M::decode(bytes).unwrap_or_default())),
                None => Err(body),
            },
        }
    }
}

/// A carried message made readable: borrowed when shared, decoded when encoded.
enum MessageRef<'a, M> {
    Shared(&'a M),
    Decoded(M),
}

impl<M> std::ops::Deref for MessageRef<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        match self {
            MessageRef::Shared(m) => m,
            MessageRef::Decoded(m) => m,
        }
    }
}

impl Sent {
    /// Its Mesos name and direction.
    pub(super) fn kind(&self) -> AgentMessage {
        match self {
            Sent::RunTask(_) => AgentMessage::RunTask,
            Sent::RunTaskGroup { .. } => AgentMessage::RunTaskGroup,
            Sent::KillTask { .. } => AgentMessage::KillTask,
            Sent::ShutdownExecutor { .. } => AgentMessage::ShutdownExecutor,
            Sent::ShutdownFramework => AgentMessage::ShutdownFramework,
            Sent::FrameworkToExecutor { .. } => AgentMessage::FrameworkToExecutor,
            Sent::StatusUpdateAcknowledgement { .. } => AgentMessage::StatusUpdateAcknowledgement,
            Sent::StatusUpdate(_) => AgentMessage::StatusUpdate,
            Sent::ExecutorToFramework { .. } => AgentMessage::ExecutorToFramework,
            Sent::ExitedExecutor { .. } => AgentMessage::ExitedExecutor,
        }
    }

    /// What the entry keeps besides its agent id, for `timeline_max_bytes`.
    pub(super) fn cost(&self) -> usize {
        IDS_COST
            + match self {
                Sent::RunTask(t) => t.cost(),
                Sent::RunTaskGroup { executor_id, group } => executor_id.len() + group.cost(),
                Sent::StatusUpdate(s) => s.cost(),
                Sent::KillTask { task_id } => task_id.len(),
                Sent::StatusUpdateAcknowledgement { task_id, uuid } => task_id.len() + uuid.len(),
                Sent::ShutdownExecutor { executor_id }
                | Sent::FrameworkToExecutor { executor_id, .. }
                | Sent::ExecutorToFramework { executor_id, .. }
                | Sent::ExitedExecutor { executor_id, .. } => executor_id.len(),
                Sent::ShutdownFramework => 0,
            }
    }
}

/// What the ids of a master-agent message cost besides their strings (the entry's enum).
const IDS_COST: usize = 64;

fn payload(agent_id: &Arc<str>, sent: Sent) -> Payload {
    Payload::Agent {
        agent_id: Arc::clone(agent_id),
        sent,
    }
}

/// The framework and entry of a message master -> agent; `None` for messages about no
/// framework (re-registration) and devcluster's own (resend now). Messages over `max`
/// encoded bytes keep a prefix of their task or group.
pub(super) fn master_to_agent<'a>(
    agent_id: &Arc<str>,
    m: &'a ToAgent,
    max: usize,
) -> Option<(&'a str, Payload)> {
    let (fw, sent) = match m {
        ToAgent::RunTask { framework, task } => {
            let fw = framework.id.as_ref().map_or("", |i| i.value.as_str());
            (fw, Sent::RunTask(Carried::shared(task, max)))
        }
        ToAgent::RunTaskGroup {
            framework,
            executor,
            group,
        } => {
            let fw = framework.id.as_ref().map_or("", |i| i.value.as_str());
            let sent = Sent::RunTaskGroup {
                executor_id: executor.executor_id.value.clone(),
                group: Carried::encoded(group, max),
            };
            (fw, sent)
        }
        ToAgent::KillTask {
            framework_id,
            task_id,
            ..
        } => (
            framework_id.as_str(),
            Sent::KillTask {
                task_id: task_id.clone(),
            },
        ),
        ToAgent::ShutdownExecutor {
            framework_id,
            executor_id,
        } => (
            framework_id.as_str(),
            Sent::ShutdownExecutor {
                executor_id: executor_id.clone(),
            },
        ),
        ToAgent::ShutdownFramework { framework_id } => {
            (framework_id.as_str(), Sent::ShutdownFramework)
        }
        ToAgent::FrameworkMessage {
            framework_id,
            executor_id,
            data,
        } => (
            framework_id.as_str(),
            Sent::FrameworkToExecutor {
                executor_id: executor_id.clone(),
                bytes: data.len(),
            },
        ),
        ToAgent::Acknowledge {
            framework_id,
            task_id,
            uuid,
        } => (
            framework_id.as_str(),
            Sent::StatusUpdateAcknowledgement {
                task_id: task_id.clone(),
                uuid: uuid.clone(),
            },
        ),
        ToAgent::ResendUpdates { .. } | ToAgent::Reregister => return None,
    };
    Some((fw, payload(agent_id, sent)))
}

/// The framework and entry of a message agent -> master; `None` for registration and
/// the agent's loss (about no framework).
pub(super) fn agent_to_master<'a>(
    agent_id: &Arc<str>,
    m: &'a ToMaster,
    max: usize,
) -> Option<(&'a str, Payload)> {
    let (fw, sent) = match m {
        ToMaster::StatusUpdate {
            framework_id,
            status,
            ..
        } => (
            framework_id.as_str(),
            Sent::StatusUpdate(Carried::shared(status, max)),
        ),
        ToMaster::ExecutorMessage {
            framework_id,
            executor_id,
            data,
            ..
        } => (
            framework_id.as_str(),
            Sent::ExecutorToFramework {
                executor_id: executor_id.clone(),
                bytes: data.len(),
            },
        ),
        ToMaster::ExecutorExited {
            framework_id,
            executor_id,
            status,
            ..
        } => (
            framework_id.as_str(),
            Sent::ExitedExecutor {
                executor_id: executor_id.clone(),
                status: *status,
            },
        ),
        ToMaster::RegisterAgent { .. } | ToMaster::AgentLost { .. } => return None,
    };
    Some((fw, payload(agent_id, sent)))
}

/// `(direction, type, summary, message)` of an entry of `framework_id`'s timeline:
/// `to_agent` or `from_agent`, the Mesos name, the task (and state) or executor, and the
/// ids with the task, group or status they carry (Mesos JSON of those). A message kept
/// as a prefix shows its size and the prefix instead.
pub(super) fn render(
    sent: &Sent,
    framework_id: &str,
    full: bool,
) -> (&'static str, String, String, Option<Value>) {
    let kind = sent.kind();
    let truncated = |body: &Body| {
        (
            kind.direction(),
            kind.name().to_string(),
            format!("[{} bytes, truncated]", body.size),
            full.then(|| body.truncated_json()),
        )
    };
    let (summary, message) = match sent {
        Sent::RunTask(task) => {
            let t = match task.message() {
                Ok(t) => t,
                Err(body) => return truncated(body),
            };
            let mut message = json!({"framework_id": framework_id});
            if full {
                message["task"] = mesos_proto::json::to_value(&*t);
            }
            (format!("task {}", t.task_id.value), message)
        }
        Sent::RunTaskGroup { executor_id, group } => {
            let g = match group.message() {
                Ok(g) => g,
                Err(body) => return truncated(body),
            };
            let mut message = json!({"framework_id": framework_id, "executor_id": executor_id});
            if full {
                message["task_group"] = mesos_proto::json::to_value(&*g);
            }
            let t: Vec<&str> = g.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
            (
                format!("tasks {} on executor {executor_id}", t.join(", ")),
                message,
            )
        }
        Sent::StatusUpdate(status) => {
            let s = match status.message() {
                Ok(s) => s,
                Err(body) => return truncated(body),
            };
            let mut message = json!({"framework_id": framework_id});
            if full {
                message["status"] = mesos_proto::json::to_value(&*s);
            }
            (
                format!("task {} {}", s.task_id.value, s.state().as_str_name()),
                message,
            )
        }
        Sent::KillTask { task_id } => (
            format!("task {task_id}"),
            json!({"framework_id": framework_id, "task_id": task_id}),
        ),
        Sent::StatusUpdateAcknowledgement { task_id, uuid } => (
            format!("task {task_id}"),
            json!({"framework_id": framework_id, "task_id": task_id,
                   "uuid": mesos_proto::uuid::to_string(uuid)}),
        ),
        Sent::ShutdownExecutor { executor_id } => (
            format!("executor {executor_id}"),
            json!({"framework_id": framework_id, "executor_id": executor_id}),
        ),
        Sent::ShutdownFramework => (String::new(), json!({"framework_id": framework_id})),
        Sent::FrameworkToExecutor { executor_id, bytes }
        | Sent::ExecutorToFramework { executor_id, bytes } => (
            format!("executor {executor_id}"),
            json!({"framework_id": framework_id, "executor_id": executor_id, "bytes": bytes}),
        ),
        Sent::ExitedExecutor {
            executor_id,
            status,
        } => (
            format!("executor {executor_id}"),
            json!({"framework_id": framework_id, "executor_id": executor_id, "status": status}),
        ),
    };
    (
        kind.direction(),
        kind.name().to_string(),
        summary,
        full.then_some(message),
    )
}

#[cfg(test)]
mod tests {
    use super::super::Timeline;
    use crate::messages::{ToAgent, ToMaster};

    #[test]
    fn master_agent_messages_by_their_mesos_names() {
        let tl = Timeline::default();
        let info = mesos_proto::v1::FrameworkInfo {
            id: Some(mesos_proto::v1::FrameworkId { value: "fw".into() }),
            ..Default::default()
        };
        let task = mesos_proto::v1::TaskInfo {
            task_id: mesos_proto::v1::TaskId { value: "t1".into() },
            ..Default::default()
        };
        let run = ToAgent::RunTask {
            framework: info.into(),
            task: task.into(),
        };
        tl.master_to_agent(&"agent-S0".into(), &run);
        tl.master_to_agent(&"agent-S0".into(), &ToAgent::Reregister);
        let mut status = mesos_proto::v1::TaskStatus {
            task_id: mesos_proto::v1::TaskId { value: "t1".into() },
            ..Default::default()
        };
        status.set_state(mesos_proto::v1::TaskState::TaskRunning);
        let update = ToMaster::StatusUpdate {
            framework_id: "fw".into(),
            status: status.into(),
            latest_state: 0,
        };
        tl.agent_to_master(&"agent-S0".into(), &update);
        let v = tl.entries_json("fw", None, 10, false).unwrap();
        assert_eq!(v["entries"].as_array().unwrap().len(), 2, "{v}");
        let (r, u) = (&v["entries"][0], &v["entries"][1]);
        assert_eq!(r["direction"], "to_agent");
        assert_eq!(r["type"], "RunTaskMessage");
        assert_eq!(r["agent_id"], "agent-S0");
        assert_eq!(r["summary"], "task t1");
        assert_eq!(r["message"]["task"]["task_id"]["value"], "t1");
        assert_eq!(u["direction"], "from_agent");
        assert_eq!(u["type"], "StatusUpdateMessage");
        assert_eq!(u["summary"], "task t1 TASK_RUNNING");
        assert_eq!(u["message"]["status"]["state"], "TASK_RUNNING");
    }
}

/// The entries rendered from the shared records are the ones rendered before from their
/// encodings (the page, the downloads and the diagrams read them).
#[cfg(test)]
mod rendering {
    use std::sync::Arc;

    use mesos_proto::v1::{
        CommandInfo, FrameworkId, FrameworkInfo, Label, Labels, Resource, TaskId, TaskInfo,
        TaskState, TaskStatus, value,
    };
    use prost::Message as _;
    use serde_json::{Value, json};

    use super::super::Timeline;
    use crate::config::Bounds;
    use crate::messages::{ToAgent, ToMaster};

    fn task() -> TaskInfo {
        TaskInfo {
            name: "sleepy".into(),
            task_id: TaskId { value: "t7".into() },
            resources: vec![Resource {
                name: "cpus".into(),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar { value: 0.5 }),
                ..Default::default()
            }],
            command: Some(CommandInfo {
                value: Some("sleep 1".into()),
                ..Default::default()
            }),
            labels: Some(Labels {
                labels: vec![Label {
                    key: "k".into(),
                    value: Some("v".into()),
                }],
            }),
            ..Default::default()
        }
    }

    fn framework() -> Arc<FrameworkInfo> {
        Arc::new(FrameworkInfo {
            id: Some(FrameworkId { value: "fw".into() }),
            ..Default::default()
        })
    }

    fn status() -> TaskStatus {
        let mut s = TaskStatus {
            task_id: TaskId { value: "t7".into() },
            message: Some("running".into()),
            uuid: Some(vec![3; 16]),
            timestamp: Some(1.5),
            ..Default::default()
        };
        s.set_state(TaskState::TaskRunning);
        s
    }

    /// What an entry's `message` was when the timeline kept the encoding: the ids, and
    /// the message decoded from its bytes and written as Mesos JSON.
    fn from_bytes<M: prost::Message + prost::Name + Default>(key: &str, m: &M) -> Value {
        let decoded = M::decode(&m.encode_to_vec()[..]).unwrap();
        let mut v = json!({"framework_id": "fw"});
        v[key] = mesos_proto::json::to_value(&decoded);
        v
    }

    #[test]
    fn shared_records_render_as_their_encodings_did() {
        let tl = Timeline::default();
        let t = Arc::new(task());
        tl.master_to_agent(
            &"agent-S0".into(),
            &ToAgent::RunTask {
                framework: framework(),
                task: Arc::clone(&t),
            },
        );
        let s = Arc::new(status());
        tl.agent_to_master(
            &"agent-S0".into(),
            &ToMaster::StatusUpdate {
                framework_id: "fw".into(),
                status: Arc::clone(&s),
                latest_state: 0,
            },
        );
        tl.master_to_agent(
            &"agent-S0".into(),
            &ToAgent::Acknowledge {
                framework_id: "fw".into(),
                task_id: "t7".into(),
                uuid: vec![3; 16],
            },
        );
        let v = tl.entries_json("fw", None, 10, false).unwrap();
        let e = v["entries"].as_array().unwrap();
        assert_eq!(e.len(), 3, "{v}");
        // Compared as text: key order is part of what readers get.
        assert_eq!(
            e[0]["message"].to_string(),
            from_bytes("task", &*t).to_string()
        );
        assert_eq!(e[0]["summary"], "task t7");
        assert_eq!(
            e[1]["message"].to_string(),
            from_bytes("status", &*s).to_string()
        );
        assert_eq!(e[1]["summary"], "task t7 TASK_RUNNING");
        assert_eq!(e[2]["type"], "StatusUpdateAcknowledgementMessage");
        assert_eq!(
            e[2]["message"].to_string(),
            json!({"framework_id": "fw", "task_id": "t7",
                   "uuid": mesos_proto::uuid::to_string(&[3; 16])})
            .to_string()
        );
        assert_eq!(e[2]["summary"], "task t7");
    }

    /// A task over `timeline_max_message_bytes` keeps a prefix of its encoding and its
    /// size, as before; the entry does not keep the task itself alive.
    #[test]
    fn a_task_over_the_bound_keeps_a_prefix() {
        let tl = Timeline::new(&Bounds {
            timeline_max_message_bytes: 16,
            ..Bounds::default()
        });
        let t = Arc::new(task());
        tl.master_to_agent(
            &"agent-S0".into(),
            &ToAgent::RunTask {
                framework: framework(),
                task: Arc::clone(&t),
            },
        );
        assert_eq!(Arc::strong_count(&t), 1);
        let v = tl.entries_json("fw", None, 10, false).unwrap();
        let e = &v["entries"][0];
        let size = t.encoded_len();
        assert_eq!(e["type"], "RunTaskMessage");
        assert_eq!(e["summary"], format!("[{size} bytes, truncated]"));
        assert_eq!(e["message"]["truncated"], true);
        assert_eq!(e["message"]["size"], size);
    }
}
