//! The executor of step 07: its tasks run until they are killed.
//!
//! On LAUNCH it reports TASK_RUNNING and does nothing else: a real task would start a
//! process or a thread here. KILL of one task reports it TASK_KILLED. On SHUTDOWN (after
//! the framework's TEARDOWN) the trait's default reports the tasks still running killed.

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
}

/// Runs the executor until the agent shuts it down.
pub fn run() -> Result<()> {
    ExecutorDriver::from_env()?.run(&mut UntilKilled)
}
