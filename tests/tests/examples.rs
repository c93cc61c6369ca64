//! The example frameworks (`minimal/`, `skeleton/`) run as processes against devcluster:
//! each completes its job and exits 0, and its tasks' output is in their sandboxes. The
//! skeleton also runs under injected faults, so that its `rescind`, `failure`, `error`
//! and `disconnected` callbacks really run (checked on its log lines, which start with
//! the callback's name). One test runs against a real master when `MESOS_MASTER` is set.

use std::path::Path;
use std::time::Duration;

use devcluster::{Cluster, ClusterConfig};
use e2e_tests::example_runs::{Proc, example_bin, sandbox_stdout};
use e2e_tests::pidwatch;
use e2e_tests::sched::{Sched, framework};

/// A run of a few short tasks takes 2-5 s; this only keeps a broken run from hanging
/// (generous, for a loaded 2-core CI machine running the tests in parallel).
const RUN: Duration = Duration::from_secs(30);
/// For single events that normally take milliseconds.
const STEP: Duration = Duration::from_secs(15);

fn cluster() -> (Cluster, String) {
    let cluster = Cluster::start(ClusterConfig::for_tests(2)).expect("devcluster starts");
    let url = cluster.master_url();
    (cluster, url)
}

fn run(bin: &str, args: &[&str]) -> Proc {
    Proc::spawn(&example_bin(bin), args, &[])
}

fn assert_hello(work_dir: &Path, tasks: &[&str]) {
    let stdout = sandbox_stdout(work_dir);
    for task in tasks {
        let hello = format!("Hello from task {task}!");
        assert!(
            stdout.contains(&hello),
            "no {hello:?} in the sandboxes:\n{stdout}"
        );
    }
}

/// Waits until some sandbox's stdout contains `needle` (executors finish after the
/// scheduler has gone).
fn wait_sandbox(work_dir: &Path, needle: &str) {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let out = sandbox_stdout(work_dir);
        if out.contains(needle) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} in the sandboxes:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn minimal_runs_two_tasks_and_tears_down() {
    let (cluster, master) = cluster();
    let mut sched = run(
        "minimal-scheduler",
        &["--master", &master, "--tasks", "2", "--sleep", "1"],
    );
    sched.assert_success(RUN);
    let out = sched.output();
    for step in [
        "subscribed as framework",
        "launching task minimal-1",
        "launching task minimal-2",
        "all 2 tasks ended: TEARDOWN",
    ] {
        assert!(out.contains(step), "no {step:?} in:\n{out}");
    }
    assert_eq!(sched.count("is TASK_FINISHED"), 2, "{out}");
    assert!(
        out.contains("its output goes to"),
        "RUNNING names the sandbox file:\n{out}"
    );
    assert!(out.contains("TEARDOWN"), "{out}");
    assert_hello(cluster.work_dir(), &["minimal-1", "minimal-2"]);
}

#[test]
fn minimal_serves_its_executor_over_http_to_agents_that_are_not_local() {
    // What happens against playa-mesos' VM (whose agent cannot read a path on this
    // host), with the address forced to 127.0.0.1 so that devcluster's agents reach it.
    let (cluster, master) = cluster();
    let args = ["--master", &master, "--tasks", "1", "--sleep", "0"];
    let mut sched = run(
        "minimal-scheduler",
        &[&args[..], &["--advertise-ip", "127.0.0.1"]].concat(),
    );
    sched.assert_success(RUN);
    let out = sched.output();
    assert!(
        out.contains("serving the executor to the agents at http://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("/minimal-executor"), "{out}");
    assert_hello(cluster.work_dir(), &["minimal-1"]);
    // The executor ends by itself after TEARDOWN (the agent's SHUTDOWN).
    wait_sandbox(cluster.work_dir(), "executor done");
}

#[test]
fn skeleton_speaks_protobuf() {
    let (cluster, master) = cluster();
    let args = ["--master", &master, "--tasks", "1", "--sleep", "0"];
    let mut sched = run("skeleton-scheduler", &[&args[..], &["--protobuf"]].concat());
    sched.assert_success(RUN);
    let stdout = sandbox_stdout(cluster.work_dir());
    assert!(stdout.contains("Hello from task skeleton-"), "{stdout}");
}

#[test]
fn ctrl_c_makes_a_local_minimal_scheduler_return_and_clean_up() {
    // The library never ends the process: the local cluster's handler stops the
    // tasks, removes the sandboxes and makes `run` return; `main` ends normally.
    let mut sched = run("minimal-scheduler", &["--tasks", "1", "--sleep", "60"]);
    let line = sched.wait_line("its output goes to", RUN);
    let work_dir = stdout_file(&line)
        .split("/slaves/")
        .next()
        .unwrap_or("")
        .to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &sched.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = sched.wait_exit(STEP);
    let out = sched.output();
    assert!(status.success(), "main returned normally:\n{out}");
    assert!(
        out.contains("asked 1 scheduler driver(s) to return"),
        "{out}"
    );
    assert!(
        work_dir.contains("mesos-local-") && !Path::new(&work_dir).exists(),
        "{work_dir} is removed:\n{out}"
    );
}

/// The file named on the RUNNING line (`its output goes to <path>`).
fn stdout_file(out: &str) -> String {
    let running = out
        .lines()
        .find(|l| l.contains("its output goes to"))
        .unwrap_or_else(|| panic!("no RUNNING line in:\n{out}"));
    running
        .rsplit("its output goes to ")
        .next()
        .unwrap_or("")
        .trim_end_matches(')')
        .to_string()
}

#[test]
fn minimal_with_no_master_runs_on_an_embedded_cluster_and_leaves_nothing() {
    // What `cargo run --bin minimal-scheduler` does, with a short sleep.
    let mut sched = run("minimal-scheduler", &["--tasks", "1", "--sleep", "0"]);
    sched.assert_success(RUN);
    let out = sched.output();
    assert!(out.contains("started a local cluster"), "{out}");
    let file = stdout_file(&out);
    let work_dir = file.split("/slaves/").next().unwrap_or("");
    assert!(work_dir.contains("mesos-local-"), "{work_dir}");
    assert!(
        !Path::new(work_dir).exists(),
        "{work_dir} is removed when the cluster stops:\n{out}"
    );
}

#[test]
fn minimal_with_mesos_local_keep_keeps_the_sandboxes() {
    let bin = example_bin("minimal-scheduler");
    let args = ["--tasks", "1", "--sleep", "0"];
    let mut sched = Proc::spawn(&bin, &args, &[("MESOS_LOCAL_KEEP", "1")]);
    sched.assert_success(RUN);
    let out = sched.output();
    let file = stdout_file(&out);
    let stdout = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(stdout.contains("Hello from task minimal-1!"), "{stdout}");
    let work_dir = file.split("/slaves/").next().unwrap_or("");
    assert!(out.contains("its sandboxes stay in"), "{out}");
    let _ = std::fs::remove_dir_all(work_dir);
}

#[test]
fn skeleton_runs_three_tasks() {
    let (cluster, master) = cluster();
    let mut sched = run(
        "skeleton-scheduler",
        &["--master", &master, "--tasks", "3", "--sleep", "1"],
    );
    sched.assert_success(RUN);
    assert_eq!(sched.count("is TASK_FINISHED"), 3, "{}", sched.output());
    // It registered under its package's name, with `<package>-executor` (a copy under
    // its own names): what the master recorded, not what the skeleton says.
    let state = ureq::get(&format!("{master}/master/state"))
        .call()
        .expect("master state")
        .body_mut()
        .read_to_string()
        .expect("state body");
    let state: serde_json::Value = serde_json::from_str(&state).expect("state JSON");
    let done = &state["completed_frameworks"][0];
    assert_eq!(done["name"], "skeleton", "{done}");
    let executors = done["completed_executors"].to_string() + &done["executors"].to_string();
    let tasks = done["completed_tasks"].to_string();
    assert!(
        executors.contains("skeleton-executor") || tasks.contains("skeleton-executor"),
        "{done}"
    );
    // The skeleton launches a failed task again under a new id (seen in CI: on a loaded
    // machine an executor missed its registration timeout), so count the greetings of
    // distinct tasks rather than naming the ids.
    let stdout = sandbox_stdout(cluster.work_dir());
    let greeted: std::collections::BTreeSet<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("Hello from task skeleton-"))
        .collect();
    assert!(
        greeted.len() >= 3,
        "{greeted:?} in the sandboxes:\n{stdout}"
    );
    // The executor's callbacks log their names, and it ends on SHUTDOWN.
    for line in [
        "subscribed: on agent",
        "launch: task",
        "shutdown: stopping",
        "executor done",
    ] {
        wait_sandbox(cluster.work_dir(), line);
    }
}

#[test]
fn skeleton_survives_rescind_executor_failure_and_disconnection() {
    let (cluster, master) = cluster();
    // One task; the other agent's offer is held (not declined) for a while, so that
    // there is an offer to rescind.
    let mut args = vec!["--master", &master, "--tasks", "1", "--sleep", "2"];
    args.extend(["--hold-offers", "3", "--log-level", "debug"]);
    let mut sched = run("skeleton-scheduler", &args);
    sched.wait_line("offers: launching task", STEP);

    // RESCIND: withdraw the held offer.
    let deadline = std::time::Instant::now() + STEP;
    while !cluster.rescind_offer(None) {
        assert!(
            std::time::Instant::now() < deadline,
            "no offer to rescind:\n{}",
            sched.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    sched.wait_line("rescind: offer", STEP);

    // FAILURE: kill the executor under its running task; the task is launched again.
    sched.wait_line("is TASK_RUNNING", STEP);
    let framework_id = cluster
        .framework_ids()
        .pop()
        .expect("the skeleton's framework");
    assert!(
        cluster.crash_executor(&framework_id, "skeleton-executor"),
        "executor not found"
    );
    sched.wait_line("failure: executor skeleton-executor", STEP);
    sched.wait_line("launching task skeleton-2", STEP);

    // Disconnection: cut the event stream; the driver re-subscribes with the same id.
    cluster.cut_streams(false);
    sched.wait_line("disconnected:", STEP);
    sched.wait_lines(&format!("subscribed: framework {framework_id}"), 2, STEP);

    sched.assert_success(RUN);
    assert!(
        sched.output().contains("all 1 tasks finished"),
        "{}",
        sched.output()
    );
}

#[test]
fn skeleton_reports_the_error_when_another_scheduler_takes_over() {
    let (_cluster, master) = cluster();
    let args = ["--master", &master, "--tasks", "1", "--sleep", "30"];
    let mut sched = run("skeleton-scheduler", &args);
    let line = sched.wait_line("subscribed: framework ", STEP);
    let id = line.rsplit(' ').next().expect("an id").to_string();
    // A second scheduler subscribes with the same framework id: the master fails the
    // framework over to it and sends the first one ERROR.
    // The skeleton registers under its package's name (a copy under its own).
    let mut info = framework("skeleton");
    info["id"] = serde_json::json!({ "value": id });
    let _other = Sched::subscribe(e2e_tests::http::host_port(&master).as_str(), info);
    sched.wait_line("error: Framework failed over", STEP);
    let status = sched.wait_exit(STEP);
    assert!(
        !status.success(),
        "the skeleton exits with the error:\n{}",
        sched.output()
    );
}

#[test]
fn skeleton_authenticates_without_showing_the_secret() {
    let secret = "s3cret-that-must-not-leak";
    let credentials = devcluster::http::Credentials::parse(&format!("skeleton {secret}"))
        .expect("credentials parse");
    let mut config = ClusterConfig::for_tests(2);
    config.credentials = Some(credentials);
    let cluster = Cluster::start(config).expect("devcluster starts");
    let master = cluster.master_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).expect("write the secret file");
    let secret_path = secret_file.display().to_string();
    let args = [
        "--master",
        &master,
        "--principal",
        "skeleton",
        "--secret-file",
        &secret_path,
        "--tasks",
        "1",
        "--sleep",
        "0",
        "--log-level",
        "trace",
    ];
    let mut sched = Proc::spawn(&example_bin("skeleton-scheduler"), &args, &[]);
    sched.assert_success(RUN);
    let out = sched.output();
    assert!(out.contains("authenticating as skeleton"), "{out}");
    assert!(
        !out.contains(secret),
        "the secret leaked into the log:\n{out}"
    );
}

#[test]
fn minimal_against_a_real_master_when_mesos_master_is_set() {
    let Ok(master) = std::env::var("MESOS_MASTER") else {
        eprintln!(
            "skipped: set MESOS_MASTER=host:port to run minimal-scheduler against a real \
             Mesos master (agents on other hosts fetch the executor over HTTP from this \
             process; --advertise-ip sets the address they use)"
        );
        return;
    };
    let args = ["--master", &master, "--tasks", "1", "--sleep", "1"];
    let mut sched = run("minimal-scheduler", &args);
    sched.assert_success(Duration::from_secs(120));
    assert!(
        sched.output().contains("is TASK_FINISHED"),
        "{}",
        sched.output()
    );
}

/// With `--master local`, command tasks run in process groups of their own, which
/// neither Ctrl-C in the terminal nor the death of the scheduler reaches; the local
/// cluster's signal handler stops them when the scheduler gets SIGTERM (or SIGINT).
#[test]
fn a_local_scheduler_stopped_by_sigterm_leaves_no_process_behind() {
    // A command task (a custom executor would end by itself once its agent is gone),
    // which tells us its pid.
    let built = e2e_tests::binaries::built_examples();
    let (_, etl) = built
        .iter()
        .find(|(b, _)| b.name == "etl-runner")
        .expect("etl-runner is built");
    let pid_file = pidwatch::pid_file("sigterm-local-task");
    let cmd = pidwatch::pid_command(&pid_file);
    let mut sched = Proc::spawn(etl, &["--cmd", &cmd, "--jobs", "1"], &[]);
    let task = pidwatch::read_pid(&pid_file, RUN);
    assert!(pidwatch::alive(task), "the task runs:\n{}", sched.output());
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &sched.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    // The scheduler returns from `run` and ends (how it exits is its own business:
    // the library no longer ends the process under it).
    sched.wait_exit(STEP);
    assert!(
        pidwatch::gone_within(task, STEP),
        "task {task} still runs after the scheduler died"
    );
}

#[test]
fn devcluster_on_a_busy_port_names_the_port_and_the_option() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = busy.local_addr().expect("its address").port().to_string();
    let mut devcluster = run("devcluster", &["--port", &port]);
    let status = devcluster.wait_exit(STEP);
    let out = devcluster.output();
    assert!(!status.success(), "{out}");
    assert!(
        out.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{out}"
    );
    assert!(out.contains("--port"), "{out}");
}

#[test]
fn devcluster_fault_takes_the_master_as_host_port() {
    let (_cluster, master) = cluster();
    let host_port = master.trim_start_matches("http://").to_string();
    let args = ["fault", "cut-streams", "--master", &host_port];
    let mut fault = run("devcluster", &args);
    fault.assert_success(STEP);
    assert!(
        fault.output().contains("Fault 'cut-streams' injected"),
        "{}",
        fault.output()
    );
}
