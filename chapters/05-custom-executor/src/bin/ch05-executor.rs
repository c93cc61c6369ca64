//! `ch05-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch05_custom_executor::executor::run()
}
