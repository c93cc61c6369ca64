//! The offer proxy against an in-process devcluster and a scripted backend.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch18_offer_proxy::backend::BadAnswer;
use ch18_offer_proxy::http::{Request, Response, Server};
use ch18_offer_proxy::{Config, DeclineReason, Outcome, run};
use crossbeam_channel::{Sender, unbounded};
use devcluster::{Cluster, ClusterConfig};
use mesos_client::StopMode;
use serde_json::{Value, json};

/// How the scripted backend answers `POST /offer`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// One `true` task (`t1`) for the first offer, then `[]`.
    Launch,
    /// The same with `exit 3`: a task that fails.
    LaunchFailing,
    /// `[]`.
    Nothing,
    NotJson,
    WrongShape,
    ServerError,
    Slow,
    TooBig,
}

#[derive(Default)]
struct Seen {
    offers: Vec<Value>,
    statuses: Vec<(String, String)>,
    refused_statuses: usize,
    launched: usize,
}

/// A backend whose answers the test chooses; stops the proxy after `stop_after` offers.
struct Script {
    server: Server,
    seen: Arc<Mutex<Seen>>,
}

fn backend(
    mode: Mode,
    stop_after: usize,
    refuse_statuses: usize,
    stop: Sender<StopMode>,
) -> Script {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = Arc::clone(&seen);
    let server = Server::start("127.0.0.1:0", move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut seen = record.lock().unwrap();
        if request.path == "/status" {
            if seen.refused_statuses < refuse_statuses {
                seen.refused_statuses += 1;
                return Response::new(503, "busy");
            }
            let id = body["id"].as_str().unwrap_or_default().to_string();
            let state = body["state"].as_str().unwrap_or_default().to_string();
            seen.statuses.push((id, state));
            return Response::new(200, "{}");
        }
        seen.offers.push(body.clone());
        if seen.offers.len() == stop_after {
            let _ = stop.send(StopMode::Teardown);
        }
        let cmd = if mode == Mode::LaunchFailing {
            "exit 3"
        } else {
            "true"
        };
        let task =
            |cpus: f64| json!([{"id": "t1", "cmd": cmd, "resources": {"cpus": cpus, "mem": 32}}]);
        match mode {
            Mode::Launch | Mode::LaunchFailing if seen.launched == 0 => {
                seen.launched += 1;
                Response::new(200, task(0.1).to_string())
            }
            Mode::Launch | Mode::LaunchFailing | Mode::Nothing => Response::new(200, "[]"),
            Mode::NotJson => Response::new(200, "<html>oops</html>"),
            Mode::WrongShape => Response::new(200, r#"{"tasks": []}"#),
            Mode::ServerError => Response::new(500, "internal error"),
            Mode::Slow => Response {
                delay: Duration::from_millis(800),
                ..Response::new(200, "[]")
            },
            Mode::TooBig => Response::new(200, task(1000.0).to_string()),
        }
    })
    .expect("the backend starts");
    Script { server, seen }
}

/// A config for tests: short timeouts, quick re-offers.
fn config(cluster: &Cluster, script: &Script) -> Config {
    let mut config = Config::new(script.server.url());
    config.connection.master = cluster.master_url();
    config.backend_timeout = Duration::from_millis(300);
    config.refuse_seconds = 0.1;
    config.status_backoff = (Duration::from_millis(10), Duration::from_millis(50));
    config
}

/// Runs the proxy on its own thread so a bug fails the test instead of hanging it.
fn run_with_deadline(config: Config) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(config).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result.expect("the proxy runs to completion"),
        Err(_) => panic!("the proxy did not stop within 20 s"),
    }
}

fn cluster() -> Cluster {
    Cluster::start(ClusterConfig::for_tests(1)).expect("devcluster starts")
}

/// The states the backend received for `id`, in order.
fn states_of(seen: &Seen, id: &str) -> Vec<String> {
    seen.statuses
        .iter()
        .filter(|(task, _)| task == id)
        .map(|(_, state)| state.clone())
        .collect()
}

#[test]
fn launches_what_the_backend_returns_and_reports_statuses() {
    let cluster = cluster();
    let (stop, stop_rx) = unbounded();
    let script = backend(Mode::Launch, usize::MAX, 0, stop);
    let mut config = config(&cluster, &script);
    config.exit_after = Some(1);
    config.stop = Some(stop_rx);
    let outcome = run_with_deadline(config);

    assert_eq!(outcome.launched, ["t1"], "{outcome:?}");
    let seen = script.seen.lock().unwrap();
    let first = &seen.offers[0];
    assert_eq!(first["hostname"], "localhost");
    assert_eq!(first["resources"]["cpus"], 4.0);
    assert_eq!(first["resources"]["ports"][0]["begin"], 31000);
    assert_eq!(first["framework_id"], outcome.framework_id.as_str());
    assert_eq!(states_of(&seen, "t1"), ["starting", "running", "finished"]);
    assert!(outcome.delivery.undelivered.is_empty());
    assert!(outcome.not_finished.is_empty(), "{outcome:?}");
    devcluster::check_diagram!(&cluster);
}

#[test]
fn a_task_that_does_not_finish_is_reported_for_the_exit_status() {
    let cluster = cluster();
    let (stop, stop_rx) = unbounded();
    let script = backend(Mode::LaunchFailing, usize::MAX, 0, stop);
    let mut config = config(&cluster, &script);
    config.exit_after = Some(1);
    config.stop = Some(stop_rx);
    let outcome = run_with_deadline(config);

    // The backend still hears of it; `main` prints the line and exits 1.
    assert_eq!(
        states_of(&script.seen.lock().unwrap(), "t1")
            .last()
            .map(String::as_str),
        Some("failed")
    );
    assert_eq!(outcome.not_finished.len(), 1, "{outcome:?}");
    let line = &outcome.not_finished[0];
    assert!(
        line.starts_with("task t1 ended TASK_FAILED unexpectedly"),
        "{line}"
    );
    assert!(line.contains("Command exited with status 3"), "{line}");
}

/// Each kind of bad answer declines the offer, which then comes back.
fn bad_answer_declines(mode: Mode, expected: fn(&BadAnswer) -> bool) {
    let cluster = cluster();
    let (stop, stop_rx) = unbounded();
    let script = backend(mode, 2, 0, stop);
    let mut config = config(&cluster, &script);
    config.stop = Some(stop_rx);
    let outcome = run_with_deadline(config);

    assert!(outcome.launched.is_empty(), "{outcome:?}");
    assert!(
        outcome.declined.len() >= 2,
        "the offer came back: {outcome:?}"
    );
    for declined in &outcome.declined {
        match &declined.reason {
            DeclineReason::BadAnswer(bad) => assert!(expected(bad), "{mode:?}: {bad:?}"),
            other => panic!("{mode:?}: declined for {other:?}"),
        }
    }
    // The same agent's resources were offered twice.
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen.offers[0]["slave_id"], seen.offers[1]["slave_id"]);
}

#[test]
fn an_answer_that_is_not_json_declines() {
    bad_answer_declines(Mode::NotJson, |b| matches!(b, BadAnswer::NotJson(_)));
}

#[test]
fn an_answer_of_the_wrong_shape_declines() {
    bad_answer_declines(Mode::WrongShape, |b| matches!(b, BadAnswer::Shape(_)));
}

#[test]
fn a_server_error_declines() {
    bad_answer_declines(Mode::ServerError, |b| {
        matches!(b, BadAnswer::Status(500, _))
    });
}

#[test]
fn a_slow_backend_declines() {
    bad_answer_declines(Mode::Slow, |b| matches!(b, BadAnswer::Timeout));
}

#[test]
fn asking_for_more_than_the_offer_declines() {
    bad_answer_declines(Mode::TooBig, |b| matches!(b, BadAnswer::TooBig(_)));
}

#[test]
fn blacklisted_hosts_are_declined_without_asking() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blacklist"), "# drained\nlocalhost\n").unwrap();
    let (stop, stop_rx) = unbounded();
    let script = backend(Mode::Launch, usize::MAX, 0, stop.clone());
    let mut config = config(&cluster, &script);
    config.config_dir = Some(dir.path().to_path_buf());
    config.stop = Some(stop_rx);
    // Long enough for several offers (every 100 ms here).
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        let _ = stop.send(StopMode::Teardown);
    });
    let outcome = run_with_deadline(config);

    assert!(script.seen.lock().unwrap().offers.is_empty());
    assert!(outcome.launched.is_empty());
    assert!(!outcome.declined.is_empty());
    assert!(
        outcome
            .declined
            .iter()
            .all(|d| d.reason == DeclineReason::Blacklisted)
    );
}

#[test]
fn a_changed_blacklist_is_picked_up() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blacklist");
    std::fs::write(&file, "localhost\n").unwrap();
    let (stop, stop_rx) = unbounded();
    let script = backend(Mode::Launch, usize::MAX, 0, stop);
    let mut config = config(&cluster, &script);
    config.config_dir = Some(dir.path().to_path_buf());
    config.exit_after = Some(1);
    config.stop = Some(stop_rx);
    let edit = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        std::fs::write(&file, "# localhost is fixed\nsome-other-host\n").unwrap();
    });
    let outcome = run_with_deadline(config);
    edit.join().unwrap();

    assert!(
        outcome
            .declined
            .iter()
            .any(|d| d.reason == DeclineReason::Blacklisted)
    );
    assert_eq!(outcome.launched, ["t1"], "{outcome:?}");
}

#[test]
fn statuses_are_retried_until_the_backend_takes_them() {
    let cluster = cluster();
    let (stop, stop_rx) = unbounded();
    let script = backend(Mode::Launch, usize::MAX, 4, stop);
    let mut config = config(&cluster, &script);
    config.exit_after = Some(1);
    config.stop = Some(stop_rx);
    let outcome = run_with_deadline(config);

    assert!(outcome.delivery.failed_attempts >= 4, "{outcome:?}");
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen.refused_statuses, 4);
    // Nothing lost, nothing reordered.
    assert_eq!(states_of(&seen, "t1"), ["starting", "running", "finished"]);
}

#[test]
fn a_restart_with_the_state_file_resumes_the_framework() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("framework-id");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (stop, stop_rx) = unbounded();
        // Stop after the first offer, keeping the framework (failover).
        let (fail_over, fail_over_rx) = unbounded();
        let script = backend(Mode::Nothing, 1, 0, fail_over);
        std::thread::spawn(move || {
            if fail_over_rx.recv().is_ok() {
                let _ = stop.send(StopMode::Failover);
            }
        });
        let mut config = config(&cluster, &script);
        config.state_file = Some(state.clone());
        config.stop = Some(stop_rx);
        let outcome = run_with_deadline(config);
        ids.push((outcome.framework_id.clone(), outcome.resumed));
    }
    assert_eq!(ids[0].0, ids[1].0, "{ids:?}");
    assert_eq!((ids[0].1, ids[1].1), (false, true));
}
