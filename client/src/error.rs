//! The one error type of the client library.

use std::fmt;

use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{TaskId, TaskState, TaskStatus};

/// Everything that can go wrong when talking to a Mesos master or agent.
///
/// Variants say *where* it went wrong, so a caller can decide what to do:
/// [`Error::Transport`] and [`Error::Http`] with a 5xx status are usually worth
/// a retry; [`Error::Http`] with a 4xx status means the call itself was wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection failed: refused, reset, timed out, TLS handshake error.
    Transport(String),
    /// The peer answered with an unexpected HTTP status. `body` is the
    /// peer's explanation (Mesos sends a plain-text reason).
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body, as text.
        body: String,
    },
    /// A 307 redirect without a usable `Location` header, or too many redirects.
    Redirect(String),
    /// A message could not be encoded or decoded (JSON, protobuf or RecordIO).
    Protocol(mesos_proto::Error),
    /// The subscription was refused or ended by the master with an ERROR event.
    Subscription(String),
    /// Required configuration is missing or invalid (for executors: the
    /// `MESOS_*` variables the agent should have set; the message lists all
    /// that are missing).
    Config(String),
    /// Reading or writing a local file (framework id file, secret file) failed.
    Io(std::io::Error),
    /// The driver was stopped, or its event loop is gone.
    Stopped,
    /// A scheduler call was made while there is no live subscription (before
    /// the first SUBSCRIBED, or while the driver is reconnecting). Retry after
    /// `Scheduler::subscribed` has been called again.
    NotSubscribed,
    /// The master has removed this framework (TEARDOWN by an operator, or its
    /// `failover_timeout` expired while no scheduler was connected): its id can
    /// never be used again. Delete the framework-id file, if any, to register
    /// anew.
    FrameworkRemoved,
    /// Another scheduler subscribed with this framework id and took the
    /// framework over; this one must stop.
    FailedOver,
    /// A task ended in a state the framework did not expect: the master
    /// refused it (`TASK_ERROR`: the `TaskInfo` or its offer was invalid), it
    /// never got to run (`TASK_LOST`, `TASK_DROPPED`), or it failed, was
    /// killed or finished when the framework wanted something else.
    ///
    /// Made from the task's status update by
    /// [`tasks::expect_end`](crate::tasks::expect_end) (or
    /// [`Error::unexpected_task`]), it carries what Mesos said, so that a
    /// callback returns it with `?`, [`SchedulerDriver::run`](crate::SchedulerDriver::run)
    /// stops with it, and `main` reports it and exits non-zero.
    UnexpectedTaskState {
        /// The task.
        task_id: TaskId,
        /// The state it ended in.
        state: TaskState,
        /// Who said so: the master, the agent or the executor.
        source: Source,
        /// Mesos' reason, if the update had one.
        reason: Option<Reason>,
        /// Mesos' explanation (may be empty).
        message: String,
    },
    /// An error of your own, returned from a callback with `?` (see
    /// [`Error::other`]).
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(msg) => write!(f, "connection failed: {msg}"),
            Error::Http { status, body } if body.is_empty() => write!(f, "HTTP {status}"),
            Error::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            Error::Redirect(msg) => write!(f, "redirect failed: {msg}"),
            Error::Protocol(err) => write!(f, "protocol error: {err}"),
            Error::Subscription(msg) => write!(f, "subscription ended by the master: {msg}"),
            Error::Config(msg) => write!(f, "configuration error: {msg}"),
            Error::Io(err) => write!(f, "I/O error: {err}"),
            Error::Stopped => write!(f, "the driver has stopped"),
            Error::NotSubscribed => write!(f, "not subscribed to a master (yet)"),
            Error::FrameworkRemoved => write!(
                f,
                "the master has removed this framework; its id cannot be used again"
            ),
            Error::FailedOver => write!(f, "another scheduler took this framework over"),
            Error::UnexpectedTaskState {
                task_id,
                state,
                source,
                reason,
                message,
            } => {
                let reason = reason.map_or("no reason", |r| r.as_str_name());
                write!(
                    f,
                    "task {} ended {} unexpectedly (from {}, {reason})",
                    task_id.value,
                    state.as_str_name(),
                    source.as_str_name()
                )?;
                match message.is_empty() {
                    true => Ok(()),
                    false => write!(f, ": {message}"),
                }
            }
            Error::Other(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(err) => Some(err),
            Error::Io(err) => Some(err),
            Error::Other(err) => Some(&**err),
            _ => None,
        }
    }
}

/// The text of Mesos' ERROR event for a framework id the master has removed
/// (fact sheet §1.10; the same words in Mesos 1.0 to 1.12).
pub const REMOVED_MESSAGE: &str = "Framework has been removed";

/// The text of Mesos' ERROR event on a stream superseded by another scheduler
/// subscribing with the same framework id (fact sheet §1.10).
pub const FAILED_OVER_MESSAGE: &str = "Framework failed over";

impl Error {
    /// Wraps an error of your own, to return it from a callback:
    /// `parse(&data).map_err(Error::other)?`.
    pub fn other(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Other(err.into())
    }

    /// The error that says `status` is not what the framework expected
    /// ([`Error::UnexpectedTaskState`], with the update's task id, state,
    /// source, reason and message). For checks of your own; the common one
    /// is [`tasks::expect_end`](crate::tasks::expect_end).
    pub fn unexpected_task(status: &TaskStatus) -> Error {
        Error::UnexpectedTaskState {
            task_id: status.task_id.clone(),
            state: status.state(),
            source: status.source(),
            reason: status.reason.map(|_| status.reason()),
            message: status.message().to_string(),
        }
    }

    /// The error for the ERROR event that ended a subscription.
    ///
    /// The v1 ERROR event carries nothing but a message, so this is the one
    /// place that reads it: Mesos' two fixed texts become the typed
    /// [`Error::FrameworkRemoved`] and [`Error::FailedOver`] (compared whole,
    /// not searched), anything else (a refused subscription) stays
    /// [`Error::Subscription`] with the master's words. Code that reacts to a
    /// removal matches on the variant, never on text.
    pub fn from_error_event(message: &str) -> Error {
        match message.trim() {
            REMOVED_MESSAGE => Error::FrameworkRemoved,
            FAILED_OVER_MESSAGE => Error::FailedOver,
            other => Error::Subscription(other.to_string()),
        }
    }

    /// Whether this error means the connection to the master is gone or not
    /// usable right now (refused, reset, timed out, no subscription, a 5xx
    /// answer), as opposed to a call that was wrong in itself (a 4xx) or an
    /// error of the framework's own.
    ///
    /// The driver reconnects by itself after such errors.
    pub fn is_connection_loss(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Redirect(_) | Error::NotSubscribed => true,
            Error::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl Error {
    /// Whether this error is the answer to a call (the master or agent said
    /// no: [`Error::Http`]) or the failure to make one (a lost connection, see
    /// [`is_connection_loss`](Self::is_connection_loss)), rather than an
    /// error of the framework's own.
    ///
    /// A callback that returns such an error is logged and the driver goes
    /// on, as the book's driver did with a failed call: most refusals are
    /// races with the subscription itself (a call on a stream that another
    /// scheduler has just taken over gets a 400, one after a removal a 404
    /// or 400), and the event stream then tells the driver what happened
    /// (ERROR, a disconnection). See "Errors in callbacks" on
    /// [`Scheduler`](crate::Scheduler).
    pub fn is_call_failure(&self) -> bool {
        matches!(self, Error::Http { .. }) || self.is_connection_loss()
    }
}

impl From<mesos_proto::Error> for Error {
    fn from(err: mesos_proto::Error) -> Self {
        Error::Protocol(err)
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err)
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
