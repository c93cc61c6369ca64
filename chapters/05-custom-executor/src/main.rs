//! `ch05-scheduler`: see README.md, or `ch05-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch05_custom_executor::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch05_custom_executor::run(args)?)
}
