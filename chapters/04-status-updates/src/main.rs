//! `ch04-scheduler`: see README.md, or `ch04-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch04_status_updates::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch04_status_updates::run(args)?)
}
