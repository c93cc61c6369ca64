//! `ch06-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch06_framework_messages::executor::run()
}
