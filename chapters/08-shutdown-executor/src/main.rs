//! `ch08-scheduler`: see README.md, or `ch08-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch08_shutdown_executor::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch08_shutdown_executor::run(args)?)
}
