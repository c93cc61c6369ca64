//! The ETL runner of chapter 19 across a `kill -9` of devcluster (issue 17, row 6).
//!
//! devcluster runs as its own process on a fixed port and work directory. While jobs
//! run, it is killed with SIGKILL and started again on the same `--work-dir`. The runner
//! (in this process) reconnects, reconciles, hears TASK_LOST for the tasks that were
//! running and runs those jobs again. Its promise, "no job is lost or run twice at once",
//! must hold: each job's command takes a lock (`flock`) for its whole run and writes
//! `overlap` if it finds the lock held, which only a copy still running can do.
//!
//! Before devcluster recovered its agents, the first copies kept running after the crash
//! and the restarted cluster answered TASK_LOST at once: every rerun found its lock held.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ch19_etl_runner::{Config, JobState};

const JOBS: usize = 4;
/// Only turns a hang into a failure.
const RUN: Duration = Duration::from_secs(120);

/// A `devcluster` process; SIGKILLed (by its own pid) when dropped.
struct Devcluster(Child);

impl Devcluster {
    fn start(bin: &Path, port: u16, work_dir: &Path) -> Devcluster {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--agents", "1"])
            .args(["--heartbeat-secs", "1", "--allocation-secs", "0.1"])
            .arg("--work-dir")
            .arg(work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "devcluster did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Devcluster(child)
    }

    fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Devcluster {
    fn drop(&mut self) {
        self.kill_9();
    }
}

fn lines(file: &Path, word: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(word))
        .map(str::to_string)
        .collect()
}

#[test]
fn etl_runner_runs_no_job_twice_at_once_across_a_devcluster_kill_9() {
    let dir =
        e2e_tests::binaries::build(&["devcluster".to_string()]).unwrap_or_else(|e| panic!("{e}"));
    let bin = dir.join("devcluster");
    let scratch = tempfile::tempdir().expect("scratch");
    let work = scratch.path().join("work");
    let marks = scratch.path().join("marks");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut first = Devcluster::start(&bin, port, &work);

    let (m, locks) = (marks.display(), scratch.path().display());
    let cmd = format!(
        "flock -n {locks}/job-$ETL_JOB.lock -c 'echo start $ETL_JOB >> {m}; sleep 4; \
         echo end $ETL_JOB >> {m}' || {{ echo overlap $ETL_JOB >> {m}; exit 1; }}"
    );
    let mut config = Config::new(cmd);
    config.master = format!("127.0.0.1:{port}");
    config.jobs = JOBS;
    config.maxtasks = 2;
    config.max_retries = 5;
    config.retry_backoff = (Duration::from_millis(50), Duration::from_millis(200));
    config.reconnect_backoff = (Duration::from_millis(50), Duration::from_millis(500));
    config.reconcile_delay = Duration::from_millis(300);
    config.refuse_seconds = 0.1;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ch19_etl_runner::run(config).map_err(|e| e.to_string()));
    });

    // Two jobs run: crash devcluster under them, start it again on the same work dir.
    let deadline = Instant::now() + RUN;
    while lines(&marks, "start").len() < 2 {
        assert!(Instant::now() < deadline, "no job started");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill_9();
    std::thread::sleep(Duration::from_millis(300));
    let _second = Devcluster::start(&bin, port, &work);

    let outcome = rx
        .recv_timeout(RUN)
        .expect("the ETL runner did not finish in time")
        .expect("the ETL runner ran to the end");
    let overlaps = lines(&marks, "overlap");
    assert!(
        overlaps.is_empty(),
        "a job ran twice at once: {overlaps:?}\n{}",
        std::fs::read_to_string(&marks).unwrap_or_default()
    );
    assert_eq!(outcome.completed(), JOBS, "{outcome:#?}");
    assert!(outcome.gave_up().is_empty(), "{outcome:#?}");
    for job in &outcome.jobs {
        assert_eq!(job.state, JobState::Done, "{job:?}");
        assert_eq!(outcome.finished_attempts(job.index), 1, "{job:?}");
    }
    // The crash cost the running jobs their first attempt.
    assert!(
        outcome
            .jobs
            .iter()
            .filter(|j| j.attempts.len() >= 2)
            .count()
            >= 2,
        "{outcome:#?}"
    );
    assert_eq!(lines(&marks, "end").len(), JOBS);
}
