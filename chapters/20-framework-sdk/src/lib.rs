//! # Step 20: a high-level framework layer (after the Go Mesos Framework SDK)
//!
//! What it does: you describe tasks in a JSON app file (name, instances,
//! resources, command, URIs, image, labels, attribute filters, retry policy)
//! and this layer keeps every instance running: a task manager tracks the
//! instances, a resource manager matches offers (resources and agent
//! attributes), failed instances are relaunched with backoff up to a limit,
//! and the state (framework id, every instance's task and state) is saved to
//! a file, so a restarted scheduler reconciles and carries on where it was.
//!
//! Run it (an embedded devcluster by default):
//!
//! ```text
//! cargo run --bin sdk-scheduler -- --app chapters/20-framework-sdk/app.json --state-file /tmp/sdk.json
//! ```
//!
//! Stop condition: with `--until-running`, TEARDOWN once every instance runs;
//! otherwise it keeps the instances running until killed (restart it with
//! the same `--state-file` and it picks them up again).
//!
//! An instance that cannot be placed is reported, once per interval, with
//! the offers that did not suit it and why (an attribute, too little of a
//! resource: [`manager::Misfit`]); with a deadline, `--until-running` gives
//! up with an error that says the same.
//!
//! Layout: [`app`] (the JSON file), [`manager`] (task and resource
//! managers), [`placement`] (instances waiting for a place), [`state`]
//! (the state file), `sdk` (the scheduler).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod manager;
pub mod placement;
mod sdk;
pub mod state;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_client::connect::Connection;
use mesos_client::tasks::default_user;
use mesos_client::{Error, Result, SchedulerConfig, SchedulerDriver};
use mesos_proto::v1::{FrameworkId, FrameworkInfo};

pub use app::App;
pub use manager::{Instance, Phase};

/// How to run an app.
#[derive(Debug, Clone)]
pub struct Config {
    /// Masters, or `local`, and how to authenticate (`--principal`, `--secret-file`,
    /// `--ca-file`).
    pub connection: Connection,
    /// The app.
    pub app: App,
    /// Where the state is kept (framework id, instances). Default: none.
    pub state_file: Option<PathBuf>,
    /// The user tasks run as. Default: the current user.
    pub user: String,
    /// Seconds Mesos keeps the tasks while the scheduler is away. Default: 3600.
    pub failover_timeout: f64,
    /// TEARDOWN once every instance runs, finished or was given up
    /// (`--until-running`). Default: false.
    pub until_running: bool,
    /// Stop after this many launches, keeping the framework (as a crash
    /// would; for tests). Default: none.
    pub stop_after_launches: Option<usize>,
    /// Filter sent with declines, seconds. Default: 1.
    pub refuse_seconds: f64,
    /// How long an instance must have been RUNNING to count as running
    /// for `until_running`. Default: 2 s.
    pub running_grace: Duration,
    /// An instance that waits for a place is reported (which offers did not
    /// suit it, and why) at most once per this interval. Default: 30 s.
    pub report_every: Duration,
    /// With `until_running`: give up when not every instance runs after
    /// this long (TEARDOWN, and [`placement::NotRunning`] as the error).
    /// Default: none (wait as long as it takes).
    pub deadline: Option<Duration>,
}

impl Config {
    /// Defaults for `app`; master `local`.
    pub fn new(app: App) -> Config {
        Config {
            connection: Connection::new("local"),
            app,
            state_file: None,
            user: default_user(),
            failover_timeout: 3600.0,
            until_running: false,
            stop_after_launches: None,
            refuse_seconds: 1.0,
            running_grace: Duration::from_secs(2),
            report_every: Duration::from_secs(30),
            deadline: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The framework id.
    pub framework_id: String,
    /// Every instance as it ended the run.
    pub instances: Vec<Instance>,
    /// Tasks launched by this run.
    pub launches: usize,
    /// Saved tasks this run asked the master about.
    pub reconciled: usize,
}

/// Runs the app until stopped (see [`Config::until_running`]).
///
/// # Errors
///
/// Those of the driver; with [`Config::deadline`], [`placement::NotRunning`]
/// (in [`Error::Other`]) when not every instance ran in time.
pub fn run(config: Config) -> Result<Outcome> {
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    let state_file = state::StateFile::new(config.state_file.as_deref());
    let saved = state_file.load().map_err(Error::Config)?;
    let info = FrameworkInfo {
        user: config.user.clone(),
        name: config.app.name.clone(),
        failover_timeout: Some(config.failover_timeout),
        // The saved id: the master hands our running tasks back to us.
        id: saved
            .framework_id
            .clone()
            .map(|value| FrameworkId { value }),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut sdk = sdk::Sdk {
        manager: manager::TaskManager::new(config.app.clone(), &saved, Instant::now()),
        state_file,
        framework_id: saved.framework_id,
        run_id: started.to_string(),
        refuse_seconds: config.refuse_seconds,
        stop_after_launches: config.stop_after_launches,
        teardown_when_running: config.until_running,
        grace: config.running_grace,
        launches: 0,
        reconciled: 0,
        placement: placement::Placement::new(config.report_every),
        deadline: config.deadline.map(|d| (Instant::now() + d, d)),
    };
    driver.run(&mut sdk)?;
    Ok(Outcome {
        framework_id: sdk.framework_id.unwrap_or_default(),
        instances: sdk.manager.instances().to_vec(),
        launches: sdk.launches,
        reconciled: sdk.reconciled,
    })
}
