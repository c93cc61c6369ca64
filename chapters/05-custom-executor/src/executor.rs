//! The executor of step 05: the program the agent starts to run our tasks.
//!
//! The agent starts it in the sandbox with `MESOS_*` environment variables saying where to
//! connect; [`ExecutorDriver::from_env`] reads them, subscribes to the agent's executor API,
//! and calls [`Executor::launch`] for every task. It sends TASK_RUNNING, "works" on the
//! task's data (upper-cases it) and sends TASK_FINISHED with the result as the update's
//! `data`. It exits when the agent shuts it down (after the framework's TEARDOWN).

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{TaskInfo, TaskState};

/// Upper-cases each task's data.
struct Shouter;

impl Executor for Shouter {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) {
        let id = &task.task_id;
        let data = String::from_utf8_lossy(task.data()).to_string();
        // Our stdout is the sandbox's `stdout` file.
        println!("task {} got: {data}", id.value);
        if let Err(err) = handle.update(id, TaskState::TaskRunning, "") {
            eprintln!("could not send TASK_RUNNING: {err}");
        }
        // Real work would go on its own thread with a clone of `handle`: while a callback
        // runs, no other event is handled. This work is tiny.
        let reply = data.to_uppercase().into_bytes();
        if let Err(err) = handle.update_with_data(id, TaskState::TaskFinished, "done", reply) {
            eprintln!("could not send TASK_FINISHED: {err}");
        }
    }
}

/// Runs the executor until the agent shuts it down.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut Shouter)
}
