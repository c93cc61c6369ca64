//! HTTP basic-auth credentials for a master that authenticates frameworks.
//!
//! A Mesos master started with `--authenticate_http_frameworks` answers every
//! scheduler call without valid credentials with `401 Unauthorized` (fact
//! sheet §1.7, row 0). The default authenticator takes HTTP basic auth: a
//! principal and a secret.
//!
//! The secret is the one thing in this crate that must never reach a log, an
//! error message or a panic message. So it lives in a private field, `Debug`
//! and `Display` print `<redacted>` in its place, and the only way out is the
//! `Authorization` header value the transport builds (crate-private). Read it
//! from a file or an environment variable rather than a command-line flag,
//! which other users of the machine can see in `ps`.

use std::fmt;
use std::path::Path;

use base64::Engine as _;

use crate::error::{Error, Result};

/// A principal and its secret, for HTTP basic authentication.
///
/// ```
/// use mesos_client::credentials::Credentials;
///
/// let creds = Credentials::new("my-framework", "s3cret");
/// assert_eq!(creds.principal(), "my-framework");
/// // The secret never shows up in debug output or messages:
/// assert!(!format!("{creds:?} {creds}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    principal: String,
    secret: String,
}

impl Credentials {
    /// Credentials from a principal and a secret given directly.
    pub fn new(principal: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            principal: principal.into(),
            secret: secret.into(),
        }
    }

    /// Reads the secret from a file (the whole file, minus one trailing
    /// newline, so `echo secret > file` works).
    ///
    /// The error names the file but never its contents.
    pub fn from_file(principal: impl Into<String>, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|err| {
            Error::Config(format!("cannot read secret file {}: {err}", path.display()))
        })?;
        let secret = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        Ok(Credentials::new(principal, secret))
    }

    /// Reads the secret from the environment variable `var`.
    ///
    /// The error names the variable but never its value.
    pub fn from_env(principal: impl Into<String>, var: &str) -> Result<Self> {
        match std::env::var(var) {
            Ok(secret) => Ok(Credentials::new(principal, secret)),
            Err(err) => Err(Error::Config(format!(
                "cannot read the secret from ${var}: {err}"
            ))),
        }
    }

    /// The principal (not secret: it also goes into `FrameworkInfo.principal`).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The value of the `Authorization` header: `Basic base64(principal:secret)`.
    ///
    /// Crate-private on purpose: the transport is the only place that needs it.
    pub(crate) fn authorization(&self) -> String {
        let raw = format!("{}:{}", self.principal, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (secret <redacted>)", self.principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_basic_auth() {
        let creds = Credentials::new("principal", "secret");
        // base64("principal:secret")
        assert_eq!(creds.authorization(), "Basic cHJpbmNpcGFsOnNlY3JldA==");
    }

    #[test]
    fn secret_is_redacted() {
        let creds = Credentials::new("p", "hunter2-very-secret");
        let shown = format!("{creds:?} {creds} {creds:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn secret_from_file_drops_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "abc\n").unwrap();
        let creds = Credentials::from_file("p", &path).unwrap();
        assert_eq!(creds, Credentials::new("p", "abc"));
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = Credentials::from_file("p", "/no/such/secret-file").unwrap_err();
        assert!(err.to_string().contains("/no/such/secret-file"));
    }

    #[test]
    fn missing_env_names_the_variable() {
        let err = Credentials::from_env("p", "MESOS_CLIENT_TEST_NO_SUCH_VAR").unwrap_err();
        assert!(err.to_string().contains("MESOS_CLIENT_TEST_NO_SUCH_VAR"));
    }
}
