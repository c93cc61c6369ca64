//! The executor of step 06: the program the agent starts to run our tasks.

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{TaskId, TaskInfo, TaskState};

/// Upper-cases each task's data and sends it to the scheduler; its answer ends the task.
struct Shouter;

impl Executor for Shouter {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        let reply = String::from_utf8_lossy(task.data()).to_uppercase();
        handle.update(&task.task_id, TaskState::TaskRunning, "")?;
        // A MESSAGE to the scheduler: just bytes, no task state, not reliable.
        handle.send_message(format!("{} {reply}", task.task_id.value))?;
        Ok(())
    }

    // The scheduler answers with the id of the task that is done.
    fn message(&mut self, handle: &ExecutorHandle, data: Vec<u8>) -> Result<()> {
        let value = String::from_utf8_lossy(&data).into_owned();
        handle.update(&TaskId { value }, TaskState::TaskFinished, "")?;
        Ok(())
    }
}

/// Runs until the agent shuts the executor down. Its `MESOS_*` variables say where to connect.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut Shouter)
}
