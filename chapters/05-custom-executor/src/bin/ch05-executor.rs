//! `ch05-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch05_custom_executor::executor::run()?;
    Ok(())
}
