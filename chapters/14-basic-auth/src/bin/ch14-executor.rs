//! `ch14-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch14_basic_auth::executor::run()?;
    Ok(())
}
