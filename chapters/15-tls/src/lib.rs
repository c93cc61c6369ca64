//! # Step 15: TLS with your own CA
//!
//! What you will learn: the password of step 14 travels in every request's header, so a
//! production master also serves https. Its certificate is usually signed by the
//! cluster's own CA, not a public one: the driver must be told to trust that CA
//! (`--ca-file`, a PEM file, trusted instead of the system's roots). A certificate signed by
//! another CA is refused before any HTTP is spoken; the master's URL starts with
//! `https://`. The agents serve https too: our executor learns that, and the CA to trust,
//! from its environment (`LIBPROCESS_SSL_ENABLED`, `LIBPROCESS_SSL_CA_FILE`).
//!
//! Run it (`--master local` starts an embedded devcluster with a password and TLS, and makes
//! up the principal, the secret file and the CA for you: see `mesos_client::local::LockedCluster`):
//!
//! ```text
//! cargo run --bin ch15-scheduler
//! cargo run --bin ch15-scheduler -- --master https://master.example:5050 \
//!     --principal my-framework --secret-file ./secret --ca-file ./ca.pem
//! ```
//!
//! What you should see: `without credentials: refused, HTTP 401 ...`, then `subscribed as
//! framework ... (over https, as ch15-principal)`, both tasks `TASK_RUNNING`; `torn down`.
//! (The first `cargo run` builds the executor too. The agents fetch it from this process
//! on 127.0.0.1: fine for a local cluster, not for agents on other machines.)
//!
//! Next: step 16 launches tasks together, as a group, on the default executor.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod executor;
/// The principal `--master local` knows (the secret is made up at start).
pub const PRINCIPAL: &str = "ch15-principal";

use mesos_client::artifact::ArtifactServer;
use mesos_client::connect::Connection;
use mesos_client::credentials::Credentials;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::{Error, Result, Scheduler, SchedulerConfig, SchedulerDriver};
use mesos_client::{SchedulerHandle, StopMode};
use mesos_proto::v1::TaskStatus;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{AgentId, FrameworkInfo, Offer, Resource};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The executor program. Default (empty): `ch15-executor` next to this program.
    pub executor: PathBuf,
    /// Failed connection attempts in a row before giving up. Default: none (retry forever).
    pub max_attempts: Option<u32>,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            executor: PathBuf::new(),
            max_attempts: None,
            refuse_seconds: 1.0,
        }
    }
}

/// What happened, for the reader and for the test.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The id the master gave the framework.
    pub framework_id: String,
    /// The heartbeat interval the master announced, in seconds.
    pub heartbeat_interval_seconds: f64,
    /// Ids of the tasks launched.
    pub launched: Vec<String>,
    /// How the master answered a SUBSCRIBE without credentials (e.g. `HTTP 401`).
    pub without_credentials: Option<String>,
    /// `https` or `http`: how we talked to the master.
    pub scheme: String,
    /// The principal we were accepted as.
    pub principal: Option<String>,
    /// Every state each task went through, in order (e.g. `TASK_RUNNING`).
    pub states: BTreeMap<String, Vec<String>>,
    /// Updates we acknowledged (those with a uuid).
    pub acknowledged: usize,
    /// Updates without a uuid (nothing to acknowledge).
    pub without_uuid: usize,
    /// Whether the run ended with an accepted TEARDOWN.
    pub torn_down: bool,
}

/// Our scheduler. Events we do not handle keep the trait's safe defaults (offers are
/// declined, updates acknowledged and logged).
struct Framework {
    config: Config,
    /// Where the agents fetch the executor from.
    executor_url: String,
    /// The agent our executor runs on, once launched.
    agent: Option<AgentId>,
    ids: TaskIdGenerator,
    outcome: Outcome,
}

/// What one task asks for: 0.1 cpu and 32 MB; the executor asks for as much again.
const TASK: Resources = Resources {
    cpus: 0.1,
    mem: 32.0,
    disk: 0.0,
    ports: 0,
};

impl Scheduler for Framework {
    fn subscribed(&mut self, _handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        let principal = self.outcome.principal.as_deref().unwrap_or("nobody");
        let (id, scheme) = (&self.outcome.framework_id, &self.outcome.scheme);
        println!("subscribed as framework {id} (over {scheme}, as {principal})");
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        for offer in offers {
            // Cut the task's resources out of the offer (keeping the offer's roles).
            let wanted = self.outcome.launched.is_empty();
            let mut left = RemainingResources::from_offer(offer);
            // Two tasks and one executor for them, all from this one offer.
            match (left.take(&TASK), left.take(&TASK), left.take(&TASK)) {
                (Some(a), Some(b), Some(executor)) if wanted => {
                    self.launch(handle, offer, vec![a, b], executor)
                }
                // Not needed, or too small: every offer must be answered.
                _ => {
                    let refuse = Some(self.config.refuse_seconds);
                    if let Err(err) = handle.decline(vec![offer.id.clone()], refuse) {
                        eprintln!("could not decline {}: {err}", offer.id.value);
                    }
                }
            }
        }
    }

    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) {
        let (id, state) = (status.task_id.value.clone(), status.state());
        let reason = status.reason.map_or("-", |_| status.reason().as_str_name());
        let history = self.outcome.states.entry(id.clone()).or_default();
        history.push(state.as_str_name().to_string());
        // Handle the update first (here: record it), then acknowledge. A reliable update
        // acknowledged before it was handled could be lost if we crashed in between.
        let ack = if status.uuid.is_none() {
            self.outcome.without_uuid += 1;
            "no uuid: not acknowledged"
        } else if let Err(err) = handle.acknowledge(status) {
            eprintln!("could not acknowledge: {err}");
            "acknowledgement failed"
        } else {
            self.outcome.acknowledged += 1;
            "acknowledged"
        };
        let source = status.source().as_str_name();
        println!(
            "{id} is {} (from {source}, reason {reason}, {ack})",
            state.as_str_name()
        );
        if !status.message().is_empty() {
            println!("  message: {}", status.message());
        }
        // Both running (they started together): we were let in, and that is all.
        let last_states = self.outcome.states.values().filter_map(|h| h.last());
        let running = last_states.filter(|s| *s == "TASK_RUNNING").count();
        if running == 2 && !self.outcome.torn_down {
            self.finish(handle); // TEARDOWN kills both tasks
        }
    }
}

impl Framework {
    fn launch(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        tasks: Vec<Vec<Resource>>,
        executor: Vec<Resource>,
    ) {
        // The agent fetches the URI into the sandbox, makes it executable and runs the
        // command there. Tasks naming the same executor id share one executor process.
        let executor = ExecutorBuilder::custom("ch15-executor", shell_command("./ch15-executor"))
            .uri(uri(&self.executor_url, true, false))
            .resources(executor)
            .build();
        let tasks: Vec<_> = (tasks.into_iter())
            .map(|resources| {
                TaskBuilder::executor(executor.clone())
                    .task_id(self.ids.next_id())
                    .offer(offer)
                    .resources(resources)
                    .build()
                    .expect("the offer sets the agent id")
            })
            .collect();
        let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
        println!("launching {ids:?} on agent {}", offer.agent_id.value);
        match handle.launch(vec![offer.id.clone()], tasks, None) {
            Ok(()) => {
                self.outcome.launched = ids;
                self.agent = Some(offer.agent_id.clone());
            }
            Err(err) => eprintln!("could not launch {ids:?}: {err}"),
        }
    }

    /// Done: TEARDOWN removes the framework (killing its tasks) and stops the driver, which
    /// makes `run` return. If TEARDOWN fails we still stop; the master then forgets the
    /// framework once its `failover_timeout` (0 s by default) has passed.
    fn finish(&mut self, handle: &SchedulerHandle) {
        match handle.teardown() {
            Ok(()) => {
                self.outcome.torn_down = true;
                println!("torn down");
            }
            Err(err) => {
                eprintln!("teardown failed: {err}");
                handle.stop(StopMode::Failover);
            }
        }
    }
}

/// Shows the refusal without credentials, then runs two tasks authenticated (and over TLS
/// for an `https://` master), and tears the framework down.
pub fn run(mut config: Config) -> Result<Outcome> {
    // `local`: an embedded cluster with a password and TLS; it makes up the secret
    // file and the CA and points the connection at them.
    let _cluster = mesos_client::local::resolve_locked(&mut config.connection, PRINCIPAL, true)?;
    let connection = config.connection.clone();
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch15-tls".into(),
        ..Default::default()
    };
    // The agents fetch the executor over HTTP from this process, for as long as `server` lives.
    let program = match config.executor.as_os_str().is_empty() {
        true => mesos_client::local::find_executor("ch15-executor")?,
        false => config.executor.clone(),
    };
    let server = ArtifactServer::serve_file(&program)?;
    println!("serving the executor at {}", server.url());
    let mut scheduler_config = SchedulerConfig::new(connection.master.clone(), info);
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    // The CA that signed the master's certificate. Without it an https master would have
    // to be signed by a public CA (the built-in web roots).
    scheduler_config.ca_file = connection.ca_file.clone();
    scheduler_config.max_reconnect_attempts = config.max_attempts;
    let https = connection.master.starts_with("https://");
    let mut outcome = Outcome {
        scheme: if https { "https" } else { "http" }.into(),
        ..Outcome::default()
    };
    // First without credentials, to see the master refuse us.
    match SchedulerDriver::new(scheduler_config.clone())?.run(&mut Probe) {
        Err(Error::Http { status, body }) => {
            println!("without credentials: refused, HTTP {status} ({body})");
            outcome.without_credentials = Some(format!("HTTP {status}"));
        }
        Err(err) => return Err(err),
        Ok(()) => println!("without credentials: accepted (this master does not authenticate)"),
    }
    // Then with them. The secret is read from its file and sent in every request's header.
    // (`connection.apply(&mut scheduler_config)` does this, and sets
    // `FrameworkInfo.principal`: the other steps use it.)
    if let (Some(principal), Some(file)) = (&connection.principal, &connection.secret_file) {
        scheduler_config.credentials = Some(Credentials::from_file(principal, file)?);
        outcome.principal = Some(principal.clone());
    }
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        executor_url: server.url(),
        agent: None,
        ids: TaskIdGenerator::new("ch15"),
        outcome,
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}

/// Subscribes without credentials only to see the answer; leaves at once if let in.
struct Probe;

impl Scheduler for Probe {
    fn subscribed(&mut self, handle: &SchedulerHandle, _subscribed: &event::Subscribed) {
        if let Err(err) = handle.teardown() {
            eprintln!("teardown failed: {err}");
            handle.stop(StopMode::Failover);
        }
    }
}
