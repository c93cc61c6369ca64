//! # Step 10: heartbeats, and noticing a dead connection
//!
//! What you will learn: the SUBSCRIBE response stays open for ever, and a connection that
//! died without a word looks exactly like a quiet one. So the master sends a HEARTBEAT
//! event every `heartbeat_interval_seconds` (15 s, announced in SUBSCRIBED); a scheduler
//! that hears nothing for several intervals (`missed_heartbeats`) must assume the
//! connection is dead, close it, and say so: the driver calls `disconnected`, then
//! subscribes again (step 11 looks at that closer). The fault is injected on purpose
//! through devcluster's `POST /devcluster/faults/stall-heartbeats`. (Against the local
//! cluster the silence is noticed after about 30 s: two missed 15 s beats.)
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch10-scheduler
//! cargo run --bin ch10-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch10-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: both tasks `TASK_RUNNING`, `injecting fault stall-heartbeats?arg=..`,
//! silence, `disconnected (1) after N heartbeat(s)`, `subscribed` again; `torn down`.
//! On a real master (`--master host:port --no-faults`) pause the master (`kill -STOP`).
//! (The first `cargo run` builds the executor too. The agents fetch it from this process
//! on 127.0.0.1: fine for a local cluster, not for agents on other machines.)
//!
//! Next: step 11 loses the connection in two ways and comes back with the same id.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub mod executor;

use mesos_client::StopMode;
use mesos_client::artifact::ArtifactServer;
use mesos_client::connect::Connection;
use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user};
use mesos_client::tasks::{shell_command, uri};
use mesos_client::transport::{Transport, TransportConfig};
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::TaskStatus;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{AgentId, FrameworkInfo, Offer, Resource};

/// What to run against, and what to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// The executor program. Default (empty): `ch10-executor` next to this program.
    pub executor: PathBuf,
    /// Inject the faults through devcluster's fault endpoint. Default: true; turn it off
    /// for a real master, and break the connection yourself.
    pub faults: bool,
    /// Silent heartbeat intervals before the connection counts as lost. Default: 2.
    pub missed_heartbeats: u32,
    /// The filter sent with every DECLINE, in seconds. Default: 120, long: offers are
    /// events too, and offers every second would never let the connection fall silent.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            executor: PathBuf::new(),
            faults: true,
            missed_heartbeats: 2,
            refuse_seconds: 120.0,
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
    /// SUBSCRIBED events: the first, and one per reconnection.
    pub subscriptions: usize,
    /// Times the driver reported the connection lost.
    pub disconnections: usize,
    /// HEARTBEAT events received.
    pub heartbeats: usize,
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
    /// Where to send faults (any master of the cluster takes them).
    master_url: String,
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
    fn subscribed(&mut self, handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        println!(
            "subscribed as framework {} (heartbeat every {}s)",
            self.outcome.framework_id, self.outcome.heartbeat_interval_seconds
        );
        self.outcome.subscriptions += 1;
        if self.outcome.subscriptions == 2 {
            self.finish(handle); // we noticed the silence, and are back: done
        }
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
        // Both running (they started together): no heartbeats for one interval longer
        // than we tolerate. The stream stays open, only silent.
        let last_states = self.outcome.states.values().filter_map(|h| h.last());
        let running = last_states.filter(|s| *s == "TASK_RUNNING").count();
        if running == 2 && self.outcome.subscriptions == 1 && self.outcome.disconnections == 0 {
            let silence = self.outcome.heartbeat_interval_seconds
                * f64::from(self.config.missed_heartbeats + 1);
            self.inject(&format!("stall-heartbeats?arg={silence:.1}"));
        }
    }

    fn heartbeat(&mut self, _handle: &SchedulerHandle) {
        self.outcome.heartbeats += 1;
    }

    fn disconnected(&mut self, _handle: &SchedulerHandle) {
        // Offers are void now and calls fail until `subscribed` is called again.
        self.outcome.disconnections += 1;
        println!(
            "disconnected ({}) after {} heartbeat(s); subscribing again",
            self.outcome.disconnections, self.outcome.heartbeats
        );
    }
}

impl Framework {
    /// Asks devcluster for a fault: `POST <master>/devcluster/faults/<fault>`.
    fn inject(&self, fault: &str) {
        if !self.config.faults {
            return;
        }
        println!("injecting fault {fault}");
        let url = format!("{}/devcluster/faults/{fault}", self.master_url);
        let timeout = Duration::from_secs(10);
        let (request_timeout, stream_idle_timeout) = (timeout, timeout);
        let config = TransportConfig {
            request_timeout,
            stream_idle_timeout,
            ca_file: None,
            credentials: None,
        };
        match Transport::new(&config).and_then(|http| http.post(&url, "text/plain", &[], b"")) {
            Ok(response) if response.status == 200 => {}
            Ok(response) => eprintln!(
                "fault {fault}: HTTP {}: {}",
                response.status,
                response.text()
            ),
            Err(err) => eprintln!("fault {fault}: {err}"),
        }
    }

    /// ACCEPTs `offer` with one LAUNCH; what the task does not use goes back to the master.
    fn launch(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        tasks: Vec<Vec<Resource>>,
        executor: Vec<Resource>,
    ) {
        // The agent fetches the URI into the sandbox, makes it executable and runs the
        // command there. Tasks naming the same executor id share one executor process.
        let executor = ExecutorBuilder::custom("ch10-executor", shell_command("./ch10-executor"))
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

/// The first master of a list, as an URL (`host:port` means `http://host:port`).
fn fault_url(masters: &str) -> String {
    let first = masters
        .split(',')
        .next()
        .unwrap_or(masters)
        .trim_end_matches('/');
    match first.contains("://") {
        true => first.to_string(),
        false => format!("http://{first}"),
    }
}

/// Runs two tasks, lets the heartbeats stall until the driver gives up on the connection,
/// subscribes again, tears the framework down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        // While we are away the master keeps our tasks for this long (default: 0 s).
        failover_timeout: Some(60.0),
        name: "ch10-heartbeats".into(),
        ..Default::default()
    };
    // The agents fetch the executor over HTTP from this process, for as long as `server` lives.
    let program = match config.executor.as_os_str().is_empty() {
        true => mesos_client::local::find_executor("ch10-executor")?,
        false => config.executor.clone(),
    };
    let server = ArtifactServer::serve_file(&program)?;
    println!("serving the executor at {}", server.url());
    let mut scheduler_config = SchedulerConfig::new(master.clone(), info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    // We acknowledge in `update`, once the update is handled.
    scheduler_config.auto_acknowledge = false;
    // Give up on a silent connection after this many intervals; retry fast (step 11).
    scheduler_config.missed_heartbeats = config.missed_heartbeats;
    scheduler_config.backoff_max = Duration::from_secs(2);
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        executor_url: server.url(),
        agent: None,
        master_url: fault_url(&master),
        ids: TaskIdGenerator::new("ch10"),
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
