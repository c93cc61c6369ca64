//! `ch13-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch13_suppress_revive::executor::run()?;
    Ok(())
}
