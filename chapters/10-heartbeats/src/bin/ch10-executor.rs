//! `ch10-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch10_heartbeats::executor::run()?;
    Ok(())
}
