//! Reporting status updates to the backend without blocking the scheduler.
//!
//! Every UPDATE must reach the backend (`POST /status`), even if the
//! backend is down for a while. Retrying inside the scheduler callback
//! would stall offers and heartbeats, so updates go on a queue and one
//! worker thread delivers them in order: the head of the queue is retried
//! with capped exponential backoff until the backend takes it, and only
//! then the next one is sent (so "running" never overtakes "staging").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select_biased, unbounded};
use mesos_client::backoff::Backoff;
use mesos_proto::v1::TaskState;

use crate::backend::Backend;

/// The state name the backend sees: `TASK_RUNNING` -> `running`,
/// `TASK_GONE_BY_OPERATOR` -> `gone_by_operator`.
pub fn state_name(state: TaskState) -> String {
    let name = state.as_str_name();
    name.strip_prefix("TASK_").unwrap_or(name).to_lowercase()
}

/// One status as the backend receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The task id.
    pub id: String,
    /// The lower-case state name.
    pub state: String,
}

/// What the worker did, for the [`Outcome`](crate::Outcome).
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Reports the backend took, in order.
    pub delivered: Vec<Report>,
    /// Failed attempts (each followed by a retry).
    pub failed_attempts: usize,
    /// Reports still queued when the proxy stopped.
    pub undelivered: Vec<Report>,
}

/// The sending side of the queue, and the worker thread.
#[derive(Debug)]
pub struct Reporter {
    queue: Sender<Report>,
    quit: Sender<Duration>,
    worker: JoinHandle<()>,
    delivery: Arc<Mutex<Delivery>>,
}

impl Reporter {
    /// Starts the worker; retries wait between `backoff_min` and `backoff_max`.
    pub fn start(backend: Backend, backoff_min: Duration, backoff_max: Duration) -> Reporter {
        let (queue, incoming) = unbounded();
        let (quit, quit_rx) = unbounded();
        let delivery = Arc::new(Mutex::new(Delivery::default()));
        let shared = Arc::clone(&delivery);
        let worker = std::thread::spawn(move || {
            let backoff = Backoff::new(backoff_min, backoff_max);
            work(&backend, backoff, &incoming, &quit_rx, &shared);
        });
        Reporter {
            queue,
            quit,
            worker,
            delivery,
        }
    }

    /// Queues a report; returns at once.
    pub fn report(&self, id: &str, state: TaskState) {
        let report = Report {
            id: id.to_string(),
            state: state_name(state),
        };
        // Fails only if the worker is gone, which happens only at shutdown.
        let _ = self.queue.send(report);
    }

    /// Stops the worker, letting it deliver what is queued for at most
    /// `grace`, and returns what it did.
    pub fn finish(self, grace: Duration) -> Delivery {
        let _ = self.quit.send(grace);
        let _ = self.worker.join();
        lock(&self.delivery).clone()
    }
}

fn lock(delivery: &Mutex<Delivery>) -> std::sync::MutexGuard<'_, Delivery> {
    delivery.lock().unwrap_or_else(|p| p.into_inner())
}

/// The worker loop: take the next report, send it until it is taken.
fn work(
    backend: &Backend,
    mut backoff: Backoff,
    incoming: &Receiver<Report>,
    quit: &Receiver<Duration>,
    delivery: &Mutex<Delivery>,
) {
    let mut pending: VecDeque<Report> = VecDeque::new();
    // Set once asked to quit: deliver until then, then give up.
    let mut give_up_at: Option<Instant> = None;
    loop {
        pending.extend(incoming.try_iter());
        let Some(head) = pending.front().cloned() else {
            if give_up_at.is_some() {
                break;
            }
            select_biased! {
                recv(quit) -> grace => {
                    give_up_at = Some(Instant::now() + grace.unwrap_or_default());
                }
                recv(incoming) -> report => match report {
                    Ok(report) => pending.push_back(report),
                    Err(_) => break,
                },
            }
            continue;
        };
        match backend.status(&head.id, &head.state) {
            Ok(()) => {
                backoff.reset();
                pending.pop_front();
                lock(delivery).delivered.push(head);
            }
            Err(err) => {
                lock(delivery).failed_attempts += 1;
                let delay = backoff.next_delay();
                log::warn!(
                    "status {} {} not taken ({err}); retrying in {delay:?}",
                    head.id,
                    head.state
                );
                if let Some(end) = give_up_at {
                    if Instant::now() + delay > end {
                        break;
                    }
                    std::thread::sleep(delay);
                } else {
                    // Sleep, but wake up for a quit request.
                    if let Ok(grace) = quit.recv_timeout(delay) {
                        give_up_at = Some(Instant::now() + grace);
                    }
                }
            }
        }
    }
    pending.extend(incoming.try_iter());
    if !pending.is_empty() {
        log::error!("{} status report(s) never delivered", pending.len());
    }
    lock(delivery).undelivered = pending.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_lower_case_without_prefix() {
        assert_eq!(state_name(TaskState::TaskRunning), "running");
        assert_eq!(
            state_name(TaskState::TaskGoneByOperator),
            "gone_by_operator"
        );
        assert_eq!(state_name(TaskState::TaskStaging), "staging");
    }
}
