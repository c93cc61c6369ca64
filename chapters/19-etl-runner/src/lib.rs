//! # 19: an ETL job runner (after mesos-http-scheduler)
//!
//! What it does: runs the same shell command as `--jobs N` separate jobs
//! (each sees its number in `ETL_JOB`), at most `--maxtasks` at a time, in
//! batches with a `--wait` pause between them. A job whose task fails or is
//! lost is retried with backoff up to a limit; no job is lost or runs twice
//! at once. It follows leader changes (`--master a:5050,b:5050,c:5050`) and
//! reconnects, reconciling its tasks afterwards (the original's open TODO).
//! `--img` runs each task in a Docker image; on a cluster that cannot run
//! Docker the task fails as Mesos reports it, and the runner says why.
//!
//! Run it (an embedded devcluster by default):
//!
//! ```text
//! cargo run --bin etl-runner -- --jobs 6 --maxtasks 2 --wait 1 --cmd 'echo job $ETL_JOB'
//! cargo run --bin etl-runner -- --master m1:5050,m2:5050,m3:5050 --jobs 20 --cmd ./etl.sh
//! ```
//!
//! `--principal NAME --secret-file FILE` authenticate to the master and
//! `--ca-file CA.pem` trusts an https master's CA
//! ([`mesos_client::connect::Connection`]).
//!
//! ## The runner itself highly available: `--ha zk://host:2181/etl`
//!
//! Start the same command twice (or more), on any hosts, with the same
//! `--ha` path. One instance leads and schedules; the others log
//! `standby (...): candidate_... (etl-runner pid ... on ...) leads; waiting`.
//! Kill the leader: after the ZooKeeper session timeout
//! (`--zk-session-timeout`, default 10 s) another instance logs
//! `leading`, `found 2 job(s) done, 2 running, 1 left; framework id ...`,
//! subscribes with the same framework id, adopts the running tasks and
//! finishes the rest. By hand, with Debian's `zookeeper` package:
//!
//! ```text
//! java -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.ZooKeeperServerMain 2181 /tmp/zk
//! cargo run -p devcluster -- --zk zk://127.0.0.1:2181/mesos
//! # in two more terminals:
//! cargo run --bin etl-runner -- --master zk://127.0.0.1:2181/mesos --ha zk://127.0.0.1:2181/etl \
//!     --jobs 6 --maxtasks 2 --cmd 'sleep 5; echo job $ETL_JOB'
//! ```
//!
//! The job table lives in ZooKeeper under the path (layout: [`store`]): one
//! znode per job with its state and the task id of its current attempt,
//! written *before* the launch and again when the task ends (before the
//! update is acknowledged). What that guarantees:
//!
//! * no job is lost: a new leader knows every job, and reconciles every task
//!   the table says is running (a launch that never reached the master comes
//!   back `TASK_LOST`/`TASK_UNKNOWN`, and the job runs again);
//! * a task launched just before the leader died is found: its id was
//!   written before the launch, so reconciliation asks about it, and while
//!   it runs its job is not started again;
//! * no ending is lost: a task's terminal update is acknowledged only after
//!   the table has it, so one the old leader did not record is sent again
//!   to the next leader;
//! * a deposed leader (its ZooKeeper session expired, but it still runs)
//!   stops scheduling: it stops its driver as soon as ZooKeeper tells it,
//!   every launch needs a versioned write that fails once the new leader
//!   has taken the table over, and any call it still makes after the new
//!   leader subscribed is refused by the master (its `Mesos-Stream-Id` is
//!   no longer the framework's).
//!
//! What is not guaranteed: a job may *start* twice in a row (a task whose
//! launch was in doubt is retried once reconciliation says it is lost), so
//! jobs should be idempotent, as ETL jobs should anyway. And a new leader
//! must subscribe within `--failover-timeout`: after that the master has
//! killed the tasks and forgotten the framework, and refuses its id.
//!
//! Stop condition: every job finished or was given up; then TEARDOWN. The
//! exit status is non-zero if any job was given up. An instance that takes
//! over a run that is already over says so and exits.
//!
//! Layout: [`jobs`] (jobs, batches, retries: no Mesos in it), [`task`] (a
//! job attempt as a TaskInfo, Docker), `runner` (the scheduler), `ha` (the
//! election and fencing), [`store`] (the job table in ZooKeeper).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ha;
pub mod jobs;
mod runner;
pub mod store;
pub mod task;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_client::connect::Connection;
use mesos_client::offers::Resources;
use mesos_client::tasks::default_user;
use mesos_client::{Result, SchedulerConfig, SchedulerDriver};
use mesos_proto::v1::{FrameworkId, FrameworkInfo, TaskState};

pub use jobs::{Attempt, Job, JobState};

/// What the flags set, plus knobs tests shorten.
#[derive(Debug, Clone)]
pub struct Config {
    /// Masters (`--master`): `a:5050,b:5050,c:5050`, `zk://...`, or `local`.
    pub master: String,
    /// Principal to authenticate as (`--principal`). Default: none.
    pub principal: Option<String>,
    /// File holding the principal's secret (`--secret-file`). Default: none.
    pub secret_file: Option<PathBuf>,
    /// CA certificates to trust for an https master (`--ca-file`). Default: none.
    pub ca_file: Option<PathBuf>,
    /// Run as one of several instances elected through ZooKeeper (`--ha
    /// zk://host:2181/etl`), keeping the job table there. Default: none.
    pub ha: Option<String>,
    /// ZooKeeper session timeout with `ha` (`--zk-session-timeout`): how long
    /// after a leader dies another takes over. Default: 10 s.
    pub zk_session_timeout: Duration,
    /// The shell command each job runs (`--cmd`).
    pub cmd: String,
    /// CPUs per task (`--cpu`). Default: 0.1.
    pub cpu: f64,
    /// Memory per task in MB (`--mem`). Default: 32.
    pub mem: f64,
    /// Most tasks at once, the size of a batch (`--maxtasks`). Default: 2.
    pub maxtasks: usize,
    /// Pause between batches (`--wait`, seconds). Default: 0.
    pub wait: Duration,
    /// Docker image to run the command in (`--img`). Default: none.
    pub img: Option<String>,
    /// The user tasks run as (`--user`). Default: the current user.
    pub user: String,
    /// How many jobs (`--jobs`). Default: 1.
    pub jobs: usize,
    /// Retries per job after the first attempt (`--retries`). Default: 3.
    pub max_retries: u32,
    /// First and longest wait before a retry. Default: 1 s, 30 s.
    pub retry_backoff: (Duration, Duration),
    /// First and longest wait before re-subscribing. Default: 0.5 s, 15 s.
    pub reconnect_backoff: (Duration, Duration),
    /// Delay of the reconciliation after a reconnection. Default: 5 s.
    pub reconcile_delay: Duration,
    /// Filter sent with declines, in seconds. Default: 1.
    pub refuse_seconds: f64,
    /// Seconds Mesos keeps the tasks while no runner is connected
    /// (`--failover-timeout`): a new leader must subscribe within it.
    /// Default: 600.
    pub failover_timeout: f64,
}

impl Config {
    /// Defaults for everything but the command; master `local`.
    pub fn new(cmd: impl Into<String>) -> Config {
        Config {
            master: "local".into(),
            principal: None,
            secret_file: None,
            ca_file: None,
            ha: None,
            zk_session_timeout: Duration::from_secs(10),
            cmd: cmd.into(),
            cpu: 0.1,
            mem: 32.0,
            maxtasks: 2,
            wait: Duration::ZERO,
            img: None,
            user: default_user(),
            jobs: 1,
            max_retries: 3,
            retry_backoff: (Duration::from_secs(1), Duration::from_secs(30)),
            reconnect_backoff: (Duration::from_millis(500), Duration::from_secs(15)),
            reconcile_delay: Duration::from_secs(5),
            refuse_seconds: 1.0,
            failover_timeout: 600.0,
        }
    }
}

/// What happened to every job.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The framework id.
    pub framework_id: String,
    /// Every job with its attempts, in job order.
    pub jobs: Vec<Job>,
    /// Batches started.
    pub batches: usize,
    /// The most tasks live at once.
    pub peak_running: usize,
    /// SUBSCRIBED events: 1 + the number of reconnections.
    pub subscriptions: usize,
    /// Clear reports of jobs given up and of Docker trouble.
    pub problems: Vec<String>,
    /// Tasks found running when this instance took over (`ha`).
    pub adopted: usize,
}

impl Outcome {
    /// Jobs that finished.
    pub fn completed(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::Done)
            .count()
    }

    /// Numbers of the jobs given up.
    pub fn gave_up(&self) -> Vec<usize> {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::GaveUp)
            .map(|j| j.index)
            .collect()
    }

    /// How many attempts of job `index` finished (1 for a done job: never twice).
    pub fn finished_attempts(&self, index: usize) -> usize {
        self.jobs[index]
            .attempts
            .iter()
            .filter(|a| a.state == TaskState::TaskFinished)
            .count()
    }
}

/// Runs every job to the end (done or given up), then tears down. With
/// `config.ha`, first waits to lead, and takes over from earlier leaders.
pub fn run(config: Config) -> Result<Outcome> {
    match &config.ha {
        Some(url) => ha::run(&config, url),
        None => lead(&config, None).map(|(outcome, _)| outcome),
    }
}

/// A fresh run id (makes task ids unique per run: Mesos wants task ids
/// unique per framework).
pub(crate) fn new_run_id() -> String {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    started.to_string()
}

/// Schedules as the leader: from scratch, or (`term`) from the job table an
/// earlier leader left. Returns the outcome and whether this instance was
/// deposed before the end.
pub(crate) fn lead(config: &Config, term: Option<ha::Term>) -> Result<(Outcome, bool)> {
    let limits = jobs::Limits {
        maxtasks: config.maxtasks.max(1),
        wait: config.wait,
        max_retries: config.max_retries,
        retry_min: config.retry_backoff.0,
        retry_max: config.retry_backoff.1,
    };
    let now = Instant::now();
    let (jobs, run_id, framework_id, election, store) = match term {
        Some(t) => (
            jobs::Jobs::restore(t.jobs, limits, now),
            t.run_id,
            t.framework_id,
            Some(t.election),
            Some(t.store),
        ),
        None => (
            jobs::Jobs::new(config.jobs, limits, now),
            new_run_id(),
            None,
            None,
            None,
        ),
    };
    let adopted = jobs.live_tasks().len();
    let mut runner = runner::Runner {
        jobs,
        template: task::TaskTemplate {
            cmd: config.cmd.clone(),
            image: config.img.clone(),
        },
        need: Resources::new(config.cpu, config.mem),
        run_id,
        refuse_seconds: config.refuse_seconds,
        reconcile_delay: config.reconcile_delay,
        framework_id: framework_id.clone().unwrap_or_default(),
        subscriptions: 0,
        problems: Vec::new(),
        docker_reported: false,
        store,
        deposed: false,
    };
    if runner.jobs.settled() {
        if config.jobs > 0 && election.is_some() {
            log::info!("every job was settled by an earlier leader: nothing to do");
        }
    } else {
        let (master, _cluster) = mesos_client::local::resolve_master(&config.master)?;
        let info = FrameworkInfo {
            user: config.user.clone(),
            name: "etl-runner".into(),
            // The same framework as the leader before us, if there was one.
            id: framework_id.map(|value| FrameworkId { value }),
            // Tasks must survive while we reconnect to a new leader, or
            // while another instance of the runner takes over.
            failover_timeout: Some(config.failover_timeout),
            ..Default::default()
        };
        let mut scheduler_config = SchedulerConfig::new(master, info);
        (scheduler_config.backoff_min, scheduler_config.backoff_max) = config.reconnect_backoff;
        // The runner acknowledges an update once the job table has it.
        scheduler_config.auto_acknowledge = false;
        let connection = Connection {
            master: config.master.clone(),
            principal: config.principal.clone(),
            secret_file: config.secret_file.clone(),
            ca_file: config.ca_file.clone(),
        };
        connection.apply(&mut scheduler_config)?;
        let mut driver = SchedulerDriver::new(scheduler_config)?;
        let _fence = election
            .clone()
            .map(|e| ha::Fence::start(e, driver.handle()));
        driver.run(&mut runner)?;
    }
    let lost = election.is_some_and(|e| e.standing() == mesos_client::zk::Standing::Lost);
    // Even with every job settled here: the last write may not have made it.
    let deposed = runner.deposed || lost;
    let outcome = Outcome {
        framework_id: runner.framework_id,
        jobs: runner.jobs.jobs().to_vec(),
        batches: runner.jobs.batches,
        peak_running: runner.jobs.peak,
        subscriptions: runner.subscriptions,
        problems: runner.problems,
        adopted,
    };
    Ok((outcome, deposed))
}
