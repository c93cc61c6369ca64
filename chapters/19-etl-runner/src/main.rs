//! `etl-runner --master a:5050,b:5050,c:5050 --cmd CMD --cpu C --mem M --maxtasks K --wait S
//! [--img IMAGE] [--user U] [--debug | --log-level L] --jobs N [--ha zk://host:2181/etl]`: see the crate
//! docs (src/lib.rs).

use std::time::Duration;

use clap::Parser;
use mesos_client::connect::Connection;

/// Runs a command as N jobs on Mesos, in batches, with retries.
#[derive(Parser, Debug)]
#[command(name = "etl-runner")]
struct Args {
    /// --master, --principal, --secret-file, --ca-file.
    #[command(flatten)]
    connection: Connection,
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
    /// error, warn, info, debug or trace (`--debug` is `--log-level debug`).
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
    /// How many jobs.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Retries per job after the first attempt.
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Run as one of several instances: elect a leader and keep the jobs in
    /// ZooKeeper under this path (`zk://host:2181[,host:2181]/etl`). Needs a real --master.
    #[arg(long, value_name = "ZK_URL")]
    ha: Option<String>,
    /// With --ha: the ZooKeeper session timeout in seconds, i.e. how soon
    /// after the leader dies another instance takes over.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    zk_session_timeout: f64,
    /// Seconds the master keeps the tasks while no runner is connected (a
    /// new leader, or this one after a restart, must subscribe within it).
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    failover_timeout: f64,
    /// Seconds after a (re)subscription before asking about live tasks
    /// (agents need a moment to re-register with a new master).
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    reconcile_delay: f64,
}

fn secs(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("{flag}: not a duration: {value}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let level = if args.debug {
        log::LevelFilter::Debug
    } else {
        args.log_level
    };
    simple_logger::SimpleLogger::new()
        .with_level(level)
        // The ZooKeeper client logs every watch event at INFO.
        .with_module_level("zookeeper", log::LevelFilter::Warn)
        .init()?;
    let mut config = ch19_etl_runner::Config::new(args.cmd);
    let Connection {
        master,
        principal,
        secret_file,
        ca_file,
    } = args.connection;
    (
        config.master,
        config.principal,
        config.secret_file,
        config.ca_file,
    ) = (master, principal, secret_file, ca_file);
    (config.cpu, config.mem, config.maxtasks, config.jobs) =
        (args.cpu, args.mem, args.maxtasks, args.jobs);
    config.wait = secs("--wait", args.wait)?;
    config.img = args.img;
    config.user = args.user.unwrap_or(config.user);
    config.max_retries = args.retries;
    config.ha = args.ha;
    config.zk_session_timeout = secs("--zk-session-timeout", args.zk_session_timeout)?;
    config.failover_timeout = args.failover_timeout;
    config.reconcile_delay = secs("--reconcile-delay", args.reconcile_delay)?;
    let outcome = ch19_etl_runner::run(config)?;
    println!(
        "{} of {} job(s) done in {} batch(es), {} reconnection(s), {} task(s) adopted; \
         framework {}",
        outcome.completed(),
        outcome.jobs.len(),
        outcome.batches,
        outcome.subscriptions.saturating_sub(1),
        outcome.adopted,
        outcome.framework_id
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
