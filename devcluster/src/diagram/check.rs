//! Checked-in pictures of a program's run: a chapter step's test draws the sequence
//! diagram of its own run into the step's folder and fails when the program no longer
//! talks the way the checked-in picture shows.
//!
//! A step's folder holds, next to its `README.md` (which shows the picture below its
//! `<!-- diagram -->` slot):
//!
//! - `sequence.svg`: the diagram of one run, drawn with [`RenderOptions::stable`] (no
//!   times, no ids: it only changes when it is regenerated);
//! - `sequence.txt`: the [`Normalized`] form of that run, what the test compares.
//!
//! The test calls [`check_diagram!`](crate::check_diagram) (`observe::check_diagram!` in
//! the chapters) once the step has run. With `UPDATE_DIAGRAMS=1` in the environment it
//! writes both files and the README's diagram block instead of comparing:
//!
//! ```text
//! UPDATE_DIAGRAMS=1 cargo test -p ch05-custom-executor
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::model::{PartyKind, Step};
use super::svg::RenderOptions;
use super::{Direction, Normalized, Sequence, Timeline};
use crate::Cluster;

/// Entries read per framework: the recorder keeps at most 5,000 (its bound).
const ENTRY_LIMIT: usize = 5000;

/// How long to wait for what a TEARDOWN set going (executors shutting down) to be
/// recorded: a deadline to stop waiting, not a timing the check relies on.
const SETTLE_DEADLINE: Duration = Duration::from_secs(20);

/// The environment variable that makes the check write the files instead of comparing.
pub const UPDATE_VAR: &str = "UPDATE_DIAGRAMS";

/// The README's slot for the picture; the generated block ends at [`SLOT_END`].
pub const SLOT: &str = "<!-- diagram -->";
/// The end of the generated block under [`SLOT`].
pub const SLOT_END: &str = "<!-- /diagram -->";

/// The cluster's record of every framework, in the form `GET /devcluster/diagram.json`
/// serves (what [`Timeline::from_json`] reads), read in process.
pub fn record(cluster: &Cluster) -> Value {
    let index = cluster.timeline(None, 0).unwrap_or(Value::Null);
    let frameworks: Vec<Value> = index["frameworks"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|f| f["id"].as_str())
                .filter_map(|id| cluster.timeline(Some(id), ENTRY_LIMIT))
                .collect()
        })
        .unwrap_or_default();
    json!({ "frameworks": frameworks })
}

/// Whether the record is complete, for a framework that was torn down: every agent in
/// `agents` has recorded the master's `ShutdownFrameworkMessage` (an agent records what
/// the master sends it when it gets it, in order, so everything before it is there too),
/// and every executor the framework had has been reported gone (`ExitedExecutorMessage`).
/// What a TEARDOWN sets going (SHUTDOWN to the executors, their last updates, their
/// exit) goes on after the program returned.
pub fn settled(t: &Timeline, agents: &[String]) -> bool {
    t.frameworks.iter().all(|f| {
        let Some(teardown) = f
            .entries
            .iter()
            .rposition(|e| e.direction == Direction::Call && e.kind == "TEARDOWN")
        else {
            return true;
        };
        let told: std::collections::BTreeSet<&str> = f.entries[teardown..]
            .iter()
            .filter(|e| e.direction == Direction::ToAgent && e.kind == "ShutdownFrameworkMessage")
            .filter_map(|e| e.agent_id.as_deref())
            .collect();
        if !agents.iter().all(|a| told.contains(a.as_str())) {
            return false;
        }
        let mut started = std::collections::BTreeSet::new();
        let mut exited = std::collections::BTreeSet::new();
        for e in &f.entries {
            if let Some(x) = &e.executor_id {
                started.insert(x.clone());
            }
            let Some(m) = &e.message else { continue };
            let named = match e.kind.as_str() {
                "RunTaskGroupMessage" => m["executor_id"].as_str(),
                "RunTaskMessage" => m["task"]["executor"]["executor_id"]["value"].as_str(),
                "ExitedExecutorMessage" => {
                    if let Some(x) = m["executor_id"].as_str() {
                        exited.insert(x.to_string());
                    }
                    None
                }
                _ => None,
            };
            if let Some(x) = named {
                started.insert(x.to_string());
            }
        }
        started.is_subset(&exited)
    })
}

/// The record once [`settled`] (or at [`SETTLE_DEADLINE`], as it is then).
fn settled_record(cluster: &Cluster) -> (Value, Timeline) {
    let deadline = Instant::now() + SETTLE_DEADLINE;
    loop {
        let v = record(cluster);
        let t = Timeline::from_json(&v).unwrap_or_default();
        if settled(&t, &cluster.agent_ids()) || Instant::now() >= deadline {
            return (v, t);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a step's folder holds for its picture.
struct Files {
    dir: PathBuf,
    package: String,
}

impl Files {
    fn txt(&self) -> PathBuf {
        self.dir.join("sequence.txt")
    }
    fn svg(&self) -> PathBuf {
        self.dir.join("sequence.svg")
    }
    fn readme(&self) -> PathBuf {
        self.dir.join("README.md")
    }
    fn command(&self) -> String {
        format!("{UPDATE_VAR}=1 cargo test -p {}", self.package)
    }
    /// `chapters/05-custom-executor/sequence.txt`: the folder and its parent.
    fn shown(&self, file: &str) -> String {
        let mut parts: Vec<String> = self
            .dir
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.reverse();
        format!("{}/{file}", parts.join("/"))
    }
}

/// The comment at the top of `sequence.txt`.
fn header(files: &Files) -> String {
    format!(
        "# The messages of this step's own run, normalized: what its test compares with each new run.\n\
         # Kept: who sends what about which task or executor, in order per direction; left out:\n\
         # heartbeats, offers and declines, resent updates, timing (devcluster::diagram::Normalized).\n\
         # The picture of the same run is sequence.svg. After changing the step, regenerate both:\n\
         #   {}\n",
        files.command()
    )
}

/// The README's block under the slot: the picture and how it is made.
fn readme_block(files: &Files, seq: &Sequence) -> String {
    let parties: Vec<String> = seq
        .parties
        .iter()
        .map(|p| format!("{} {}", p.kind.as_str(), p.short))
        .collect();
    let executor_lane = seq.parties.iter().any(|p| p.kind == PartyKind::Executor);
    let sent = |kind: &str| {
        seq.steps
            .iter()
            .any(|s| matches!(s, Step::Message(a) if a.kind == kind))
    };
    // Executors devcluster's agent plays itself speak no executor API: no lane to draw.
    let note = if executor_lane {
        ""
    } else if sent("RunTaskGroupMessage") {
        " (Mesos' default executor is played by devcluster's agent: it has no lane)"
    } else if sent("RunTaskMessage") {
        " (the command executor is played by devcluster's agent: it has no lane)"
    } else {
        ""
    };
    format!(
        "{SLOT}\n![Sequence diagram of this step's run: {}](sequence.svg)\n\n\
         *The messages of this step's own run{note}, drawn by its test from devcluster's record \
         (heartbeats folded, ids and times left out). The test compares each new run with \
         [sequence.txt](sequence.txt); after changing the step, `{}` redraws both.*\n{SLOT_END}",
        parties.join(", "),
        files.command()
    )
}

/// `text` with the block under [`SLOT`] replaced by `block` (up to [`SLOT_END`], or the
/// slot alone when there is no block yet); `None` without a slot.
fn with_block(text: &str, block: &str) -> Option<String> {
    let start = text.find(SLOT)?;
    let end = match text[start..].find(SLOT_END) {
        Some(i) => start + i + SLOT_END.len(),
        None => start + SLOT.len(),
    };
    Some(format!("{}{block}{}", &text[..start], &text[end..]))
}

/// Where a mismatching run's files are kept for a look.
fn scratch(package: &str) -> PathBuf {
    std::env::temp_dir()
        .join("devcluster-diagrams")
        .join(package)
}

/// Checks (or, with `UPDATE_DIAGRAMS=1`, writes) the picture of a program's run kept in
/// `dir` (a chapter step's folder; `package` is its Cargo package, for the command that
/// redraws it), once the cluster's record is complete (see [`settled`]). Panics, with the
/// difference and that command, when this run's [`Normalized`] form differs from
/// `dir/sequence.txt`, or when a file is missing. [`check_diagram!`](crate::check_diagram)
/// passes the caller's folder and package.
pub fn check_step(cluster: &Cluster, dir: &str, package: &str) {
    let (record, timeline) = settled_record(cluster);
    let update = std::env::var(UPDATE_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    match check_files(&timeline, Some(&record), Path::new(dir), package, update) {
        Ok(done) => {
            if update {
                eprintln!("{done}");
            }
        }
        Err(failure) => panic!("{failure}"),
    }
}

/// What [`check_step`] does with a recorded timeline: with `update`, writes
/// `dir/sequence.txt`, `dir/sequence.svg` and the block under the README's
/// `<!-- diagram -->` line (and says what it wrote); else compares `timeline` with
/// `dir/sequence.txt` and checks that the picture and the README's reference to it are
/// there. The error is the message for the reader: the difference (`-` kept, `+` this
/// run) and the command that redraws. On a difference, this run's files and `record` are
/// kept in the temporary directory (`devcluster-diagrams/PACKAGE`) for a look.
pub fn check_files(
    timeline: &Timeline,
    record: Option<&Value>,
    dir: &Path,
    package: &str,
    update: bool,
) -> Result<String, String> {
    let files = Files {
        dir: dir.to_path_buf(),
        package: package.to_string(),
    };
    let now = Normalized::from_timeline(timeline);
    let seq = Sequence::from_timeline(timeline);
    let svg = super::render_sequence(&seq, &RenderOptions::stable());
    if update {
        let text = format!("{}{}", header(&files), now.to_text());
        let readme = std::fs::read_to_string(files.readme()).unwrap_or_default();
        let Some(new) = with_block(&readme, &readme_block(&files, &seq)) else {
            return Err(format!(
                "{} has no `{SLOT}` line to put the picture under",
                files.shown("README.md")
            ));
        };
        write(&files.txt(), &text)?;
        write(&files.svg(), &svg)?;
        if new != readme {
            write(&files.readme(), &new)?;
        }
        return Ok(format!(
            "wrote {} ({} lines) and {} ({} bytes)",
            files.shown("sequence.txt"),
            now.lines.len(),
            files.shown("sequence.svg"),
            svg.len()
        ));
    }
    let Ok(kept) = std::fs::read_to_string(files.txt()) else {
        return Err(format!(
            "{} is missing: draw this step's picture with\n  {}",
            files.shown("sequence.txt"),
            files.command()
        ));
    };
    if let Some(diff) = Normalized::parse(&kept).diff(&now) {
        let keep = scratch(package);
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::write(keep.join("sequence.txt"), now.to_text());
        let _ = std::fs::write(keep.join("sequence.svg"), &svg);
        if let Some(r) = record {
            let _ = std::fs::write(
                keep.join("record.json"),
                serde_json::to_string_pretty(r).unwrap_or_default(),
            );
        }
        let dropped: u64 = timeline.frameworks.iter().map(|f| f.dropped).sum();
        let dropped = if dropped > 0 {
            format!(
                "(The recorder dropped {dropped} older entries of this run: its bound; \
                 the first lines are missing for that.)\n"
            )
        } else {
            String::new()
        };
        return Err(format!(
            "This run's messages differ from the ones kept in {} \
             (- kept, + this run):\n{diff}{dropped}\n\
             If the step changed on purpose, redraw the picture and its sequence:\n  {}\n\
             (this run's sequence and picture: {})",
            files.shown("sequence.txt"),
            files.command(),
            keep.display()
        ));
    }
    let readme = std::fs::read_to_string(files.readme()).unwrap_or_default();
    if !(readme.contains(SLOT) && readme.contains("(sequence.svg)")) {
        return Err(format!(
            "{} does not show sequence.svg under its `{SLOT}` line; put it back with\n  {}",
            files.shown("README.md"),
            files.command()
        ));
    }
    if !files.svg().exists() {
        return Err(format!(
            "{} is missing; draw it with\n  {}",
            files.shown("sequence.svg"),
            files.command()
        ));
    }
    Ok(format!("{} matches this run", files.shown("sequence.txt")))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("Cannot write {}: {e}", path.display()))
}

/// Checks the calling crate's checked-in picture of this run (see [`check_step`]): the
/// folder and package are the caller's (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`).
///
/// ```ignore
/// devcluster::check_diagram!(&cluster);
/// ```
#[macro_export]
macro_rules! check_diagram {
    ($cluster:expr) => {
        $crate::diagram::check_step($cluster, env!("CARGO_MANIFEST_DIR"), env!("CARGO_PKG_NAME"))
    };
}
