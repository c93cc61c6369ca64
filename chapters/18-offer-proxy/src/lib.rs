//! # Step 18: an offer proxy (after Dropbox's changes-mesos-scheduler)
//!
//! What it does: the scheduling decisions live in a plain HTTP service (the
//! *backend*); this framework only speaks Mesos. Every offer is summarised as
//! JSON and POSTed to `<api-url>/offer`; the backend answers with the tasks
//! to run there (`[{"id", "cmd", "resources": {"cpus", "mem"}}]`, `[]` to
//! decline), and every status update is POSTed to `<api-url>/status` as
//! `{"id", "state"}`, retried until the backend takes it. Hosts in
//! `<config-dir>/blacklist` are never offered to the backend. A bad backend
//! answer declines the offer and is logged; the proxy never crashes.
//!
//! Run it with the example backend (two terminals):
//!
//! ```text
//! cargo run --bin offer-proxy-example-backend -- --listen 127.0.0.1:8080 --tasks 3
//! cargo run --bin offer-proxy -- --api-url http://127.0.0.1:8080 --master local --exit-after 3
//! ```
//!
//! Stop condition: with `--exit-after N`, after N tasks have ended (TEARDOWN);
//! otherwise it runs until killed, like the original service.
//!
//! Layout: [`summary`] (the offer JSON), [`backend`] (HTTP to the backend and
//! answer checks), [`blacklist`], [`status`] (the retrying report queue),
//! `proxy` (the scheduler), [`http`] (a tiny server for backends in tests).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backend;
pub mod blacklist;
pub mod http;
mod proxy;
pub mod status;
pub mod summary;

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{Receiver, select};
use mesos_client::connect::Connection;
use mesos_client::tasks::default_user;
use mesos_client::{Result, SchedulerConfig, SchedulerDriver, StopMode};
use mesos_proto::v1::{FrameworkInfo, TaskState};

pub use proxy::DeclineReason;
pub use status::{Delivery, Report};

/// Everything the flags set, plus knobs tests shorten.
#[derive(Debug, Clone)]
pub struct Config {
    /// The backend's base URL (`--api-url`), e.g. `http://127.0.0.1:8080`.
    pub api_url: String,
    /// Masters (`--master`): `host:port`, a list, or `local` (embedded cluster), and how
    /// to authenticate (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The user tasks run as (`--user`). Default: the current user.
    pub user: String,
    /// Where `blacklist` lives (`--config-dir`). Default: none.
    pub config_dir: Option<PathBuf>,
    /// Where the framework id is kept (`--state-file`), so a restarted
    /// proxy resumes the same framework and its tasks.
    pub state_file: Option<PathBuf>,
    /// Seconds Mesos keeps the tasks while the proxy is away
    /// (`--failover-timeout`). Default: 3600.
    pub failover_timeout: f64,
    /// Stop (TEARDOWN) after this many tasks ended (`--exit-after`). Default: never.
    pub exit_after: Option<usize>,
    /// How long the backend may take to answer. Default: 5 s.
    pub backend_timeout: Duration,
    /// Filter sent with declines, in seconds. Default: 5 (Mesos' default).
    pub refuse_seconds: f64,
    /// First and longest wait between status delivery attempts. Default: 0.5 s, 30 s.
    pub status_backoff: (Duration, Duration),
    /// How long queued status reports may still be delivered after the
    /// driver stopped. Default: 5 s.
    pub drain: Duration,
    /// Stops the proxy when a mode arrives (for tests and embedding).
    pub stop: Option<Receiver<StopMode>>,
}

impl Config {
    /// Defaults for everything but the backend URL; master `local`.
    pub fn new(api_url: impl Into<String>) -> Config {
        Config {
            api_url: api_url.into(),
            connection: Connection::new("local"),
            user: default_user(),
            config_dir: None,
            state_file: None,
            failover_timeout: 3600.0,
            exit_after: None,
            backend_timeout: Duration::from_secs(5),
            refuse_seconds: 5.0,
            status_backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            drain: Duration::from_secs(5),
            stop: None,
        }
    }
}

/// One declined offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Declined {
    /// The offer's id.
    pub offer_id: String,
    /// The agent's hostname.
    pub hostname: String,
    /// Why.
    pub reason: DeclineReason,
}

/// What the proxy did, for the reader and the tests.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The framework id (the same after a resume).
    pub framework_id: String,
    /// Whether the id came from the state file.
    pub resumed: bool,
    /// Offers received.
    pub offers: usize,
    /// Task ids launched.
    pub launched: Vec<String>,
    /// Offers declined, with the reason.
    pub declined: Vec<Declined>,
    /// Every status update received, in order.
    pub updates: Vec<(String, TaskState)>,
    /// Updates in a terminal state.
    pub terminal: usize,
    /// Tasks that ended in anything but TASK_FINISHED, each as
    /// [`mesos_client::Error::UnexpectedTaskState`] says it (task, state, Mesos' reason).
    pub not_finished: Vec<String>,
    /// What reached the backend's `/status`.
    pub delivery: Delivery,
}

/// Runs the proxy until stopped (see [`Config::exit_after`] and [`Config::stop`]).
pub fn run(config: Config) -> Result<Outcome> {
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    let info = FrameworkInfo {
        user: config.user.clone(),
        name: "offer-proxy".into(),
        // Without it Mesos kills our tasks the moment the proxy goes away.
        failover_timeout: Some(config.failover_timeout),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA
    scheduler_config.framework_id_file = config.state_file.clone();
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let resumed = driver.handle().framework_id().is_some();

    // Forward a stop request to the driver; ends when `run` is over.
    let (done_tx, done) = crossbeam_channel::bounded::<()>(0);
    if let Some(stop) = config.stop.clone() {
        let handle = driver.handle();
        std::thread::spawn(move || {
            select! {
                recv(stop) -> mode => if let Ok(mode) = mode { handle.stop(mode) },
                recv(done) -> _ => {}
            }
        });
    }

    let backend = backend::Backend::new(&config.api_url, config.backend_timeout);
    let (min, max) = config.status_backoff;
    let mut proxy = proxy::Proxy {
        reporter: status::Reporter::start(backend.clone(), min, max),
        backend,
        blacklist: blacklist::Blacklist::new(config.config_dir.as_deref()),
        refuse_seconds: config.refuse_seconds,
        exit_after: config.exit_after,
        outcome: Outcome {
            resumed,
            ..Outcome::default()
        },
        subscribed_before: false,
    };
    let result = driver.run(&mut proxy);
    drop(done_tx);
    let proxy::Proxy {
        reporter,
        mut outcome,
        ..
    } = proxy;
    outcome.delivery = reporter.finish(config.drain);
    result.map(|()| outcome)
}
