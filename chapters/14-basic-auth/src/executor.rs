//! The executor of step 14 (the same as step 08): its tasks run until they are killed.
//!
//! On LAUNCH it reports TASK_RUNNING and does nothing else: a real task would start a
//! process or a thread here. KILL of one task reports it TASK_KILLED. SHUTDOWN (the agent
//! passing on the scheduler's SHUTDOWN, or the framework's TEARDOWN) kills every task still
//! running; then the driver waits for the agent to acknowledge those updates and returns,
//! and the program exits with status 0, which the master reports in a FAILURE event.

use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::v1::{KillPolicy, TaskId, TaskInfo, TaskState};

/// Runs tasks that never end by themselves.
struct UntilKilled;

impl Executor for UntilKilled {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) {
        // Our stdout is the sandbox's `stdout` file.
        println!("task {} runs until killed", task.task_id.value);
        if let Err(err) = handle.update(&task.task_id, TaskState::TaskRunning, "") {
            eprintln!("could not send TASK_RUNNING: {err}");
        }
    }

    fn kill(&mut self, handle: &ExecutorHandle, task_id: TaskId, _policy: Option<KillPolicy>) {
        // Stop the task's work here (a process: SIGTERM, wait the grace period, SIGKILL).
        println!("killing task {}", task_id.value);
        if let Err(err) = handle.update(&task_id, TaskState::TaskKilled, "killed by KILL") {
            eprintln!("could not send TASK_KILLED: {err}");
        }
    }

    fn shutdown(&mut self, handle: &ExecutorHandle) {
        // The handle knows which tasks have no terminal update yet.
        for task_id in handle.live_tasks() {
            println!("shutting down: killing task {}", task_id.value);
            let message = "killed by SHUTDOWN";
            if let Err(err) = handle.update(&task_id, TaskState::TaskKilled, message) {
                eprintln!("could not send TASK_KILLED: {err}");
            }
        }
    }
}

/// Runs the executor until the agent shuts it down.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut UntilKilled)
}
