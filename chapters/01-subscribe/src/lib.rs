//! # Step 01: subscribe, and see the framework id
//!
//! What you will learn, how to run it and what you will see: README.md.
#![forbid(unsafe_code)]

use mesos_client::connect::Connection;
use mesos_client::tasks::default_user;
use mesos_client::{Result, Scheduler, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::FrameworkInfo;
use mesos_proto::v1::scheduler::event;

/// Step 01: subscribes to a Mesos master, logs the framework id, tears the framework down.
#[derive(clap::Parser, Debug)]
pub struct Args {
    #[command(flatten)]
    pub connection: Connection,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: log::LevelFilter,
}

/// Our scheduler: events it does not handle keep the trait's defaults (see its docs).
struct Framework;

impl Scheduler for Framework {
    fn subscribed(&mut self, handle: &SchedulerHandle, info: &event::Subscribed) -> Result<()> {
        log::info!("subscribed as framework {}", info.framework_id.value);
        // That was all: TEARDOWN removes the framework from the master and stops the driver.
        handle.teardown()
    }
}

/// Subscribes, logs the framework id, tears the framework down. Ends by itself.
pub fn run(args: Args) -> Result<()> {
    // `user` and `name` are required. Over HTTP nobody fills in the user for us.
    let info = FrameworkInfo {
        user: default_user(),
        name: "ch01-subscribe".into(),
        ..Default::default()
    };
    // `local` starts a devcluster inside this process; it stops when `_cluster` is dropped.
    // --principal, --secret-file and --ca-file apply here (steps 14 and 15 explain them).
    let (config, _cluster) = args.connection.scheduler_config(info)?;
    SchedulerDriver::new(config)?.run(&mut Framework)
}
