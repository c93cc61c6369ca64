//! `ch13-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch13_suppress_revive::executor::run()
}
