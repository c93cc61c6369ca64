//! What a [`SchedulerDriver`](super::SchedulerDriver) can be told: every knob
//! with its default and the reason for it.

use std::path::PathBuf;
use std::time::Duration;

use mesos_proto::ContentType;
use mesos_proto::v1::FrameworkInfo;

use crate::credentials::Credentials;

/// Configuration of a [`SchedulerDriver`](super::SchedulerDriver).
///
/// Build one with [`SchedulerConfig::new`] (which sets every default listed
/// on the fields), then change the public fields you need:
///
/// ```
/// use std::time::Duration;
/// use mesos_client::SchedulerConfig;
/// use mesos_proto::{v1::FrameworkInfo, ContentType};
///
/// let info = FrameworkInfo {
///     user: "nobody".into(),
///     name: "example".into(),
///     // Keep tasks alive for a week while the scheduler is away.
///     failover_timeout: Some(7.0 * 24.0 * 3600.0),
///     ..Default::default()
/// };
/// let mut config = SchedulerConfig::new("m1:5050,m2:5050", info);
/// config.content_type = ContentType::Protobuf;
/// config.framework_id_file = Some("framework.id".into());
/// config.max_reconnect_attempts = Some(10);
/// assert_eq!(config.backoff_max, Duration::from_secs(15));
/// ```
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Comma-separated masters: `host:port`, `http://host:port`,
    /// `https://host:port` (see [`crate::masters`]). Tried in turn; a `307`
    /// from a non-leader is followed. Or, with the feature `zk`, a ZooKeeper
    /// URL such as `zk://zk1:2181,zk2:2181/mesos`: the leader registered
    /// there is used, and followed when it changes.
    pub masters: String,
    /// Who the framework is. `user` and `name` are required by Mesos. Leave
    /// `id` unset for a new framework; the driver sets it when re-subscribing.
    /// `failover_timeout` defaults to 0 in Mesos, which means "kill all my
    /// tasks as soon as the connection drops": set it if the scheduler should
    /// be able to reconnect or restart.
    pub framework_info: FrameworkInfo,
    /// Encoding of calls and events. Default: [`ContentType::Json`] (readable
    /// on the wire); [`ContentType::Protobuf`] is smaller and faster.
    pub content_type: ContentType,
    /// HTTP basic-auth credentials, for masters run with
    /// `--authenticate_http_frameworks`. Default: none.
    pub credentials: Option<Credentials>,
    /// A PEM file of CA certificates to trust for `https://` masters (they
    /// replace the built-in roots). Default: none (the web PKI roots).
    pub ca_file: Option<PathBuf>,
    /// Where to keep the framework id across restarts. Read when the driver
    /// starts (if it exists, the driver re-subscribes with that id, so a
    /// restarted scheduler gets its tasks back within `failover_timeout`);
    /// written when SUBSCRIBED arrives. Default: none.
    pub framework_id_file: Option<PathBuf>,
    /// Acknowledge reliable updates (those with a uuid) automatically after
    /// [`Scheduler::update`](super::Scheduler::update) returns. Default: `true`.
    /// Turn it off to acknowledge only once an update is durably handled
    /// (e.g. written to a database), with
    /// [`SchedulerHandle::acknowledge`](super::SchedulerHandle::acknowledge).
    pub auto_acknowledge: bool,
    /// How many heartbeat intervals may pass without any event before the
    /// connection is considered dead. Default: 5 (75 s with Mesos' 15 s
    /// interval), as the Mesos documentation recommends.
    pub missed_heartbeats: u32,
    /// First delay before re-subscribing. Default: 0.5 s.
    pub backoff_min: Duration,
    /// Longest delay between re-subscription attempts. Default: 15 s.
    /// Each delay is drawn between half and all of `min(max, min * 2^n)`
    /// (see [`crate::backoff`]).
    pub backoff_max: Duration,
    /// Upper bound for one call, and for connecting + the response head of a
    /// SUBSCRIBE; also how long to wait for SUBSCRIBED. Default: 75 s (the
    /// heartbeat timeout, as the fact sheet §1.9 suggests).
    pub request_timeout: Duration,
    /// How many failed subscription attempts in a row are tolerated before
    /// [`SchedulerDriver::run`](super::SchedulerDriver::run) gives up with the
    /// last error. `None` (the default): retry forever. The count restarts
    /// after every successful SUBSCRIBED.
    pub max_reconnect_attempts: Option<u32>,
    /// Roles to subscribe suppressed (no offers until REVIVE). Default: none.
    pub suppressed_roles: Vec<String>,
    /// The largest RecordIO record accepted on the event stream.
    /// Default: 4 MiB ([`mesos_proto::recordio::DEFAULT_MAX_RECORD_SIZE`]).
    pub max_record_size: usize,
    /// How many acknowledgements may wait in the queue to the `mesos-acks` thread (see
    /// the [module docs](crate::scheduler)); at most 64 more are on the wire
    /// at once. A caller (e.g. the automatic acknowledgement after
    /// [`Scheduler::update`](super::Scheduler::update)) blocks while the
    /// queue is full, so a scheduler that makes calls faster than the master
    /// answers is slowed down instead of buffering without end. Default:
    /// 4096 (about 1 MiB of encoded acknowledgements at most; an agent holds
    /// a task's next update until the last one is acknowledged, so there are
    /// rarely more queued than tasks in flight).
    pub max_queued_calls: usize,
    /// For `zk://` masters: the ZooKeeper session timeout, and how long
    /// [`SchedulerDriver::new`](super::SchedulerDriver::new) waits for
    /// ZooKeeper to name a leading master. Default: 10 s (Mesos'
    /// `--zk_session_timeout`). Unused for a list of masters.
    pub zk_timeout: Duration,
}

impl SchedulerConfig {
    /// A configuration with every default, for these masters and framework.
    pub fn new(masters: impl Into<String>, framework_info: FrameworkInfo) -> Self {
        SchedulerConfig {
            masters: masters.into(),
            framework_info,
            content_type: ContentType::Json,
            credentials: None,
            ca_file: None,
            framework_id_file: None,
            auto_acknowledge: true,
            missed_heartbeats: 5,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
            request_timeout: Duration::from_secs(75),
            max_reconnect_attempts: None,
            suppressed_roles: Vec::new(),
            max_record_size: mesos_proto::recordio::DEFAULT_MAX_RECORD_SIZE,
            zk_timeout: Duration::from_secs(10),
            max_queued_calls: 4096,
        }
    }
}
