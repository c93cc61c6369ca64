//! Breaking a devcluster on purpose, typed: [`Fault`] names every fault
//! devcluster (this project's local Mesos-compatible cluster) can inject,
//! and [`inject`] asks a running one for it over HTTP
//! (`POST <master>/devcluster/faults/<name>?arg=...`).
//!
//! For lessons about heartbeats, reconnection and failover: the framework
//! breaks its own connection and shows how the driver recovers.
//!
//! ```no_run
//! use std::time::Duration;
//! use mesos_client::faults::{Fault, inject};
//!
//! inject("127.0.0.1:5050", &Fault::StallHeartbeats(Duration::from_secs(40)))?;
//! inject("http://127.0.0.1:5050", &Fault::CutStreams)?;
//! # Ok::<(), mesos_client::Error>(())
//! ```
//!
//! A real Mesos master has no such endpoint: it answers 404, which comes
//! back as [`Error::Http`].

use std::time::Duration;

use crate::error::{Error, Result};
use crate::transport::{Transport, TransportConfig};

/// One fault devcluster can inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Leadership moves to the next master; every subscription breaks.
    FailOverLeader,
    /// The leading master restarts (it forgets subscriptions, keeps state).
    RestartMaster,
    /// Every subscription stream is cut between two records.
    CutStreams,
    /// Every subscription stream is cut in the middle of a record.
    CutStreamsMidRecord,
    /// The master sends no HEARTBEAT for this long.
    StallHeartbeats(Duration),
    /// The scheduler endpoint answers 503 for this long.
    Unavailable(Duration),
    /// Agent number `n` (from 0) dies: its tasks are lost.
    LoseAgent(usize),
    /// An executor (or a command task's process) is killed with SIGKILL.
    CrashExecutor {
        /// The framework that runs it.
        framework_id: String,
        /// The executor's id.
        executor_id: String,
    },
    /// An offer is rescinded: this one, or the oldest outstanding one.
    RescindOffer(Option<String>),
}

impl Fault {
    /// The fault's name on the wire and on devcluster's command line
    /// (`stall-heartbeats`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::FailOverLeader => "fail-over-leader",
            Fault::RestartMaster => "restart-master",
            Fault::CutStreams => "cut-streams",
            Fault::CutStreamsMidRecord => "cut-streams-mid-record",
            Fault::StallHeartbeats(_) => "stall-heartbeats",
            Fault::Unavailable(_) => "unavailable",
            Fault::LoseAgent(_) => "lose-agent",
            Fault::CrashExecutor { .. } => "crash-executor",
            Fault::RescindOffer(_) => "rescind-offer",
        }
    }

    /// The fault's parameter (`?arg=`), if it has one.
    pub fn arg(&self) -> Option<String> {
        match self {
            Fault::StallHeartbeats(d) | Fault::Unavailable(d) => Some(d.as_secs_f64().to_string()),
            Fault::LoseAgent(n) => Some(n.to_string()),
            Fault::CrashExecutor {
                framework_id,
                executor_id,
            } => Some(format!("{framework_id}/{executor_id}")),
            Fault::RescindOffer(offer) => offer.clone(),
            _ => None,
        }
    }

    /// The path and query of the request: `/devcluster/faults/<name>[?arg=...]`.
    pub fn path(&self) -> String {
        let name = self.name();
        match self.arg() {
            Some(arg) => format!("/devcluster/faults/{name}?arg={}", encode(&arg)),
            None => format!("/devcluster/faults/{name}"),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.arg() {
            Some(arg) => write!(f, "{} {arg}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Asks the devcluster master at `master` (`host:port` or
/// `http://host:port`) for `fault`, and returns its answer
/// (`Fault 'cut-streams' injected`).
///
/// # Errors
///
/// [`Error::Transport`] if the master cannot be reached; [`Error::Http`]
/// with devcluster's reason if it refused (no such agent, ...), or 404 from
/// a master that is not a devcluster.
pub fn inject(master: &str, fault: &Fault) -> Result<String> {
    let timeout = Duration::from_secs(10);
    let transport = Transport::new(&TransportConfig {
        request_timeout: timeout,
        stream_idle_timeout: timeout,
        ca_file: None,
        credentials: None,
    })?;
    let url = format!("{}{}", base_url(master), fault.path());
    log::info!("injecting fault {fault}");
    let response = transport.post(&url, "text/plain", &[], b"")?;
    match response.status {
        200 => Ok(response.text()),
        status => Err(Error::Http {
            status,
            body: response.text(),
        }),
    }
}

/// `http://host:port` for `host:port`; a URL with a scheme as it is, without
/// a trailing slash.
pub fn base_url(master: &str) -> String {
    let master = master.trim().trim_end_matches('/');
    if master.contains("://") {
        master.to_string()
    } else {
        format!("http://{master}")
    }
}

/// Percent-encodes what is not safe in a query value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_args_are_devclusters() {
        let stall = Fault::StallHeartbeats(Duration::from_millis(1500));
        assert_eq!(stall.path(), "/devcluster/faults/stall-heartbeats?arg=1.5");
        assert_eq!(Fault::CutStreams.path(), "/devcluster/faults/cut-streams");
        let crash = Fault::CrashExecutor {
            framework_id: "f 1".into(),
            executor_id: "e".into(),
        };
        assert_eq!(
            crash.path(),
            "/devcluster/faults/crash-executor?arg=f%201/e"
        );
        assert_eq!(Fault::LoseAgent(1).to_string(), "lose-agent 1");
    }

    #[test]
    fn a_master_without_scheme_gets_http() {
        assert_eq!(base_url("127.0.0.1:5050"), "http://127.0.0.1:5050");
        assert_eq!(base_url("https://m:5050/"), "https://m:5050");
    }
}
