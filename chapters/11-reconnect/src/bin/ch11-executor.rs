//! `ch11-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch11_reconnect::executor::run()?;
    Ok(())
}
