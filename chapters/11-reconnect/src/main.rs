//! `ch11-scheduler`: see README.md, or `ch11-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch11_reconnect::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch11_reconnect::run(args)?)
}
