//! `ch06-scheduler`: see README.md, or `ch06-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch06_framework_messages::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch06_framework_messages::run(args)?)
}
