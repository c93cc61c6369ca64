//! Writing a Mesos executor: the [`Executor`] trait you implement and the
//! [`ExecutorDriver`] that runs it.
//!
//! An executor is the program an agent starts to run your tasks. The agent
//! tells it where to connect through `MESOS_*` environment variables
//! ([`ExecutorEnv`]); the driver subscribes to the agent's executor API,
//! turns the event stream into calls of your [`Executor`] methods, and gives
//! each call an [`ExecutorHandle`] to report task states with.
//!
//! ```no_run
//! use mesos_client::{Executor, ExecutorDriver, ExecutorHandle};
//! use mesos_proto::v1::{TaskInfo, TaskState};
//!
//! struct Hello;
//!
//! impl Executor for Hello {
//!     fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> mesos_client::Result<()> {
//!         // Real work would run on its own thread with a handle clone.
//!         handle.update(&task.task_id, TaskState::TaskRunning, "")?;
//!         println!("hello from {}", task.task_id.value);
//!         handle.update(&task.task_id, TaskState::TaskFinished, "done")?;
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> mesos_client::Result<()> {
//!     ExecutorDriver::from_env()?.run(&mut Hello)
//! }
//! ```
//!
//! Why callbacks take `&mut self` and run on the driver's thread: events
//! arrive in order and are handled one at a time, so an executor's state
//! needs no locks. Anything slow (running the task itself) belongs on a
//! thread of its own, which reports through a clone of the handle.

mod connection;
mod driver;
mod env;
mod handle;

pub use driver::ExecutorDriver;
pub use env::{
    DEFAULT_RECOVERY_TIMEOUT, DEFAULT_SHUTDOWN_GRACE_PERIOD, DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
    ExecutorEnv, format_duration, parse_duration,
};
pub use handle::ExecutorHandle;

use mesos_proto::v1::executor::event;
use mesos_proto::v1::{KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState};

use crate::error::Result;

/// The callbacks of an executor: one per v1 executor event, plus
/// [`disconnected`](Executor::disconnected).
///
/// Every method has a default, so an executor implements only what it needs.
/// The defaults are *safe*: they never leave a task in limbo. A task the
/// executor cannot run is reported failed, a task asked to die is reported
/// killed, and SHUTDOWN reports every live task killed.
///
/// Methods are called on the driver's thread, one at a time, in the order the
/// agent sent the events (the order of `Event.Type` in `executor.proto` is
/// the order here). Every method gets an [`ExecutorHandle`] for calls. Do not
/// block in a callback for long: while it runs, no other event is handled.
///
/// HEARTBEAT events are handled by the driver and never reach you.
pub trait Executor {
    /// The agent accepted the subscription. Called after every successful
    /// SUBSCRIBE: the first (v0 `registered`) and, with checkpointing, every
    /// re-subscription after the agent restarted (v0 `reregistered`).
    ///
    /// `subscribed` has this executor's `ExecutorInfo`, the `FrameworkInfo`,
    /// the `AgentInfo` and the `ContainerID`. LAUNCH events for queued tasks
    /// follow right after.
    ///
    /// Default: nothing. Fact sheet §3.2, §3.3.
    fn subscribed(&mut self, handle: &ExecutorHandle, subscribed: event::Subscribed) -> Result<()> {
        let _ = (handle, subscribed);
        Ok(())
    }

    /// Run `task` (v0 `launchTask`).
    ///
    /// You must answer with status updates through `handle`: ideally
    /// `TASK_STARTING` and `TASK_RUNNING` now, and a terminal state
    /// (`TASK_FINISHED`, `TASK_FAILED`, ...) when the task ends. A task that
    /// never gets a terminal update holds its resources until the executor
    /// exits. Start the task on its own thread and return quickly.
    ///
    /// Default: reports `TASK_FAILED` with the message
    /// `"this executor does not implement launch"`, so a scheduler learns at
    /// once that nothing will run. Fact sheet §3.2, §3.5.
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        fail_unimplemented(handle, &task.task_id, "launch")
    }

    /// Run every task of `group` together (LAUNCH_GROUP; pymesos
    /// `launchTaskGroup`). Each task gets its own stream of updates; if one
    /// fails the group is usually killed as a whole.
    ///
    /// Default: reports `TASK_FAILED` for every task of the group, with the
    /// message `"this executor does not implement launch_group"`. Fact sheet
    /// §3.5.
    fn launch_group(&mut self, handle: &ExecutorHandle, group: TaskGroupInfo) -> Result<()> {
        for task in &group.tasks {
            fail_unimplemented(handle, &task.task_id, "launch_group")?;
        }
        Ok(())
    }

    /// Kill the task `task_id` (v0 `killTask`).
    ///
    /// You must stop it and then send a terminal update, normally
    /// `TASK_KILLED`. `kill_policy`, if present, overrides the task's own
    /// policy and may only shorten its grace period.
    ///
    /// Default: sends `TASK_KILLED` right away without stopping anything. That
    /// is only right for executors whose tasks do no work of their own; an
    /// executor that runs processes must override it. Fact sheet §3.2.
    fn kill(
        &mut self,
        handle: &ExecutorHandle,
        task_id: TaskId,
        kill_policy: Option<KillPolicy>,
    ) -> Result<()> {
        let _ = kill_policy;
        handle.update(&task_id, TaskState::TaskKilled, "killed by the executor")?;
        Ok(())
    }

    /// The agent has taken over the update `uuid` of task `task_id`: it will
    /// deliver it to the scheduler. The driver has already forgotten the
    /// update (it is not resent on re-subscription). This is the agent's
    /// receipt, not the scheduler's acknowledgement.
    ///
    /// Default: nothing. Fact sheet §3.4.
    fn acknowledged(
        &mut self,
        handle: &ExecutorHandle,
        task_id: TaskId,
        uuid: Vec<u8>,
    ) -> Result<()> {
        let _ = (handle, task_id, uuid);
        Ok(())
    }

    /// The scheduler sent `data` (v0 `frameworkMessage`). Best effort: Mesos
    /// does not retry lost messages.
    ///
    /// Default: nothing (logged at debug level by the driver). Fact sheet §3.2.
    fn message(&mut self, handle: &ExecutorHandle, data: Vec<u8>) -> Result<()> {
        let _ = (handle, data);
        Ok(())
    }

    /// The agent reported an error (v0 `error`). Legacy: agents rarely send
    /// it to HTTP executors.
    ///
    /// Default: nothing (the driver logs it). Fact sheet §3.2.
    fn error(&mut self, handle: &ExecutorHandle, message: String) -> Result<()> {
        let _ = (handle, message);
        Ok(())
    }

    /// The agent wants this executor gone (v0 `shutdown`): kill every task,
    /// send their terminal updates and exit, all within
    /// `handle.env().shutdown_grace_period` (do not count on all of it).
    ///
    /// After this returns, the driver waits until no task is live and every
    /// update is acknowledged, or until the grace period is nearly over, and
    /// then [`ExecutorDriver::run`] returns.
    ///
    /// Default: sends `TASK_KILLED` for every task in
    /// [`ExecutorHandle::live_tasks`]. Fact sheet §3.6.
    fn shutdown(&mut self, handle: &ExecutorHandle) -> Result<()> {
        for task_id in handle.live_tasks() {
            handle.update(&task_id, TaskState::TaskKilled, "executor shutting down")?;
        }
        Ok(())
    }

    /// The event stream from the agent ended (v0 `disconnected`).
    ///
    /// With checkpointing (`MESOS_CHECKPOINT=1`) the driver then tries to
    /// subscribe again for up to `MESOS_RECOVERY_TIMEOUT`, resending what
    /// the agent has not acknowledged; [`subscribed`](Executor::subscribed)
    /// follows if it succeeds. Without checkpointing the agent is not coming
    /// back for us: [`ExecutorDriver::run`] returns an error after this, and
    /// you should stop your tasks' processes here.
    ///
    /// Updates sent while disconnected fail, but are kept and resent.
    ///
    /// Default: nothing. Fact sheet §3.3.
    fn disconnected(&mut self, handle: &ExecutorHandle) -> Result<()> {
        let _ = handle;
        Ok(())
    }
}

/// The default answer for a launch the executor does not handle.
fn fail_unimplemented(handle: &ExecutorHandle, task_id: &TaskId, what: &str) -> Result<()> {
    let message = format!("this executor does not implement {what}");
    log::warn!("task {}: {message}", task_id.value);
    handle.update(task_id, TaskState::TaskFailed, &message)?;
    Ok(())
}
