//! `ch07-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch07_kill_task::executor::run()
}
