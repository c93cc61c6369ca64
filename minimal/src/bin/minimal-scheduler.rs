//! minimal-scheduler: the least code that runs tasks on a custom executor.
//!
//! The v1 HTTP version of `scheduler-minimal.py` from *Mesos in Action*,
//! chapter 10. As `MinimalFramework`, it launches one task (0.1 cpu, 32 MB)
//! on each offer that fits, run by `minimal-executor` with the data
//! `Hello from task <id>!`, until `--tasks` tasks were launched; once they
//! have all ended it sends TEARDOWN and exits. "Fix:" comments mark where
//! the book's code goes wrong.
//!
//!     cargo run --bin minimal-scheduler -- --sleep 5
//!
//! With no `--master` (or `MESOS_MASTER`) it starts a local cluster in this
//! process (Mesos' `--master local`), and builds `minimal-executor` first if
//! `cargo run` did not. You will see: subscribed, the offers, each launch,
//! every status update (RUNNING names the file with the task's output),
//! then TEARDOWN. For a real cluster: `-- --master 10.141.141.10:5050`
//! (its agents must be able to read the executor: see `--executor`).
//!
//! Next: `minimal-executor.rs`, then `skeleton/` (every callback).
use std::collections::BTreeSet;
use std::error::Error;

use clap::Parser;
use mesos_client::connect::Connection;
use mesos_client::executor::is_terminal;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::ContentType;
use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, Offer, TaskState, TaskStatus};
use simple_logger::SimpleLogger;

/// Runs tasks on minimal-executor, then tears the framework down.
#[derive(Parser)]
struct Args {
    /// --master (`host:port`, a list, `zk://...`, or `local`), and for a master that
    /// authenticates frameworks --principal/--secret-file (and --ca-file for https).
    #[command(flatten)]
    connection: Connection,
    /// How many tasks to run before TEARDOWN.
    #[arg(long, default_value_t = 2)]
    tasks: usize,
    /// How long each task sleeps, in seconds (30 in the book).
    #[arg(long, default_value_t = 30)]
    sleep: u64,
    /// The executor, as a path or URL the agents can fetch
    /// [default: minimal-executor next to this program].
    #[arg(long)]
    executor: Option<String>,
    /// JSON on the wire (the default).
    #[arg(long, conflicts_with = "protobuf")]
    json: bool,
    /// Protobuf on the wire.
    #[arg(long)]
    protobuf: bool,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

#[derive(Default)]
struct Minimal {
    tasks: usize,
    executor: ExecutorInfo,
    launched: usize,
    ended: BTreeSet<String>,
    failed: usize,
}

impl Scheduler for Minimal {
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        log::info!("received {} offer(s)", offers.len());
        for offer in offers {
            // Fix: the book launches on every offer, forever, without checking that it
            // fits; and it forgets that the executor needs resources of its own too.
            let need = Resources::new(0.1, 32.0);
            let mut left = RemainingResources::from_offer(offer);
            let wanted = self.launched < self.tasks;
            let (true, Some(task_resources), Some(executor_resources)) =
                (wanted, left.take(&need), left.take(&need))
            else {
                // Fix: the book never declines. An unanswered offer holds its resources;
                // `refuse_seconds` says how long not to offer them to us again.
                let refuse = if wanted { 5.0 } else { 60.0 };
                if let Err(err) = handle.decline(vec![offer.id.clone()], Some(refuse)) {
                    log::warn!("could not decline offer {}: {err}", offer.id.value);
                }
                continue;
            };
            let id = format!("minimal-{}", self.launched + 1);
            let executor = ExecutorInfo {
                resources: executor_resources,
                ..self.executor.clone()
            };
            let task = TaskBuilder::executor(executor)
                .id(&id)
                .offer(offer)
                .resources(task_resources)
                // Fix: `data` is bytes, base64 on the JSON wire (mesos-proto encodes it).
                .data(format!("Hello from task {id}!"))
                .build()
                .expect("the offer sets the agent id");
            log::info!("launching task {id} on agent {}", offer.agent_id.value);
            match handle.launch(vec![offer.id.clone()], vec![task], None) {
                Ok(()) => self.launched += 1,
                Err(err) => log::warn!("could not launch {id}: {err}"),
            }
        }
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) {
        let (id, state) = (&status.task_id.value, status.state());
        log::info!("task {id} is {} {}", state.as_str_name(), status.message());
        // Fix: the book's driver acknowledged for it; over v1 the framework must, for
        // updates that carry a uuid (`acknowledge` skips the others: acking them is an error).
        if let Err(err) = handle.acknowledge(status) {
            log::warn!("could not acknowledge the update of {id}: {err}");
        }
        // Updates can come twice: count each task once.
        if is_terminal(state) && self.ended.insert(id.clone()) {
            self.failed += usize::from(state != TaskState::TaskFinished);
            if self.ended.len() >= self.tasks {
                log::info!("all {} tasks ended: TEARDOWN", self.ended.len());
                handle.stop(StopMode::Teardown);
            }
        }
    }
}

/// The executor: the agent fetches the program into the sandbox and starts it there.
fn executor_info(args: &Args) -> Result<ExecutorInfo, Box<dyn Error>> {
    let path = match &args.executor {
        Some(path_or_url) => path_or_url.clone(),
        None => mesos_client::local::find_executor("minimal-executor")?
            .display()
            .to_string(),
    };
    let program = path.rsplit('/').next().unwrap_or("minimal-executor");
    let wire = if args.protobuf { "protobuf" } else { "json" };
    let command = format!("./{program} --sleep {} --{wire}", args.sleep);
    let executor = ExecutorBuilder::custom("MinimalExecutor", shell_command(&command));
    Ok(executor
        .name("MinimalExecutor")
        .uri(uri(&path, true, false))
        .build())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    SimpleLogger::new().with_level(args.log_level).init()?;
    // `local` starts a cluster in this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&args.connection.master)?;
    // Fix: the book leaves `user` empty for the old driver to fill in; over HTTP nobody does.
    let info = FrameworkInfo {
        user: default_user(),
        name: "MinimalFramework".into(),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(master, info);
    if args.protobuf {
        config.content_type = ContentType::Protobuf; // JSON is the default
    }
    config.auto_acknowledge = false; // we acknowledge in `update`, to show how
    args.connection.apply(&mut config)?; // credentials and CA, if given
    let executor = executor_info(&args)?;
    let mut scheduler = Minimal {
        tasks: args.tasks,
        executor,
        ..Default::default()
    };
    SchedulerDriver::new(config)?.run(&mut scheduler)?;
    match scheduler.failed {
        0 => Ok(()),
        n => Err(format!("{n} task(s) did not finish").into()),
    }
}
