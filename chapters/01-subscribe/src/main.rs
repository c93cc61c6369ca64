//! `ch01-scheduler`: see README.md, or `ch01-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch01_subscribe::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch01_subscribe::run(args)?)
}
