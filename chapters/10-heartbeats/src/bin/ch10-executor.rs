//! `ch10-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch10_heartbeats::executor::run()
}
