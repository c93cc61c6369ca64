//! `ch10-scheduler`: see README.md, or `ch10-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch10_heartbeats::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch10_heartbeats::run(args)?)
}
