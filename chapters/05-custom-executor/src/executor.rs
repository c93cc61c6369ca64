//! The executor of step 05: the program the agent starts to run our tasks.

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{TaskInfo, TaskState};

/// Upper-cases each task's data and answers with it in TASK_FINISHED.
struct Shouter;

impl Executor for Shouter {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        let reply = String::from_utf8_lossy(task.data()).to_uppercase();
        handle.update(&task.task_id, TaskState::TaskRunning, "")?;
        // Long work would go on a thread of its own: while a callback runs, no event is handled.
        handle.update_with_data(
            &task.task_id,
            TaskState::TaskFinished,
            "",
            reply.into_bytes(),
        )?;
        Ok(())
    }
}

/// Runs until the agent shuts the executor down. Its `MESOS_*` variables say where to connect.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut Shouter)
}
