//! `ch16-scheduler`: see README.md, or `ch16-scheduler --help`.
use clap::Parser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ch16_task_groups::Args::parse();
    simple_logger::SimpleLogger::new()
        .with_level(args.log_level)
        .init()?;
    Ok(ch16_task_groups::run(args)?)
}
