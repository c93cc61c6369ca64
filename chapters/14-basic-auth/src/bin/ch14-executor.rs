//! `ch14-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch14_basic_auth::executor::run()
}
