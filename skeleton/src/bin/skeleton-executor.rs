//! skeleton-executor: every executor callback, in the order of
//! `executor.proto`, each with what it is for and a `// TODO:` for your code.
//!
//! skeleton-scheduler ships it to the agents, which start it in a sandbox
//! with `MESOS_*` variables saying where to connect (so it has no
//! `--master`); its stdout and stderr are files in that sandbox. As it
//! stands each task sends TASK_RUNNING, prints its data, works for
//! `--sleep` seconds (stopping early when killed) and sends TASK_FINISHED
//! or TASK_KILLED. Every callback logs one line starting with its name.
//!
//!     cargo run --bin skeleton-scheduler     # runs this executor too
//!
//! Unlike the book's skeleton executor, it sets up logging (else nothing
//! it does is visible), and the compiler checks the callbacks' signatures.
//! Callbacks return `Result`: a failed call is logged (an update that cannot
//! reach the agent is kept and resent); an error of your own ends `run`.
//!
//! Next: the trait's docs in `client/src/executor/mod.rs`.
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use mesos_client::{Executor, ExecutorDriver, ExecutorHandle, Result};
use mesos_proto::ContentType;
use mesos_proto::v1::executor::event;
use mesos_proto::v1::{KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState};
use simple_logger::SimpleLogger;

/// Runs skeleton-scheduler's tasks; started by a Mesos agent.
#[derive(Parser)]
struct Args {
    /// How long each task works, in seconds.
    #[arg(long, default_value_t = 1)]
    sleep: u64,
    /// Protobuf on the wire (JSON by default).
    #[arg(long)]
    protobuf: bool,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

/// The executor's state. TODO: keep what your executor needs here.
struct Skeleton {
    sleep: Duration,
    /// A "please stop" flag for each task started, by task id.
    kill_flags: BTreeMap<String, Arc<AtomicBool>>,
}

impl Executor for Skeleton {
    /// When: the agent accepted SUBSCRIBE (and again after an agent restart,
    /// if the framework checkpoints). Must: nothing; LAUNCHes follow.
    /// This stub: logs. Upstream: v0 `registered`; Event SUBSCRIBED.
    fn subscribed(
        &mut self,
        _handle: &ExecutorHandle,
        subscribed: event::Subscribed,
    ) -> Result<()> {
        let agent = subscribed.agent_info.hostname;
        log::info!(
            "subscribed: on agent {agent} for {}",
            subscribed.framework_info.name
        );
        // TODO: set up what every task needs (connections, caches).
        Ok(())
    }

    /// When: the scheduler launched a task on this executor.
    /// Must: report TASK_RUNNING and, later, a terminal state; return quickly.
    /// This stub: runs the task on its own thread.
    /// Upstream: v0 `launchTask`; Event LAUNCH.
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> Result<()> {
        log::info!("launch: task {}", task.task_id.value);
        let stop = Arc::new(AtomicBool::new(false));
        self.kill_flags
            .insert(task.task_id.value.clone(), stop.clone());
        let (handle, sleep) = (handle.clone(), self.sleep);
        thread::spawn(move || {
            if let Err(err) = run_task(&handle, &task, sleep, &stop) {
                log::warn!("task {}: {err}", task.task_id.value);
            }
        });
        Ok(())
    }

    /// When: the scheduler launched a group of tasks (a pod) together.
    /// Must: run them all, or report each failed. This stub: reports them
    /// failed. Upstream: Event LAUNCH_GROUP (no v0 callback).
    fn launch_group(&mut self, handle: &ExecutorHandle, group: TaskGroupInfo) -> Result<()> {
        for task in &group.tasks {
            log::warn!("launch_group: task {} not supported", task.task_id.value);
            // TODO: run task groups, if your scheduler sends them.
            let failed = TaskState::TaskFailed;
            send(
                handle,
                &task.task_id,
                failed,
                "task groups are not supported",
            )?;
        }
        Ok(())
    }

    /// When: the scheduler (or the agent) wants a task killed.
    /// Must: stop it, then send a terminal update (TASK_KILLED).
    /// This stub: raises the task's stop flag; its thread sends TASK_KILLED.
    /// Upstream: v0 `killTask`; Event KILL.
    fn kill(
        &mut self,
        handle: &ExecutorHandle,
        task_id: TaskId,
        _policy: Option<KillPolicy>,
    ) -> Result<()> {
        log::info!("kill: task {}", task_id.value);
        match self.kill_flags.get(&task_id.value) {
            Some(stop) => stop.store(true, Ordering::SeqCst),
            // Unknown here: say it is killed, so it does not hang in the scheduler.
            None => send(handle, &task_id, TaskState::TaskKilled, "unknown task")?,
        }
        // TODO: honour the kill policy's grace period for your processes.
        Ok(())
    }

    /// When: the agent has safely received one of our updates.
    /// Must: nothing (the driver stops resending it). This stub: logs.
    /// Upstream: Event ACKNOWLEDGED (v0 did this for you).
    fn acknowledged(
        &mut self,
        _handle: &ExecutorHandle,
        task_id: TaskId,
        _uuid: Vec<u8>,
    ) -> Result<()> {
        log::debug!("acknowledged: an update of task {}", task_id.value);
        Ok(())
    }

    /// When: the scheduler sent bytes (best effort). Must: nothing.
    /// This stub: logs them as text. Upstream: v0 `frameworkMessage`; Event MESSAGE.
    fn message(&mut self, _handle: &ExecutorHandle, data: Vec<u8>) -> Result<()> {
        log::info!("message: {}", String::from_utf8_lossy(&data));
        // TODO: handle your scheduler's messages.
        Ok(())
    }

    /// When: the agent reports an error (rare over HTTP). Must: nothing.
    /// This stub: logs. Upstream: v0 `error`; Event ERROR.
    fn error(&mut self, _handle: &ExecutorHandle, message: String) -> Result<()> {
        log::error!("error: {message}");
        Ok(())
    }

    /// When: the agent wants this executor gone (framework removed, agent
    /// draining). Must: kill every task and send their terminal updates
    /// within the grace period; `run` returns after that.
    /// This stub: raises every stop flag. Upstream: v0 `shutdown`; Event SHUTDOWN.
    fn shutdown(&mut self, _handle: &ExecutorHandle) -> Result<()> {
        log::info!("shutdown: stopping {} task(s)", self.kill_flags.len());
        for stop in self.kill_flags.values() {
            stop.store(true, Ordering::SeqCst);
        }
        // TODO: release what `subscribed` set up.
        Ok(())
    }

    /// When: the connection to the agent broke. Must: if the framework does
    /// not checkpoint, stop your tasks: `run` returns an error next.
    /// This stub: logs. Upstream: v0 `disconnected`.
    fn disconnected(&mut self, _handle: &ExecutorHandle) -> Result<()> {
        log::warn!("disconnected: from the agent");
        // TODO: stop processes that must not outlive the executor.
        Ok(())
    }
}

/// One task: RUNNING, print the data, work until done or stopped, then the final state.
fn run_task(
    handle: &ExecutorHandle,
    task: &TaskInfo,
    sleep: Duration,
    stop: &AtomicBool,
) -> Result<()> {
    let id = &task.task_id;
    let stdout = handle.env().sandbox.join("stdout");
    let running = format!("(output in {})", stdout.display());
    send(handle, id, TaskState::TaskRunning, &running)?;
    println!("{}", String::from_utf8_lossy(task.data()));
    // TODO: the real work. Check `stop` often so kills and shutdowns are quick.
    let deadline = Instant::now() + sleep;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(100));
    }
    let (state, message) = match stop.load(Ordering::SeqCst) {
        true => (TaskState::TaskKilled, "killed"),
        false => (TaskState::TaskFinished, "done"),
    };
    send(handle, id, state, message)
}

/// Sends a status update; the driver resends it until the agent acknowledges it.
fn send(handle: &ExecutorHandle, task_id: &TaskId, state: TaskState, message: &str) -> Result<()> {
    log::info!("task {} is {}", task_id.value, state.as_str_name());
    handle.update(task_id, state, message)?;
    Ok(())
}

fn main() -> std::result::Result<(), Box<dyn Error>> {
    let args = Args::parse();
    SimpleLogger::new().with_level(args.log_level).init()?;
    let wire = if args.protobuf {
        ContentType::Protobuf
    } else {
        ContentType::Json
    };
    let driver = ExecutorDriver::from_env()?.content_type(wire);
    let mut skeleton = Skeleton {
        sleep: Duration::from_secs(args.sleep),
        kill_flags: BTreeMap::new(),
    };
    driver.run(&mut skeleton)?;
    log::info!("executor done");
    Ok(())
}
