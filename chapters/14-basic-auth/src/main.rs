//! `ch14-scheduler`: see README.md, or `ch14-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch14_basic_auth::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch14_basic_auth::run(args)?)
}
