//! The executor of step 06: it talks with the scheduler while its task runs.
//!
//! On LAUNCH it sends TASK_RUNNING and the message `ready <task id>`. Every message from the
//! scheduler is echoed back as `echo: <text>`, until `done`, which finishes the task with
//! `echoed <n> message(s)` as the final update's data. It exits when the agent shuts it down
//! (after the framework's TEARDOWN).

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{TaskId, TaskInfo, TaskState};

/// Echoes the scheduler's messages while its one task runs.
#[derive(Default)]
struct Echo {
    task: Option<TaskId>,
    echoed: usize,
}

impl Executor for Echo {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) {
        let id = task.task_id;
        if let Err(err) = handle.update(&id, TaskState::TaskRunning, "") {
            eprintln!("could not send TASK_RUNNING: {err}");
        }
        // The scheduler learns who we are from the MESSAGE event (agent and executor id).
        if let Err(err) = handle.send_message(format!("ready {}", id.value)) {
            eprintln!("could not send a message: {err}");
        }
        self.task = Some(id);
    }

    fn message(&mut self, handle: &ExecutorHandle, data: Vec<u8>) {
        let text = String::from_utf8_lossy(&data).to_string();
        // Our stdout is the sandbox's `stdout` file.
        println!("the scheduler says: {text}");
        if text != "done" {
            self.echoed += 1;
            if let Err(err) = handle.send_message(format!("echo: {text}")) {
                eprintln!("could not send a message: {err}");
            }
        } else if let Some(id) = self.task.take() {
            let reply = format!("echoed {} message(s)", self.echoed).into_bytes();
            if let Err(err) = handle.update_with_data(&id, TaskState::TaskFinished, "done", reply) {
                eprintln!("could not send TASK_FINISHED: {err}");
            }
        }
    }
}

/// Runs the executor until the agent shuts it down.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut Echo::default())
}
