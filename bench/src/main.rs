//! The benchmark harness. Numbers come from here, never from timed tests.
//!
//! ```text
//! cargo run --release -p bench -- decode            # RecordIO + protobuf / JSON decode speed
//! cargo run --release -p bench -- decode --seconds 5
//! ```
//!
//! Each run prints a Markdown table, ready to paste into `bench/README.md`.

mod decode;

use clap::{Parser, Subcommand};

/// Command-line interface of the harness.
#[derive(Parser)]
#[command(about = "Benchmarks for the Mesos toolkit (run with --release)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode speed of realistic OFFERS and UPDATE event streams.
    Decode(decode::Options),
}

fn main() {
    let cli = Cli::parse();
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run with --release for meaningful numbers");
    }
    match cli.command {
        Command::Decode(options) => decode::run(&options),
    }
}
