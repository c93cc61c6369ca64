//! The messages masters and agents exchange over crossbeam channels.
//!
//! Real Mesos masters and agents talk through libprocess messages (`RunTaskMessage`,
//! `StatusUpdateMessage`, ...). Modelling them as two enums keeps the agent a separate
//! actor: losing an agent is just dropping its channel, and a new leading master learns
//! the cluster by having every agent register again.

use std::sync::Arc;

use crossbeam_channel::Sender;
use mesos_proto::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskInfo, TaskStatus,
};

/// Master -> agent.
// Every message is as large as the largest variant, and each is moved into and out of a
// channel slot. A TaskInfo is about 2.7 KB, so the launch payloads are behind pointers:
// otherwise every acknowledgement (three per task) would carry 3 KB through the channel,
// and the channel's blocks of slots would be ~90 KB allocations. The task and framework of
// a RunTask are shared (`Arc`) with the master's records: a launch copies neither.
#[derive(Debug, Clone)]
pub enum ToAgent {
    /// Launch one task (`task.executor` set: custom executor; else command executor).
    RunTask {
        /// The framework, with its id (the master's own record of it).
        framework: Arc<FrameworkInfo>,
        /// The task, as validated by the master (the master keeps the same one).
        task: Arc<TaskInfo>,
    },
    /// Launch a task group on `executor`.
    RunTaskGroup {
        /// The framework, with its id.
        framework: Arc<FrameworkInfo>,
        /// The group's executor.
        executor: Box<ExecutorInfo>,
        /// The tasks.
        group: TaskGroupInfo,
    },
    /// Kill one task.
    KillTask {
        /// Framework id.
        framework_id: String,
        /// Task id.
        task_id: String,
        /// Overrides the task's kill policy.
        kill_policy: Option<KillPolicy>,
    },
    /// Shut one executor down.
    ShutdownExecutor {
        /// Framework id.
        framework_id: String,
        /// Executor id.
        executor_id: String,
    },
    /// The framework was removed: shut all its executors down.
    ShutdownFramework {
        /// Framework id.
        framework_id: String,
    },
    /// Scheduler -> executor message.
    FrameworkMessage {
        /// Framework id.
        framework_id: String,
        /// Executor id.
        executor_id: String,
        /// Payload.
        data: Vec<u8>,
    },
    /// The scheduler acknowledged a status update.
    Acknowledge {
        /// Framework id.
        framework_id: String,
        /// Task id.
        task_id: String,
        /// The update's uuid.
        uuid: Vec<u8>,
    },
    /// A framework re-subscribed: resend pending updates now instead of at the next retry.
    ResendUpdates {
        /// Framework id.
        framework_id: String,
    },
    /// Register again with the (new) leading master.
    Reregister,
}

/// What an agent reports about one of its tasks when it (re-)registers.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The framework (with id).
    pub framework: FrameworkInfo,
    /// The task as launched.
    pub task: TaskInfo,
    /// Its latest state.
    pub state: TaskStatus,
}

/// Agent -> master.
// Kept small (the registration's AgentInfo is boxed): three status updates per task go
// through the master's channel, in blocks of slots as large as the largest variant.
#[derive(Debug, Clone)]
pub enum ToMaster {
    /// An agent (re-)registers, with its running tasks.
    RegisterAgent {
        /// Agent info with id, resources and attributes.
        info: Box<AgentInfo>,
        /// Where to send [`ToAgent`] messages.
        tx: Sender<ToAgent>,
        /// Tasks the agent runs.
        tasks: Vec<TaskReport>,
    },
    /// A reliable status update (the agent retries until acknowledged).
    StatusUpdate {
        /// Framework id.
        framework_id: String,
        /// The pending (oldest unacknowledged) update, shared with the agent's queue of
        /// pending updates and the master's task history: built once, never deep-copied
        /// on its way to the scheduler (a TaskStatus is a dozen allocations).
        status: Arc<TaskStatus>,
        /// The task's latest state known to the agent.
        latest_state: i32,
    },
    /// Executor -> scheduler message.
    ExecutorMessage {
        /// Framework id.
        framework_id: String,
        /// Agent id.
        agent_id: String,
        /// Executor id.
        executor_id: String,
        /// Payload.
        data: Vec<u8>,
    },
    /// A non-command executor exited.
    ExecutorExited {
        /// Framework id.
        framework_id: String,
        /// Agent id.
        agent_id: String,
        /// Executor id.
        executor_id: String,
        /// Raw wait status (-1 if unknown).
        status: i32,
        /// Whether to tell the scheduler (no FAILURE for command executors).
        notify: bool,
    },
    /// The agent is gone (fault injection or shutdown).
    AgentLost {
        /// Agent id.
        agent_id: String,
    },
}
