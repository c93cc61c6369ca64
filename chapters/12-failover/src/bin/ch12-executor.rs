//! `ch12-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch12_failover::executor::run()?;
    Ok(())
}
