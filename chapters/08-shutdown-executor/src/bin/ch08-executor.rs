//! `ch08-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch08_shutdown_executor::executor::run()
}
