//! The book's `scheduler-minimal.py` (*Mesos in Action* ch. 10) on the v1 HTTP API: one task on
//! minimal-executor per offer that fits, `--tasks` times, then TEARDOWN. `Fix:` marks book bugs.
use clap::Parser;
use mesos_client::prelude::*;
use simple_logger::SimpleLogger;

/// Runs tasks on minimal-executor, then tears the framework down.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    executor: ExecutorSource,
    /// How many tasks to run.
    #[arg(long, default_value_t = 2)]
    tasks: usize,
    /// How long each task sleeps, in seconds (30 in the book).
    #[arg(long, default_value_t = 1)]
    sleep: u64,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

#[derive(Default)]
struct Minimal {
    executor: ExecutorBuilder,
    tasks: usize,
    launched: usize,
    ended: std::collections::BTreeSet<String>,
}

impl Scheduler for Minimal {
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        let need = Resources::new(0.1, 32.0);
        for offer in offers {
            // Fix: the book launches on any offer, forever, unchecked, leaving the executor none.
            let mut left = RemainingResources::from_offer(offer);
            match (left.take(&need), left.take(&need)) {
                (Some(for_task), Some(for_executor)) if self.launched < self.tasks => {
                    let executor = self.executor.clone().resources(for_executor).build();
                    let id = format!("minimal-{}", self.launched + 1);
                    let data = format!("Hello from task {id}!"); // Fix: bytes (base64 in JSON)
                    let task = TaskBuilder::executor(offer, executor).id(&id).data(data);
                    log::info!("launching task {id} on agent {}", offer.agent_id.value);
                    handle.launch(offer, vec![task.resources(for_task).build()])?;
                    self.launched += 1;
                }
                // Fix: the book never declines: an unanswered offer holds its resources.
                _ => handle.decline(offer, 60.0)?,
            }
        }
        Ok(())
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
        let (id, state) = (&status.task_id.value, status.state());
        log::info!("task {id} is {} {}", state.as_str_name(), status.message());
        // Fix: the old driver acknowledged for the book; over v1 we must (updates with a uuid).
        handle.acknowledge(status)?;
        expect_end(status, &[TaskState::TaskFinished])?; // Fix: other ends fail the run (exit 1)
        // Updates can come twice: the set counts each task once.
        let first_end = state.is_terminal() && self.ended.insert(id.clone());
        if first_end && self.ended.len() == self.tasks {
            log::info!("all {} tasks ended: TEARDOWN", self.tasks);
            handle.teardown()?;
        }
        Ok(())
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    SimpleLogger::new().with_level(args.log_level).init()?;
    // Fix: the book leaves `user` empty for the old driver to fill in; over HTTP nobody does.
    let info = FrameworkInfo {
        user: default_user(),
        name: "MinimalFramework".into(),
        ..Default::default()
    };
    // `local` (the default) starts a cluster in this process; it stops when `_cluster` drops.
    let (mut config, _cluster) = args.connection.scheduler_config(info)?;
    config.auto_acknowledge = false; // we acknowledge in `update`, to show how
    // The agent fetches the executor into the sandbox: a path, or a URL this process serves.
    let shipped = args.executor.ship("minimal-executor", &config.masters)?;
    let executor = shipped.executor("MinimalExecutor", &format!("--sleep {}", args.sleep));
    let mut minimal = Minimal {
        executor,
        tasks: args.tasks,
        ..Default::default()
    };
    Ok(SchedulerDriver::new(config)?.run(&mut minimal)?)
}
