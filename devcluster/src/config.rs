//! Cluster configuration: what the CLI flags set and what tests shorten.
//!
//! Every timing knob of the real Mesos defaults lives here so that tests can run the
//! same code paths in milliseconds instead of seconds.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::Credentials;

/// The resources and attributes of one agent, in Mesos' `--resources` / `--attributes`
/// text forms (`cpus:4;mem:4096;disk:10240;ports:[31000-32000]`, `rack:r1;zone:z1`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// Resources, e.g. `cpus:4;mem:4096;disk:10240;ports:[31000-32000]`.
    pub resources: String,
    /// Attributes, e.g. `rack:r1;level:3.5;slots:[1-4]` (empty for none).
    pub attributes: String,
}

impl Default for AgentConfig {
    fn default() -> AgentConfig {
        AgentConfig {
            resources: "cpus:4;mem:4096;disk:10240;ports:[31000-32000]".to_string(),
            attributes: String::new(),
        }
    }
}

/// Everything needed to start a [`crate::Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The address masters and agents bind (127.0.0.1 by default: nothing leaves the host).
    pub ip: IpAddr,
    /// The port of the first (leading) master; 0 lets the OS choose. Further masters and
    /// all agents always get OS-chosen ports.
    pub port: u16,
    /// How many masters (one leads, the others redirect to it).
    pub masters: usize,
    /// One entry per agent.
    pub agents: Vec<AgentConfig>,
    /// Where agents keep sandboxes (`<work_dir>/slaves/<agent>/frameworks/...`) and
    /// their checkpoints (`<work_dir>/meta/`: a cluster started again on the same
    /// directory after a crash kills what the earlier run left). `None` makes a fresh
    /// directory under the system temp dir, removed on shutdown.
    pub work_dir: Option<PathBuf>,
    /// The heartbeat interval announced in SUBSCRIBED and used on the stream (Mesos: 15 s).
    pub heartbeat_interval: Duration,
    /// How often the allocator makes offers in a batch (Mesos: 1 s). Offers are also made at
    /// once when a framework subscribes, revives or resources are freed.
    pub allocation_interval: Duration,
    /// When set, offers not used within this time are rescinded (Mesos `--offer_timeout`).
    pub offer_timeout: Option<Duration>,
    /// First retry of an unacknowledged status update (Mesos: 10 s, doubling up to 10 min).
    pub status_update_retry: Duration,
    /// How long a launched custom executor may take to subscribe (Mesos: 1 min).
    pub executor_registration_timeout: Duration,
    /// Default grace between SIGTERM and SIGKILL for command tasks (Mesos: 3 s).
    pub kill_grace_period: Duration,
    /// Default executor shutdown grace period (Mesos: 5 s).
    pub executor_shutdown_grace_period: Duration,
    /// Simulated-task mode: when set, no process is started; every task goes STARTING,
    /// RUNNING, then FINISHED after this long.
    pub simulate_tasks: Option<Duration>,
    /// With credentials, HTTP Basic authentication is required by the scheduler
    /// endpoint, fault injection, the live page and its data (`/devcluster/*`), and the
    /// agents' `/files/*`; `/health`, `/version` and the state endpoints stay open.
    pub credentials: Option<Credentials>,
    /// TLS for every server of the cluster.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// With `tls`: the CA certificate file executors are told to trust
    /// (`LIBPROCESS_SSL_CA_FILE`), so that they can call their agent over https.
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Hostname advertised in MasterInfo, offers and Location headers.
    pub hostname: String,
    /// How long agents take to "recover" after start before registering with the master;
    /// meanwhile their executor API answers `503 Agent has not finished recovery`, as a
    /// restarting Mesos agent does (§1.7 executor row 1). Default 0.
    pub agent_recovery_delay: Duration,
    /// `zk://host:port[,host:port]/path`: every master registers in this ZooKeeper as a
    /// Mesos master does (an ephemeral sequential `json.info_` member holding its
    /// MasterInfo as JSON), so Mesos-aware tools find the leader there. `None`: no ZooKeeper.
    pub zk: Option<String>,
    /// The bounds that keep memory and threads fixed whatever clients do (see
    /// `docs/reliability.md`); tests lower them to reach them quickly.
    pub bounds: Bounds,
}

/// The bounds on what clients can make devcluster hold. Every queue, history and
/// connection count has one; each is a command-line option of `devcluster`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// Timeline entries kept per framework (`--timeline-max-entries`, default 5,000);
    /// older ones are dropped and counted.
    pub timeline_max_entries: usize,
    /// Bytes the whole timeline may hold (`--timeline-max-bytes`, default 64 MiB); the
    /// oldest entries of the cluster go first.
    pub timeline_max_bytes: usize,
    /// A recorded call or event larger than this is kept as its first this-many bytes
    /// plus its size (`--timeline-max-message-bytes`, default 64 KiB).
    pub timeline_max_message_bytes: usize,
    /// Events queued for one subscriber (`--subscriber-queue-events`, default 100,000):
    /// a subscriber further behind is disconnected (it resubscribes, as after a cut).
    pub subscriber_queue_events: usize,
    /// Bytes of events queued for one subscriber (`--subscriber-queue-bytes`, default
    /// 16 MiB); one event larger than this still goes to a subscriber that is up to date.
    pub subscriber_queue_bytes: usize,
    /// Open connections per server (each master and agent; `--max-connections`, default
    /// 4,096); beyond it a connection is answered `503` and closed.
    pub max_connections: usize,
    /// How long a client may take to send a complete request head once it started one
    /// (`--request-head-timeout-secs`, default 30 s); then the connection is closed.
    pub request_head_timeout: Duration,
    /// Completed executors an agent keeps per framework (Mesos
    /// `--max_completed_executors_per_framework`, 150).
    pub max_completed_executors_per_framework: usize,
    /// Completed tasks an agent keeps per completed executor (Mesos
    /// `--max_completed_tasks_per_executor`, 200).
    pub max_completed_tasks_per_executor: usize,
    /// Completed tasks the master keeps per framework (Mesos
    /// `--max_completed_tasks_per_framework`, 1,000).
    pub max_completed_tasks_per_framework: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            timeline_max_entries: 5000,
            timeline_max_bytes: 64 << 20,
            timeline_max_message_bytes: 64 << 10,
            subscriber_queue_events: 100_000,
            subscriber_queue_bytes: 16 << 20,
            max_connections: 4096,
            request_head_timeout: Duration::from_secs(30),
            max_completed_executors_per_framework: 150,
            max_completed_tasks_per_executor: 200,
            max_completed_tasks_per_framework: 1000,
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            ip: IpAddr::from([127, 0, 0, 1]),
            port: 5050,
            masters: 1,
            agents: vec![AgentConfig::default(), AgentConfig::default()],
            work_dir: None,
            heartbeat_interval: Duration::from_secs(15),
            allocation_interval: Duration::from_secs(1),
            offer_timeout: None,
            status_update_retry: Duration::from_secs(10),
            executor_registration_timeout: Duration::from_secs(60),
            kill_grace_period: Duration::from_secs(3),
            executor_shutdown_grace_period: Duration::from_secs(5),
            simulate_tasks: None,
            credentials: None,
            tls: None,
            tls_ca_file: None,
            hostname: "localhost".to_string(),
            agent_recovery_delay: Duration::ZERO,
            zk: None,
            bounds: Bounds::default(),
        }
    }
}

impl ClusterConfig {
    /// The limits of every HTTP server of the cluster (defaults plus [`Bounds`]).
    pub(crate) fn server_limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            request_head_timeout: self.bounds.request_head_timeout,
            max_connections: self.bounds.max_connections,
            ..crate::http::Limits::default()
        }
    }

    /// A configuration for tests: port 0, `agents` default agents, short intervals
    /// (heartbeat 15 s as announced by Mesos, allocation 100 ms, retries 1 s).
    pub fn for_tests(agents: usize) -> ClusterConfig {
        ClusterConfig {
            port: 0,
            agents: vec![AgentConfig::default(); agents],
            allocation_interval: Duration::from_millis(100),
            status_update_retry: Duration::from_secs(1),
            executor_registration_timeout: Duration::from_secs(10),
            kill_grace_period: Duration::from_secs(1),
            executor_shutdown_grace_period: Duration::from_secs(2),
            ..ClusterConfig::default()
        }
    }
}

/// Formats a duration as Mesos does (`5secs`, `15mins`, `1500ms`): the largest unit that
/// gives a whole number.
pub fn mesos_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let units: [(u128, &str); 8] = [
        (604_800_000_000_000, "weeks"),
        (86_400_000_000_000, "days"),
        (3_600_000_000_000, "hrs"),
        (60_000_000_000, "mins"),
        (1_000_000_000, "secs"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0ns".to_string();
    }
    for (size, name) in units {
        if ns.is_multiple_of(size) {
            return format!("{}{}", ns / size, name);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_mesos() {
        assert_eq!(mesos_duration(Duration::from_secs(5)), "5secs");
        assert_eq!(mesos_duration(Duration::from_secs(900)), "15mins");
        assert_eq!(mesos_duration(Duration::from_millis(1500)), "1500ms");
    }
}
