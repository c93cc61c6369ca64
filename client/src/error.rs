//! The one error type of the client library.

use std::fmt;

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
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(err) => Some(err),
            Error::Io(err) => Some(err),
            _ => None,
        }
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
