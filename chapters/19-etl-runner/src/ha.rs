//! `--ha zk://host:2181/etl`: several instances of the runner, one leads.
//!
//! Every instance joins a ZooKeeper election under the path
//! ([`Election`]); the others wait, saying who leads. The leader takes the
//! job table over from ZooKeeper ([`crate::store`]), subscribes with the
//! framework id kept there (a new framework the very first time) and
//! schedules. When it dies, ZooKeeper ends its session after the session
//! timeout, and the next instance leads: it finds which jobs are done, which
//! run (their task ids, to reconcile and adopt) and which are left, and
//! re-subscribes as the same framework. The master has kept the tasks
//! meanwhile, because `FrameworkInfo.failover_timeout` is set
//! (`--failover-timeout`).
//!
//! A leader that loses its membership (its session expired: a long pause,
//! a network partition) stops scheduling at once: the fence thread below
//! stops the driver, and every launch needs a write to ZooKeeper first,
//! which fails once a new leader has taken the table over. It then waits
//! as a standby again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mesos_client::zk::{Election, Standing, ZkUrl};
use mesos_client::{Error, Result, SchedulerHandle, StopMode};

use crate::jobs::Job;
use crate::store::{Found, JobStore, RunSpec};
use crate::{Config, Outcome};

/// One leader's term: what it took over.
pub(crate) struct Term {
    pub election: Arc<Election>,
    pub store: JobStore,
    pub run_id: String,
    pub framework_id: Option<String>,
    pub jobs: Vec<Job>,
}

/// Stands for leadership at `url` until this instance has led the run to
/// its end (or found it ended by an earlier leader).
pub(crate) fn run(config: &Config, url: &str) -> Result<Outcome> {
    if config.master.trim() == "local" {
        return Err(Error::Config(
            "--ha needs a real --master (host:port, a list, or zk://...): with `local` every \
             instance would run its own private cluster, and there would be nothing to take over"
                .into(),
        ));
    }
    let zk_url = ZkUrl::parse(url)?;
    let me = format!("etl-runner pid {} on {}", std::process::id(), hostname());
    let spec = RunSpec {
        jobs: config.jobs,
        image: config.img.clone().unwrap_or_default(),
        cmd: config.cmd.clone(),
    };
    loop {
        let election = Arc::new(Election::join(
            url,
            config.zk_session_timeout,
            me.as_bytes(),
        )?);
        JobStore::check(&election, url, &spec)?;
        if !wait_to_lead(&election) {
            log::warn!("lost the ZooKeeper session while waiting; joining again");
            thread::sleep(Duration::from_secs(1));
            continue;
        }
        log::info!(
            "leading ({}): taking the jobs at {zk_url} over",
            election.znode()
        );
        let taken = JobStore::take_over(
            election.clone(),
            url,
            &spec,
            &crate::new_run_id(),
            config.zk_session_timeout,
        );
        let (store, found) = match taken {
            Ok(taken) => taken,
            Err(err) if !election.is_leader() => {
                log::warn!("lost the leadership while taking over ({err}); joining again");
                continue;
            }
            Err(err) => return Err(err),
        };
        let Found {
            run_id,
            framework_id,
            jobs,
        } = found;
        log::info!(
            "found {} job(s) done, {} running, {} left; framework id {}",
            count(&jobs, |j| matches!(j.state, crate::JobState::Done)),
            count(&jobs, |j| matches!(
                j.state,
                crate::JobState::Running { .. }
            )),
            count(&jobs, |j| matches!(
                j.state,
                crate::JobState::Waiting { .. }
            )),
            framework_id.as_deref().unwrap_or("(none yet)")
        );
        let term = Term {
            election: election.clone(),
            store,
            run_id,
            framework_id,
            jobs,
        };
        let (outcome, deposed) = crate::lead(config, Some(term))?;
        if !deposed {
            return Ok(outcome);
        }
        log::warn!("deposed: another instance leads now; waiting as a standby again");
    }
}

fn count(jobs: &[Job], f: impl Fn(&Job) -> bool) -> usize {
    jobs.iter().filter(|j| f(j)).count()
}

/// Waits while another instance leads, saying who; `false` if this
/// instance's membership was lost meanwhile.
fn wait_to_lead(election: &Election) -> bool {
    let mut said = String::new();
    loop {
        match election.standing() {
            Standing::Leading => return true,
            Standing::Lost => return false,
            Standing::Following => {
                let who = leader(election);
                if who != said {
                    log::info!("standby ({}): {who} leads; waiting", election.znode());
                    said = who;
                }
            }
        }
        election.wait_for_leadership(Some(Duration::from_secs(2)));
    }
}

/// The leading member and what it says about itself.
fn leader(election: &Election) -> String {
    match election.leader() {
        Err(_) => "an unknown instance".into(),
        Ok(None) => "nobody yet".into(),
        Ok(Some((name, Some(data)))) => format!("{name} ({})", String::from_utf8_lossy(&data)),
        Ok(Some((name, None))) => name,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}

/// Stops the driver the moment the election says this instance lost its
/// membership. Ends (and is joined) when dropped.
pub(crate) struct Fence {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fence {
    /// Watches `election` on a thread of its own.
    pub fn start(election: Arc<Election>, handle: SchedulerHandle) -> Fence {
        let done = Arc::new(AtomicBool::new(false));
        let changes = election.changes();
        let thread = {
            let done = done.clone();
            thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    // Checked before waiting: the change may already have come.
                    if election.standing() == Standing::Lost {
                        log::error!(
                            "lost the ZooKeeper leadership: stopping the scheduler now \
                             (another instance takes over)"
                        );
                        handle.stop(StopMode::Failover);
                        return;
                    }
                    let _ = changes.recv_timeout(Duration::from_millis(100));
                }
            })
        };
        Fence {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
