//! The `MESOS_*` environment an agent gives every executor it launches.
//!
//! An executor learns everything it needs to find its agent from environment
//! variables (fact sheet §3.7): which framework and executor it is, where the
//! agent listens, whether the framework checkpoints, and how long it may take
//! to shut down. [`ExecutorEnv::from_env`] reads them once at start-up.
//!
//! Why an error lists *every* missing variable at once: the usual reason for
//! a missing variable is that someone started the executor by hand instead
//! of through an agent. Then all of them are missing, and one message that
//! says so is more helpful than fixing them one run at a time.

use std::path::PathBuf;
use std::time::Duration;

use mesos_proto::v1::{AgentId, ExecutorId, FrameworkId};

use crate::error::{Error, Result};

/// Agent default for `--executor_shutdown_grace_period`, used when
/// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` is unset.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// Agent default for `--recovery_timeout`, used when `MESOS_RECOVERY_TIMEOUT`
/// is unset (the agent only sets it when the framework checkpoints).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Agent default for `--executor_reregistration_timeout`, used when
/// `MESOS_SUBSCRIPTION_BACKOFF_MAX` is unset.
pub const DEFAULT_SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The executor's view of its environment, parsed from the `MESOS_*`
/// variables the agent sets.
///
/// Required (an agent always sets them): `MESOS_FRAMEWORK_ID`,
/// `MESOS_EXECUTOR_ID`, `MESOS_AGENT_ENDPOINT`, `MESOS_DIRECTORY`.
/// Everything else falls back to the agent's documented default, named on
/// each field.
#[derive(Clone, PartialEq)]
pub struct ExecutorEnv {
    /// `MESOS_FRAMEWORK_ID`: goes into every call's envelope.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`: goes into every call's envelope and update.
    pub executor_id: ExecutorId,
    /// `MESOS_AGENT_ENDPOINT`: the agent's `ip:port` (a leading `http://`
    /// is accepted and removed).
    pub agent_endpoint: String,
    /// `MESOS_SLAVE_ID`, if set: the agent's id.
    pub agent_id: Option<AgentId>,
    /// `MESOS_DIRECTORY`: the sandbox path on the agent's host.
    pub directory: PathBuf,
    /// `MESOS_SANDBOX`: the sandbox as seen inside the container. Defaults to
    /// `directory`, which it equals whenever the task uses no image.
    pub sandbox: PathBuf,
    /// `MESOS_CHECKPOINT` is `1`: the agent may restart under us, and we
    /// should wait for it and subscribe again. Unset or `0`: false.
    pub checkpoint: bool,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`: how long the agent waits after
    /// SHUTDOWN before it destroys the container. Default 5 s.
    pub shutdown_grace_period: Duration,
    /// `MESOS_RECOVERY_TIMEOUT`: how long to keep trying to subscribe again
    /// after losing the agent (checkpointing only). Default 15 min.
    pub recovery_timeout: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX`: upper bound of the random delay
    /// between re-subscription attempts. Default 2 s.
    pub subscription_backoff_max: Duration,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`: sent as `Authorization: Bearer
    /// <token>` on every call. A credential: `Debug` shows `<redacted>`.
    pub authentication_token: Option<String>,
    /// `LIBPROCESS_SSL_ENABLED` is `1` or `true`: the agent serves https, so
    /// the executor API is called over TLS. (Mesos agents pass their own
    /// libprocess TLS settings down to the executors they start.)
    pub tls: bool,
    /// `LIBPROCESS_SSL_CA_FILE`: PEM certificates to trust for the agent's
    /// https, instead of the system's roots.
    pub ca_file: Option<PathBuf>,
}

// Written by hand so that logging the environment never leaks the token.
impl std::fmt::Debug for ExecutorEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorEnv")
            .field("framework_id", &self.framework_id.value)
            .field("executor_id", &self.executor_id.value)
            .field("agent_endpoint", &self.agent_endpoint)
            .field("agent_id", &self.agent_id.as_ref().map(|id| &id.value))
            .field("directory", &self.directory)
            .field("sandbox", &self.sandbox)
            .field("checkpoint", &self.checkpoint)
            .field("shutdown_grace_period", &self.shutdown_grace_period)
            .field("recovery_timeout", &self.recovery_timeout)
            .field("subscription_backoff_max", &self.subscription_backoff_max)
            .field(
                "authentication_token",
                &self.authentication_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl ExecutorEnv {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming every required variable that is missing and
    /// every variable whose value cannot be parsed.
    pub fn from_env() -> Result<ExecutorEnv> {
        ExecutorEnv::from_vars_os(std::env::vars_os())
    }

    /// As [`ExecutorEnv::from_vars`], from the raw (possibly non-UTF-8) environment:
    /// a `MESOS_*` or `LIBPROCESS_SSL_*` value that is not UTF-8 is an error naming it
    /// (`std::env::vars` would panic on it).
    ///
    /// # Errors
    ///
    /// As [`ExecutorEnv::from_env`].
    pub fn from_vars_os<I>(vars: I) -> Result<ExecutorEnv>
    where
        I: IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for (name, value) in vars {
            // A name that is not UTF-8 is none of ours.
            let Ok(name) = name.into_string() else {
                continue;
            };
            if !(name.starts_with("MESOS_") || name.starts_with("LIBPROCESS_SSL_")) {
                continue;
            }
            match value.into_string() {
                Ok(value) => good.push((name, value)),
                Err(_) => bad.push(name),
            }
        }
        if !bad.is_empty() {
            bad.sort();
            return Err(Error::Config(format!(
                "executor environment: invalid {} (not valid UTF-8) (an agent sets these when it launches an executor)",
                bad.join(", ")
            )));
        }
        ExecutorEnv::from_vars(good)
    }

    /// Reads the variables from `vars` instead of the process environment
    /// (for tests, and for executors that get their settings another way).
    /// Variables not starting with `MESOS_` or `LIBPROCESS_SSL_` are ignored.
    ///
    /// # Errors
    ///
    /// As [`ExecutorEnv::from_env`].
    pub fn from_vars<I, K, V>(vars: I) -> Result<ExecutorEnv>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: std::collections::BTreeMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| k.starts_with("MESOS_") || k.starts_with("LIBPROCESS_SSL_"))
            .collect();
        let mut missing = Vec::new();
        let mut invalid = Vec::new();

        // A required variable: absent or empty is "missing".
        let mut required = |name: &str| match vars.get(name) {
            Some(value) if !value.is_empty() => value.clone(),
            _ => {
                missing.push(name.to_string());
                String::new()
            }
        };
        let framework_id = required("MESOS_FRAMEWORK_ID");
        let executor_id = required("MESOS_EXECUTOR_ID");
        let endpoint = required("MESOS_AGENT_ENDPOINT");
        let directory = required("MESOS_DIRECTORY");

        let agent_endpoint = endpoint
            .strip_prefix("http://")
            .unwrap_or(&endpoint)
            .trim_end_matches('/')
            .to_string();
        if !endpoint.is_empty() && !has_port(&agent_endpoint) {
            invalid.push(format!(
                "MESOS_AGENT_ENDPOINT={endpoint:?} (expected ip:port)"
            ));
        }

        // A yes/no variable: unset or empty is no.
        let mut flag = |name: &str| match vars.get(name).map(String::as_str) {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                invalid.push(format!("{name}={other:?} (expected 0, 1, false or true)"));
                false
            }
        };
        let tls = flag("LIBPROCESS_SSL_ENABLED");
        let checkpoint = flag("MESOS_CHECKPOINT");

        let mut duration = |name: &str, default: Duration| match vars.get(name) {
            None => default,
            Some(text) => parse_duration(text).unwrap_or_else(|| {
                invalid.push(format!(
                    "{name}={text:?} (expected a Mesos duration such as 5secs)"
                ));
                default
            }),
        };
        let shutdown_grace_period = duration(
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
            DEFAULT_SHUTDOWN_GRACE_PERIOD,
        );
        let recovery_timeout = duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT);
        let subscription_backoff_max = duration(
            "MESOS_SUBSCRIPTION_BACKOFF_MAX",
            DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
        );

        if !missing.is_empty() || !invalid.is_empty() {
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("missing {}", missing.join(", ")));
            }
            if !invalid.is_empty() {
                parts.push(format!("invalid {}", invalid.join(", ")));
            }
            return Err(Error::Config(format!(
                "executor environment: {} (an agent sets these when it launches an executor)",
                parts.join("; ")
            )));
        }

        let non_empty = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();
        let directory = PathBuf::from(directory);
        Ok(ExecutorEnv {
            framework_id: FrameworkId {
                value: framework_id,
            },
            executor_id: ExecutorId { value: executor_id },
            agent_endpoint,
            agent_id: non_empty("MESOS_SLAVE_ID").map(|value| AgentId { value }),
            sandbox: non_empty("MESOS_SANDBOX")
                .map(PathBuf::from)
                .unwrap_or_else(|| directory.clone()),
            directory,
            checkpoint,
            shutdown_grace_period,
            recovery_timeout,
            subscription_backoff_max,
            authentication_token: non_empty("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"),
            tls,
            ca_file: non_empty("LIBPROCESS_SSL_CA_FILE").map(PathBuf::from),
        })
    }

    /// The URL of the agent's executor API: `http://<endpoint>/api/v1/executor`
    /// (`https://` when [`tls`](Self::tls) is set).
    pub fn executor_api_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/api/v1/executor", self.agent_endpoint)
    }
}

/// `host:port` with a numeric port (an IPv6 host comes in brackets).
/// Whether `endpoint` is `host:port`. An IPv6 address must be in brackets
/// (`[::1]:5051`): without them (`::1:5051`) no client can tell the port from the
/// address, and the executor would retry an address that never answers.
fn has_port(endpoint: &str) -> bool {
    let Some((host, port)) = endpoint.rsplit_once(':') else {
        return false;
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return false;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => !host.contains(':'),
    }
}

/// Parses a Mesos duration string: a non-negative number followed by one of
/// the units `ns`, `us`, `ms`, `secs`, `mins`, `hrs`, `days`, `weeks`
/// (`5secs`, `15mins`, `1500ms`, `0.5secs`). Returns `None` for anything else.
///
/// ```
/// use std::time::Duration;
/// use mesos_client::executor::parse_duration;
/// assert_eq!(parse_duration("15mins"), Some(Duration::from_secs(900)));
/// assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
/// assert_eq!(parse_duration("5 seconds"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: u64 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "secs" => 1_000_000_000,
        "mins" => 60_000_000_000,
        "hrs" => 3_600_000_000_000,
        "days" => 86_400_000_000_000,
        "weeks" => 604_800_000_000_000,
        _ => return None,
    };
    // Whole numbers are computed exactly; only fractions (`0.5secs`) go
    // through floating point, rounded to the nearest nanosecond.
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(nanos_per_unit).map(Duration::from_nanos);
    }
    // Only digits and dots reach this point, so "inf" or "1e3" never do.
    let value: f64 = number.parse().ok()?;
    let nanos = (value * nanos_per_unit as f64).round();
    (nanos.is_finite() && nanos < u64::MAX as f64).then(|| Duration::from_nanos(nanos as u64))
}

/// Formats a duration the way Mesos prints one: the largest unit that gives a
/// whole number (`5secs`, `15mins`, `1500ms`, `0ns`).
///
/// ```
/// use std::time::Duration;
/// use mesos_client::executor::format_duration;
/// assert_eq!(format_duration(Duration::from_secs(2)), "2secs");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
/// ```
pub fn format_duration(duration: Duration) -> String {
    const UNITS: [(&str, u128); 8] = [
        ("weeks", 604_800_000_000_000),
        ("days", 86_400_000_000_000),
        ("hrs", 3_600_000_000_000),
        ("mins", 60_000_000_000),
        ("secs", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let nanos = duration.as_nanos();
    for (unit, size) in UNITS {
        if nanos != 0 && nanos.is_multiple_of(size) {
            return format!("{}{unit}", nanos / size);
        }
    }
    "0ns".to_string()
}
