//! The job table in ZooKeeper, so that it outlives the leader (`--ha`).
//!
//! Under the election path (say `/etl`) the leader keeps:
//!
//! ```text
//! /etl/candidate_0000000007   the instances (ephemeral; see mesos_client::zk::Election)
//! /etl/run                    what this run is: run id, job count, image, command
//! /etl/framework_id           the framework id (the same znode Election uses)
//! /etl/jobs/0 ... /etl/jobs/N one znode per job: its state and its attempts
//! ```
//!
//! A job's znode reads like this (one line per ended attempt after the state):
//!
//! ```text
//! running etl-1732480000-3-2 agent-S1
//! attempt etl-1732480000-3-1 TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED Command exited with status 3
//! ```
//!
//! The runner writes a job's znode *before* it launches the job's task (so a
//! new leader knows the task id to reconcile even if the old one died just
//! after the launch) and when the job's task ends, *before* acknowledging
//! the update (so an update that was not written is sent again, to whoever
//! leads then).
//!
//! **Fencing.** Every write names the znode version this leader last saw
//! (`set_data(path, data, Some(version))`). A new leader, when it takes
//! over, reads every znode and writes it back unchanged, which bumps every
//! version: from then on each write of the old leader fails with
//! `BadVersion`, however late it comes, and the old leader stops. (The
//! ZooKeeper session alone is no fence: the `zookeeper` crate opens a new
//! session after the old one expired, and writes in it succeed.)

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mesos_client::zk::{Election, FRAMEWORK_ID_NODE, ZkUrl};
use mesos_client::{Error, Result};
use zookeeper::{Acl, CreateMode, ZkError, ZkResult, ZooKeeperExt};

use crate::jobs::Job;

mod text;
pub use text::{decode_job, encode_job};
use text::{decode_run, encode_run};

/// Why the leader may not write (and so must stop scheduling): what failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fenced(pub String);

impl fmt::Display for Fenced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies a run: instances started for another run must not take
/// its jobs over.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// How many jobs (`--jobs`).
    pub jobs: usize,
    /// The Docker image (`--img`), or empty.
    pub image: String,
    /// The command (`--cmd`).
    pub cmd: String,
}

/// What a new leader finds.
#[derive(Debug)]
pub struct Found {
    /// Makes task ids unique: kept for the whole run, across leaders.
    pub run_id: String,
    /// The framework id, once a leader has subscribed.
    pub framework_id: Option<String>,
    /// Every job as the last leader recorded it.
    pub jobs: Vec<Job>,
}

/// The leader's handle on the job table.
pub struct JobStore {
    election: Arc<Election>,
    url: ZkUrl,
    /// The version of every znode as this leader last wrote it.
    versions: HashMap<String, i32>,
    /// How long a write may retry through connection losses.
    patience: Duration,
}

impl fmt::Debug for JobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobStore")
            .field("url", &self.url)
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

impl JobStore {
    /// Takes the table at `url` (the election's path) over as the new
    /// leader: creates what is missing (with `new_run_id` for a new run),
    /// checks it belongs to the run `spec`, reads every job and bumps every
    /// version (which fences the previous leader). `patience`: how long
    /// requests retry through connection losses.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a table of another run (or unreadable),
    /// [`Error::Transport`] when ZooKeeper fails or leadership was lost.
    pub fn take_over(
        election: Arc<Election>,
        url: &str,
        spec: &RunSpec,
        new_run_id: &str,
        patience: Duration,
    ) -> Result<(JobStore, Found)> {
        let url = ZkUrl::parse(url)?;
        let mut store = JobStore {
            election,
            url,
            versions: HashMap::new(),
            patience,
        };
        let zk_err = |what: String| move |e: ZkError| Error::Transport(format!("{what}: {e}"));
        let jobs_dir = store.url.child("jobs");
        retrying(patience, || {
            store.election.zookeeper().ensure_path(&jobs_dir)
        })
        .map_err(zk_err(format!("creating {jobs_dir}")))?;
        let run_path = store.url.child("run");
        store.create(&run_path, &encode_run(new_run_id, spec))?;
        let (run_id, found_spec) = decode_run(&store.take(&run_path)?)
            .map_err(|e| Error::Config(format!("{run_path}: {e}")))?;
        same_run(&store.url, &found_spec, spec)?;
        let id_path = store.url.child(FRAMEWORK_ID_NODE);
        store.create(&id_path, "")?;
        let framework_id = Some(store.take(&id_path)?.trim().to_string()).filter(|s| !s.is_empty());
        let mut jobs = Vec::with_capacity(spec.jobs);
        for index in 0..spec.jobs {
            let path = store.job_path(index);
            store.create(&path, "waiting\n")?;
            let job = decode_job(index, &store.take(&path)?)
                .map_err(|e| Error::Config(format!("{path}: {e}")))?;
            jobs.push(job);
        }
        if !store.election.is_leader() {
            return Err(Error::Transport(
                "lost the leadership while taking over".into(),
            ));
        }
        let found = Found {
            run_id,
            framework_id,
            jobs,
        };
        Ok((store, found))
    }

    /// Checks, without writing, that the table at `url` (if there is one
    /// yet) belongs to the run `spec`: a standby says so at once rather
    /// than when it comes to lead.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a table of another run.
    pub fn check(election: &Election, url: &str, spec: &RunSpec) -> Result<()> {
        let url = ZkUrl::parse(url)?;
        let path = url.child("run");
        let data = match retrying(Duration::from_secs(5), || {
            election.zookeeper().get_data(&path, false)
        }) {
            Ok((data, _)) => data,
            Err(ZkError::NoNode) => return Ok(()),
            Err(e) => return Err(Error::Transport(format!("reading {path}: {e}"))),
        };
        let (_, found) = decode_run(&String::from_utf8_lossy(&data))
            .map_err(|e| Error::Config(format!("{path}: {e}")))?;
        same_run(&url, &found, spec)
    }

    /// Records `job` as it is now.
    ///
    /// # Errors
    ///
    /// [`Fenced`]: this instance no longer leads (or cannot reach ZooKeeper
    /// within `patience`); stop scheduling.
    pub fn save(&mut self, job: &Job) -> std::result::Result<(), Fenced> {
        let path = self.job_path(job.index);
        self.write(&path, encode_job(job))
    }

    /// Records the framework id for the next leader.
    ///
    /// # Errors
    ///
    /// As [`JobStore::save`].
    pub fn save_framework_id(&mut self, id: &str) -> std::result::Result<(), Fenced> {
        let path = self.url.child(FRAMEWORK_ID_NODE);
        self.write(&path, id.to_string())
    }

    fn job_path(&self, index: usize) -> String {
        format!("{}/jobs/{index}", self.url.path)
    }

    /// Creates `path` with `data` unless it exists.
    fn create(&self, path: &str, data: &str) -> Result<()> {
        let zk = self.election.zookeeper();
        let open = Acl::open_unsafe().clone();
        let created = retrying(self.patience, || {
            match zk.create(path, data.into(), open.clone(), CreateMode::Persistent) {
                // Also after a lost answer to our own create: either way it is there.
                Ok(_) | Err(ZkError::NodeExists) => Ok(()),
                Err(e) => Err(e),
            }
        });
        created.map_err(|e| Error::Transport(format!("creating {path}: {e}")))
    }

    /// Reads `path` and writes it back unchanged, remembering the new version.
    fn take(&mut self, path: &str) -> Result<String> {
        let zk = self.election.zookeeper();
        for _ in 0..20 {
            let (data, stat) = retrying(self.patience, || zk.get_data(path, false))
                .map_err(|e| Error::Transport(format!("reading {path}: {e}")))?;
            match retrying(self.patience, || {
                zk.set_data(path, data.clone(), Some(stat.version))
            }) {
                Ok(new) => {
                    self.versions.insert(path.to_string(), new.version);
                    return Ok(String::from_utf8_lossy(&data).into_owned());
                }
                // The old leader wrote in between (or our lost write went
                // through): read again.
                Err(ZkError::BadVersion) => continue,
                Err(e) => return Err(Error::Transport(format!("taking {path} over: {e}"))),
            }
        }
        Err(Error::Transport(format!("{path} keeps changing")))
    }

    /// Writes `data` to `path` if nobody else has since this leader did.
    fn write(&mut self, path: &str, data: String) -> std::result::Result<(), Fenced> {
        if !self.election.is_leader() {
            return Err(Fenced("this instance no longer leads".into()));
        }
        let version = *self
            .versions
            .get(path)
            .ok_or_else(|| Fenced(format!("{path} was never taken over")))?;
        let zk = self.election.zookeeper();
        let data = data.into_bytes();
        let written = match retrying(self.patience, || {
            zk.set_data(path, data.clone(), Some(version))
        }) {
            Ok(stat) => Ok(stat.version),
            // Our own write whose answer was lost looks the same as a new
            // leader's: tell them apart by what is there now.
            Err(ZkError::BadVersion) => match zk.get_data(path, false) {
                Ok((now, stat)) if now == data && stat.version == version + 1 => Ok(stat.version),
                _ => Err(Fenced(format!("another leader has written {path}"))),
            },
            Err(e) => Err(Fenced(format!("cannot write {path}: {e}"))),
        }?;
        self.versions.insert(path.to_string(), written);
        Ok(())
    }
}

/// An error unless the table at `url`, made for `found`, is for `spec`.
fn same_run(url: &ZkUrl, found: &RunSpec, spec: &RunSpec) -> Result<()> {
    if found == spec {
        return Ok(());
    }
    Err(Error::Config(format!(
        "{url} holds another run ({} job(s) of `{}`, image `{}`); this instance runs {} \
         job(s) of `{}`, image `{}`: use another --ha path, or delete that one",
        found.jobs, found.cmd, found.image, spec.jobs, spec.cmd, spec.image
    )))
}

/// Runs a request again after a connection loss (the session may well
/// survive it) until `patience` has passed.
fn retrying<T>(patience: Duration, mut op: impl FnMut() -> ZkResult<T>) -> ZkResult<T> {
    let deadline = Instant::now() + patience;
    loop {
        match op() {
            Err(ZkError::ConnectionLoss | ZkError::OperationTimeout)
                if Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}
