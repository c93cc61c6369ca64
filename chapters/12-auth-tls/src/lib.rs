//! # Step 12: authentication (HTTP basic) and TLS
//!
//! What you will learn: a production master is usually started with
//! `--authenticate_http_frameworks` and serves https. Then every request carries
//! `Authorization: Basic base64(principal:secret)` (without it: `401 Unauthorized`, and the
//! driver gives up at once: retrying cannot help), and the driver must trust the CA that
//! signed the master's certificate (`ca_file`, a PEM file). Keep the secret in a file, not
//! on the command line, where `ps` shows it; the client never prints it. The tasks are
//! command tasks again: with TLS the agents serve https too, and our executor driver
//! speaks plain http to its agent (the command executor lives inside the agent).
//!
//! Run it (`--master local` starts an embedded devcluster with a password and TLS, and makes
//! up the principal, the secret file and the CA for you: see src/secure_cluster.rs):
//!
//! ```text
//! cargo run --bin ch12-scheduler
//! cargo run --bin ch12-scheduler -- --master https://master.example:5050 \
//!     --principal my-framework --secret-file ./secret --ca-file ./ca.pem
//! ```
//!
//! What you should see: `without credentials: HTTP 401 ...`, then `subscribed as framework
//! ... (over https, as ch12-principal)`, two tasks `TASK_FINISHED`; `torn down`.
//!
//! Next: step 13 launches tasks together, as a group, on the default executor.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub mod secure_cluster;

use mesos_client::StopMode;
use mesos_client::credentials::Credentials;
use mesos_client::executor::is_terminal;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::{Error, Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, Resource, TaskState, TaskStatus};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port` of a master, a comma-separated list, or `local` for an embedded cluster.
    pub master: String,
    /// One task per command. Default: two that succeed.
    pub commands: Vec<String>,
    /// The principal to authenticate as. Default: none (no authentication).
    pub principal: Option<String>,
    /// The file holding the principal's secret.
    pub secret_file: Option<PathBuf>,
    /// A PEM file with the CA that signed the master's certificate (for `https://`).
    pub ca_file: Option<PathBuf>,
    /// Failed connection attempts in a row before giving up. Default: none (retry forever).
    pub max_attempts: Option<u32>,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            master: master.into(),
            commands: vec!["echo hello over TLS".into(), "echo hello again".into()],
            principal: None,
            secret_file: None,
            ca_file: None,
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
    /// Ids of the tasks that reached TASK_FINISHED.
    pub finished: BTreeSet<String>,
    /// Ids of the tasks that ended any other way (failed, lost, ...).
    pub failed: BTreeSet<String>,
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
    ids: TaskIdGenerator,
    outcome: Outcome,
}

/// What one task asks for: 0.1 cpu and 32 MB.
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
            let wanted = self.outcome.launched.len() < self.config.commands.len();
            match RemainingResources::from_offer(offer).take(&TASK) {
                Some(resources) if wanted => self.launch(handle, offer, resources),
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
        if !is_terminal(state) {
            return;
        }
        if state == TaskState::TaskFinished {
            self.outcome.finished.insert(id);
        } else {
            self.outcome.failed.insert(id);
        }
        if self.outcome.finished.len() + self.outcome.failed.len() >= self.config.commands.len() {
            self.finish(handle);
        }
    }
}

impl Framework {
    /// ACCEPTs `offer` with one LAUNCH; what the task does not use goes back to the master.
    fn launch(&mut self, handle: &SchedulerHandle, offer: &Offer, resources: Vec<Resource>) {
        let command = &self.config.commands[self.outcome.launched.len()];
        let task = TaskBuilder::command(command)
            .task_id(self.ids.next_id())
            .offer(offer)
            .resources(resources)
            .build()
            .expect("the offer sets the agent id");
        let id = task.task_id.value.clone();
        println!("launching {id} on agent {}", offer.agent_id.value);
        match handle.launch(vec![offer.id.clone()], vec![task], None) {
            Ok(()) => self.outcome.launched.push(id),
            Err(err) => eprintln!("could not launch {id}: {err}"),
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

/// Shows the refusal without credentials, then runs the tasks authenticated (and over TLS
/// for an `https://` master), and tears the framework down.
pub fn run(mut config: Config) -> Result<Outcome> {
    // `local`: our own embedded cluster, with a password and TLS (src/secure_cluster.rs).
    let local = match config.master.as_str() {
        "local" => Some(secure_cluster::SecureCluster::start_default()?),
        _ => None,
    };
    if let Some(local) = &local {
        config.master = local.master_url();
        config.principal = Some(secure_cluster::PRINCIPAL.into());
        config.secret_file = Some(local.secret_file.clone());
        config.ca_file = Some(local.ca_file.clone());
    }
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch12-auth-tls".into(),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(config.master.clone(), info);
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    // The CA that signed the master's certificate. Without it an https master would have
    // to be signed by a public CA (the built-in web roots).
    scheduler_config.ca_file = config.ca_file.clone();
    scheduler_config.max_reconnect_attempts = config.max_attempts;
    let https = config.master.starts_with("https://");
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
    if let (Some(principal), Some(file)) = (&config.principal, &config.secret_file) {
        scheduler_config.credentials = Some(Credentials::from_file(principal, file)?);
        outcome.principal = Some(principal.clone());
    }
    let mut framework = Framework {
        config,
        ids: TaskIdGenerator::new("ch12"),
        outcome,
    };
    SchedulerDriver::new(scheduler_config)?.run(&mut framework)?;
    Ok(framework.outcome)
}
