//! The one error type of the wire crate.

use std::fmt;

/// Why a message or a record could not be decoded.
///
/// The `Display` text follows the wording Mesos puts into its `400 Bad
/// Request` bodies, so a server built on this crate can pass it on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not valid JSON, or the JSON does not fit the message
    /// (wrong type for a field, bad base64, unknown required enum name...).
    Json(String),
    /// The bytes are not a valid protobuf encoding of the message.
    Protobuf(String),
    /// The message decoded, but proto2 `required` fields are missing. Each
    /// entry is a dotted path such as `subscribe.framework_info.user`.
    MissingRequired(Vec<String>),
    /// The RecordIO framing is broken: a bad length prefix, a record larger
    /// than the configured cap, or a stream that ends inside a record.
    RecordIo(String),
    /// Reading the underlying stream failed (RecordIO decoding).
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json(msg) => write!(f, "{msg}"),
            Error::Protobuf(msg) => write!(f, "Failed to parse protobuf: {msg}"),
            Error::MissingRequired(paths) => {
                write!(f, "Missing required fields: {}", paths.join(", "))
            }
            Error::RecordIo(msg) => write!(f, "RecordIO: {msg}"),
            Error::Io(msg) => write!(f, "I/O error: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
