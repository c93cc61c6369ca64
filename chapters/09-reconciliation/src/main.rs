//! `ch09-scheduler`: see README.md, or `ch09-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch09_reconciliation::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch09_reconciliation::run(args)?)
}
