//! minimal-executor: runs minimal-scheduler's tasks on an agent.
//!
//! The v1 HTTP version of `executor-minimal.py` from *Mesos in Action*,
//! chapter 10. For each task it sends TASK_RUNNING, prints the task's data
//! (`Hello from task <id>!`) to its stdout, sleeps `--sleep` seconds and
//! sends TASK_FINISHED. It ends when the agent sends SHUTDOWN (after the
//! scheduler's TEARDOWN). "Fix:" comments mark where the book goes wrong.
//!
//! You do not start it yourself: minimal-scheduler ships it to the agent,
//! which runs it in the task's sandbox, with stdout and stderr going to
//! files there (the RUNNING update names the file). The agent tells it
//! where to connect through `MESOS_*` variables, so it has no `--master`.
//!
//! Next: `skeleton/` for every executor callback.
use std::thread;
use std::time::Duration;

use clap::Parser;
use mesos_client::prelude::*;
use simple_logger::SimpleLogger;

/// Runs minimal-scheduler's tasks; started by a Mesos agent.
#[derive(Parser)]
struct Args {
    /// How long each task sleeps, in seconds (30 in the book).
    #[arg(long, default_value_t = 1)]
    sleep: u64,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

struct Minimal {
    sleep: Duration,
}

impl Executor for Minimal {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        log::info!("launching task {}", task.task_id.value);
        // As in the book, the task runs on its own thread: the executor must
        // keep handling events (acknowledgements, kills) meanwhile.
        let (handle, sleep) = (handle.clone(), self.sleep);
        thread::spawn(move || {
            if let Err(err) = run_task(&handle, &task, sleep) {
                // The driver keeps the update and resends it after reconnecting.
                log::warn!("task {}: {err}", task.task_id.value);
            }
        });
        Ok(())
    }
}

fn run_task(handle: &ExecutorHandle, task: &TaskInfo, sleep: Duration) -> Result<()> {
    let stdout = handle.env().sandbox.join("stdout");
    let running = format!("(its output goes to {})", stdout.display());
    // Fix: v1 updates need a fresh uuid, the executor id and SOURCE_EXECUTOR,
    // and must be resent until the agent acknowledges them: `update` does all that.
    send(handle, task, TaskState::TaskRunning, &running)?;
    // Fix: `data` is bytes (base64 on the JSON wire, decoded for us); the book printed it as text.
    println!("{}", String::from_utf8_lossy(task.data()));
    thread::sleep(sleep);
    send(handle, task, TaskState::TaskFinished, "")
}

fn send(handle: &ExecutorHandle, task: &TaskInfo, state: TaskState, message: &str) -> Result<()> {
    log::info!("task {} is {}", task.task_id.value, state.as_str_name());
    handle.update(&task.task_id, state, message)?;
    Ok(())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Fix: the book's executor sets up no logging, so its problems are invisible.
    SimpleLogger::new().with_level(args.log_level).init()?;
    let sleep = Duration::from_secs(args.sleep);
    ExecutorDriver::from_env()?.run(&mut Minimal { sleep })?;
    log::info!("executor done");
    Ok(())
}
