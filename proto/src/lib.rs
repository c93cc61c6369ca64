//! # mesos-proto: the Mesos v1 wire
//!
//! Everything a Mesos v1 HTTP scheduler or executor puts on the wire, and
//! nothing else:
//!
//! - [`v1`]: Rust types generated (by prost, at build time) from our own
//!   `.proto` schema in `proto/proto/mesos/v1/`. Package `mesos.v1` is
//!   [`v1`], `mesos.v1.scheduler` is [`v1::scheduler`], `mesos.v1.executor`
//!   is [`v1::executor`]. Names and field numbers are those of Mesos 1.x.
//! - [`json`]: JSON exactly as Mesos writes and reads it. This is *not* the
//!   proto3 JSON mapping: keys are the `.proto` field names, enums are names,
//!   bytes are base64, 64-bit integers are plain numbers, and fields with an
//!   explicit default are always written.
//! - [`ContentType`]: pick JSON or protobuf once and encode/decode through it;
//!   both check proto2 `required` fields the way Mesos does.
//! - [`recordio`]: the `<length>\n<bytes>` framing of subscription streams.
//! - [`uuid`]: the 16-byte UUIDs of status updates.
//!
//! ```
//! use mesos_proto::v1::scheduler::{call, Call};
//! use mesos_proto::v1::{FrameworkInfo};
//! use mesos_proto::ContentType;
//!
//! let mut call = Call::default();
//! call.set_type(call::Type::Subscribe);
//! call.subscribe = Some(call::Subscribe {
//!     framework_info: FrameworkInfo {
//!         user: "alice".into(),
//!         name: "demo".into(),
//!         ..Default::default()
//!     },
//!     ..Default::default()
//! });
//! let body = ContentType::Json.encode(&call);
//! assert!(String::from_utf8_lossy(&body).starts_with(r#"{"type":"SUBSCRIBE","subscribe":"#));
//! let back: Call = ContentType::Json.decode(&body).unwrap();
//! assert_eq!(back.subscribe.unwrap().framework_info.name, "demo");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod content;
mod descriptors;
mod error;
pub mod json;
mod plan;
pub mod protobuf;
pub mod recordio;
pub mod uuid;
mod wire;

pub use content::ContentType;
pub use error::{Error, Result};

/// Package `mesos.v1`: the messages shared by both APIs, generated from
/// `proto/mesos/v1/mesos.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

    /// Package `mesos.v1.scheduler`: the scheduler's calls and events.
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod scheduler {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
    }

    /// Package `mesos.v1.executor`: the executor's calls and events.
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod executor {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.executor.rs"));
    }
}

impl v1::TaskState {
    /// Whether a task in this state is over for good: FINISHED, FAILED, KILLED,
    /// ERROR, LOST, DROPPED, GONE and GONE_BY_OPERATOR. The one definition of that
    /// set in this project, so that a scheduler, the cluster and the tests agree.
    ///
    /// TASK_LOST counts, as in Mesos (a framework that is not partition-aware
    /// gets LOST for a task on a vanished agent and never hears of it again).
    /// UNREACHABLE and UNKNOWN do not: a partition-aware framework may still see
    /// the task come back.
    ///
    /// ```
    /// use mesos_proto::v1::TaskState;
    /// assert!(TaskState::TaskFinished.is_terminal());
    /// assert!(!TaskState::TaskRunning.is_terminal());
    /// assert!(!TaskState::TaskUnreachable.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            v1::TaskState::TaskFinished
                | v1::TaskState::TaskFailed
                | v1::TaskState::TaskKilled
                | v1::TaskState::TaskError
                | v1::TaskState::TaskLost
                | v1::TaskState::TaskDropped
                | v1::TaskState::TaskGone
                | v1::TaskState::TaskGoneByOperator
        )
    }
}
