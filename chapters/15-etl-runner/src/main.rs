//! `etl-runner --master a:5050,b:5050,c:5050 --cmd CMD --cpu C --mem M --maxtasks K --wait S
//! [--img IMAGE] [--user U] [--debug] --jobs N`: see the crate docs (src/lib.rs).

use std::time::Duration;

use clap::Parser;

/// Runs a command as N jobs on Mesos, in batches, with retries.
#[derive(Parser, Debug)]
#[command(name = "etl-runner")]
struct Args {
    /// Masters, comma-separated (`a:5050,b:5050,c:5050`), or `local`.
    #[arg(long, default_value = "local")]
    master: String,
    /// The shell command each job runs; it sees its job number in $ETL_JOB.
    #[arg(long)]
    cmd: String,
    /// CPUs per task.
    #[arg(long, default_value_t = 0.1)]
    cpu: f64,
    /// Memory per task, MB.
    #[arg(long, default_value_t = 32.0)]
    mem: f64,
    /// Most tasks at once (the batch size).
    #[arg(long, default_value_t = 2)]
    maxtasks: usize,
    /// Seconds to wait after a batch ends before the next starts.
    #[arg(long, default_value_t = 0.0)]
    wait: f64,
    /// Run the command in this Docker image.
    #[arg(long)]
    img: Option<String>,
    /// The user tasks run as (default: the current user).
    #[arg(long)]
    user: Option<String>,
    /// Log every status update.
    #[arg(long)]
    debug: bool,
    /// How many jobs.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Retries per job after the first attempt.
    #[arg(long, default_value_t = 3)]
    retries: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let level = if args.debug {
        log::Level::Debug
    } else {
        log::Level::Info
    };
    simple_logger::init_with_level(level)?;
    let mut config = ch15_etl_runner::Config::new(args.cmd);
    config.master = args.master;
    (config.cpu, config.mem, config.maxtasks, config.jobs) =
        (args.cpu, args.mem, args.maxtasks, args.jobs);
    config.wait = Duration::try_from_secs_f64(args.wait).map_err(|_| "--wait: not a duration")?;
    config.img = args.img;
    config.user = args.user.unwrap_or(config.user);
    config.max_retries = args.retries;
    let outcome = ch15_etl_runner::run(config)?;
    println!(
        "{} of {} job(s) done in {} batch(es), {} reconnection(s)",
        outcome.completed(),
        outcome.jobs.len(),
        outcome.batches,
        outcome.subscriptions.saturating_sub(1)
    );
    for problem in &outcome.problems {
        eprintln!("{problem}");
    }
    if outcome.gave_up().is_empty() {
        Ok(())
    } else {
        Err(format!("job(s) {:?} failed", outcome.gave_up()).into())
    }
}
