//! The ETL runner of chapter 15, highly available: two `etl-runner --ha` processes on a
//! real ZooKeeper and an in-process devcluster. One leads and schedules, the other waits;
//! the leader is killed (SIGKILL) while its tasks run, and the other takes over as the same
//! framework, adopts the running tasks and finishes every job exactly once.
//!
//! A second test deposes a leader that is still alive (its election member is deleted,
//! as ZooKeeper does when a session expires): it must stop scheduling at once, wait as a
//! standby, and exit 0 once the other instance has finished the run.
//!
//! A third checks the job table's fence on its own (`ch19_etl_runner::store`).
//!
//! Without ZooKeeper (Debian's `zookeeper` package, `.ci/install-zookeeper.sh`) the test
//! says it is skipped; under `CI=true` it fails instead.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ch19_etl_runner::JobState;
use ch19_etl_runner::store::{JobStore, RunSpec};
use devcluster::{Cluster, ClusterConfig};
use e2e_tests::http;
use e2e_tests::zk::ZkServer;
use mesos_client::zk::{Election, Standing};
use serde_json::Value;

/// Only turns a hang into a failure; a run takes 5-10 s.
const STEP: Duration = Duration::from_secs(25);
const JOBS: usize = 5;

/// An `etl-runner` process whose output is collected line by line; killed (by its own
/// PID, through its `Child`) when dropped.
struct Instance {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    fn spawn(name: &'static str, bin: &Path, args: &[String]) -> Instance {
        let mut child = Command::new(bin)
            .args(args)
            .env_remove("MESOS_MASTER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        Instance { name, child, lines }
    }

    fn output(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// The framework id from its last `subscribed as <id>` line.
    fn framework_id(&self) -> Option<String> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().rev().find_map(|l| {
            let rest = l.split("subscribed as ").nth(1)?;
            Some(rest.split_whitespace().next()?.to_string())
        })
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL, to this process only.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                std::thread::sleep(Duration::from_millis(100)); // the readers drain
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.kill();
        }
    }
}

/// Waits for `done`, failing with everything the instances printed after `within`.
fn wait_for(what: &str, within: Duration, instances: &[&Instance], mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            let outputs: Vec<String> = instances
                .iter()
                .map(|i| format!("--- {}:\n{}", i.name, i.output()))
                .collect();
            panic!("no {what} within {within:?}\n{}", outputs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `start <job> <task>` / `end <job> <task>` lines the jobs wrote, in order.
fn marks(file: &Path) -> Vec<(String, usize, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let kind = f.next()?.to_string();
            let job = f.next()?.parse().ok()?;
            Some((kind, job, f.next()?.to_string()))
        })
        .collect()
}

fn count_marks(marks: &[(String, usize, String)], kind: &str) -> usize {
    marks.iter().filter(|(k, _, _)| k == kind).count()
}

/// Every framework the master knows (live and completed).
fn frameworks(cluster: &Cluster) -> Vec<Value> {
    let master = http::host_port(&cluster.master_url());
    let state = http::request(&master, "GET", "/state", &[], None)
        .expect("GET /state")
        .json();
    ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|k| state[*k].as_array().cloned().unwrap_or_default())
        .collect()
}

/// One task as the master saw it: job number, first and last status times, final state.
#[derive(Debug)]
#[allow(dead_code)] // `id` is there for the failure messages
struct TaskRun {
    id: String,
    job: usize,
    from: f64,
    to: f64,
    state: String,
}

fn task_runs(framework: &Value) -> Vec<TaskRun> {
    ["tasks", "completed_tasks"]
        .iter()
        .flat_map(|k| framework[*k].as_array().cloned().unwrap_or_default())
        .map(|t| {
            let id = t["id"].as_str().unwrap_or_default().to_string();
            // etl-<run>-<job>-<attempt>
            let job = id.rsplit('-').nth(1).and_then(|j| j.parse().ok());
            let times: Vec<f64> = t["statuses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["timestamp"].as_f64())
                .collect();
            let state = t["state"].as_str().unwrap_or_default().to_string();
            let terminal = !matches!(
                state.as_str(),
                "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING" | "TASK_KILLING"
            );
            TaskRun {
                job: job.unwrap_or_else(|| panic!("task id {id} names no job")),
                from: times.iter().copied().fold(f64::INFINITY, f64::min),
                to: if terminal {
                    times.iter().copied().fold(0.0, f64::max)
                } else {
                    f64::INFINITY
                },
                state,
                id,
            }
        })
        .collect()
}

/// A ZooKeeper server, a devcluster and the runner's arguments; the jobs mark their start
/// and end in a file.
struct Setup {
    zk: ZkServer,
    cluster: Cluster,
    bin: PathBuf,
    marks: PathBuf,
    args: Vec<String>,
    _scratch: tempfile::TempDir,
}

impl Setup {
    fn new(test: &str) -> Option<Setup> {
        let zk = ZkServer::start_or_skip(test)?;
        let bin = e2e_tests::binaries::workspace_bin("etl-runner");
        let cluster = Cluster::start(ClusterConfig::for_tests(2)).expect("devcluster starts");
        let scratch = tempfile::tempdir().expect("scratch dir");
        let marks = scratch.path().join("marks");
        let m = marks.display().to_string();
        // Long enough that the leader goes while a batch runs.
        let cmd = format!(
            "echo start $ETL_JOB $MESOS_TASK_ID >> {m}; sleep 1.5; \
             echo end $ETL_JOB $MESOS_TASK_ID >> {m}"
        );
        let args = [
            "--master",
            &cluster.master_url(),
            "--ha",
            &zk.url("/etl"),
            "--zk-session-timeout",
            "1",
            "--failover-timeout",
            "60",
            "--reconcile-delay",
            "0.3",
            "--jobs",
            &JOBS.to_string(),
            "--maxtasks",
            "2",
            "--retries",
            "2",
            "--cmd",
            &cmd,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Some(Setup {
            zk,
            cluster,
            bin,
            marks,
            args,
            _scratch: scratch,
        })
    }

    /// Two instances started at once (ZooKeeper picks the leader): (leader, standby).
    fn start_pair(&self) -> (Instance, Instance) {
        let a = Instance::spawn("instance a", &self.bin, &self.args);
        let b = Instance::spawn("instance b", &self.bin, &self.args);
        wait_for("a leader and a standby", STEP, &[&a, &b], || {
            let leads = a.count("leading (") + b.count("leading (");
            let waits = a.count("standby (") + b.count("standby (");
            leads == 1 && waits == 1
        });
        let (leader, standby) = if a.count("leading (") == 1 {
            (a, b)
        } else {
            (b, a)
        };
        let leader_pid = format!("pid {} ", leader.child.id());
        assert!(
            standby.output().contains(&leader_pid),
            "the standby names the leader ({leader_pid}):\n{}",
            standby.output()
        );
        (leader, standby)
    }

    /// Waits until one batch is done and the next runs.
    fn wait_for_second_batch(&self, leader: &Instance, standby: &Instance) {
        wait_for("a second batch running", STEP, &[leader, standby], || {
            let m = marks(&self.marks);
            count_marks(&m, "end") >= 2 && count_marks(&m, "start") >= 3
        });
    }

    /// Every job ended exactly once, by the jobs' own marks and by the master (one
    /// framework, `framework_id`; one TASK_FINISHED per job; no two attempts of a job
    /// running at the same time). Returns the number of tasks.
    fn assert_every_job_once(&self, framework_id: &str) -> usize {
        let m = marks(&self.marks);
        for job in 0..JOBS {
            let ends = m.iter().filter(|(k, j, _)| k == "end" && *j == job).count();
            assert_eq!(ends, 1, "job {job} ended {ends} times: {m:?}");
        }
        let frameworks = frameworks(&self.cluster);
        let ids: Vec<&str> = frameworks.iter().filter_map(|f| f["id"].as_str()).collect();
        assert_eq!(ids, [framework_id], "one framework throughout");
        let mut runs = task_runs(&frameworks[0]);
        runs.sort_by(|x, y| {
            (x.job, x.from)
                .partial_cmp(&(y.job, y.from))
                .expect("times")
        });
        for job in 0..JOBS {
            let of_job: Vec<&TaskRun> = runs.iter().filter(|r| r.job == job).collect();
            let finished = of_job.iter().filter(|r| r.state == "TASK_FINISHED").count();
            assert_eq!(finished, 1, "job {job}: {of_job:?}");
            for pair in of_job.windows(2) {
                assert!(
                    pair[0].to <= pair[1].from,
                    "job {job} ran twice at once: {pair:?}"
                );
            }
        }
        runs.len()
    }
}

/// Waits for a clean exit, failing with both outputs otherwise.
fn assert_exits_0(instance: &mut Instance, other: &Instance) {
    let status = instance.wait_exit(STEP);
    assert!(
        status.is_some_and(|s| s.success()),
        "{} should finish and exit 0 ({status:?}):\n{}\n--- {}:\n{}",
        instance.name,
        instance.output(),
        other.name,
        other.output()
    );
}

#[test]
fn a_standby_runner_takes_over_when_the_leader_is_killed() {
    let Some(setup) = Setup::new("a_standby_runner_takes_over_when_the_leader_is_killed") else {
        return;
    };
    let (mut leader, mut standby) = setup.start_pair();
    setup.wait_for_second_batch(&leader, &standby);
    let launched_before = (leader.count("launching"), standby.count("launching"));
    let first_id = leader.framework_id().expect("the leader subscribed");
    leader.kill();
    assert!(
        launched_before.0 > 0 && launched_before.1 == 0,
        "exactly the leader launched before the kill: {launched_before:?}\n{}\n---\n{}",
        leader.output(),
        standby.output()
    );

    assert_exits_0(&mut standby, &leader);
    let survivor = standby.output();
    assert!(survivor.contains("leading ("), "{survivor}");
    assert!(
        survivor.contains(&format!("framework id {first_id}")),
        "the new leader found the framework id: {survivor}"
    );
    assert_eq!(
        standby.framework_id().as_deref(),
        Some(first_id.as_str()),
        "the same framework: {survivor}"
    );
    assert!(
        standby.count("launching") > 0,
        "the new leader launched the rest: {survivor}"
    );
    assert!(
        survivor.contains(&format!("{JOBS} of {JOBS} job(s) done")),
        "{survivor}"
    );
    let tasks = setup.assert_every_job_once(&first_id);
    // Shown with --nocapture: what the takeover looked like.
    eprintln!(
        "summary: {tasks} task(s) for {JOBS} jobs; launches before the kill \
         {launched_before:?}\n--- the survivor's output:\n{survivor}"
    );
}

/// A leader whose election member vanishes (as when ZooKeeper expires its session) while
/// its process lives on: it stops scheduling at once, the standby takes over, and the
/// deposed one waits as a standby and exits 0 when the run is over.
#[test]
fn a_deposed_leader_stops_scheduling_and_waits() {
    let Some(setup) = Setup::new("a_deposed_leader_stops_scheduling_and_waits") else {
        return;
    };
    let (mut leader, mut standby) = setup.start_pair();
    setup.wait_for_second_batch(&leader, &standby);
    let first_id = leader.framework_id().expect("the leader subscribed");

    // Delete the leader's member, as ZooKeeper does when a session expires.
    let admin =
        zookeeper::ZooKeeper::connect(&setup.zk.address(), STEP, |_| {}).expect("an admin session");
    let pid = format!("pid {} ", leader.child.id());
    let member = admin
        .get_children("/etl", false)
        .expect("the members")
        .into_iter()
        .filter(|c| c.starts_with("candidate_"))
        .find(|c| {
            let data = admin.get_data(&format!("/etl/{c}"), false);
            data.is_ok_and(|(d, _)| String::from_utf8_lossy(&d).contains(&pid))
        })
        .expect("the leader's member");
    admin
        .delete(&format!("/etl/{member}"), None)
        .expect("delete the leader's member");

    assert_exits_0(&mut standby, &leader);
    assert_exits_0(&mut leader, &standby);
    let deposed = leader.output();
    let (before, after) = deposed
        .split_once("lost the ZooKeeper leadership")
        .unwrap_or_else(|| panic!("the leader noticed: {deposed}"));
    assert!(before.contains("launching"), "{deposed}");
    assert!(
        !after.contains("launching"),
        "nothing launched once deposed: {deposed}"
    );
    assert!(after.contains("standby ("), "waited again: {deposed}");
    assert!(
        after.contains("every job was settled by an earlier leader"),
        "{deposed}"
    );
    let survivor = standby.output();
    assert_eq!(
        standby.framework_id().as_deref(),
        Some(first_id.as_str()),
        "the same framework: {survivor}"
    );
    assert!(
        survivor.contains(&format!("{JOBS} of {JOBS} job(s) done")),
        "{survivor}"
    );
    let tasks = setup.assert_every_job_once(&first_id);
    eprintln!(
        "summary: {tasks} task(s) for {JOBS} jobs\n--- the deposed leader's output:\n{deposed}\n\
         --- the new leader's output:\n{survivor}"
    );
}

/// The job table's own fence, without processes: a leader can no longer write a job's
/// znode once another has taken it over (bumped its version), even while its election
/// still says it leads; a new leader finds what the old one wrote; another run's
/// instances are refused.
#[test]
fn the_job_table_fences_a_leader_it_was_taken_from() {
    let Some(zk) = ZkServer::start_or_skip("the_job_table_fences_a_leader_it_was_taken_from")
    else {
        return;
    };
    let url = zk.url("/etl");
    let session = Duration::from_secs(5);
    let spec = RunSpec {
        jobs: 2,
        image: String::new(),
        cmd: "true".into(),
    };
    let first = Arc::new(Election::join(&url, session, b"first").expect("join"));
    assert!(first.is_leader());
    let (mut store, found) =
        JobStore::take_over(first.clone(), &url, &spec, "r1", session).expect("a new table");
    assert_eq!(found.run_id, "r1");
    assert_eq!(found.framework_id, None);
    assert!(
        found
            .jobs
            .iter()
            .all(|j| matches!(j.state, JobState::Waiting { .. }))
    );
    let mut running = found.jobs[0].clone();
    running.state = JobState::Running {
        task_id: "etl-r1-0-1".into(),
        agent_id: "S0".into(),
    };
    store.save(&running).expect("the leader writes");
    store.save_framework_id("fw-1").expect("the leader writes");
    assert_eq!(
        first.framework_id().expect("readable").as_deref(),
        Some("fw-1"),
        "the znode Election uses"
    );

    // Someone else writes job 1 (as a new leader's take-over does): the version moved.
    let admin = zookeeper::ZooKeeper::connect(&zk.address(), session, |_| {}).expect("admin");
    let (data, stat) = admin.get_data("/etl/jobs/1", false).expect("job 1");
    admin
        .set_data("/etl/jobs/1", data, Some(stat.version))
        .expect("bump");
    assert!(first.is_leader(), "the election alone would not stop it");
    let mut done = found.jobs[1].clone();
    done.state = JobState::Done;
    let fenced = store.save(&done).expect_err("fenced by the version");
    assert!(fenced.0.contains("another leader"), "{fenced}");

    // A real take-over: the first member goes, the second leads and finds the table.
    let second = Arc::new(Election::join(&url, session, b"second").expect("join"));
    admin
        .delete(first.znode(), None)
        .expect("delete the member");
    assert_eq!(second.wait_for_leadership(Some(STEP)), Standing::Leading);
    let (_store2, found2) =
        JobStore::take_over(second.clone(), &url, &spec, "r2", session).expect("take over");
    assert_eq!(found2.run_id, "r1", "the run keeps its id");
    assert_eq!(found2.framework_id.as_deref(), Some("fw-1"));
    assert_eq!(found2.jobs[0].state, running.state);
    assert!(matches!(found2.jobs[1].state, JobState::Waiting { .. }));
    assert!(
        store.save(&running).is_err(),
        "the first is fenced everywhere"
    );

    // Instances of another run must not take these jobs: a standby is told at once.
    let other = RunSpec {
        jobs: 3,
        ..spec.clone()
    };
    JobStore::check(&second, &url, &spec).expect("the same run");
    let err = JobStore::check(&second, &url, &other).expect_err("another run");
    assert!(err.to_string().contains("another run"), "{err}");
    let err = JobStore::take_over(second, &url, &other, "r3", session).expect_err("refused");
    assert!(err.to_string().contains("another run"), "{err}");
}

/// `--ha` with the default `--master local` is refused before anything starts: every
/// instance would run a private cluster, and there would be nothing to take over.
#[test]
fn ha_without_a_real_master_is_refused() {
    let bin = e2e_tests::binaries::workspace_bin("etl-runner");
    let args = ["--ha", "zk://127.0.0.1:9/etl", "--cmd", "true"].map(String::from);
    let mut p = Instance::spawn("etl-runner", &bin, &args);
    let status = p.wait_exit(STEP).expect("it exits");
    assert!(!status.success(), "{}", p.output());
    assert!(
        p.output().contains("--ha needs a real --master"),
        "{}",
        p.output()
    );
}
