//! `ch07-scheduler`: see README.md, or `ch07-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch07_kill_task::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch07_kill_task::run(args)?)
}
