//! `ch09-executor`: started by the agent, never by hand. See src/executor.rs.
fn main() -> mesos_client::Result<()> {
    ch09_reconciliation::executor::run()
}
