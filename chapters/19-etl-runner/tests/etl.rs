//! The ETL runner against an in-process devcluster.

use std::path::Path;
use std::time::Duration;

use ch19_etl_runner::{Config, JobState, Outcome, run};
use devcluster::{Cluster, ClusterConfig};

/// Runs the runner on its own thread so a bug fails the test instead of hanging it.
fn run_with_deadline(config: Config) -> Outcome {
    // `ETL_TEST_LOG=1 cargo test ...` shows what the runner does.
    if std::env::var_os("ETL_TEST_LOG").is_some() {
        let _ = simple_logger::init_with_level(log::Level::Debug);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(config).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(result) => result.expect("the runner runs to completion"),
        Err(_) => panic!("the runner did not finish within 30 s"),
    }
}

/// A config for tests: quick retries, reconnects and reconciliation.
fn config(master: String, cmd: &str, jobs: usize) -> Config {
    let mut config = Config::new(cmd);
    config.master = master;
    config.jobs = jobs;
    config.retry_backoff = (Duration::from_millis(50), Duration::from_millis(200));
    config.reconnect_backoff = (Duration::from_millis(50), Duration::from_millis(200));
    config.reconcile_delay = Duration::from_millis(300);
    config.refuse_seconds = 0.1;
    config
}

/// A command that records its job number in `dir/done`.
fn record_cmd(dir: &Path, before: &str) -> String {
    format!("{before}echo $ETL_JOB >> {}/done", dir.display())
}

/// The job numbers recorded, sorted.
fn recorded(dir: &Path) -> Vec<usize> {
    let text = std::fs::read_to_string(dir.join("done")).unwrap_or_default();
    let mut jobs: Vec<usize> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    jobs.sort_unstable();
    jobs
}

#[test]
fn every_job_completes_in_batches() {
    let cluster = Cluster::start(ClusterConfig::for_tests(2)).expect("devcluster starts");
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(cluster.master_url(), &record_cmd(dir.path(), ""), 5);
    config.maxtasks = 2;
    config.wait = Duration::from_millis(200);
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.completed(), 5, "{outcome:?}");
    assert!(outcome.peak_running <= 2, "{outcome:?}");
    assert_eq!(outcome.batches, 3, "2 + 2 + 1 jobs: {outcome:?}");
    assert!((0..5).all(|j| outcome.finished_attempts(j) == 1));
    assert_eq!(recorded(dir.path()), [0, 1, 2, 3, 4]);
    devcluster::check_diagram!(&cluster);
}

#[test]
fn a_failing_command_is_retried_up_to_the_limit_and_reported() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = config(cluster.master_url(), "exit 3", 1);
    config.max_retries = 2;
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.gave_up(), [0], "{outcome:?}");
    let job = &outcome.jobs[0];
    assert_eq!(job.attempts.len(), 3, "1 attempt + 2 retries: {job:?}");
    assert_eq!(job.state, JobState::GaveUp);
    assert!(
        outcome.problems[0].contains("job 0 gave up after 3 attempt(s)"),
        "{:?}",
        outcome.problems
    );
}

#[test]
fn every_job_completes_once_across_a_leader_failover_and_a_cut_stream() {
    let mut cluster_config = ClusterConfig::for_tests(2);
    cluster_config.masters = 3;
    let cluster = Cluster::start(cluster_config).expect("devcluster starts");
    let dir = tempfile::tempdir().unwrap();
    let masters = cluster.master_urls().join(",");
    let mut config = config(masters, &record_cmd(dir.path(), "sleep 0.3; "), 6);
    config.maxtasks = 2;

    let outcome = std::thread::scope(|scope| {
        let faults = scope.spawn(|| {
            // In the middle: once the first job is done.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while recorded(dir.path()).is_empty() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            cluster.fail_over_leader();
            std::thread::sleep(Duration::from_millis(700));
            cluster.cut_streams(true);
        });
        let outcome = run_with_deadline(config);
        faults.join().unwrap();
        outcome
    });

    assert_eq!(outcome.completed(), 6, "{outcome:?}");
    assert!(outcome.subscriptions >= 2, "it reconnected: {outcome:?}");
    assert!(
        (0..6).all(|j| outcome.finished_attempts(j) == 1),
        "{outcome:?}"
    );
    assert_eq!(recorded(dir.path()), [0, 1, 2, 3, 4, 5], "{outcome:?}");
}

/// `--img`: on a cluster without Docker the task fails as Mesos reports it
/// (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED) and the runner says why.
/// (The task's ContainerInfo is checked by the unit test in src/task.rs,
/// the report's wording by the one in src/runner.rs.)
#[test]
fn a_docker_image_that_cannot_run_is_reported_clearly() {
    let cluster = Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts");
    let mut config = config(cluster.master_url(), "true", 1);
    config.img = Some("busybox:1.36".into());
    config.max_retries = 0;
    let outcome = run_with_deadline(config);

    match outcome.jobs[0].state {
        JobState::GaveUp => {
            let docker = outcome
                .problems
                .iter()
                .find(|p| p.contains("Docker image 'busybox:1.36'"));
            assert!(docker.is_some(), "{:?}", outcome.problems);
            assert_eq!(
                outcome.jobs[0].attempts[0].reason.as_deref(),
                Some("REASON_CONTAINER_LAUNCH_FAILED")
            );
        }
        // A devcluster that runs the command without Docker: nothing to report.
        JobState::Done => assert!(outcome.problems.is_empty(), "{outcome:?}"),
        ref other => panic!("job 0 ended {other:?}"),
    }
}
