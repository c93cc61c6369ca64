//! The book-keeping of jobs, batches and retries, with no Mesos calls in
//! it, so it can be read (and tested) on its own.
//!
//! The rules, which together keep every job done exactly once:
//!
//! * A job is `Waiting`, `Running` (exactly one live task), `Done` or
//!   `GaveUp`. Only a `Waiting` job is launched, so a job never has two
//!   tasks at once.
//! * Only an update for the job's *live* task counts. Late or repeated
//!   updates (a resent update after a failover, a reconciliation answer for
//!   a task that already ended) are ignored.
//! * A task that ends in anything but TASK_FINISHED makes the job wait
//!   `retry_min * 2^(failures - 1)` (at most `retry_max`) and try again, up
//!   to `max_retries` times; then the job is given up and reported.
//! * Batches: a batch opens when nothing runs and `wait` has passed since
//!   the previous batch ended; it takes up to `maxtasks` jobs; it ends when
//!   its last task ends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mesos_proto::v1::{TaskState, TaskStatus};

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Not running; may start at `not_before`.
    Waiting {
        /// Earliest start (retry backoff).
        not_before: Instant,
    },
    /// Its task `task_id` is live on agent `agent_id`.
    Running {
        /// The live task.
        task_id: String,
        /// Where it runs.
        agent_id: String,
    },
    /// Finished successfully.
    Done,
    /// Failed more than `max_retries` times.
    GaveUp,
}

/// One attempt at a job, as it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The task id used.
    pub task_id: String,
    /// The terminal state.
    pub state: TaskState,
    /// Mesos' reason (`REASON_COMMAND_EXECUTOR_FAILED`, ...), if any.
    pub reason: Option<String>,
    /// Mesos' message, if any.
    pub message: String,
}

/// A job and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// 0-based job number (the task sees it as `ETL_JOB`).
    pub index: usize,
    /// Where it is now.
    pub state: JobState,
    /// Every attempt that ended, in order.
    pub attempts: Vec<Attempt>,
}

/// The batch clock.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Batch {
    /// Between batches: the next may open at this time.
    Idle(Instant),
    /// This many jobs launched in the open batch.
    Open(usize),
}

/// The limits the job table follows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most tasks in one batch (and so running at once).
    pub maxtasks: usize,
    /// Pause after a batch ends.
    pub wait: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First retry delay.
    pub retry_min: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

/// All jobs, the live tasks, the batch clock.
#[derive(Debug)]
pub struct Jobs {
    jobs: Vec<Job>,
    live: BTreeMap<String, usize>,
    limits: Limits,
    batch: Batch,
    /// Batches opened so far.
    pub batches: usize,
    /// The most tasks that were live at once.
    pub peak: usize,
}

impl Jobs {
    /// `count` waiting jobs, ready now.
    pub fn new(count: usize, limits: Limits, now: Instant) -> Jobs {
        let jobs = (0..count)
            .map(|index| Job {
                index,
                state: JobState::Waiting { not_before: now },
                attempts: Vec::new(),
            })
            .collect();
        Jobs {
            jobs,
            live: BTreeMap::new(),
            limits,
            batch: Batch::Idle(now),
            batches: 0,
            peak: 0,
        }
    }

    /// The jobs as an earlier leader left them (high availability, see
    /// `ha.rs`). A running job's task is live again; if any runs, they count
    /// as an open batch (so no more than `maxtasks` run at once). A waiting
    /// job may start now: the backoff of the old leader's clock is not kept.
    pub fn restore(mut jobs: Vec<Job>, limits: Limits, now: Instant) -> Jobs {
        let mut live = BTreeMap::new();
        for job in &mut jobs {
            match &job.state {
                JobState::Running { task_id, .. } => {
                    live.insert(task_id.clone(), job.index);
                }
                JobState::Waiting { .. } => job.state = JobState::Waiting { not_before: now },
                JobState::Done | JobState::GaveUp => {}
            }
        }
        let running = live.len();
        Jobs {
            jobs,
            live,
            limits,
            batch: if running > 0 {
                Batch::Open(running)
            } else {
                Batch::Idle(now)
            },
            batches: usize::from(running > 0),
            peak: running,
        }
    }

    /// The next job to launch now, if the batch rules allow one. Opens a
    /// batch if it is time.
    pub fn next_to_launch(&mut self, now: Instant) -> Option<usize> {
        let due = self.jobs.iter().find(|j| match j.state {
            JobState::Waiting { not_before } => not_before <= now,
            _ => false,
        })?;
        match self.batch {
            Batch::Idle(at) if at <= now && self.live.is_empty() => {
                self.batch = Batch::Open(0);
                self.batches += 1;
                log::info!("batch {} opens", self.batches);
                Some(due.index)
            }
            Batch::Open(launched) if launched < self.limits.maxtasks => Some(due.index),
            _ => None,
        }
    }

    /// Job `index` now runs as `task_id` on `agent_id`.
    pub fn launched(&mut self, index: usize, task_id: &str, agent_id: &str) {
        self.jobs[index].state = JobState::Running {
            task_id: task_id.to_string(),
            agent_id: agent_id.to_string(),
        };
        self.live.insert(task_id.to_string(), index);
        self.peak = self.peak.max(self.live.len());
        if let Batch::Open(n) = &mut self.batch {
            *n += 1;
        }
    }

    /// The master refused the launch of `task_id` (nothing runs): its job
    /// waits again, without counting an attempt.
    pub fn not_launched(&mut self, task_id: &str, now: Instant) {
        if let Some(index) = self.live.remove(task_id) {
            self.jobs[index].state = JobState::Waiting { not_before: now };
            if let Batch::Open(n) = &mut self.batch {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Applies a terminal update; returns the job it settled, if the task
    /// was the job's live one (anything else is a stale update).
    pub fn ended(&mut self, status: &TaskStatus, now: Instant) -> Option<&Job> {
        let index = self.live.remove(&status.task_id.value)?;
        let state = status.state();
        let job = &mut self.jobs[index];
        job.attempts.push(Attempt {
            task_id: status.task_id.value.clone(),
            state,
            reason: status
                .reason
                .map(|_| status.reason().as_str_name().to_string()),
            message: status.message.clone().unwrap_or_default(),
        });
        let failures = job
            .attempts
            .iter()
            .filter(|a| a.state != TaskState::TaskFinished)
            .count() as u32;
        job.state = if state == TaskState::TaskFinished {
            JobState::Done
        } else if failures > self.limits.max_retries {
            JobState::GaveUp
        } else {
            let delay = self
                .limits
                .retry_min
                .saturating_mul(1 << (failures - 1).min(20))
                .min(self.limits.retry_max);
            JobState::Waiting {
                not_before: now + delay,
            }
        };
        if self.live.is_empty() && matches!(self.batch, Batch::Open(_)) {
            self.batch = Batch::Idle(now + self.limits.wait);
        }
        Some(&self.jobs[index])
    }

    /// The live tasks: `(task_id, agent_id)`, for reconciliation.
    pub fn live_tasks(&self) -> Vec<(String, String)> {
        self.live
            .values()
            .filter_map(|&i| match &self.jobs[i].state {
                JobState::Running { task_id, agent_id } => {
                    Some((task_id.clone(), agent_id.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether `task_id` is a job's live task.
    pub fn is_live(&self, task_id: &str) -> bool {
        self.live.contains_key(task_id)
    }

    /// True when every job is done or given up.
    pub fn settled(&self) -> bool {
        self.jobs
            .iter()
            .all(|j| matches!(j.state, JobState::Done | JobState::GaveUp))
    }

    /// Every job, in order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Job `index`.
    pub fn job(&self, index: usize) -> &Job {
        &self.jobs[index]
    }

    /// The job whose live task is `task_id`, if any.
    pub fn job_of(&self, task_id: &str) -> Option<usize> {
        self.live.get(task_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::TaskId;

    fn limits() -> Limits {
        Limits {
            maxtasks: 2,
            wait: Duration::from_secs(10),
            max_retries: 1,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(4),
        }
    }

    fn status(id: &str, state: TaskState) -> TaskStatus {
        let mut s = TaskStatus {
            task_id: TaskId { value: id.into() },
            ..Default::default()
        };
        s.set_state(state);
        s
    }

    #[test]
    fn batches_hold_maxtasks_and_wait_between() {
        let t0 = Instant::now();
        let mut jobs = Jobs::new(3, limits(), t0);
        assert_eq!(jobs.next_to_launch(t0), Some(0));
        jobs.launched(0, "a", "s");
        assert_eq!(jobs.next_to_launch(t0), Some(1));
        jobs.launched(1, "b", "s");
        assert_eq!(jobs.next_to_launch(t0), None, "the batch is full");
        jobs.ended(&status("a", TaskState::TaskFinished), t0);
        assert_eq!(jobs.next_to_launch(t0), None, "the batch has not ended");
        jobs.ended(&status("b", TaskState::TaskFinished), t0);
        assert_eq!(jobs.next_to_launch(t0), None, "waiting between batches");
        assert_eq!(jobs.next_to_launch(t0 + Duration::from_secs(10)), Some(2));
    }

    #[test]
    fn restored_running_jobs_are_live_and_fill_the_batch() {
        let t0 = Instant::now();
        let job = |index, state| Job {
            index,
            state,
            attempts: Vec::new(),
        };
        let running = |id: &str| JobState::Running {
            task_id: id.into(),
            agent_id: "s".into(),
        };
        let old = vec![
            job(0, JobState::Done),
            job(1, running("b")),
            job(2, running("c")),
            job(3, JobState::Waiting { not_before: t0 }),
        ];
        let mut jobs = Jobs::restore(old, limits(), t0);
        assert!(jobs.is_live("b") && jobs.is_live("c"));
        assert_eq!(jobs.job_of("c"), Some(2));
        assert_eq!(jobs.next_to_launch(t0), None, "two run: the batch is full");
        jobs.ended(&status("b", TaskState::TaskFinished), t0);
        jobs.ended(&status("c", TaskState::TaskFinished), t0);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(jobs.next_to_launch(later), Some(3));
        assert_eq!(jobs.batches, 2);
    }

    #[test]
    fn failures_retry_with_backoff_then_give_up() {
        let t0 = Instant::now();
        let mut jobs = Jobs::new(1, limits(), t0);
        jobs.next_to_launch(t0);
        jobs.launched(0, "a", "s");
        // A repeated or unknown update changes nothing.
        assert!(
            jobs.ended(&status("zzz", TaskState::TaskFailed), t0)
                .is_none()
        );
        jobs.ended(&status("a", TaskState::TaskFailed), t0);
        assert!(
            jobs.ended(&status("a", TaskState::TaskFailed), t0)
                .is_none()
        );
        let later = t0 + Duration::from_secs(10);
        assert_eq!(jobs.next_to_launch(later), Some(0));
        jobs.launched(0, "b", "s");
        let job = jobs
            .ended(&status("b", TaskState::TaskLost), later)
            .unwrap();
        assert_eq!(job.state, JobState::GaveUp);
        assert_eq!(job.attempts.len(), 2);
        assert!(jobs.settled());
    }
}
