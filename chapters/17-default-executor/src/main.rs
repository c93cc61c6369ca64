//! `ch17-scheduler`: see README.md, or `ch17-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch17_default_executor::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch17_default_executor::run(args)?)
}
