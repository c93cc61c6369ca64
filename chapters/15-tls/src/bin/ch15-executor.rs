//! `ch15-executor`: started by the agent, never by hand. See src/executor.rs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ch15_tls::executor::run()?;
    Ok(())
}
