//! `sdk-scheduler --app app.json [--master M] [--principal P --secret-file F] [--ca-file
//! CA.pem] [--state-file F] [--until-running [--deadline SECS]] [--log-level L]`: see the crate docs (src/lib.rs).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesos_client::connect::Connection;

/// Keeps the instances described in an app file running.
#[derive(Parser, Debug)]
#[command(name = "sdk-scheduler")]
struct Args {
    /// The app file (JSON).
    #[arg(long)]
    app: PathBuf,
    // `--master`, `--principal`, `--secret-file`, `--ca-file` (mesos_client::connect).
    #[command(flatten)]
    connection: Connection,
    /// Where to keep the framework id and the instances, so a restart carries on.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Tear down once every instance runs (instead of running until killed).
    #[arg(long)]
    until_running: bool,
    /// With --until-running: give up (TEARDOWN, exit non-zero) when not every instance runs
    /// after this many seconds, naming what could not be placed and why.
    #[arg(long, value_name = "SECS", requires = "until_running")]
    deadline: Option<f64>,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

/// Runs, and on an error says what went wrong in words (not its debug form) and exits 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    let mut config = ch20_framework_sdk::Config::new(ch20_framework_sdk::App::load(&args.app)?);
    config.connection = args.connection;
    config.state_file = args.state_file;
    config.until_running = args.until_running;
    config.deadline = match args.deadline {
        Some(secs) => Some(
            Duration::try_from_secs_f64(secs)
                .map_err(|_| format!("--deadline: {secs} is not a number of seconds"))?,
        ),
        None => None,
    };
    let outcome = ch20_framework_sdk::run(config)?;
    for instance in &outcome.instances {
        println!(
            "{:<12} {:<16} {}",
            instance.name, instance.last_state, instance.task_id
        );
    }
    Ok(())
}
