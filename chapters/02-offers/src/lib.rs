//! # Step 02: offers, and how to say no
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

use mesos_client::connect::Connection;
use mesos_client::resources::describe;
use mesos_client::tasks::default_user;
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkInfo, Offer};

/// Step 02: logs and declines three rounds of offers, then tears the framework down.
#[derive(clap::Parser, Debug)]
pub struct Args {
    #[command(flatten)]
    pub connection: Connection,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: log::LevelFilter,
}

/// Our scheduler: events it does not handle keep the trait's defaults (see its docs).
#[derive(Default)]
struct Framework {
    rounds: usize,
}

impl Scheduler for Framework {
    fn subscribed(&mut self, _: &SchedulerHandle, info: &event::Subscribed) -> Result<()> {
        log::info!("subscribed as framework {}", info.framework_id.value);
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> Result<()> {
        for offer in offers {
            let resources = describe(&offer.resources);
            log::info!("offer from {}: {resources}", offer.hostname);
            // Every offer must be answered. DECLINE gives the resources back; its filter
            // keeps the master from offering them to us again for a second.
            handle.decline(offer, 1.0)?;
        }
        self.rounds += 1;
        if self.rounds == 3 {
            // TEARDOWN removes the framework from the master and stops the driver.
            handle.teardown()?;
        }
        Ok(())
    }
}

/// Subscribes, declines three rounds of offers, tears the framework down.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch02-offers".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (config, _cluster) = args.connection.scheduler_config(info)?;
    SchedulerDriver::new(config)?.run(&mut Framework::default())
}
