//! `offer-proxy --api-url URL [--master M] [--principal P --secret-file F] [--ca-file CA.pem]
//! [--log-level L] [--user U] [--config-dir D] [--state-file F] [--failover-timeout S] [--exit-after N]`: see
//! the crate docs (src/lib.rs).

use std::path::PathBuf;

use clap::Parser;
use mesos_client::connect::Connection;

/// Lets an HTTP backend decide what runs on each Mesos offer.
#[derive(Parser, Debug)]
#[command(name = "offer-proxy")]
struct Args {
    /// The backend's base URL: offers go to `<api-url>/offer`, statuses to `<api-url>/status`.
    #[arg(long)]
    api_url: String,
    // `--master`, `--principal`, `--secret-file`, `--ca-file` (mesos_client::connect).
    #[command(flatten)]
    connection: Connection,
    /// The user tasks run as (default: the current user).
    #[arg(long)]
    user: Option<String>,
    /// Directory holding `blacklist` (one hostname per line, `#` comments).
    #[arg(long)]
    config_dir: Option<PathBuf>,
    /// File keeping the framework id, so a restart resumes the same framework.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Seconds Mesos keeps our tasks while the proxy is away.
    #[arg(long, default_value_t = 3600.0)]
    failover_timeout: f64,
    /// Stop (TEARDOWN) after this many tasks have ended (default: run until killed).
    #[arg(long)]
    exit_after: Option<usize>,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    let mut config = ch18_offer_proxy::Config::new(args.api_url);
    config.connection = args.connection;
    config.user = args.user.unwrap_or(config.user);
    config.config_dir = args.config_dir;
    config.state_file = args.state_file;
    config.failover_timeout = args.failover_timeout;
    config.exit_after = args.exit_after;
    let outcome = ch18_offer_proxy::run(config)?;
    println!(
        "framework {}: {} offer(s), {} task(s) launched, {} declined, {} status(es) delivered",
        outcome.framework_id,
        outcome.offers,
        outcome.launched.len(),
        outcome.declined.len(),
        outcome.delivery.delivered.len()
    );
    // Exit status 1 when a task the backend asked for did not finish (failed, or never ran).
    for line in &outcome.not_finished {
        eprintln!("{line}");
    }
    match outcome.not_finished.len() {
        0 => Ok(()),
        n => Err(format!("{n} task(s) did not finish").into()),
    }
}
