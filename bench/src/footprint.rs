//! Footprint: what minimal-scheduler costs on disk and in memory, and how long a clean
//! build of the workspace takes (opt-in: minutes on 2 cores).
//!
//! The binary is built with `cargo build --profile release` and `--profile small` (see
//! the workspace `Cargo.toml`) `-p minimal` into this program's own
//! target directory (a no-op when it is fresh). Its RSS is measured as in `run.rs`, while
//! it runs simulated tasks against a devcluster. The clean build goes into a temporary
//! target directory, so nobody's build cache is touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::run;

/// Options of `bench footprint`.
#[derive(clap::Args)]
pub struct Options {
    /// Tasks minimal-scheduler runs while its RSS is measured.
    #[arg(long, default_value_t = 1000)]
    tasks: usize,
    /// Also time a clean `cargo build --workspace` (debug, the everyday build) into a
    /// fresh temporary target directory (several minutes on 2 cores).
    #[arg(long)]
    clean_build: bool,
}

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

/// Runs the footprint measurements and prints their table: minimal-scheduler as
/// `cargo build --release` makes it, and with the workspace's `small` profile (optimised
/// for size, LTO, stripped: what you would ship).
pub fn run(o: &Options) -> Result {
    let mut rows = Vec::new();
    for profile in ["release", "small"] {
        let exe = minimal_scheduler(profile)?;
        let size = std::fs::metadata(&exe)?.len();
        let cmd = format!(
            "exec '{}' --master {{master}} --tasks {{tasks}} --sleep 0 --executor /bin/true --log-level warn",
            exe.display()
        );
        let cfg = run::cluster_config(10, Some(Duration::ZERO));
        let row = run::measure(
            "minimal-scheduler",
            &cmd,
            cfg,
            o.tasks,
            Duration::from_secs(300),
        )?;
        rows.push((profile, size, row));
    }
    println!("\n### Footprint\n");
    println!("| what | value |");
    println!("|---|---:|");
    for (profile, size, row) in &rows {
        println!(
            "| minimal-scheduler binary (`--profile {profile}`) | {:.2} MiB ({size} bytes) |",
            *size as f64 / 1048576.0
        );
        let status = if row.ok { "" } else { " (the run failed)" };
        println!(
            "| minimal-scheduler (`{profile}`) peak RSS, {} simulated tasks in {:.1} s{status} | {:.1} MiB |",
            o.tasks,
            row.wall.as_secs_f64(),
            row.rss_kib as f64 / 1024.0
        );
    }
    if o.clean_build {
        let (secs, ok) = clean_build()?;
        let failed = if ok { "" } else { " (failed)" };
        println!("| clean `cargo build --workspace` (debug){failed} | {secs:.0} s |");
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// The workspace root: two levels above this crate's manifest.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Builds (if needed) minimal-scheduler with cargo profile `profile` into this program's
/// target directory, and returns its path.
fn minimal_scheduler(profile: &str) -> std::result::Result<PathBuf, Box<dyn std::error::Error>> {
    let here = std::env::current_exe()?;
    let dir = here.parent().ok_or("no directory")?;
    // target/<profile>/bench -> target
    let target = dir.parent().ok_or("no target directory")?;
    let status = Command::new(cargo())
        .args(["build", "--profile", profile, "-q", "-p", "minimal"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(workspace())
        .status()?;
    if !status.success() {
        return Err(format!("cargo build --profile {profile} -p minimal failed").into());
    }
    Ok(target.join(profile).join("minimal-scheduler"))
}

/// Times a clean workspace build into a fresh temporary target directory.
fn clean_build() -> std::result::Result<(f64, bool), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("bench-clean-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "-q", "--workspace"]);
    let start = Instant::now();
    let status = cmd
        .env("CARGO_TARGET_DIR", &dir)
        .current_dir(workspace())
        .status()?;
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok((secs, status.success()))
}
