//! # mesos-client: a small synchronous driver for Mesos v1 frameworks
//!
//! A Mesos framework has two halves. The **scheduler** talks to the master:
//! it subscribes, receives offers of agents' resources, launches tasks on
//! them and follows their status updates. The **executor** (optional; Mesos
//! has a built-in one for shell commands) runs on an agent and runs the
//! tasks. This crate gives each half a trait with one method per event of the
//! v1 HTTP API, and a driver that does the protocol for you.
//!
//! ## A scheduler in five steps
//!
//! ```no_run
//! use mesos_client::offers::{RemainingResources, Resources};
//! use mesos_client::tasks::{TaskBuilder, default_user};
//! use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
//! use mesos_proto::v1::{FrameworkInfo, Offer, TaskState, TaskStatus};
//!
//! // 1. Your state: here, whether the one task was launched.
//! struct Hello {
//!     launched: bool,
//! }
//!
//! // 2. Override the events you care about; the rest have safe defaults
//! //    (offers you do not take are declined, updates are acknowledged).
//! //    Callbacks return Result, so calls take `?`.
//! impl Scheduler for Hello {
//!     fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
//!         for offer in offers {
//!             // Take what the task needs out of the offer (keeping the
//!             // offer's roles, which the master checks).
//!             let taken = RemainingResources::from_offer(offer).take(&Resources::new(0.1, 32.0));
//!             let (false, Some(resources)) = (self.launched, taken) else {
//!                 handle.decline(offer, 30.0)?;
//!                 continue;
//!             };
//!             // 3. Describe the task: a shell command run by Mesos' command executor.
//!             let task = TaskBuilder::command(offer, "echo hello from Mesos")
//!                 .name("hello")
//!                 .resources(resources)
//!                 .build();
//!             handle.launch(offer, vec![task])?;
//!             self.launched = true;
//!         }
//!         Ok(())
//!     }
//!
//!     fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
//!         println!("{} is {:?}", status.task_id.value, status.state());
//!         // Any other end (TASK_FAILED, TASK_ERROR, TASK_LOST, ...) stops `run` with an
//!         // error naming the task, its state and Mesos' reason: `main` exits non-zero.
//!         mesos_client::tasks::expect_end(status, &[TaskState::TaskFinished])?;
//!         if status.state() == TaskState::TaskFinished {
//!             // 4. Done: remove the framework, which ends `run`.
//!             handle.teardown()?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> mesos_client::Result<()> {
//!     // 5. Who we are, where the master is, and go.
//!     let info = FrameworkInfo {
//!         user: default_user(), // over HTTP nobody fills this in for you
//!         name: "hello".into(),
//!         ..Default::default()
//!     };
//!     let mut driver = SchedulerDriver::new(SchedulerConfig::new("127.0.0.1:5050", info))?;
//!     driver.run(&mut Hello { launched: false })
//! }
//! ```
//!
//! | The book's Python (old driver) | Here |
//! |---|---|
//! | `driver.launchTasks(offer.id, [task])` | `handle.launch(offer, vec![task])?` |
//! | `driver.declineOffer(offer.id, filters)` | `handle.decline(offer, refuse_seconds)?` |
//! | `driver.killTask(task_id)` | `handle.kill(&task_id)?` |
//! | `driver.reconcileTasks([status, ...])` | `handle.reconcile(&[task_id, ...])?` |
//! | `driver.acknowledgeStatusUpdate(status)` | `handle.acknowledge(status)?` (automatic by default) |
//! | `driver.stop()` / `driver.stop(failover=True)` | `handle.teardown()?` / `handle.stop(StopMode::Failover)` |
//! | an exception in a callback | `Err` from a callback: see "Errors in callbacks" on [`Scheduler`] |
//!
//! An executor is the same shape: implement [`Executor`] and call
//! `ExecutorDriver::from_env()?.run(&mut yours)` (see [`executor`]).
//!
//! ## What the driver does for you
//!
//! - **Subscription**: SUBSCRIBE on a long-lived response read by its own
//!   thread; RecordIO framing; JSON or protobuf ([`SchedulerConfig`]).
//! - **Calls** on a separate keep-alive connection, with the
//!   `Mesos-Stream-Id` header Mesos requires ([`SchedulerHandle`]).
//! - **Finding the leader**: a list of masters tried in turn, `307` redirects
//!   followed (also a `Location` without a scheme), `503` retried
//!   ([`masters`]); or a `zk://host:2181/mesos` URL, where the leader
//!   is read from ZooKeeper and followed when it changes (feature `zk`,
//!   module `zk`).
//! - **Failure handling**: missed heartbeats count as a lost connection;
//!   reconnects back off exponentially with jitter ([`backoff`]); failover
//!   re-subscribes with the framework id (optionally kept in a file so a
//!   restarted scheduler resumes its tasks).
//! - **Reliable updates**: status updates that carry a uuid are acknowledged
//!   (automatically by default), those without are never acknowledged.
//! - **Security**: HTTP basic auth with a secret read from a file or the
//!   environment and never logged ([`credentials`]); https masters signed
//!   by your own CA, which then replaces the built-in web roots
//!   ([`transport`]).
//!
//! ## Map of the crate
//!
//! | Module | Mesos concept |
//! |---|---|
//! | [`scheduler`] | the scheduler API: events in, calls out |
//! | [`executor`] | the executor API and the `MESOS_*` environment |
//! | [`resources`], [`offers`] | resources, "does this offer fit", carving offers |
//! | [`tasks`] | `TaskInfo` (built from its offer: cannot fail), `CommandInfo`, `ExecutorInfo` builders, task ids, the user, [`tasks::expect_end`] (how a task must end) |
//! | [`artifact`] | shipping your executor to the agents: a path, or served over HTTP ([`artifact::ShippedExecutor`]) |
//! | [`faults`] | breaking a master on purpose, typed ([`faults::Fault`]): devcluster injects, a real master is broken by hand ([`faults::cause`] says how and waits) |
//! | [`connect`] | the `--master`/`--principal`/`--secret-file`/`--ca-file` options every framework takes |
//! | [`masters`], [`transport`], [`credentials`], [`backoff`] | HTTP plumbing |
//! | [`error`] | the one [`Error`] type (typed: [`Error::FrameworkRemoved`], [`Error::UnexpectedTaskState`], [`Error::is_call_failure`], ...) |
//!
//! ## Features
//!
//! | Feature | Default | What it adds | Brings in |
//! |---|---|---|---|
//! | `zk` | yes | `zk://host:2181/mesos` masters: the leader read from ZooKeeper and followed (module `zk`) | `zookeeper` |
//! | `local` | no | `--master local`: an embedded Mesos-compatible cluster in your process, for learning and tests (module `local`) | `devcluster`, `ctrlc`, `rcgen` |
//! | `clap` | no | [`connect::Connection`] as a `clap::Args` group (`#[command(flatten)]`) | `clap` |
//!
//! The defaults are what a framework that runs against a real cluster needs.
//! The examples of this repository switch `local` on in their `Cargo.toml`
//! (`mesos-client = { ..., features = ["local"] }`), so that they run with no
//! Mesos at all.
//!
//! Why synchronous: a scheduler reacts to one event at a time, and plain
//! threads and channels are easier to read, debug and copy than an async
//! runtime. The driver uses two threads (the stream reader and your
//! callbacks) and crossbeam channels between them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod artifact;
pub mod backoff;
pub mod connect;
pub mod credentials;
pub mod error;
pub mod executor;
pub mod faults;
#[cfg(feature = "local")]
pub mod local;
pub mod masters;
pub mod offers;
pub mod resources;
pub mod scheduler;
pub mod tasks;
pub mod transport;
#[cfg(feature = "zk")]
pub mod zk;

pub use error::{Error, Result};

/// What a framework's `main.rs` usually needs, in one line:
/// `use mesos_client::prelude::*;` (the traits, the driver, the handle, the
/// builders, the command-line groups, and the protobuf types every callback
/// sees). Everything here is also reachable by its own path.
pub mod prelude {
    pub use crate::artifact::{ExecutorSource, ShippedExecutor};
    pub use crate::connect::Connection;
    pub use crate::offers::{RemainingResources, Resources};
    pub use crate::tasks::{
        ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user, expect_end,
    };
    pub use crate::{Error, Result, StopMode};
    pub use crate::{Executor, ExecutorDriver, ExecutorHandle};
    pub use crate::{FailedCall, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
    pub use mesos_proto::v1::{FrameworkInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus};
}
pub use executor::{Executor, ExecutorDriver, ExecutorHandle};
pub use scheduler::{
    FailedCall, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode,
};
