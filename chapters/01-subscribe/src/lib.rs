//! # Step 01: subscribe, and see the framework id
//!
//! What you will learn: a framework starts by sending SUBSCRIBE to the master and keeping
//! the response open; the first event on that stream is SUBSCRIBED, which carries the
//! framework id the master just made up for us. Everything else in Mesos hangs off that id.
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch01-scheduler
//! cargo run --bin ch01-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch01-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: `subscribed as framework <uuid>-0000 (heartbeat every 15s)`, then
//! `torn down`: TEARDOWN removes the framework from the master and ends the run.
//!
//! Next: step 02 reads the offers that follow SUBSCRIBED.
#![forbid(unsafe_code)]

use mesos_client::StopMode;
use mesos_client::connect::Connection;
use mesos_client::tasks::default_user;
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::FrameworkInfo;
use mesos_proto::v1::scheduler::event;

/// What to run against.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
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
    /// Whether the run ended with an accepted TEARDOWN.
    pub torn_down: bool,
}

/// Our scheduler. Events we do not handle keep the trait's safe defaults (offers are
/// declined, updates acknowledged and logged).
struct Framework {
    outcome: Outcome,
}

impl Scheduler for Framework {
    fn subscribed(&mut self, handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        println!(
            "subscribed as framework {} (heartbeat every {}s)",
            self.outcome.framework_id, self.outcome.heartbeat_interval_seconds
        );
        // That is all this step wanted to see.
        self.finish(handle);
    }
}

impl Framework {
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

/// Subscribes, prints the framework id, tears the framework down. Ends by itself.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch01-subscribe".into(),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
