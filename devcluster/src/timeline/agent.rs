//! Master-agent messages in the timeline: which ones are recorded, under which Mesos
//! name, and how an entry is shown. Recording keeps the cheap parts (ids as small JSON,
//! the TaskInfo, TaskGroupInfo or TaskStatus as protobuf bytes); the summary and the JSON
//! are made only when someone asks, as for calls and events.

use mesos_proto::v1::{TaskGroupInfo, TaskInfo, TaskStatus};
use prost::Message as _;
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

fn payload(agent_id: &str, kind: AgentMessage, ids: Value, body: Body) -> Payload {
    Payload::Agent {
        agent_id: agent_id.to_string(),
        kind,
        ids,
        body,
    }
}

/// The framework and entry of a message master -> agent; `None` for messages about no
/// framework (re-registration) and devcluster's own (resend now).
pub(super) fn master_to_agent<'a>(
    agent_id: &str,
    m: &'a ToAgent,
    body: impl FnOnce(Vec<u8>) -> Body,
) -> Option<(&'a str, Payload)> {
    let (fw, kind, ids, bytes) = match m {
        ToAgent::RunTask { framework, task } => {
            let fw = framework.id.as_ref().map_or("", |i| i.value.as_str());
            let ids = json!({"framework_id": fw});
            (fw, AgentMessage::RunTask, ids, task.encode_to_vec())
        }
        ToAgent::RunTaskGroup {
            framework,
            executor,
            group,
        } => {
            let fw = framework.id.as_ref().map_or("", |i| i.value.as_str());
            let ids = json!({"framework_id": fw, "executor_id": executor.executor_id.value});
            (fw, AgentMessage::RunTaskGroup, ids, group.encode_to_vec())
        }
        ToAgent::KillTask {
            framework_id,
            task_id,
            ..
        } => (
            framework_id.as_str(),
            AgentMessage::KillTask,
            json!({"framework_id": framework_id, "task_id": task_id}),
            Vec::new(),
        ),
        ToAgent::ShutdownExecutor {
            framework_id,
            executor_id,
        } => (
            framework_id.as_str(),
            AgentMessage::ShutdownExecutor,
            json!({"framework_id": framework_id, "executor_id": executor_id}),
            Vec::new(),
        ),
        ToAgent::ShutdownFramework { framework_id } => (
            framework_id.as_str(),
            AgentMessage::ShutdownFramework,
            json!({"framework_id": framework_id}),
            Vec::new(),
        ),
        ToAgent::FrameworkMessage {
            framework_id,
            executor_id,
            data,
        } => (
            framework_id.as_str(),
            AgentMessage::FrameworkToExecutor,
            json!({"framework_id": framework_id, "executor_id": executor_id, "bytes": data.len()}),
            Vec::new(),
        ),
        ToAgent::Acknowledge {
            framework_id,
            task_id,
            uuid,
        } => (
            framework_id.as_str(),
            AgentMessage::StatusUpdateAcknowledgement,
            json!({"framework_id": framework_id, "task_id": task_id,
                   "uuid": mesos_proto::uuid::to_string(uuid)}),
            Vec::new(),
        ),
        ToAgent::ResendUpdates { .. } | ToAgent::Reregister => return None,
    };
    Some((fw, payload(agent_id, kind, ids, body(bytes))))
}

/// The framework and entry of a message agent -> master; `None` for registration and
/// the agent's loss (about no framework).
pub(super) fn agent_to_master<'a>(
    agent_id: &str,
    m: &'a ToMaster,
    body: impl FnOnce(Vec<u8>) -> Body,
) -> Option<(&'a str, Payload)> {
    let (fw, kind, ids, bytes) = match m {
        ToMaster::StatusUpdate {
            framework_id,
            status,
            ..
        } => (
            framework_id.as_str(),
            AgentMessage::StatusUpdate,
            json!({"framework_id": framework_id}),
            status.encode_to_vec(),
        ),
        ToMaster::ExecutorMessage {
            framework_id,
            executor_id,
            data,
            ..
        } => (
            framework_id.as_str(),
            AgentMessage::ExecutorToFramework,
            json!({"framework_id": framework_id, "executor_id": executor_id, "bytes": data.len()}),
            Vec::new(),
        ),
        ToMaster::ExecutorExited {
            framework_id,
            executor_id,
            status,
            ..
        } => (
            framework_id.as_str(),
            AgentMessage::ExitedExecutor,
            json!({"framework_id": framework_id, "executor_id": executor_id, "status": status}),
            Vec::new(),
        ),
        ToMaster::RegisterAgent { .. } | ToMaster::AgentLost { .. } => return None,
    };
    Some((fw, payload(agent_id, kind, ids, body(bytes))))
}

/// `(direction, type, summary, message)` of an entry: `to_agent` or `from_agent`, the
/// Mesos name, the task (and state) or executor, and the ids with the task, group or
/// status they carry (Mesos JSON of those).
pub(super) fn render(
    kind: AgentMessage,
    ids: &Value,
    bytes: &[u8],
    full: bool,
) -> (&'static str, String, String, Option<Value>) {
    let mut message = ids.clone();
    let text = |k: &str| ids[k].as_str().unwrap_or("").to_string();
    // Our own encoding: decoding cannot fail (if it did, the entry shows defaults).
    let summary = match kind {
        AgentMessage::RunTask => {
            let t = TaskInfo::decode(bytes).unwrap_or_default();
            message["task"] = mesos_proto::json::to_value(&t);
            format!("task {}", t.task_id.value)
        }
        AgentMessage::RunTaskGroup => {
            let g = TaskGroupInfo::decode(bytes).unwrap_or_default();
            let t: Vec<&str> = g.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
            message["task_group"] = mesos_proto::json::to_value(&g);
            format!("tasks {} on executor {}", t.join(", "), text("executor_id"))
        }
        AgentMessage::StatusUpdate => {
            let s = TaskStatus::decode(bytes).unwrap_or_default();
            message["status"] = mesos_proto::json::to_value(&s);
            format!("task {} {}", s.task_id.value, s.state().as_str_name())
        }
        AgentMessage::KillTask | AgentMessage::StatusUpdateAcknowledgement => {
            format!("task {}", text("task_id"))
        }
        AgentMessage::ShutdownFramework => String::new(),
        _ => format!("executor {}", text("executor_id")),
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
        tl.master_to_agent("agent-S0", &run);
        tl.master_to_agent("agent-S0", &ToAgent::Reregister);
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
        tl.agent_to_master("agent-S0", &update);
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
