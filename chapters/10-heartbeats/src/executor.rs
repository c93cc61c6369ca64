//! The executor of step 10: the program the agent starts to run our tasks.

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{KillPolicy, TaskId, TaskInfo, TaskState};

/// Runs each task until the scheduler KILLs it or shuts the executor down.
struct Shouter;

impl Executor for Shouter {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        let reply = String::from_utf8_lossy(task.data()).to_uppercase();
        handle.update(&task.task_id, TaskState::TaskRunning, "")?;
        // A MESSAGE to the scheduler: just bytes, no task state, not reliable.
        handle.send_message(format!("{} {reply}", task.task_id.value))?;
        Ok(())
    }

    // The scheduler KILLs a task: a real executor would stop its work first.
    fn kill(&mut self, handle: &ExecutorHandle, id: TaskId, _: Option<KillPolicy>) -> Result<()> {
        handle.update(&id, TaskState::TaskKilled, "")?;
        Ok(())
    }

    // The agent shuts us down (the scheduler's SHUTDOWN): end every task, then we exit.
    fn shutdown(&mut self, handle: &ExecutorHandle) -> Result<()> {
        for id in handle.live_tasks() {
            handle.update(&id, TaskState::TaskKilled, "shut down")?;
        }
        Ok(())
    }
}

/// Runs until the agent shuts the executor down. Its `MESOS_*` variables say where to connect.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut Shouter)
}
