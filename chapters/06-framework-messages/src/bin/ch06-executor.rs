//! `ch06-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch06_framework_messages::executor::run()?;
    Ok(())
}
