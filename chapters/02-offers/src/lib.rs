//! # Step 02: offers, read and declined with a filter
//!
//! What you will learn: after SUBSCRIBED the master sends OFFERS: each offer is one agent's
//! unused resources (cpus, mem, disk, ports), held for us until we answer. Here we answer
//! every offer with DECLINE and a *filter*: `refuse_seconds` tells the master not to offer
//! those resources to us again for that long (without a filter: 5 s).
//!
//! Run it (an embedded devcluster, `--master local`, is the default; the last line is for a
//! master that wants a password, see step 14; `--ca-file CA.pem` for https, step 15):
//!
//! ```text
//! cargo run --bin ch02-scheduler
//! cargo run --bin ch02-scheduler -- --master 192.168.33.10:5050   # a real master
//! cargo run --bin ch02-scheduler -- --master HOST:5050 --principal me --secret-file ./secret
//! ```
//!
//! What you should see: `subscribed as framework ...`, then three rounds of
//! `offer <id> from agent <id> (<host>): cpus:4; mem:4096; ...` and `declined for 1s`,
//! about a second apart (the filter, then the next allocation), then `torn down`.
//!
//! Next: step 03 uses an offer to launch a task.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use mesos_client::StopMode;
use mesos_client::connect::Connection;
use mesos_client::resources::describe;
use mesos_client::tasks::default_user;
use mesos_client::{Result, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer};

/// What to run against, and how long to refuse offers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master (`host:port`, a list, `zk://...`, or `local` for an embedded cluster) and
    /// how to authenticate to it (`--principal`, `--secret-file`, `--ca-file`).
    pub connection: Connection,
    /// How many OFFERS events to read before tearing down. Default: 3.
    pub offer_rounds: usize,
    /// The filter sent with every DECLINE, in seconds. Default: 1.
    pub refuse_seconds: f64,
}

impl Config {
    /// Defaults for everything but the master.
    pub fn new(master: impl Into<String>) -> Config {
        Config {
            connection: Connection::new(master),
            offer_rounds: 3,
            refuse_seconds: 1.0,
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
    /// OFFERS events received.
    pub offer_rounds: usize,
    /// Offers received (an event can carry several).
    pub offers_seen: usize,
    /// Offers declined (one DECLINE call each).
    pub offers_declined: usize,
    /// The agents whose resources were offered.
    pub agents: BTreeSet<String>,
    /// Whether the run ended with an accepted TEARDOWN.
    pub torn_down: bool,
}

/// Our scheduler. Events we do not handle keep the trait's safe defaults (offers are
/// declined, updates acknowledged and logged).
struct Framework {
    config: Config,
    outcome: Outcome,
}

impl Scheduler for Framework {
    fn subscribed(&mut self, _handle: &SchedulerHandle, subscribed: &event::Subscribed) {
        self.outcome.framework_id = subscribed.framework_id.value.clone();
        self.outcome.heartbeat_interval_seconds = subscribed.heartbeat_interval_seconds();
        println!(
            "subscribed as framework {} (heartbeat every {}s)",
            self.outcome.framework_id, self.outcome.heartbeat_interval_seconds
        );
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) {
        self.outcome.offer_rounds += 1;
        for offer in offers {
            self.outcome.offers_seen += 1;
            self.outcome.agents.insert(offer.agent_id.value.clone());
            let (id, agent) = (&offer.id.value, &offer.agent_id.value);
            println!(
                "offer {id} from agent {agent} ({}): {}",
                offer.hostname,
                describe(&offer.resources)
            );
            // Every offer must be answered. DECLINE gives the resources back; the filter
            // keeps the master from offering them to us again for `refuse_seconds`.
            let refuse = Some(self.config.refuse_seconds);
            match handle.decline(vec![offer.id.clone()], refuse) {
                Ok(()) => {
                    self.outcome.offers_declined += 1;
                    println!("declined for {}s", self.config.refuse_seconds);
                }
                Err(err) => eprintln!("could not decline {id}: {err}"),
            }
        }
        if self.outcome.offer_rounds >= self.config.offer_rounds {
            self.finish(handle);
        }
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

/// Subscribes, declines `offer_rounds` rounds of offers, tears the framework down.
pub fn run(config: Config) -> Result<Outcome> {
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    let (master, _cluster) = mesos_client::local::resolve_master(&config.connection.master)?;
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch02-offers".into(),
        ..Default::default()
    };
    let mut scheduler_config = SchedulerConfig::new(master, info);
    config.connection.apply(&mut scheduler_config)?; // credentials, CA: see step 14
    let mut driver = SchedulerDriver::new(scheduler_config)?;
    let mut framework = Framework {
        config,
        outcome: Outcome::default(),
    };
    driver.run(&mut framework)?;
    Ok(framework.outcome)
}
