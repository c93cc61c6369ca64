//! The driver side of the tests: a fast config, a recording scheduler, and
//! running the driver with a deadline.

use std::thread;
use std::time::{Duration, Instant};

use mesos_client::{
    Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode,
};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskStatus};

use super::Request;

/// A framework as the fixtures' `subscribe.request.json` describes it.
pub fn framework_info() -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: "fixtures-json".into(),
        hostname: Some("localhost".into()),
        failover_timeout: Some(120.0),
        ..Default::default()
    }
}

/// A config with fast timings for tests: no test waits long, none hangs.
pub fn fast_config(masters: &str) -> SchedulerConfig {
    let mut config = SchedulerConfig::new(masters, framework_info());
    config.request_timeout = Duration::from_secs(3);
    config.backoff_min = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(50);
    config.max_reconnect_attempts = Some(5);
    config
}

/// Records every callback as a short label, and stops the driver when a
/// label is seen (the `n`-th time).
pub struct Recorder {
    pub seen: Vec<String>,
    pub stop_on: String,
    pub stop_after: usize,
    pub stop_mode: StopMode,
}

impl Recorder {
    pub fn stopping_on(label: &str, stop_mode: StopMode) -> Recorder {
        Recorder {
            seen: Vec::new(),
            stop_on: label.into(),
            stop_after: 1,
            stop_mode,
        }
    }

    fn note(&mut self, handle: &SchedulerHandle, label: String) {
        let hit = label == self.stop_on;
        self.seen.push(label);
        if hit && self.seen.iter().filter(|l| **l == self.stop_on).count() == self.stop_after {
            handle.stop(self.stop_mode);
        }
    }
}

impl Scheduler for Recorder {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        self.note(
            handle,
            format!("subscribed {}", subscribed.framework_id.value),
        );
        Ok(())
    }
    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        self.note(handle, format!("offers {}", offers.len()));
        // Keep the default behaviour (decline) so tests see it.
        let ids = offers.iter().map(|o| o.id.clone()).collect();
        handle.decline_offers(ids, None).expect("decline accepted");
        Ok(())
    }
    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        let label = format!(
            "update {} {}",
            status.task_id.value,
            status.state().as_str_name()
        );
        self.note(handle, label);
        Ok(())
    }
    fn error(&mut self, handle: &SchedulerHandle, message: &str) -> mesos_client::Result<()> {
        self.note(handle, format!("error {message}"));
        Ok(())
    }
    fn heartbeat(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.note(handle, "heartbeat".into());
        Ok(())
    }
    fn disconnected(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.note(handle, "disconnected".into());
        Ok(())
    }
}

/// Runs the driver on its own thread and waits at most 15 s for `run` to
/// return, so a bug fails the test instead of hanging it.
pub fn run_with_deadline<S: Scheduler + Send + 'static>(
    mut driver: SchedulerDriver,
    mut scheduler: S,
) -> (Result<()>, S) {
    let (tx, rx) = crossbeam_channel::bounded(1);
    thread::spawn(move || {
        let result = driver.run(&mut scheduler);
        let _ = tx.send((result, scheduler));
    });
    let started = Instant::now();
    rx.recv_timeout(Duration::from_secs(15))
        .unwrap_or_else(|_| panic!("driver did not return within {:?}", started.elapsed()))
}

/// The requests of a given call type.
pub fn of_type<'a>(requests: &'a [Request], kind: &str) -> Vec<&'a Request> {
    requests.iter().filter(|r| r.call_type() == kind).collect()
}
