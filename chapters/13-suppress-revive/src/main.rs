//! `ch13-scheduler`: see README.md, or `ch13-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch13_suppress_revive::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch13_suppress_revive::run(args)?)
}
