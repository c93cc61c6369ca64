//! # Step 13: suppress offers while idle, revive them for new work
//!
//! What you will learn: a framework with nothing to launch still gets offers, declines
//! them, and gets them again: busy work for the master and for us, and resources held
//! back from other frameworks meanwhile. SUPPRESS says "no offers for now" (for all our
//! roles, or those named); REVIVE says "offers again, please", and also drops every
//! filter set by earlier DECLINEs, so offers come at once. Here the scheduler suppresses
//! once its two tasks run, stays quiet for a while, then revives as if new work had come.
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch13-scheduler
//! cargo run --bin ch13-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch13-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: both tasks `TASK_RUNNING`, `suppressing offers`, then nothing for
//! two seconds (the outcome printed at the end says `offers_while_suppressed: 0`),
//! `reviving`, and at once `offer ... after revive`; `torn down`.
//! (The first `cargo run` builds the executor too. The agents fetch it from this process
//! on 127.0.0.1: fine for a local cluster, not for agents on other machines.)
//!
//! Next: step 14 talks to a master that wants a password.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub mod executor;

use mesos_client::artifact::ArtifactServer;
use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::{
    Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode,
};
use mesos_proto::v1::TaskStatus;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{AgentId, FrameworkInfo, Offer, Resource};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The executor program. Default (empty): `ch13-executor` next to this program.
    pub executor: PathBuf,
    /// How long to stay suppressed, in seconds. Default: 2.
    pub quiet_seconds: f64,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            executor: PathBuf::new(),
            quiet_seconds: 2.0,
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
    /// Whether SUPPRESS was accepted.
    pub suppressed: bool,
    /// Offers received while suppressed (none, if SUPPRESS works).
    pub offers_while_suppressed: usize,
    /// Offers received after REVIVE (filters are gone too: at once).
    pub offers_after_revive: usize,
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
    /// Set by the thread that sends REVIVE, just before it does.
    reviving: Arc<AtomicBool>,
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
        println!("subscribed as framework {}", self.outcome.framework_id);
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        for offer in offers {
            if self.reviving.load(Ordering::SeqCst) {
                self.outcome.offers_after_revive += 1;
                println!("offer {} after revive", offer.id.value);
            } else if self.outcome.suppressed {
                self.outcome.offers_while_suppressed += 1;
            }
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
        if self.outcome.offers_after_revive > 0 {
            // The "new work" would be launched here; this step has seen what it wanted.
            self.finish(handle); // TEARDOWN kills both tasks
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
        // Both running (they started together): nothing more to launch, so no offers.
        let last_states = self.outcome.states.values().filter_map(|h| h.last());
        let running = last_states.filter(|s| *s == "TASK_RUNNING").count();
        if running == 2 && !self.outcome.suppressed {
            self.suppress_for_a_while(handle);
        }
    }
}

impl Framework {
    /// SUPPRESS now; REVIVE after `quiet_seconds`, from a thread of its own (callbacks
    /// must not block: events keep coming, and are handled on this thread).
    fn suppress_for_a_while(&mut self, handle: &SchedulerHandle) {
        println!("suppressing offers");
        match handle.suppress(Vec::new()) {
            Ok(()) => self.outcome.suppressed = true,
            Err(err) => eprintln!("could not suppress: {err}"),
        }
        let (handle, reviving) = (handle.clone(), self.reviving.clone());
        let quiet = Duration::from_secs_f64(self.config.quiet_seconds);
        std::thread::spawn(move || {
            std::thread::sleep(quiet);
            println!("reviving");
            reviving.store(true, Ordering::SeqCst);
            if let Err(err) = handle.revive(Vec::new()) {
                eprintln!("could not revive: {err}");
            }
        });
    }

    fn launch(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        tasks: Vec<Vec<Resource>>,
        executor: Vec<Resource>,
    ) {
        // The agent fetches the URI into the sandbox, makes it executable and runs the
        // command there. Tasks naming the same executor id share one executor process.
        let executor = ExecutorBuilder::custom("ch13-executor", shell_command("./ch13-executor"))
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

/// Runs two tasks, suppresses offers, revives them, tears the framework down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch13-suppress-revive".into(),
        ..Default::default()
    };
    // The agents fetch the executor over HTTP from this process, for as long as `server` lives.
    let program = match config.executor.as_os_str().is_empty() {
        true => mesos_client::local::find_executor("ch13-executor")?,
        false => config.executor.clone(),
    };
    let server = ArtifactServer::serve_file(&program)?;
    println!("serving the executor at {}", server.url());
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        executor_url: server.url(),
        agent: None,
        reviving: Arc::new(AtomicBool::new(false)),
        ids: TaskIdGenerator::new("ch13"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
