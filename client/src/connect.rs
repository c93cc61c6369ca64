//! The command-line options every framework binary takes to reach a master:
//! `--master`, `--principal`, `--secret-file` and `--ca-file`.
//!
//! A framework on a real cluster usually has to authenticate (HTTP basic
//! authentication: a principal and its secret) and often speaks https with a
//! certificate signed by the cluster's own CA. Rather than every example
//! parsing those four flags its own way, they share [`Connection`]:
//!
//! ```no_run
//! use mesos_client::connect::Connection;
//! use mesos_client::tasks::default_user;
//! use mesos_client::{SchedulerConfig, SchedulerDriver};
//! use mesos_proto::v1::FrameworkInfo;
//!
//! # fn main() -> mesos_client::Result<()> {
//! // `prog --master 10.141.141.10:5050 --principal etl --secret-file ./secret`
//! let (connection, rest) = Connection::from_args()?;
//! assert!(rest.is_empty(), "unknown arguments: {rest:?}");
//! let info = FrameworkInfo { user: default_user(), name: "demo".into(), ..Default::default() };
//! let mut config = SchedulerConfig::new(connection.master.clone(), info);
//! connection.apply(&mut config)?; // credentials, CA, FrameworkInfo.principal
//! let driver = SchedulerDriver::new(config)?;
//! # let _ = driver; Ok(())
//! # }
//! ```
//!
//! The secret itself is never a flag or an environment variable: it would
//! show in `ps`, in shell history and in `--help`'s `[env: ...]` notes. Only
//! the *path* of the file holding it is given; the file is read when
//! [`Connection::apply`] runs, and its contents go nowhere but into the
//! `Authorization` header (see [`crate::credentials`]).
//!
//! With the `clap` feature, `Connection` is also a `clap::Args` group, so a
//! clap program takes the same four flags with `#[command(flatten)]`.

use std::path::PathBuf;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::scheduler::SchedulerConfig;

/// Where the master is and how to prove who we are to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Connection {
    /// Masters (`host:port`, a comma-separated list, `zk://host:2181/mesos`), or `local`
    /// for a cluster embedded in this process.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "MESOS_MASTER", default_value = "local")
    )]
    pub master: String,
    /// The principal to authenticate as (HTTP basic authentication; also set as
    /// `FrameworkInfo.principal`). Needs `--secret-file`.
    #[cfg_attr(feature = "clap", arg(long, requires = "secret_file"))]
    pub principal: Option<String>,
    /// A file holding the principal's secret (one trailing newline is ignored).
    #[cfg_attr(feature = "clap", arg(long, requires = "principal"))]
    pub secret_file: Option<PathBuf>,
    /// A PEM file with the CA certificate(s) to trust for an https master (instead of the
    /// system's roots: a cluster with https usually has a CA of its own).
    #[cfg_attr(feature = "clap", arg(long))]
    pub ca_file: Option<PathBuf>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection::new("local")
    }
}

impl Connection {
    /// The usage line of these options, for a hand-written `--help`.
    pub const USAGE: &'static str = "[--master host:port|zk://...|local] [--principal NAME --secret-file FILE] [--ca-file CA.pem]";

    /// A connection to `master` without authentication or extra CA.
    pub fn new(master: impl Into<String>) -> Connection {
        Connection {
            master: master.into(),
            principal: None,
            secret_file: None,
            ca_file: None,
        }
    }

    /// The options from this program's command line (`MESOS_MASTER` when there is no
    /// `--master`, else `local`), and the arguments that are not ours, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an option without its value, or `--principal` without
    /// `--secret-file` (or the reverse).
    pub fn from_args() -> Result<(Connection, Vec<String>)> {
        let default = std::env::var("MESOS_MASTER").unwrap_or_else(|_| "local".to_string());
        Connection::parse(std::env::args().skip(1), &default)
    }

    /// [`Connection::from_args`] over given arguments (without the program name), with
    /// `default_master` used when there is no `--master`. Both `--flag value` and
    /// `--flag=value` are accepted.
    ///
    /// # Errors
    ///
    /// As [`Connection::from_args`].
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        default_master: &str,
    ) -> Result<(Connection, Vec<String>)> {
        let mut connection = Connection::new(default_master);
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            if !matches!(
                name,
                "--master" | "--principal" | "--secret-file" | "--ca-file"
            ) {
                rest.push(arg);
                continue;
            }
            let Some(value) = inline.or_else(|| args.next()) else {
                return Err(Error::Config(format!("{name} needs a value")));
            };
            match name {
                "--master" => connection.master = value,
                "--principal" => connection.principal = Some(value),
                "--secret-file" => connection.secret_file = Some(value.into()),
                _ => connection.ca_file = Some(value.into()),
            }
        }
        connection.check()?;
        Ok((connection, rest))
    }

    /// `--principal` and `--secret-file` come together or not at all.
    fn check(&self) -> Result<()> {
        match (&self.principal, &self.secret_file) {
            (Some(_), None) => Err(Error::Config(
                "--principal needs --secret-file (the file holding its secret)".into(),
            )),
            (None, Some(_)) => Err(Error::Config(
                "--secret-file needs --principal (who the secret belongs to)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The credentials, with the secret read from its file; `None` without a principal.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when only one of the two options is set, or the file cannot be
    /// read (the message names the file, never its contents).
    pub fn credentials(&self) -> Result<Option<Credentials>> {
        self.check()?;
        match (&self.principal, &self.secret_file) {
            (Some(principal), Some(file)) => Ok(Some(Credentials::from_file(principal, file)?)),
            _ => Ok(None),
        }
    }

    /// Puts the credentials and the CA file into a scheduler's configuration, and the
    /// principal into its `FrameworkInfo` when that has none (Mesos refuses a
    /// `FrameworkInfo.principal` that differs from the authenticated one). The masters
    /// are left alone: resolve `local` first (`local::resolve_master`, feature `local`).
    ///
    /// # Errors
    ///
    /// As [`Connection::credentials`].
    pub fn apply(&self, config: &mut SchedulerConfig) -> Result<()> {
        if let Some(credentials) = self.credentials()? {
            if config.framework_info.principal.is_none() {
                config.framework_info.principal = Some(credentials.principal().to_string());
            }
            config.credentials = Some(credentials);
        }
        if let Some(ca) = &self.ca_file {
            config.ca_file = Some(ca.clone());
        }
        Ok(())
    }
}

#[cfg(feature = "local")]
impl Connection {
    /// A scheduler's configuration for `framework_info` and these options, in
    /// one call: `local` is resolved first (a cluster starts in this process;
    /// keep the returned guard alive while the framework runs, it stops the
    /// cluster when dropped), then the credentials and CA are applied.
    ///
    /// ```no_run
    /// # use mesos_client::connect::Connection;
    /// # use mesos_proto::v1::FrameworkInfo;
    /// let info = FrameworkInfo { user: "me".into(), name: "demo".into(), ..Default::default() };
    /// let (config, _cluster) = Connection::new("local").scheduler_config(info)?;
    /// # Ok::<(), mesos_client::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`resolve_master`](crate::local::resolve_master) and
    /// [`Connection::apply`].
    pub fn scheduler_config(
        &self,
        framework_info: mesos_proto::v1::FrameworkInfo,
    ) -> Result<(SchedulerConfig, Option<crate::local::LocalCluster>)> {
        let (master, cluster) = crate::local::resolve_master(&self.master)?;
        let mut config = SchedulerConfig::new(master, framework_info);
        self.apply(&mut config)?;
        Ok((config, cluster))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::FrameworkInfo;

    fn parse(args: &[&str]) -> Result<(Connection, Vec<String>)> {
        Connection::parse(args.iter().map(|s| s.to_string()), "local")
    }

    #[test]
    fn defaults_to_the_given_master_and_no_auth() {
        let (c, rest) = parse(&[]).unwrap();
        assert_eq!(c, Connection::new("local"));
        assert!(rest.is_empty());
    }

    #[test]
    fn takes_both_spellings_and_keeps_foreign_arguments_in_order() {
        let (c, rest) = parse(&[
            "--no-faults",
            "--master=10.141.141.10:5050",
            "--principal",
            "etl",
            "x",
            "--secret-file=/run/secret",
            "--ca-file",
            "ca.pem",
        ])
        .unwrap();
        assert_eq!(c.master, "10.141.141.10:5050");
        assert_eq!(c.principal.as_deref(), Some("etl"));
        assert_eq!(c.secret_file, Some(PathBuf::from("/run/secret")));
        assert_eq!(c.ca_file, Some(PathBuf::from("ca.pem")));
        assert_eq!(rest, ["--no-faults", "x"]);
    }

    #[test]
    fn refuses_a_missing_value_and_half_credentials() {
        for args in [
            &["--master"][..],
            &["--principal", "p"][..],
            &["--secret-file", "f"][..],
        ] {
            let err = parse(args).expect_err("must be refused");
            assert!(matches!(err, Error::Config(_)), "{args:?}: {err}");
        }
    }

    #[test]
    fn apply_reads_the_secret_file_and_sets_the_principal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "hunter2\n").unwrap();
        let mut c = Connection::new("m:5050");
        c.principal = Some("etl".into());
        c.secret_file = Some(file);
        c.ca_file = Some("ca.pem".into());
        let mut config = SchedulerConfig::new("m:5050", FrameworkInfo::default());
        c.apply(&mut config).unwrap();
        assert_eq!(config.framework_info.principal.as_deref(), Some("etl"));
        assert_eq!(
            config.credentials.as_ref().map(|c| c.principal()),
            Some("etl")
        );
        assert_eq!(config.ca_file, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn apply_names_an_unreadable_secret_file() {
        let mut c = Connection::new("m:5050");
        c.principal = Some("etl".into());
        c.secret_file = Some("/nonexistent/secret-file".into());
        let mut config = SchedulerConfig::new("m:5050", FrameworkInfo::default());
        let err = c.apply(&mut config).expect_err("no such file");
        assert!(
            err.to_string().contains("/nonexistent/secret-file"),
            "{err}"
        );
        assert!(config.credentials.is_none());
    }

    #[test]
    fn without_principal_nothing_changes() {
        let mut config = SchedulerConfig::new("m:5050", FrameworkInfo::default());
        Connection::new("m:5050").apply(&mut config).unwrap();
        assert!(config.credentials.is_none() && config.ca_file.is_none());
        assert!(config.framework_info.principal.is_none());
    }
}
