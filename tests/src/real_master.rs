//! The real-master mode: every chapter step, example and system of the repository run as
//! processes against one master, each with a deadline, and one report of the results.
//!
//! `tests/tests/real_master.rs` drives it: with `MESOS_MASTER=host:port` against that
//! master (a user's own cluster), without it against a devcluster started as a separate
//! process and treated as if it were a stranger's master. What runs, and why some items
//! are skipped, is in the README ("Check the toolkit against your own Mesos cluster").
//!
//! Each item is run the way its README says, with the connection options every binary
//! takes (`--master`, `--principal`/`--secret-file`, `--ca-file`) and, for the binaries
//! that ship an executor, `--advertise-ip` (the address a remote agent fetches it from).
//! Every item runs in a folder of its own (no state file of an earlier run is picked up)
//! and its output goes to a file; after it, the runner makes sure the frameworks it
//! registered are gone: it subscribes again under each framework id the item printed and
//! sends TEARDOWN if the master still has it. So a long-lived cluster keeps nothing of a
//! run.
//!
//! An item passes when it exits 0, printed no task that ended `TASK_ERROR` (refused by
//! the master or the agent: never what a README promises) and left no framework behind.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mesos_client::connect::Connection;
use mesos_client::tasks::default_user;
use mesos_client::{Error, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkId, FrameworkInfo};

use crate::project_root;

/// How long one item may run before it is killed and reported as failed
/// ([`env::DEADLINE_SECS`] changes it). Each takes a few seconds on a healthy cluster;
/// this only turns a hang (no offers, an agent that cannot fetch) into a failure.
pub const ITEM_DEADLINE: Duration = Duration::from_secs(120);

/// How long the runner waits for the master while tearing down an item's framework.
const CLEANUP_DEADLINE: Duration = Duration::from_secs(30);

/// How many lines of a failed item's output the report shows.
const TAIL_LINES: usize = 12;

/// The most of an output file read for its last lines (a runaway item may write a lot).
const TAIL_BYTES: u64 = 64 * 1024;

/// The most framework ids collected from one item's output (each is torn down).
const MAX_FRAMEWORKS_PER_ITEM: usize = 32;

/// The environment variables of this mode, besides `MESOS_MASTER`.
pub mod env {
    /// The address agents fetch executors from (passed as `--advertise-ip`).
    pub const ADVERTISE_IP: &str = "E2E_ADVERTISE_IP";
    /// The principal to authenticate as (with [`SECRET_FILE`]).
    pub const PRINCIPAL: &str = "E2E_PRINCIPAL";
    /// The file holding the principal's secret.
    pub const SECRET_FILE: &str = "E2E_SECRET_FILE";
    /// The CA certificate(s) to trust for an https master.
    pub const CA_FILE: &str = "E2E_CA_FILE";
    /// Each item's deadline in seconds, instead of [`super::ITEM_DEADLINE`].
    pub const DEADLINE_SECS: &str = "E2E_DEADLINE_SECS";
}

/// Where the address agents fetch executors from comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertiseFrom {
    /// [`env::ADVERTISE_IP`].
    Env,
    /// 127.0.0.1, because the master is on this machine (its agents are too).
    LoopbackMaster,
    /// Not given: each binary serves its executor on this host's address on the way to
    /// the master.
    BinaryDefault,
}

/// What the runner needs to know about the master.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port`, `https://host:port`, a list, or `zk://...`: what `--master` takes.
    pub master: String,
    /// `--principal`, for every item.
    pub principal: Option<String>,
    /// `--secret-file` (an absolute path: items run in folders of their own).
    pub secret_file: Option<PathBuf>,
    /// `--ca-file` (absolute), for every item.
    pub ca_file: Option<PathBuf>,
    /// `--advertise-ip` for the binaries that ship an executor.
    pub advertise_ip: Option<IpAddr>,
    /// Where [`Settings::advertise_ip`] comes from.
    pub advertise_from: AdvertiseFrom,
    /// Each item's deadline.
    pub deadline: Duration,
    /// Where the items' output files and working folders go (emptied first).
    pub out_dir: PathBuf,
}

impl Settings {
    /// Settings for `master` without credentials, with the default advertise address.
    pub fn new(master: &str, out_dir: &Path) -> Settings {
        let (advertise_ip, advertise_from) = match is_loopback_master(master) {
            true => (
                Some(Ipv4Addr::LOCALHOST.into()),
                AdvertiseFrom::LoopbackMaster,
            ),
            false => (None, AdvertiseFrom::BinaryDefault),
        };
        Settings {
            master: master.to_string(),
            principal: None,
            secret_file: None,
            ca_file: None,
            advertise_ip,
            advertise_from,
            deadline: ITEM_DEADLINE,
            out_dir: out_dir.to_path_buf(),
        }
    }

    /// The settings `MESOS_MASTER` and the `E2E_*` variables ([`mod@env`]) give; `None`
    /// without `MESOS_MASTER`.
    ///
    /// # Errors
    ///
    /// A message naming the variable: an address that is not one, a principal without a
    /// secret file (or the reverse), a file that does not exist, `MESOS_MASTER=local`.
    pub fn from_env(out_dir: &Path) -> Result<Option<Settings>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(master) = var("MESOS_MASTER") else {
            return Ok(None);
        };
        let master = master.trim().to_string();
        if master == "local" {
            return Err(
                "MESOS_MASTER=local is the embedded cluster every binary starts by \
                 itself: give a master's host:port, or unset MESOS_MASTER to run against a \
                 devcluster process"
                    .into(),
            );
        }
        let mut settings = Settings::new(&master, out_dir);
        if let Some(ip) = var(env::ADVERTISE_IP) {
            let ip = ip.trim().parse::<IpAddr>().map_err(|e| {
                format!(
                    "{}={ip}: not an IP address ({e}): give an address of this host the \
                     agents can reach",
                    env::ADVERTISE_IP
                )
            })?;
            settings.advertise_ip = Some(ip);
            settings.advertise_from = AdvertiseFrom::Env;
        }
        if let Some(secs) = var(env::DEADLINE_SECS) {
            let secs = secs
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    format!(
                        "{}={secs}: not a whole number of seconds above 0",
                        env::DEADLINE_SECS
                    )
                })?;
            settings.deadline = Duration::from_secs(secs);
        }
        let file = |name: &str| -> Result<Option<PathBuf>, String> {
            let Some(value) = var(name) else {
                return Ok(None);
            };
            std::fs::canonicalize(&value)
                .map(Some)
                .map_err(|e| format!("{name}={value}: {e}"))
        };
        settings.secret_file = file(env::SECRET_FILE)?;
        settings.ca_file = file(env::CA_FILE)?;
        settings.principal = var(env::PRINCIPAL);
        match (&settings.principal, &settings.secret_file) {
            (Some(_), None) => {
                return Err(format!(
                    "{} needs {} (the file holding its secret)",
                    env::PRINCIPAL,
                    env::SECRET_FILE
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "{} needs {} (who the secret belongs to)",
                    env::SECRET_FILE,
                    env::PRINCIPAL
                ));
            }
            _ => {}
        }
        Ok(Some(settings))
    }

    fn has_credentials(&self) -> bool {
        self.principal.is_some() && self.secret_file.is_some()
    }

    fn is_https(&self) -> bool {
        self.master.trim().starts_with("https://")
    }

    /// The connection options every framework binary takes.
    fn connection_args(&self) -> Vec<String> {
        let mut args = vec!["--master".to_string(), self.master.clone()];
        if let (Some(principal), Some(file)) = (&self.principal, &self.secret_file) {
            args.extend(["--principal".into(), principal.clone()]);
            args.extend(["--secret-file".into(), file.display().to_string()]);
        }
        if let Some(ca) = &self.ca_file {
            args.extend(["--ca-file".into(), ca.display().to_string()]);
        }
        args
    }

    /// The same options for the runner's own driver (the teardown of leftovers).
    fn connection(&self) -> Connection {
        Connection {
            master: self.master.clone(),
            principal: self.principal.clone(),
            secret_file: self.secret_file.clone(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// The lines at the top of the report: what the items were run against, and how.
    fn describe(&self) -> String {
        let advertise = match (self.advertise_from, self.advertise_ip) {
            (AdvertiseFrom::Env, Some(ip)) => {
                format!("served over HTTP on {ip} ({})", env::ADVERTISE_IP)
            }
            (AdvertiseFrom::LoopbackMaster, Some(ip)) => format!(
                "served over HTTP on {ip} (the master is on this machine; {} to change)",
                env::ADVERTISE_IP
            ),
            _ => format!(
                "served over HTTP on this host's address towards the master ({} to choose)",
                env::ADVERTISE_IP
            ),
        };
        let credentials = match &self.principal {
            Some(p) => format!("principal {p}"),
            None => format!("none ({}, {})", env::PRINCIPAL, env::SECRET_FILE),
        };
        let ca = self
            .ca_file
            .as_ref()
            .map_or(format!("none ({})", env::CA_FILE), |p| {
                p.display().to_string()
            });
        format!(
            "master:      {}\nexecutors:   {advertise}\ncredentials: {credentials}\nCA file:     \
             {ca}\ndeadline:    {} s per item ({})\noutput:      {}/<item>.log\n",
            self.master,
            self.deadline.as_secs(),
            env::DEADLINE_SECS,
            self.out_dir.display()
        )
    }
}

/// Whether the (first) master of `spec` is on this machine.
fn is_loopback_master(spec: &str) -> bool {
    let spec = spec.trim();
    let rest = spec.split_once("://").map_or(spec, |(_, r)| r);
    let first = rest.split([',', '/']).next().unwrap_or_default().trim();
    let host = if let Some(bracketed) = first.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        first.rsplit_once(':').map_or(first, |(h, _)| h)
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Which part of the repository an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `minimal/`, `skeleton/`.
    Example,
    /// `chapters/01-...` to `chapters/17-...`.
    Step,
    /// `chapters/18-offer-proxy`, `19-etl-runner`, `20-framework-sdk`.
    System,
}

/// What an item needs beyond a master with agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing more.
    Nothing,
    /// A fault in the master (steps 10 to 12: stalled heartbeats, cut streams, a leader
    /// failover): devcluster injects it on request; a real master must be broken by hand,
    /// which a test cannot do.
    Fault,
    /// A master that wants a password, and the principal and secret (step 14).
    Credentials,
    /// A master that serves https and wants a password (step 15).
    TlsAndCredentials,
}

/// Why an item was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// [`Need::Fault`]; the step's folder.
    Fault(String),
    /// [`Need::Credentials`] without them.
    Credentials,
    /// [`Need::TlsAndCredentials`] without an https master or credentials.
    Tls,
}

impl Skip {
    /// The reason the report prints.
    pub fn reason(&self) -> String {
        match self {
            Skip::Fault(folder) => format!(
                "needs a fault in the master, which devcluster injects on request and a real \
                 cluster needs caused by hand: run it yourself (chapters/{folder}/README.md \
                 says how); chapter_steps runs it on devcluster"
            ),
            Skip::Credentials => format!(
                "needs a master that wants a password: set {} and {} (a principal the master \
                 knows and a file holding its secret)",
                env::PRINCIPAL,
                env::SECRET_FILE
            ),
            Skip::Tls => format!(
                "needs a master that serves https and wants a password: \
                 MESOS_MASTER=https://host:port with {} and {} ({} for the cluster's own CA)",
                env::PRINCIPAL,
                env::SECRET_FILE,
                env::CA_FILE
            ),
        }
    }
}

/// One thing to run: a step, an example or a system.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its name in the report: the folder (`05-custom-executor`, `minimal`).
    pub name: String,
    /// Which part of the repository it is.
    pub kind: Kind,
    /// What it needs beyond a master with agents.
    pub need: Need,
    /// The program run (a scheduler binary of the workspace).
    pub program: String,
    /// Its arguments besides the connection options.
    pub args: Vec<String>,
}

/// Steps 10 to 12 break the master on purpose (stalled heartbeats, cut streams, a leader
/// failover); the test `the_fault_steps_are_the_steps_that_inject_faults` keeps this list
/// equal to the steps whose sources use `mesos_client::faults`.
pub const FAULT_STEPS: [&str; 3] = ["10", "11", "12"];

/// The step that wants a password, and the one that also wants https.
const CREDENTIALS_STEP: &str = "14";
const TLS_STEP: &str = "15";

/// The step folders `01-...` to `17-...`, in order.
pub fn step_folders() -> Vec<String> {
    let mut steps: Vec<String> = std::fs::read_dir(project_root().join("chapters"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            let number = name.get(..2).and_then(|n| n.parse::<u32>().ok());
            matches!(number, Some(1..=17))
        })
        .collect();
    steps.sort();
    steps
}

/// Every item, in the order of the README: the examples, the steps, the systems.
pub fn items() -> Vec<Item> {
    let item = |name: &str, kind, need, program: &str, args: &[&str]| Item {
        name: name.to_string(),
        kind,
        need,
        program: program.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    let mut items = vec![
        item(
            "minimal",
            Kind::Example,
            Need::Nothing,
            "minimal-scheduler",
            &[],
        ),
        item(
            "skeleton",
            Kind::Example,
            Need::Nothing,
            "skeleton-scheduler",
            &[],
        ),
    ];
    for folder in step_folders() {
        let number = &folder[..2];
        let need = match number {
            n if FAULT_STEPS.contains(&n) => Need::Fault,
            CREDENTIALS_STEP => Need::Credentials,
            TLS_STEP => Need::TlsAndCredentials,
            _ => Need::Nothing,
        };
        let program = format!("ch{number}-scheduler");
        items.push(item(&folder, Kind::Step, need, &program, &[]));
    }
    // The systems, with the arguments of their READMEs (the ETL runner's job count as
    // the real-cluster run of issue 19; the SDK's app file is written per run, below).
    items.push(item(
        "18-offer-proxy",
        Kind::System,
        Need::Nothing,
        "offer-proxy",
        &["--exit-after", "3"],
    ));
    items.push(item(
        "19-etl-runner",
        Kind::System,
        Need::Nothing,
        "etl-runner",
        &[
            "--jobs",
            "4",
            "--maxtasks",
            "2",
            "--cmd",
            "echo job $ETL_JOB",
        ],
    ));
    items.push(item(
        "20-framework-sdk",
        Kind::System,
        Need::Nothing,
        "sdk-scheduler",
        &["--until-running"],
    ));
    items
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It exited 0, printed no task that ended [`REFUSED`], and left no framework
    /// registered.
    Passed,
    /// It did not: why (`exit status 1`, `still running after 120 s (killed)`, a framework left behind)
    /// and the last lines of its output.
    Failed {
        /// What went wrong, in a few words.
        why: String,
        /// The last lines of its output.
        tail: Vec<String>,
    },
    /// Not run, and why.
    Skipped(Skip),
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct ItemReport {
    /// The item's name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran.
    pub took: Duration,
    /// The file holding its output (none when skipped).
    pub log: Option<PathBuf>,
    /// What the runner did after it (frameworks torn down, a teardown that failed).
    pub notes: Vec<String>,
}

/// The results of one run.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the items were run against (the settings).
    pub header: String,
    /// What the runner did before the items (frameworks an earlier run left behind).
    pub notes: Vec<String>,
    /// One entry per item, in order.
    pub items: Vec<ItemReport>,
    /// How long the whole run took.
    pub took: Duration,
}

impl Report {
    /// The items that failed.
    pub fn failed(&self) -> Vec<&ItemReport> {
        self.items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Failed { .. }))
            .collect()
    }

    /// The entry of item `name`.
    pub fn item(&self, name: &str) -> Option<&ItemReport> {
        self.items.iter().find(|i| i.name == name)
    }

    /// The report as printed: the settings, one line per item (a failure with its last
    /// lines, a skip with its reason), and the totals.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== mesos-rs-toolkit against a master ==");
        out.push_str(&self.header);
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out.push('\n');
        let width = self.items.iter().map(|i| i.name.len()).max().unwrap_or(0);
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        for item in &self.items {
            let took = format!("{:.1} s", item.took.as_secs_f64());
            match &item.outcome {
                Outcome::Passed => {
                    passed += 1;
                    let _ = writeln!(out, "{:<width$}  pass     {took}", item.name);
                }
                Outcome::Failed { why, tail } => {
                    failed += 1;
                    let _ = writeln!(out, "{:<width$}  FAIL     {why} ({took})", item.name);
                    for line in tail {
                        let _ = writeln!(out, "{:width$}    | {line}", "");
                    }
                    if let Some(log) = &item.log {
                        let _ = writeln!(out, "{:width$}    (all of it: {})", "", log.display());
                    }
                }
                Outcome::Skipped(skip) => {
                    skipped += 1;
                    let _ = writeln!(out, "{:<width$}  skipped  {}", item.name, skip.reason());
                }
            }
            for note in &item.notes {
                let _ = writeln!(out, "{:width$}    note: {note}", "");
            }
        }
        let _ = writeln!(
            out,
            "\n{} items: {passed} passed, {failed} failed, {skipped} skipped ({:.0} s)",
            self.items.len(),
            self.took.as_secs_f64()
        );
        out
    }
}

/// Runs every item (or only those named in `only`) against `settings.master`, one after
/// the other, and prints a line per item as it ends.
///
/// # Panics
///
/// When the workspace's binaries cannot be built, or `settings.out_dir` cannot be made.
pub fn run(settings: &Settings, only: Option<&[&str]>) -> Report {
    let bins = crate::binaries::workspace_bins().unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let earlier = earlier_frameworks(settings);
    let _ = std::fs::remove_dir_all(&settings.out_dir);
    std::fs::create_dir_all(&settings.out_dir)
        .and_then(|()| std::fs::write(settings.out_dir.join(MASTER_FILE), &settings.master))
        .unwrap_or_else(|e| panic!("{}: {e}", settings.out_dir.display()));
    let mut notes = Vec::new();
    for id in earlier {
        match tear_down(settings, &id) {
            Leftover::Gone => {}
            Leftover::TornDown => notes.push(format!(
                "tore down framework {id}, which an earlier run left registered"
            )),
            Leftover::Unknown(why) => notes.push(format!(
                "could not check that framework {id} of an earlier run is gone: {why}"
            )),
        }
    }
    let mut reports = Vec::new();
    let chosen: Vec<Item> = items()
        .into_iter()
        .filter(|i| only.is_none_or(|names| names.contains(&i.name.as_str())))
        .collect();
    for (n, item) in chosen.iter().enumerate() {
        let report = run_item(settings, bins, item);
        let verdict = match &report.outcome {
            Outcome::Passed => "pass".to_string(),
            Outcome::Failed { why, .. } => format!("FAIL: {why}"),
            Outcome::Skipped(_) => "skipped".to_string(),
        };
        println!(
            "[{}/{}] {}: {verdict} ({:.1} s)",
            n + 1,
            chosen.len(),
            item.name,
            report.took.as_secs_f64()
        );
        reports.push(report);
    }
    Report {
        header: settings.describe(),
        notes,
        items: reports,
        took: start.elapsed(),
    }
}

/// The file in the output folder that names the master a run was against.
const MASTER_FILE: &str = "master";

/// The most framework ids of an earlier run checked at the start of a run.
const MAX_EARLIER_FRAMEWORKS: usize = 256;

/// The frameworks an earlier run against the same master registered, from its output
/// files: a run that was interrupted (Ctrl-C on the test) tore none of them down, and
/// some keep their tasks for a while (`failover_timeout`), holding resources.
fn earlier_frameworks(settings: &Settings) -> Vec<String> {
    let dir = &settings.out_dir;
    let same_master = std::fs::read_to_string(dir.join(MASTER_FILE))
        .is_ok_and(|m| m.trim() == settings.master.trim());
    if !same_master {
        return Vec::new();
    }
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let mut ids: Vec<String> = logs.iter().flat_map(|log| framework_ids(log)).collect();
    ids.truncate(MAX_EARLIER_FRAMEWORKS);
    ids
}

/// Why `item` cannot run with `settings`, if it cannot.
fn skip(settings: &Settings, item: &Item) -> Option<Skip> {
    match item.need {
        Need::Nothing => None,
        Need::Fault => Some(Skip::Fault(item.name.clone())),
        Need::Credentials if !settings.has_credentials() => Some(Skip::Credentials),
        Need::TlsAndCredentials if !(settings.has_credentials() && settings.is_https()) => {
            Some(Skip::Tls)
        }
        Need::Credentials | Need::TlsAndCredentials => None,
    }
}

fn run_item(settings: &Settings, bins: &Path, item: &Item) -> ItemReport {
    let mut report = ItemReport {
        name: item.name.clone(),
        outcome: Outcome::Passed,
        took: Duration::ZERO,
        log: None,
        notes: Vec::new(),
    };
    if let Some(skip) = skip(settings, item) {
        report.outcome = Outcome::Skipped(skip);
        return report;
    }
    let start = Instant::now();
    let log = settings.out_dir.join(format!("{}.log", item.name));
    report.log = Some(log.clone());
    let ended = match prepare(settings, bins, item) {
        Ok(Prepared { args, backend }) => {
            let program = bins.join(&item.program);
            let ended = run_process(&program, &args, &workdir(settings, item), &log, settings);
            drop(backend); // the offer proxy's backend ends with the proxy
            ended
        }
        Err(why) => Ended::NotStarted(why),
    };
    report.took = start.elapsed();
    let frameworks = framework_ids(&log);
    let mut left = Vec::new();
    for id in &frameworks {
        match tear_down(settings, id) {
            Leftover::Gone => {}
            Leftover::TornDown => left.push(id.clone()),
            Leftover::Unknown(why) => report.notes.push(format!(
                "could not check that framework {id} is gone: {why}"
            )),
        }
    }
    let why = match ended {
        Ended::NotStarted(why) => Some(why),
        Ended::Exited(status) if !status.success() => Some(describe_status(status)),
        Ended::Killed => Some(format!(
            "still running after {} s (killed)",
            settings.deadline.as_secs()
        )),
        Ended::Exited(_) if !left.is_empty() => Some(format!(
            "exited 0 but left framework {} registered",
            left.join(", ")
        )),
        Ended::Exited(_) => first_line_with(&log, REFUSED)
            .map(|line| format!("exited 0 but a task ended {REFUSED}: {}", line.trim())),
    };
    if !left.is_empty() {
        report.notes.push(format!(
            "the runner tore down framework {} (still registered after the item ended)",
            left.join(", ")
        ));
    }
    if let Some(why) = why {
        report.outcome = Outcome::Failed {
            why,
            tail: tail(&log, TAIL_LINES),
        };
    }
    report
}

/// An item's working folder: its own, so that no file of an earlier run (a framework
/// id file, a state file) is picked up.
fn workdir(settings: &Settings, item: &Item) -> PathBuf {
    settings.out_dir.join(&item.name)
}

/// What an item is started with, and what it needs running beside it.
struct Prepared {
    args: Vec<String>,
    backend: Option<Backend>,
}

/// Builds the command line of `item`: its own arguments, the connection options, and
/// `--advertise-ip` when the program ships an executor (it says so in its `--help`).
fn prepare(settings: &Settings, bins: &Path, item: &Item) -> Result<Prepared, String> {
    let dir = workdir(settings, item);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let program = bins.join(&item.program);
    let mut args = item.args.clone();
    args.extend(settings.connection_args());
    if let Some(ip) = settings.advertise_ip
        && takes_option(&program, "--advertise-ip")?
    {
        args.extend(["--advertise-ip".into(), ip.to_string()]);
    }
    let mut backend = None;
    match item.program.as_str() {
        "offer-proxy" => {
            let log = settings.out_dir.join(format!("{}.backend.log", item.name));
            let started = Backend::start(&bins.join("offer-proxy-example-backend"), &log, 3)?;
            args.extend(["--api-url".into(), started.url.clone()]);
            backend = Some(started);
        }
        "sdk-scheduler" => {
            let app = sdk_app(&dir)?;
            args.extend(["--app".into(), app.display().to_string()]);
        }
        _ => {}
    }
    Ok(Prepared { args, backend })
}

/// Whether `program --help` lists `option`.
fn takes_option(program: &Path, option: &str) -> Result<bool, String> {
    let out = Command::new(program)
        .arg("--help")
        .env_remove("MESOS_MASTER")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} --help: {e}", program.display()))?;
    Ok(String::from_utf8_lossy(&out.stdout).contains(option))
}

/// The SDK's example app (chapters/20-framework-sdk/app.json) without the kinds that ask
/// for agent attributes (its `worker` wants `zone=a`, which a cluster need not have, and
/// `--until-running` would then wait forever), written into `dir`.
fn sdk_app(dir: &Path) -> Result<PathBuf, String> {
    let source = project_root().join("chapters/20-framework-sdk/app.json");
    let text =
        std::fs::read_to_string(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let mut app: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", source.display()))?;
    let Some(tasks) = app.get_mut("tasks").and_then(|t| t.as_array_mut()) else {
        return Err(format!("{}: no `tasks` list", source.display()));
    };
    tasks.retain(|t| {
        t.get("attributes")
            .and_then(|a| a.as_array())
            .is_none_or(|a| a.is_empty())
    });
    if tasks.is_empty() {
        return Err(format!("{}: every kind wants attributes", source.display()));
    }
    let path = dir.join("app.json");
    std::fs::write(&path, app.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The offer proxy's example backend, on a free port of 127.0.0.1; killed when dropped.
struct Backend {
    child: Child,
    url: String,
}

impl Backend {
    fn start(program: &Path, log: &Path, tasks: u32) -> Result<Backend, String> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(["--listen", &listen, "--tasks", &tasks.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut backend = Backend {
            child,
            url: format!("http://{listen}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&listen).is_err() {
            if let Ok(Some(status)) = backend.child.try_wait() {
                return Err(format!(
                    "the example backend exited ({status}): {}",
                    tail(log, 3).join(" / ")
                ));
            }
            if Instant::now() >= deadline {
                return Err("the example backend did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(backend)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// How an item's process ended.
enum Ended {
    /// It could not be started (the message says why).
    NotStarted(String),
    /// It exited.
    Exited(ExitStatus),
    /// It was still running at the deadline and was killed.
    Killed,
}

fn run_process(
    program: &Path,
    args: &[String],
    dir: &Path,
    log: &Path,
    settings: &Settings,
) -> Ended {
    let files = std::fs::File::create(log).and_then(|f| Ok((f.try_clone()?, f)));
    let (out, err) = match files {
        Ok(files) => files,
        Err(e) => return Ended::NotStarted(format!("{}: {e}", log.display())),
    };
    // The master is always given by --master: the binaries read MESOS_MASTER too.
    let spawned = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("MESOS_MASTER")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Ended::NotStarted(format!("cannot start {}: {e}", program.display())),
    };
    let deadline = Instant::now() + settings.deadline;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Ended::Killed;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Ended::NotStarted(format!("cannot wait for it: {e}"));
            }
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// The last `n` lines of `file` (of its last 64 KiB at most).
pub fn tail(file: &Path, n: usize) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(file) else {
        return vec![format!("(no output file {})", file.display())];
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut bytes = Vec::new();
    let _ = f.take(TAIL_BYTES).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut tail: Vec<String> = lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect();
    if tail.is_empty() {
        tail.push("(no output)".into());
    }
    tail
}

/// The task state no item's README promises: the master or the agent refused the task
/// (an invalid `TaskInfo`, a task group Mesos does not accept). A run that printed it did
/// not do what it teaches, whatever its exit status.
pub const REFUSED: &str = "TASK_ERROR";

/// The first line of `file` that contains `needle`.
fn first_line_with(file: &Path, needle: &str) -> Option<String> {
    let file = std::fs::File::open(file).ok()?;
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains(needle))
}

/// The framework ids an item's output names (`... as framework <id> ...`, which the
/// driver logs at every SUBSCRIBED), each once, in order.
pub fn framework_ids(log: &Path) -> Vec<String> {
    let Ok(file) = std::fs::File::open(log) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for line in BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        let mut rest = line.as_str();
        while let Some(at) = rest.find("as framework ") {
            rest = &rest[at + "as framework ".len()..];
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !id.is_empty() && ids.len() < MAX_FRAMEWORKS_PER_ITEM && seen.insert(id.clone()) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Whether a framework an item registered was still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// The master had removed it ("Framework has been removed").
    Gone,
    /// It was still registered; the runner subscribed under its id and tore it down.
    TornDown,
    /// The master could not be asked (the reason).
    Unknown(String),
}

/// Subscribes under `id` and sends TEARDOWN: the master answers a removed framework with
/// ERROR "Framework has been removed" (fact sheet §1.10), and one it still has (an item
/// killed at its deadline, one that ended without TEARDOWN) is removed now, its tasks
/// killed. A failover of the item's framework is safe: its process has ended.
pub fn tear_down(settings: &Settings, id: &str) -> Leftover {
    /// Tears the framework down as soon as it is subscribed.
    struct TearDown;
    impl Scheduler for TearDown {
        fn subscribed(
            &mut self,
            handle: &SchedulerHandle,
            _: &event::Subscribed,
        ) -> mesos_client::Result<()> {
            handle.teardown()
        }
        fn error(&mut self, _: &SchedulerHandle, _: &str) -> mesos_client::Result<()> {
            Ok(()) // `run` returns the reason, which is all we want
        }
    }
    let info = FrameworkInfo {
        user: default_user(),
        name: "e2e-real-master-cleanup".into(),
        id: Some(FrameworkId {
            value: id.to_string(),
        }),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(settings.master.clone(), info);
    config.request_timeout = CLEANUP_DEADLINE;
    config.max_reconnect_attempts = Some(2);
    if let Err(e) = settings.connection().apply(&mut config) {
        return Leftover::Unknown(e.to_string());
    }
    let mut driver = match SchedulerDriver::new(config) {
        Ok(driver) => driver,
        Err(e) => return Leftover::Unknown(e.to_string()),
    };
    let handle = driver.handle();
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = tx.send(driver.run(&mut TearDown));
    });
    match rx.recv_timeout(CLEANUP_DEADLINE + Duration::from_secs(5)) {
        Ok(Ok(())) if handle.is_torn_down() => Leftover::TornDown,
        Ok(Ok(())) => Leftover::Unknown("the driver stopped before TEARDOWN".into()),
        Ok(Err(Error::FrameworkRemoved)) => Leftover::Gone,
        Ok(Err(e)) => Leftover::Unknown(e.to_string()),
        Err(_) => {
            handle.stop(mesos_client::StopMode::Failover);
            Leftover::Unknown(format!("no answer within {} s", CLEANUP_DEADLINE.as_secs()))
        }
    }
}

/// A devcluster started as a process of its own, on a free port of 127.0.0.1, that this
/// test treats as a stranger's master. Stopped (SIGINT, then SIGKILL) when dropped.
pub struct DevclusterProcess {
    child: Child,
    /// Its master, as `--master` takes it (`127.0.0.1:port`, or `https://...` with TLS).
    pub master: String,
}

impl DevclusterProcess {
    /// Starts `devcluster` with `args` (besides `--port` and `--work-dir`), its output in
    /// `log`, and waits until its master listens. `https` says whether it serves TLS.
    ///
    /// # Errors
    ///
    /// When it exits before listening (three times, each on another free port: a port
    /// found free can be taken before devcluster binds it) or does not listen in 30 s.
    pub fn start(
        program: &Path,
        args: &[String],
        work_dir: &Path,
        log: &Path,
        https: bool,
    ) -> Result<DevclusterProcess, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(program)
                .args(["--port", &port.to_string(), "--work-dir"])
                .arg(work_dir)
                .args(args)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
            let scheme = if https { "https://" } else { "" };
            let mut cluster = DevclusterProcess {
                child,
                master: format!("{scheme}127.0.0.1:{port}"),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(cluster);
                }
                if let Ok(Some(status)) = cluster.child.try_wait() {
                    last = format!("devcluster exited ({status}): {}", tail(log, 5).join(" / "));
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(format!("devcluster did not listen on port {port} in 30 s"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(last)
    }
}

impl Drop for DevclusterProcess {
    fn drop(&mut self) {
        // Ctrl-C stops it cleanly (its tasks too); a kill by its handle if it does not.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_masters_are_recognised() {
        for m in [
            "127.0.0.1:5050",
            "localhost:5050",
            "https://127.0.0.1:5050",
            "[::1]:5050",
            "127.0.0.1:5050,10.0.0.1:5050",
        ] {
            assert!(is_loopback_master(m), "{m}");
        }
        for m in [
            "10.141.141.10:5050",
            "zk://10.0.0.1:2181/mesos",
            "mesos:5050",
        ] {
            assert!(!is_loopback_master(m), "{m}");
        }
    }

    #[test]
    fn framework_ids_are_read_from_the_driver_lines() {
        let dir = std::env::temp_dir().join(format!("e2e-rm-ids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("x.log");
        std::fs::write(
            &log,
            "INFO subscribed at http://h:5050/api/v1/scheduler as framework abc-0001 (stream s)\n\
             INFO subscribed as framework abc-0001\nINFO nothing here\n\
             INFO subscribed as framework abc-0002.\n",
        )
        .unwrap();
        let ids = framework_ids(&log);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(ids, ["abc-0001", "abc-0002"]);
    }

    #[test]
    fn the_report_shows_a_failure_with_its_last_lines_and_a_skip_with_its_reason() {
        let report = Report {
            header: "master: m\n".into(),
            notes: vec![],
            items: vec![
                ItemReport {
                    name: "05-custom-executor".into(),
                    outcome: Outcome::Failed {
                        why: "exit status 1".into(),
                        tail: vec!["task-1 is TASK_ERROR".into()],
                    },
                    took: Duration::from_secs(2),
                    log: Some("/x/05-custom-executor.log".into()),
                    notes: vec![],
                },
                ItemReport {
                    name: "14-basic-auth".into(),
                    outcome: Outcome::Skipped(Skip::Credentials),
                    took: Duration::ZERO,
                    log: None,
                    notes: vec![],
                },
            ],
            took: Duration::from_secs(3),
        };
        let text = report.render();
        assert!(
            text.contains("05-custom-executor  FAIL     exit status 1"),
            "{text}"
        );
        assert!(text.contains("| task-1 is TASK_ERROR"), "{text}");
        assert!(text.contains(&Skip::Credentials.reason()), "{text}");
        assert!(
            text.contains("2 items: 0 passed, 1 failed, 1 skipped"),
            "{text}"
        );
        assert_eq!(report.failed().len(), 1);
    }

    #[test]
    fn the_fault_steps_are_the_steps_that_inject_faults() {
        for folder in step_folders() {
            let src = project_root().join("chapters").join(&folder).join("src");
            let injects = crate::binaries::rust_sources(&src)
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .any(|text| text.contains("mesos_client::faults") || text.contains("Fault::"));
            assert_eq!(
                injects,
                FAULT_STEPS.contains(&&folder[..2]),
                "{folder}: FAULT_STEPS must list exactly the steps that inject faults"
            );
        }
    }

    /// A scratch folder under the system's temp folder, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("e2e-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A "master" that answers every request `401 Unauthorized`.
    fn refusing_master() -> u16 {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        port
    }

    #[test]
    fn an_item_that_fails_is_reported_with_its_exit_status_and_last_lines() {
        let scratch = Scratch::new("real-master-fail");
        let master = format!("127.0.0.1:{}", refusing_master());
        let mut settings = Settings::new(&master, &scratch.0.join("out"));
        settings.deadline = Duration::from_secs(60);
        let report = run(&settings, Some(&["01-subscribe"]));
        let text = report.render();
        let item = report.item("01-subscribe").expect("in the report");
        let Outcome::Failed { why, tail } = &item.outcome else {
            panic!("{text}");
        };
        assert!(why.starts_with("exit status "), "{text}");
        assert!(tail.iter().any(|l| l.contains("401")), "{text}");
        assert!(text.contains("01-subscribe  FAIL"), "{text}");
    }

    #[test]
    fn an_item_that_leaves_its_framework_registered_fails_and_it_is_torn_down() {
        // The fake master never removes a framework: after step 01's TEARDOWN, the
        // runner's own SUBSCRIBE under the same id gets in, as it would on a master where
        // the item ended without TEARDOWN.
        let fake = crate::fake_master::FakeMaster::start();
        let scratch = Scratch::new("real-master-left");
        let master = format!("127.0.0.1:{}", fake.port);
        let mut settings = Settings::new(&master, &scratch.0.join("out"));
        settings.deadline = Duration::from_secs(60);
        let report = run(&settings, Some(&["01-subscribe"]));
        let text = report.render();
        let item = report.item("01-subscribe").expect("in the report");
        let id = crate::fake_master::FRAMEWORK_ID;
        let Outcome::Failed { why, .. } = &item.outcome else {
            panic!("{text}");
        };
        assert_eq!(why, &format!("exited 0 but left framework {id} registered"));
        assert!(item.notes.iter().any(|n| n.contains("tore down")), "{text}");
        // The step's own SUBSCRIBE and the runner's, under the step's framework id.
        let subscribes = fake.subscribes();
        assert_eq!(subscribes.len(), 2, "{subscribes:?}");
        assert!(subscribes[1].contains(id), "{subscribes:?}");

        // The next run against the same master first tears down what the output of the
        // earlier one names (here the fake master lets it in again).
        let next = run(&settings, Some(&[]));
        assert!(next.items.is_empty());
        let note = format!("tore down framework {id}, which an earlier run left registered");
        assert_eq!(next.notes, std::slice::from_ref(&note), "{}", next.render());
        assert!(next.render().contains(&note));
        assert_eq!(fake.subscribes().len(), 3);
        // Against another master, nothing of it is touched.
        let other = Settings::new("127.0.0.1:9", &settings.out_dir);
        assert!(run(&other, Some(&[])).notes.is_empty());
    }

    #[test]
    fn an_item_that_exits_0_after_a_task_error_fails() {
        // A stand-in program: prints what step 17 printed on Mesos 1.12 (issue 19), exits 0.
        use std::os::unix::fs::PermissionsExt;
        let scratch = Scratch::new("real-master-task-error");
        let bins = scratch.0.join("bins");
        std::fs::create_dir_all(&bins).unwrap();
        let program = bins.join("stand-in-scheduler");
        std::fs::write(
            &program,
            "#!/bin/sh\necho 'task-1 is TASK_ERROR (from SOURCE_MASTER, reason \
             REASON_TASK_GROUP_INVALID)'\necho 'stopping after TEARDOWN'\nexit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let settings = Settings::new("127.0.0.1:9", &scratch.0.join("out"));
        std::fs::create_dir_all(&settings.out_dir).unwrap();
        let item = Item {
            name: "17-default-executor".into(),
            kind: Kind::Step,
            need: Need::Nothing,
            program: "stand-in-scheduler".into(),
            args: Vec::new(),
        };
        let report = run_item(&settings, &bins, &item);
        let Outcome::Failed { why, tail } = &report.outcome else {
            panic!("{report:?}");
        };
        assert!(
            why.starts_with("exited 0 but a task ended TASK_ERROR: task-1 is TASK_ERROR"),
            "{why}"
        );
        assert_eq!(
            tail.last().map(String::as_str),
            Some("stopping after TEARDOWN")
        );
    }

    #[test]
    fn an_item_past_its_deadline_is_killed_and_its_framework_torn_down() {
        // A master without agents: no offers, so both wait for ever. The ETL runner keeps
        // its framework for 600 s after it is gone (its failover timeout): the runner must
        // remove it. (Step 03 keeps none, but a master may not have noticed yet that its
        // connection is gone: either way, it must be gone afterwards.)
        let scratch = Scratch::new("real-master-deadline");
        let cluster = DevclusterProcess::start(
            &crate::binaries::workspace_bin("devcluster"),
            &["--agents".into(), "0".into()],
            &scratch.0.join("cluster"),
            &scratch.0.join("cluster.log"),
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut settings = Settings::new(&cluster.master, &scratch.0.join("out"));
        settings.deadline = Duration::from_secs(3);
        let report = run(&settings, Some(&["03-command-task", "19-etl-runner"]));
        let text = report.render();
        for name in ["03-command-task", "19-etl-runner"] {
            let item = report.item(name).expect("in the report");
            let Outcome::Failed { why, .. } = &item.outcome else {
                panic!("{text}");
            };
            assert_eq!(why, "still running after 3 s (killed)", "{text}");
        }
        let etl = report.item("19-etl-runner").expect("in the report");
        assert!(
            etl.notes
                .iter()
                .any(|n| n.starts_with("the runner tore down framework ")),
            "{text}"
        );
        // The master agrees: no framework is left active.
        let state = crate::http::get(&cluster.master, "/master/state").json();
        assert_eq!(state["frameworks"], serde_json::json!([]), "{state}");
        let done = state["completed_frameworks"].as_array().map_or(0, Vec::len);
        assert_eq!(done, 2, "{state}");
    }
}
