//! `ch07-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch07_kill_task::executor::run()?;
    Ok(())
}
