//! # Step 15: an ETL job runner (after mesos-http-scheduler)
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
//! Stop condition: every job finished or was given up; then TEARDOWN. The
//! exit status is non-zero if any job was given up.
//!
//! Layout: [`jobs`] (jobs, batches, retries: no Mesos in it), [`task`] (a
//! job attempt as a TaskInfo, Docker), `runner` (the scheduler).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod jobs;
mod runner;
pub mod task;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_client::offers::Resources;
use mesos_client::tasks::default_user;
use mesos_client::{Result, SchedulerConfig, SchedulerDriver};
use mesos_proto::v1::{FrameworkInfo, TaskState};

pub use jobs::{Attempt, Job, JobState};

/// What the flags set, plus knobs tests shorten.
#[derive(Debug, Clone)]
pub struct Config {
    /// Masters (`--master`): `a:5050,b:5050,c:5050`, or `local`.
    pub master: String,
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
    /// Seconds Mesos keeps tasks while the runner is disconnected. Default: 600.
    pub failover_timeout: f64,
}

impl Config {
    /// Defaults for everything but the command; master `local`.
    pub fn new(cmd: impl Into<String>) -> Config {
        Config {
            master: "local".into(),
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

/// Runs every job to the end (done or given up), then tears down.
pub fn run(config: Config) -> Result<Outcome> {
    let (master, _cluster) = mesos_client::local::resolve_master(&config.master)?;
    let info = FrameworkInfo {
        user: config.user.clone(),
        name: "etl-runner".into(),
        // Tasks must survive while we reconnect to a new leader.
        failover_timeout: Some(config.failover_timeout),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    (scheduler_config.backoff_min, scheduler_config.backoff_max) = config.reconnect_backoff;
    let mut driver = SchedulerDriver::new(scheduler_config)?;

    let limits = jobs::Limits {
        maxtasks: config.maxtasks.max(1),
        wait: config.wait,
        max_retries: config.max_retries,
        retry_min: config.retry_backoff.0,
        retry_max: config.retry_backoff.1,
    };
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut runner = runner::Runner {
        jobs: jobs::Jobs::new(config.jobs, limits, Instant::now()),
        template: task::TaskTemplate {
            cmd: config.cmd.clone(),
            image: config.img.clone(),
        },
        need: Resources::new(config.cpu, config.mem),
        run_id: started.to_string(),
        refuse_seconds: config.refuse_seconds,
        reconcile_delay: config.reconcile_delay,
        framework_id: String::new(),
        subscriptions: 0,
        problems: Vec::new(),
        docker_reported: false,
    };
    if config.jobs > 0 {
        driver.run(&mut runner)?;
    }
    Ok(Outcome {
        framework_id: runner.framework_id,
        jobs: runner.jobs.jobs().to_vec(),
        batches: runner.jobs.batches,
        peak_running: runner.jobs.peak,
        subscriptions: runner.subscriptions,
        problems: runner.problems,
    })
}
