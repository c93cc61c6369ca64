//! skeleton-scheduler: every scheduler callback, in the order of
//! `scheduler.proto`, each with what it is for and a `// TODO:` for your code.
//!
//! Copy this folder to start a framework (see `skeleton/README.md`). As it
//! stands it does a small job: run `--tasks` tasks on `skeleton-executor`,
//! launching again any that fail, then TEARDOWN. Every callback logs one
//! line starting with its name (`offers:`, `rescind:`, `failure:`, ...), so
//! you can watch what Mesos sends; inject faults into devcluster to see the
//! rarer ones (`cargo run -p devcluster -- fault rescind-offer`).
//!
//!     cargo run --bin skeleton-scheduler -- --sleep 5
//!
//! With no `--master` (or `MESOS_MASTER`) it runs on a local cluster inside
//! this process. For a master that requires authentication:
//! `--principal NAME --secret-file FILE` (and `--ca-file CA.pem` for https
//! with your own CA).
//! The book's skeleton (*Mesos in Action* chapter 10) had callbacks with
//! wrong signatures that never ran; here the compiler checks them against
//! the `Scheduler` trait. Every callback returns `Result`, so calls take `?`:
//! a failed call is logged and the driver goes on, an error of your own ends
//! `run` with it (see the trait's docs).
//!
//! A copy registers under its own package name: the framework is called
//! after the package (`CARGO_PKG_NAME`), its executor `<package>-executor`,
//! its tasks `<package>-<n>`.
//!
//! Next: `skeleton-executor.rs`; the trait's docs in `client/src/scheduler/mod.rs`.
use std::collections::BTreeSet;
use std::error::Error;
use std::time::Duration;

use clap::Parser;
use mesos_client::local::LocalCluster;
use mesos_client::prelude::*;
use mesos_client::resources::describe;
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{InverseOffer, OfferId, OperationStatus, Resource};
use simple_logger::SimpleLogger;

/// This package's name: a copied skeleton registers under its own.
const NAME: &str = env!("CARGO_PKG_NAME");
/// The executor program (a binary of this package) and the executor's id.
const EXECUTOR_NAME: &str = concat!(env!("CARGO_PKG_NAME"), "-executor");

/// Runs tasks on skeleton-executor, then tears the framework down.
#[derive(Parser)]
struct Args {
    /// --master, --principal, --secret-file, --ca-file.
    #[command(flatten)]
    connection: Connection,
    /// --executor, --advertise-ip: where the agents fetch the executor.
    #[command(flatten)]
    executor: ExecutorSource,
    /// How many tasks must finish before TEARDOWN.
    #[arg(long, default_value_t = 3)]
    tasks: usize,
    /// How long each task runs, in seconds.
    #[arg(long, default_value_t = 1)]
    sleep: u64,
    /// Keep offers we do not use this many seconds before declining them
    /// (to watch RESCIND happen); 0 declines at once.
    #[arg(long, default_value_t = 0.0)]
    hold_offers: f64,
    /// Protobuf on the wire, for the scheduler and its executors (JSON by default).
    #[arg(long)]
    protobuf: bool,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: log::LevelFilter,
}

/// Seconds the master waits for us to re-subscribe after a disconnection.
const FAILOVER_TIMEOUT_SECS: f64 = 60.0;

/// Resources of one task, and of the executor that runs it (Mesos counts both).
const TASK: Resources = Resources {
    cpus: 0.1,
    mem: 32.0,
    disk: 0.0,
    ports: 0,
};
const EXECUTOR: Resources = Resources {
    cpus: 0.1,
    mem: 32.0,
    disk: 0.0,
    ports: 0,
};

/// The framework's state. TODO: keep what your framework needs to know here.
struct Skeleton {
    args: Args,
    /// The executor program, as the agents fetch it (served by us if need be).
    executor: ShippedExecutor,
    ids: TaskIdGenerator,
    /// Tasks still to launch (a failed task comes back here).
    to_launch: usize,
    /// Tasks launched and not ended yet, by id.
    active: BTreeSet<String>,
    /// Tasks that ended, by id (updates can arrive twice).
    ended: BTreeSet<String>,
    finished: usize,
    failed: usize,
}

impl Scheduler for Skeleton {
    /// When: the master accepted SUBSCRIBE; again after every reconnection.
    /// Must: nothing; after a reconnection, find out what happened to your
    /// tasks meanwhile. This stub: logs, and reconciles if tasks are active.
    /// Upstream: v0 `registered`/`reregistered`; Event SUBSCRIBED.
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> Result<()> {
        log::info!("subscribed: framework {}", subscribed.framework_id.value);
        if !self.active.is_empty() {
            // The master answers with one UPDATE per task it knows.
            handle.reconcile_all()?;
        }
        // TODO: persist the framework id to fail over (SchedulerConfig::framework_id_file).
        Ok(())
    }

    /// When: the master offers resources of one or more agents.
    /// Must: answer each offer once, with a launch (ACCEPT) or a DECLINE.
    /// This stub: launches pending tasks where they fit, declines the rest.
    /// Upstream: v0 `resourceOffers`; Event OFFERS.
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        log::info!(
            "offers: {} offer(s), {} task(s) to launch",
            offers.len(),
            self.to_launch
        );
        let mut unused = Vec::new();
        for offer in offers {
            // TODO: your placement logic: which tasks go on which offers.
            log::debug!(
                "offers: {} offers {}",
                offer.id.value,
                describe(&offer.resources)
            );
            let mut left = RemainingResources::from_offer(offer);
            match (left.take(&TASK), left.take(&EXECUTOR)) {
                (Some(task), Some(executor)) if self.to_launch > 0 => {
                    self.launch(handle, offer, task, executor)?
                }
                _ => unused.push(offer.id.clone()),
            }
        }
        decline_later(handle, unused, self.args.hold_offers)
    }

    /// When: an operator wants resources back for maintenance.
    /// Must: accept (you will leave in time) or decline each inverse offer.
    /// This stub: declines them. Upstream: Event INVERSE_OFFERS (no v0 callback).
    fn inverse_offers(
        &mut self,
        handle: &SchedulerHandle,
        inverse_offers: &[InverseOffer],
    ) -> Result<()> {
        log::info!("inverse_offers: {}", inverse_offers.len());
        // TODO: move tasks off the agents, then accept_inverse_offers.
        let ids: Vec<OfferId> = inverse_offers.iter().map(|o| o.id.clone()).collect();
        handle.decline_inverse_offers(ids, None)
    }

    /// When: an offer is withdrawn (agent lost, offer timeout, ...).
    /// Must: forget it; launching on it now fails. This stub: logs.
    /// Upstream: v0 `offerRescinded`; Event RESCIND.
    fn rescind(&mut self, _handle: &SchedulerHandle, offer_id: &OfferId) -> Result<()> {
        log::info!("rescind: offer {} withdrawn", offer_id.value);
        // TODO: remove the offer from anything that holds on to offers.
        Ok(())
    }

    /// When: an inverse offer is withdrawn. Must: forget it. This stub: logs.
    /// Upstream: Event RESCIND_INVERSE_OFFER (no v0 callback).
    fn rescind_inverse_offer(&mut self, _handle: &SchedulerHandle, id: &OfferId) -> Result<()> {
        log::info!("rescind_inverse_offer: {}", id.value);
        // TODO: forget the inverse offer.
        Ok(())
    }

    /// When: a task changed state, or the master answers a reconciliation.
    /// Must: handle it idempotently (it can come twice). The driver then
    /// acknowledges it if it carries a uuid (`auto_acknowledge`, the default).
    /// This stub: counts finished tasks, relaunches failed ones, TEARDOWN at the end.
    /// Upstream: v0 `statusUpdate`; Event UPDATE.
    fn update(&mut self, handle: &SchedulerHandle, status: &TaskStatus) -> Result<()> {
        let (id, state) = (&status.task_id.value, status.state());
        log::info!(
            "update: task {id} is {} {}",
            state.as_str_name(),
            status.message()
        );
        if !state.is_terminal() || !self.ended.insert(id.clone()) {
            return Ok(()); // TODO: react to RUNNING, health checks, ...
        }
        self.active.remove(id);
        if state == TaskState::TaskFinished {
            self.finished += 1;
        } else {
            // TODO: decide what a failure means for your job. Here: try again, a few times.
            self.failed += 1;
            self.to_launch += 1;
            if self.failed > 3 * self.args.tasks {
                log::error!("update: {} failures, giving up", self.failed);
                handle.stop(StopMode::Teardown);
            } else {
                // REVIVE clears our decline filters: offers come at once, not after them.
                handle.revive(Vec::new())?;
            }
        }
        if self.finished >= self.args.tasks {
            log::info!("update: all {} tasks finished: TEARDOWN", self.finished);
            handle.stop(StopMode::Teardown);
        }
        Ok(())
    }

    /// When: an offer operation with an `id` (RESERVE, CREATE, ...) changed
    /// state. Must: handle it; acked like `update`. This stub: logs.
    /// Upstream: Event UPDATE_OPERATION_STATUS (no v0 callback).
    fn update_operation_status(
        &mut self,
        _handle: &SchedulerHandle,
        status: &OperationStatus,
    ) -> Result<()> {
        log::info!("update_operation_status: {}", status.state().as_str_name());
        // TODO: track your reservations and volumes.
        Ok(())
    }

    /// When: an executor sent this scheduler bytes (best effort, may be lost).
    /// Must: nothing. This stub: logs them as text.
    /// Upstream: v0 `frameworkMessage`; Event MESSAGE.
    fn message(&mut self, _handle: &SchedulerHandle, message: &event::Message) -> Result<()> {
        let text = String::from_utf8_lossy(&message.data);
        log::info!("message: from {}: {text}", message.executor_id.value);
        // TODO: handle your executors' messages.
        Ok(())
    }

    /// When: an agent was lost, or an executor exited (`status` is a wait
    /// status). Must: stop counting on it; its tasks get their own UPDATEs.
    /// This stub: logs. Upstream: v0 `slaveLost`/`executorLost`; Event FAILURE.
    fn failure(&mut self, _handle: &SchedulerHandle, failure: &event::Failure) -> Result<()> {
        let agent = failure.agent_id.as_ref().map_or("?", |a| a.value.as_str());
        match &failure.executor_id {
            Some(executor) => log::warn!(
                "failure: executor {} on agent {agent} exited with status {}",
                executor.value,
                failure.status()
            ),
            None => log::warn!("failure: agent {agent} lost"),
        }
        // TODO: avoid the agent, relaunch the executor elsewhere, alert someone.
        Ok(())
    }

    /// When: the master ended the subscription for good (framework removed,
    /// failed over to another scheduler, refused). Must: nothing; `run`
    /// returns this error next. This stub: logs.
    /// Upstream: v0 `error`; Event ERROR.
    fn error(&mut self, _handle: &SchedulerHandle, message: &str) -> Result<()> {
        log::error!("error: {message}");
        // TODO: clean up; a new framework id is needed to come back.
        Ok(())
    }

    /// When: every heartbeat interval (15 s) while connected. Must: nothing;
    /// the driver watches them. This stub: logs at debug level.
    /// Upstream: Event HEARTBEAT (no v0 callback).
    fn heartbeat(&mut self, _handle: &SchedulerHandle) -> Result<()> {
        log::debug!("heartbeat");
        // TODO: periodic work (a timer tick).
        Ok(())
    }

    /// When: a launch or decline the driver sent in the background (they
    /// return once queued) was refused, or lost with the connection. Rare:
    /// Mesos answers 202 even for bad tasks, which come back as updates.
    /// Must: put its tasks back in your queue. This stub: launches them again.
    /// Upstream: v0 `error` for a failed `launchTasks`.
    fn call_failed(&mut self, _handle: &SchedulerHandle, failed: &FailedCall) -> Result<()> {
        log::warn!(
            "call_failed: {} {}",
            failed.kind.as_str_name(),
            failed.error
        );
        for task in &failed.task_ids {
            if self.active.remove(&task.value) {
                self.to_launch += 1;
            }
        }
        // TODO: after a broken connection the master may have them: reconcile.
        Ok(())
    }

    /// When: the connection to the master broke; the driver re-subscribes
    /// (with backoff) and `subscribed` follows. Must: stop using offers;
    /// calls fail meanwhile. This stub: logs. Upstream: v0 `disconnected`.
    fn disconnected(&mut self, _handle: &SchedulerHandle) -> Result<()> {
        log::warn!("disconnected: the driver re-subscribes");
        // TODO: pause work that needs the master.
        Ok(())
    }
}

impl Skeleton {
    /// Launches one task on the executor with resources cut from `offer`.
    fn launch(
        &mut self,
        handle: &SchedulerHandle,
        offer: &Offer,
        task: Vec<Resource>,
        exec: Vec<Resource>,
    ) -> Result<()> {
        let id = self.ids.next_id();
        let mut args = format!("--sleep {}", self.args.sleep);
        if self.args.protobuf {
            args.push_str(" --protobuf");
        }
        // TODO: your executor, its resources and environment.
        let executor = self.executor.executor(EXECUTOR_NAME, &args);
        let task = TaskBuilder::executor(offer, executor.resources(exec).build())
            .task_id(id.clone())
            .resources(task)
            .data(format!("Hello from task {}!", id.value))
            .build();
        log::info!(
            "offers: launching task {} on agent {}",
            id.value,
            offer.agent_id.value
        );
        handle.launch(offer, vec![task])?;
        self.to_launch -= 1;
        self.active.insert(id.value);
        Ok(())
    }
}

/// Declines `offers` now, or after `hold` seconds on a thread of its own
/// (a callback must not sleep: no other event is handled meanwhile).
fn decline_later(handle: &SchedulerHandle, offers: Vec<OfferId>, hold: f64) -> Result<()> {
    if offers.is_empty() {
        return Ok(());
    }
    if hold <= 0.0 {
        return handle.decline_offers(offers, Some(5.0));
    }
    let handle = handle.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs_f64(hold));
        // Declining an offer that was rescinded meanwhile is harmless.
        if let Err(err) = handle.decline_offers(offers, Some(5.0)) {
            log::warn!("offers: could not decline: {err}");
        }
    });
    Ok(())
}

/// Who we are and how to reach the master.
fn scheduler_config(args: &Args) -> mesos_client::Result<(SchedulerConfig, Option<LocalCluster>)> {
    // TODO: your framework's name, roles, capabilities.
    let info = FrameworkInfo {
        user: default_user(),
        name: NAME.into(),
        // How long the master keeps the framework and its tasks while we are
        // disconnected. Mesos' default, 0, removes it on the first broken connection.
        failover_timeout: Some(FAILOVER_TIMEOUT_SECS),
        ..Default::default()
    };
    // `local` (the default) starts a cluster in this process. Credentials from
    // --principal/--secret-file (the secret is read from the file here and never logged)
    // also become `FrameworkInfo.principal`: with authentication the master checks that
    // the two match. And --ca-file for https.
    if let Some(principal) = &args.connection.principal {
        log::info!("authenticating as {principal}");
    }
    let (mut config, cluster) = args.connection.scheduler_config(info)?;
    if args.protobuf {
        config.content_type = ContentType::Protobuf; // JSON is the default
    }
    Ok((config, cluster))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    SimpleLogger::new().with_level(args.log_level).init()?;
    // A local cluster stops when `_cluster` is dropped, at the end of `main`.
    let (config, _cluster) = scheduler_config(&args)?;
    // The agents fetch the executor: a path on this host, or a URL we serve.
    let executor = args.executor.ship(EXECUTOR_NAME, &config.masters)?;
    let (to_launch, ids) = (args.tasks, TaskIdGenerator::new(NAME));
    let (active, ended) = (BTreeSet::new(), BTreeSet::new());
    let mut skeleton = Skeleton {
        args,
        executor,
        ids,
        to_launch,
        active,
        ended,
        finished: 0,
        failed: 0,
    };
    SchedulerDriver::new(config)?.run(&mut skeleton)?;
    let (finished, wanted) = (skeleton.finished, skeleton.args.tasks);
    log::info!("done: {finished} finished, {} failed", skeleton.failed);
    if finished < wanted {
        return Err(format!("only {finished} of {wanted} tasks finished").into());
    }
    Ok(())
}
