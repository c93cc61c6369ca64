//! The benchmark harness. Numbers come from here, never from timed tests.
//!
//! ```text
//! cargo run --release -p bench -- decode            # RecordIO + protobuf / JSON decode speed
//! cargo run --release -p bench -- decode --seconds 5
//! cargo run --release -p bench -- e2e               # 10,000 simulated tasks on 100 agents
//! cargo run --release -p bench -- e2e --external 'python3 my_scheduler.py --master {master}'
//! cargo run --release -p bench -- e2e --peers ~/.cache/mesos-peers   # + mesos-go, pymesos
//! cargo run --release -p bench -- ceiling           # fastest scheduler; real `true` processes
//! cargo run --release -p bench -- footprint [--clean-build]
//! cargo run --release -p bench -- all               # everything above but the clean build
//! cargo run --release -p bench -- soak [--seconds 90]  # devcluster under misuse
//! ```
//!
//! Each run prints a Markdown table, ready to paste into `bench/README.md`. Layout:
//! `run.rs` (a scheduler process against a fresh devcluster, measured from outside),
//! `driver.rs` (our minimal-style scheduler on mesos-client), `raw.rs` (the fastest one we
//! can write), `footprint.rs`, `decode.rs`.

mod decode;
mod driver;
mod footprint;
mod raw;
mod run;
mod soak;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Command-line interface of the harness.
#[derive(Parser)]
#[command(about = "Benchmarks for the Mesos toolkit (run with --release)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode speed of realistic OFFERS and UPDATE event streams.
    Decode(decode::Options),
    /// End to end: simulated tasks run by our minimal-style scheduler (and --external ones).
    E2e(E2eOptions),
    /// The cluster's ceiling: the fastest scheduler we can write; real process tasks/s.
    Ceiling(CeilingOptions),
    /// Release size and RSS of minimal-scheduler; optionally the workspace's clean build time.
    Footprint(footprint::Options),
    /// e2e, ceiling, decode and footprint with their defaults (no clean build).
    All,
    /// devcluster under misuse for a fixed time: peak RSS, call latency, heartbeat gaps.
    Soak(soak::Options),
    /// (Internal) one of our schedulers, started by e2e and ceiling as a separate process.
    #[command(hide = true)]
    Scheduler(SchedulerOptions),
}

/// Options of `bench e2e`.
#[derive(Args)]
struct E2eOptions {
    /// Simulated tasks to run.
    #[arg(long, default_value_t = 10_000)]
    tasks: usize,
    /// Agents in the cluster (4 cpus, 4 GB each).
    #[arg(long, default_value_t = 100)]
    agents: usize,
    /// How long each simulated task runs, in milliseconds.
    #[arg(long, default_value_t = 0)]
    task_ms: u64,
    /// Also run our scheduler with protobuf on the wire (JSON is the driver's default).
    #[arg(long)]
    protobuf: bool,
    /// Another scheduler to measure on the same cluster configuration, run with `sh -c`;
    /// `{master}` becomes `127.0.0.1:<port>`, `{tasks}` the task count. It must run the
    /// tasks and exit. Repeatable.
    #[arg(long)]
    external: Vec<String>,
    /// A folder where `PEERS=DIR bash bench/peers/setup.sh` installed the peers (mesos-go's
    /// example-scheduler, a pymesos scheduler): each one found there runs too, and a
    /// second table gives our tasks/s over each peer's. Implies --protobuf.
    #[arg(long)]
    peers: Option<std::path::PathBuf>,
    /// Skip our own scheduler (only the --external ones).
    #[arg(long)]
    no_own: bool,
    /// Give up on a scheduler after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

/// Options of `bench ceiling`.
#[derive(Args)]
struct CeilingOptions {
    /// Simulated tasks for the fastest scheduler.
    #[arg(long, default_value_t = 20_000)]
    tasks: usize,
    /// Agents for the simulated run.
    #[arg(long, default_value_t = 100)]
    agents: usize,
    /// Real process tasks (each runs `true`); 0 skips this row.
    #[arg(long, default_value_t = 500)]
    process_tasks: usize,
    /// Agents for the real process run.
    #[arg(long, default_value_t = 10)]
    process_agents: usize,
    /// Give up on a scheduler after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

/// Options of the internal `bench scheduler`.
#[derive(Args)]
struct SchedulerOptions {
    /// `driver` (mesos-client, minimal-style) or `raw` (pipelined protobuf).
    #[arg(long)]
    kind: String,
    /// The master, `host:port`.
    #[arg(long)]
    master: String,
    /// Tasks to run before TEARDOWN.
    #[arg(long)]
    tasks: usize,
    /// The shell command of every task.
    #[arg(long, default_value = "true")]
    command: String,
    /// Protobuf on the wire (driver kind; raw always uses protobuf).
    #[arg(long)]
    protobuf: bool,
}

fn main() {
    let cli = Cli::parse();
    // BENCH_LOG=debug shows what devcluster (and the driver) log, for diagnosing a run.
    if let Some(level) = std::env::var("BENCH_LOG").ok().and_then(|l| l.parse().ok()) {
        let _ = simple_logger::SimpleLogger::new().with_level(level).init();
    }
    if cfg!(debug_assertions) && !matches!(cli.command, Command::Scheduler(_)) {
        eprintln!("warning: this is a debug build; run with --release for meaningful numbers");
    }
    let result = match cli.command {
        Command::Decode(options) => {
            decode::run(&options);
            Ok(())
        }
        Command::E2e(o) => e2e(&o),
        Command::Ceiling(o) => ceiling(&o),
        Command::Footprint(o) => footprint::run(&o),
        Command::Soak(o) => soak::run(&o),
        Command::All => all(),
        Command::Scheduler(o) => scheduler(&o),
    };
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn e2e(o: &E2eOptions) -> Result {
    let cfg = || run::cluster_config(o.agents, Some(Duration::from_millis(o.task_ms)));
    let timeout = Duration::from_secs(o.timeout_secs);
    let mut rows = Vec::new();
    let peers = match &o.peers {
        Some(dir) => run::peers(dir, o.timeout_secs)?,
        None => Vec::new(),
    };
    if !o.no_own {
        let cmd = run::own_scheduler("driver", "")?;
        rows.push(run::measure(
            "ours: driver, JSON",
            &cmd,
            cfg(),
            o.tasks,
            timeout,
        )?);
        if o.protobuf || o.peers.is_some() {
            let cmd = run::own_scheduler("driver", "--protobuf")?;
            rows.push(run::measure(
                "ours: driver, protobuf",
                &cmd,
                cfg(),
                o.tasks,
                timeout,
            )?);
        }
    }
    for (name, cmd) in &peers {
        rows.push(run::measure(name, cmd, cfg(), o.tasks, timeout)?);
    }
    for ext in &o.external {
        rows.push(run::measure(
            &format!("`{ext}`"),
            ext,
            cfg(),
            o.tasks,
            timeout,
        )?);
    }
    println!(
        "\n### End to end: {} simulated tasks ({} ms) on {} agents\n",
        o.tasks, o.task_ms, o.agents
    );
    run::print_table(&rows);
    if !peers.is_empty() {
        run::print_ratios(&rows, rows.len() - peers.len() - o.external.len());
    }
    Ok(())
}

fn ceiling(o: &CeilingOptions) -> Result {
    let timeout = Duration::from_secs(o.timeout_secs);
    let mut rows = Vec::new();
    let cmd = run::own_scheduler("raw", "")?;
    let cfg = run::cluster_config(o.agents, Some(Duration::ZERO));
    rows.push(run::measure(
        "raw: protobuf, pipelined, simulated",
        &cmd,
        cfg,
        o.tasks,
        timeout,
    )?);
    if o.process_tasks > 0 {
        let cfg = run::cluster_config(o.process_agents, None);
        let name = "raw: real processes (`true`)";
        rows.push(run::measure(name, &cmd, cfg, o.process_tasks, timeout)?);
    }
    println!("\n### Ceiling: the fastest scheduler we can write\n");
    run::print_table(&rows);
    Ok(())
}

fn all() -> Result {
    let e = E2eOptions::parse_defaults();
    e2e(&e)?;
    let c = CeilingOptions::parse_defaults();
    ceiling(&c)?;
    println!("\n### Decode\n");
    decode::run(&decode::Options::parse_defaults());
    footprint::run(&footprint::Options::parse_defaults())
}

fn scheduler(o: &SchedulerOptions) -> Result {
    let r = match o.kind.as_str() {
        "driver" => driver::run(&o.master, o.tasks, &o.command, o.protobuf),
        "raw" => raw::run(&o.master, o.tasks, &o.command),
        k => return Err(format!("unknown scheduler kind {k}").into()),
    };
    r.map_err(|e| e.to_string().into())
}

/// Default values of an options struct, as if given no flags.
trait ParseDefaults: Sized {
    fn parse_defaults() -> Self;
}

impl<T: clap::Args + clap::FromArgMatches> ParseDefaults for T {
    fn parse_defaults() -> T {
        let cmd = T::augment_args(clap::Command::new("defaults"));
        let matches = cmd.get_matches_from(["defaults"]);
        T::from_arg_matches(&matches).expect("defaults parse")
    }
}
