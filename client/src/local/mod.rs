//! `--master local`: run a framework with no Mesos installed, and find the
//! executor program that goes with a scheduler.
//!
//! Mesos' own tools accept `--master=local` to start a master and an agent
//! inside the process. [`resolve_master`] does the same with devcluster,
//! this project's Mesos-compatible cluster (`devcluster/` in the
//! repository): `"local"` starts one on a free port of 127.0.0.1 and returns
//! its address and a [`LocalCluster`] guard that stops it (and every process
//! it started) when dropped; anything else is returned unchanged, for the
//! driver to connect to.
//!
//! ```no_run
//! let (master, _cluster) = mesos_client::local::resolve_master("local")?;
//! // ... SchedulerConfig::new(master, info) ... driver.run(..) ...
//! // `_cluster` goes out of scope here: the local cluster stops.
//! # Ok::<(), mesos_client::Error>(())
//! ```
//!
//! A framework with a custom executor must also tell the agent where the
//! executor program is; [`find_executor`] looks next to the running
//! scheduler, where `cargo build` puts every binary of a package.
//!
//! Task processes run in process groups of their own, so Ctrl-C in the
//! terminal does not reach them, and a killed program skips every `Drop`.
//! So the first local cluster installs a handler for SIGINT, SIGTERM and
//! SIGHUP that kills the processes of every local cluster of the program,
//! removes their sandboxes, and asks every
//! [`SchedulerDriver::run`](crate::SchedulerDriver::run) of the program to
//! return (`Ok(())`, as after [`StopMode::Failover`](crate::StopMode)); the
//! program then ends the way it always does, through `main`, and
//! [`interrupted`] tells it why. The library never ends the process itself,
//! with one exception the user asks for: a second Ctrl-C while the first is
//! still being handled exits at once (status 130), for a program that does
//! not return. A program that installed a handler of its own first keeps it
//! (then stopping the processes is the program's business).
//!
//! For chapters on authentication and TLS, [`resolve_locked`] starts a
//! [`LockedCluster`] instead: one that wants a principal and its secret (and
//! optionally speaks only https), as a production cluster does.
//!
//! This module is behind the opt-in feature `local`, so that a framework
//! built for production can leave devcluster out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use devcluster::{Cluster, ClusterConfig, ProcessKiller};

mod locked;
pub use locked::{LocalCertificates, LockedCluster, localhost_certificates, resolve_locked};

use crate::error::{Error, Result};

/// The master spec that means "start an embedded cluster".
pub const LOCAL: &str = "local";

/// How many agents an embedded cluster has: two, so that a framework sees
/// offers from more than one agent.
const LOCAL_AGENTS: usize = 2;

/// The environment variable that keeps a local cluster's sandboxes after it
/// stops (`MESOS_LOCAL_KEEP=1`), to read the tasks' `stdout` and `stderr`.
pub const KEEP_VAR: &str = "MESOS_LOCAL_KEEP";

/// A cluster running inside this process; stops when dropped.
///
/// Its work directory (the agents' sandboxes, under
/// [`work_dir`](Self::work_dir) in the system temp directory) is removed when
/// it stops, also when the program is stopped by Ctrl-C, so that runs leave
/// nothing behind. With `MESOS_LOCAL_KEEP=1` in the environment it is kept,
/// and its path logged, so you can read your tasks' output afterwards.
pub struct LocalCluster {
    /// `None` only while dropping (the cluster stops before its folder goes).
    cluster: Option<Cluster>,
    work_dir: PathBuf,
    keep: bool,
}

impl LocalCluster {
    /// Starts a master and two agents on free ports of 127.0.0.1, with
    /// Mesos' default timings (heartbeats every 15 s, offers every 1 s).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the cluster cannot start (no free port, the
    /// temp directory is not writable).
    pub fn start() -> Result<LocalCluster> {
        let keep = std::env::var(KEEP_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
        let config = ClusterConfig {
            port: 0,
            agents: vec![Default::default(); LOCAL_AGENTS],
            // Our own directory: devcluster leaves a given one alone, and we
            // remove it (or keep it) ourselves.
            work_dir: Some(fresh_work_dir()),
            ..ClusterConfig::default()
        };
        let cluster = start_cluster(config)?;
        let work_dir = cluster.work_dir().to_path_buf();
        if !keep {
            remove_on_signals(&work_dir);
        }
        Ok(LocalCluster {
            cluster: Some(cluster),
            work_dir,
            keep,
        })
    }

    /// `http://127.0.0.1:<port>` of the master.
    pub fn master_url(&self) -> String {
        self.cluster
            .as_ref()
            .map(Cluster::master_url)
            .unwrap_or_default()
    }

    /// Where the agents keep sandboxes:
    /// `<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<run>/`.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        // Stop the cluster (and its processes) first, then its folder.
        drop(self.cluster.take());
        if self.keep {
            log::info!(
                "stopped the local cluster; its sandboxes stay in {}",
                self.work_dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.work_dir);
            forget_on_signals(&self.work_dir);
            log::info!(
                "stopped the local cluster and removed its sandboxes ({KEEP_VAR}=1 keeps them)"
            );
        }
    }
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("master_url", &self.master_url())
            .field("work_dir", &self.work_dir())
            .finish()
    }
}

/// Turns a `--master` value into the masters to connect to.
///
/// `"local"` starts a [`LocalCluster`] and returns its URL and the cluster,
/// which you must keep alive for as long as the framework runs. Anything
/// else (`host:port`, a list, `zk://...`) comes back as it is, with `None`.
///
/// # Errors
///
/// As [`LocalCluster::start`].
pub fn resolve_master(spec: &str) -> Result<(String, Option<LocalCluster>)> {
    if spec.trim() != LOCAL {
        return Ok((spec.to_string(), None));
    }
    let cluster = LocalCluster::start()?;
    let kept = if cluster.keep { "kept" } else { "removed" };
    log::info!(
        "started a local cluster (master {}, {LOCAL_AGENTS} agents, sandboxes in {}, {kept} when it stops)",
        cluster.master_url(),
        cluster.work_dir().display()
    );
    Ok((cluster.master_url(), Some(cluster)))
}

/// Starts `config` as a local cluster whose processes the signal handler stops.
fn start_cluster(config: ClusterConfig) -> Result<Cluster> {
    let cluster = Cluster::start(config)
        .map_err(|err| Error::Config(format!("cannot start the local cluster: {err}")))?;
    stop_processes_on_signals(cluster.process_killer());
    Ok(cluster)
}

/// The process killers of this program's local clusters (dead ones do nothing).
static KILLERS: Mutex<Vec<ProcessKiller>> = Mutex::new(Vec::new());

/// The work directories the signal handler removes (those not kept).
static WORK_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn remove_on_signals(dir: &Path) {
    WORK_DIRS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(dir.to_path_buf());
}

fn forget_on_signals(dir: &Path) {
    WORK_DIRS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|d| d != dir);
}

/// Registers `killer` with the signal handler, installing it the first time.
fn stop_processes_on_signals(killer: ProcessKiller) {
    let mut killers = KILLERS.lock().unwrap_or_else(|p| p.into_inner());
    killers.retain(ProcessKiller::is_alive); // clusters dropped since
    killers.push(killer);
    drop(killers);
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                // The user insists: the first signal did not end the program.
                eprintln!("interrupted again: exiting");
                std::process::exit(130);
            }
            // Drivers first: a task killed below must not reach a framework's `update`
            // as an end it did not expect (which would turn Ctrl-C into a failed run).
            let drivers = crate::scheduler::stop_all_drivers();
            log::info!("interrupted: asked {drivers} scheduler driver(s) to return");
            eprintln!("stopping the local cluster's tasks");
            let killers = KILLERS.lock().unwrap_or_else(|p| p.into_inner()).clone();
            for k in killers {
                k.kill_all();
            }
            for dir in WORK_DIRS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        });
        if let Err(err) = installed {
            log::debug!("no signal handler for the local cluster: {err}");
        }
    });
}

/// Set by the first Ctrl-C (SIGINT, SIGTERM, SIGHUP) the local cluster's
/// handler saw.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether this program was interrupted (Ctrl-C, SIGTERM, SIGHUP) while a
/// local cluster ran: then `run` returned because of the signal, not because
/// the framework was done. A program may exit with status 130 for it.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A new directory name under the system temp directory, unique per run.
fn fresh_work_dir() -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("mesos-local-{secs}-{}", std::process::id()))
}

/// Finds the executor program `name` (e.g. `"minimal-executor"`) in the
/// directory of the running program (for a test binary, in the directory
/// above its `deps/`), and returns its absolute path, for a
/// `CommandInfo.URI` the agent fetches into the sandbox.
///
/// `cargo build` puts every binary of a package side by side, but
/// `cargo run --bin some-scheduler` builds only the scheduler. So when the
/// executor is missing and this process was started by `cargo run` (cargo
/// then sets `CARGO` and `CARGO_MANIFEST_DIR`), it runs
/// `cargo build --bin <name>` for the same package, target directory and
/// profile, and says so in the log.
///
/// # Errors
///
/// [`Error::Config`] when the executor is not there and cannot be built;
/// the message says how to build it or to pass its path.
pub fn find_executor(name: &str) -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let mut dir = me
        .parent()
        .ok_or_else(|| Error::Config(format!("{} has no directory", me.display())))?;
    // Test and example binaries live one level down, in `<profile-dir>/deps/`
    // or `<profile-dir>/examples/`; the binaries are in `<profile-dir>/`.
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir = dir.parent().unwrap_or(dir);
    }
    let path = dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    let missing = || {
        Error::Config(format!(
            "{name} is not in {}: build it with `cargo build --bin {name}`, \
             or give the executor's path or URL with --executor",
            dir.display()
        ))
    };
    let (Some(cargo), Some(package)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        return Err(missing());
    };
    // The exe lives in <target-dir>/<profile-dir>/; build into the same.
    let (Some(target_dir), Some(profile_dir)) = (dir.parent(), dir.file_name()) else {
        return Err(missing());
    };
    let profile = match profile_dir.to_str() {
        Some("debug") => "dev",
        Some(other) => other,
        None => return Err(missing()),
    };
    log::info!("{name} is not built yet (cargo run builds one binary): cargo build --bin {name}");
    let mut build = Command::new(cargo);
    build
        .arg("build")
        .args(["--bin", name, "--profile", profile])
        .arg("--target-dir")
        .arg(target_dir);
    // Run it where the user ran `cargo run`, so that cargo picks the same
    // packages and features and reuses what it built; from elsewhere, name
    // the package's manifest.
    let cwd = std::env::current_dir()?;
    if !cwd.ancestors().any(|dir| dir.join("Cargo.toml").is_file()) {
        build
            .arg("--manifest-path")
            .arg(Path::new(&package).join("Cargo.toml"));
    }
    // `cargo run` gave us the variables it sets for a package (CARGO_PKG_NAME,
    // CARGO_MANIFEST_DIR, ...). Build scripts that watch them would rerun if
    // the inner cargo saw them, and everything above them would rebuild.
    for (var, _) in std::env::vars_os() {
        let var_text = var.to_string_lossy();
        if is_per_package_var(&var_text) {
            build.env_remove(&var);
        }
    }
    let status = build.status()?;
    if status.success() && path.is_file() {
        Ok(path)
    } else {
        Err(missing())
    }
}

/// The variables cargo sets for one package's build scripts and for the
/// programs `cargo run` and `cargo test` start.
fn is_per_package_var(name: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || matches!(
            name,
            "CARGO_PRIMARY_PACKAGE" | "OUT_DIR" | "CARGO_TARGET_TMPDIR"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_but_local_is_passed_through() {
        let (master, cluster) = resolve_master("10.0.0.1:5050,10.0.0.2:5050").unwrap();
        assert_eq!(master, "10.0.0.1:5050,10.0.0.2:5050");
        assert!(cluster.is_none());
    }

    #[test]
    fn local_starts_a_cluster_that_answers() {
        let (master, cluster) = resolve_master("local").unwrap();
        let cluster = cluster.expect("a local cluster");
        assert!(master.starts_with("http://127.0.0.1:"), "{master}");
        let work_dir = cluster.work_dir().to_path_buf();
        assert!(work_dir.is_dir());
        let version = ureq::get(&format!("{master}/version")).call().unwrap();
        assert_eq!(version.status(), 200);
        drop(cluster);
        assert!(!work_dir.exists(), "{} is removed", work_dir.display());
    }

    #[test]
    fn only_per_package_cargo_variables_are_dropped() {
        assert!(is_per_package_var("CARGO_PKG_NAME"));
        assert!(is_per_package_var("CARGO_MANIFEST_DIR"));
        assert!(!is_per_package_var("CARGO_TARGET_DIR"));
        assert!(!is_per_package_var("CARGO_HOME"));
    }
}
