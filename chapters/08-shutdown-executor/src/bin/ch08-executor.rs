//! `ch08-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch08_shutdown_executor::executor::run()?;
    Ok(())
}
