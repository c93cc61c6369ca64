//! devcluster: a local Mesos-compatible cluster (masters and agents) in one process.
//!
//! It speaks the Mesos v1 scheduler and executor HTTP APIs as Mesos 1.12 does (see
//! `shared/docs/mesos-v1-http-api.md` and the captured fixtures), runs tasks as real
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
//! Layout:
//! - `cluster.rs`: [`Cluster`]: start, URLs, fault injection, shutdown (also on drop).
//! - `config.rs`: [`ClusterConfig`], [`AgentConfig`].
//! - `router.rs`: Mesos path aliases (`/master/...`, `/slave(1)/...`) and routes.
//! - `messages.rs`: the master <-> agent messages (crossbeam channels).
//! - `resources.rs`: resource arithmetic and the JSON summaries of the state endpoints.
//! - `master/`: scheduler API, validation, subscriptions, allocator, ACCEPT, tasks,
//!   reconciliation, state endpoints.
//! - `agent/`: executor API, command/default executor emulation, processes, fetcher,
//!   sandboxes, reliable status updates, `/state` and `/files`.
//! - `http/`: the small HTTP/1.1 server everything is served by.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agent;
mod cluster;
mod config;
mod faults;
pub mod http;
mod master;
mod messages;
mod resources;
mod router;
pub mod zk;

pub use cluster::Cluster;
pub use config::{AgentConfig, ClusterConfig, mesos_duration};

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
