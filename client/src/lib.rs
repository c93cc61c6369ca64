//! mesos-client: a small synchronous driver for Mesos v1 HTTP schedulers and
//! executors (being written; the lead fills in this crate doc).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod artifact;
pub mod backoff;
pub mod credentials;
pub mod error;
pub mod executor;
pub mod masters;
pub mod offers;
pub mod resources;
pub mod scheduler;
pub mod tasks;
pub mod transport;

pub use error::{Error, Result};
pub use executor::{Executor, ExecutorDriver, ExecutorHandle};
pub use scheduler::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
