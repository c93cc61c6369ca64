//! devcluster: a local Mesos-compatible cluster (masters and agents) in one process.
//!
//! It speaks the Mesos v1 scheduler and executor HTTP APIs as Mesos 1.12 does (see
//! `docs/mesos-v1-http-api.md` and the captured fixtures), runs tasks as real
//! processes in sandboxes (or simulated ones, for scale), and breaks on purpose
//! (fault injection) so frameworks can be tested against failures.
//!
//! ```no_run
//! let cluster = devcluster::Cluster::start(devcluster::ClusterConfig::for_tests(2))?;
//! println!("master at {}", cluster.master_url());
//! cluster.shutdown();
//! # Ok::<(), devcluster::Error>(())
//! ```
//!
//! Fault injection, three ways (same names everywhere):
//! - library: [`Cluster::fail_over_leader`], [`Cluster::lose_agent`], ... or [`Cluster::fault`];
//! - HTTP: `curl -X POST 'http://127.0.0.1:5050/devcluster/faults/<name>?arg=<arg>'`
//!   on any master (200 with a confirmation, 400 for an unknown fault or bad argument,
//!   401 without credentials on a cluster that has them);
//! - CLI: `devcluster fault <name> [--arg <arg>] [--master http://127.0.0.1:5050]`.
//!
//! Names: `fail-over-leader`, `restart-master`, `cut-streams`, `cut-streams-mid-record`,
//! `stall-heartbeats` (arg: seconds), `unavailable` (arg: seconds; the scheduler endpoint
//! answers 503), `lose-agent` (arg: agent index), `crash-executor` (arg:
//! `<framework_id>/<executor_id>`; for command tasks the executor id is the task id),
//! `rescind-offer` (arg: offer id; default the oldest offer).
//!
//! Layout:
//! - `cluster.rs`: [`Cluster`]: start, URLs, shutdown (also on drop).
//! - `faults.rs`: the fault list shared by the library, HTTP and the CLI.
//! - `config.rs`: [`ClusterConfig`], [`AgentConfig`].
//! - `router.rs`: Mesos path aliases (`/master/...`, `/slave(1)/...`) and routes.
//! - `messages.rs`: the master <-> agent messages (crossbeam channels).
//! - `resources.rs`: resource arithmetic and the JSON summaries of the state endpoints;
//!   `attributes.rs`: agent attributes.
//! - `master/`: scheduler API, validation, subscriptions, allocator, ACCEPT, tasks,
//!   reconciliation, state endpoints.
//! - `agent/`: executor API, command/default executor emulation, processes, fetcher,
//!   sandboxes, reliable status updates, `/state` and `/files`.
//! - `http/`: the small HTTP/1.1 server everything is served by.
//! - `ui.rs`, `ui/`: the live page at `/` (state, per-framework timelines, fault buttons);
//!   `timeline/`: the calls and events of each framework, recorded for it;
//!   [`diagram`]: that record drawn as a sequence diagram (SVG, and a stable text form).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agent;
mod attributes;
mod cluster;
mod config;
pub mod diagram;
mod faults;
pub mod http;
mod master;
mod messages;
mod resources;
mod router;
mod stats;
mod timeline;
mod ui;
pub mod zk;

pub use cluster::{Cluster, ProcessKiller};
pub use config::{AgentConfig, Bounds, ClusterConfig, mesos_duration};
pub use stats::OfferStats;

/// The Mesos version devcluster reports (`/version`, MasterInfo).
pub const VERSION: &str = "1.12.0";

/// Everything that can go wrong starting a cluster.
#[derive(Debug)]
pub enum Error {
    /// Binding a port, creating a directory or a thread failed.
    Io(std::io::Error),
    /// The configuration is invalid (bad resources text, no masters, ...).
    Config(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Config(e) => write!(f, "Invalid configuration: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
