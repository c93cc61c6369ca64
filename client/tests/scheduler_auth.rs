//! HTTP basic auth: the header goes on every request, and the secret never
//! shows up in logs, errors or `Debug` output.

mod scheduler_peer;

use std::sync::Mutex;

use base64::Engine as _;
use mesos_client::credentials::Credentials;
use mesos_client::{Error, SchedulerDriver, StopMode};
use scheduler_peer::*;

const SECRET: &str = "correct-horse-battery-staple";

/// Every log line of this test process, at every level.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn flush(&self) {}
}

fn capture_logs() {
    // Several tests may try; the first wins, which is all we need.
    if log::set_logger(&Capture).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}

fn assert_no_secret_logged() {
    let lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
    assert!(!lines.is_empty(), "the logger captured nothing");
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("fw-principal:{SECRET}"));
    for line in lines.iter() {
        assert!(
            !line.contains(SECRET) && !line.contains(&encoded),
            "secret logged: {line}"
        );
    }
}

fn expected_header() -> String {
    let raw = format!("fw-principal:{SECRET}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn basic_auth_goes_on_every_request_and_the_secret_stays_hidden() {
    capture_logs();
    let expected = expected_header();
    let peer = Peer::start(move |request: &Request| {
        // Like a master with --authenticate_http_frameworks.
        if request.header("authorization") != Some(expected.as_str()) {
            return Reply::status(401, "401 Unauthorized.");
        }
        match request.call_type() {
            "SUBSCRIBE" => Reply::json_stream("s", &[subscribed(15.0), offers()], After::Hold),
            _ => Reply::accepted(),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();

    let mut config = fast_config(&peer.addr());
    config.credentials = Some(Credentials::from_file("fw-principal", &secret_file).unwrap());
    config.framework_info.principal = Some("fw-principal".into());
    let driver = SchedulerDriver::new(config.clone()).unwrap();
    let handle = driver.handle();

    for shown in [
        format!("{config:?}"),
        format!("{driver:?}"),
        format!("{handle:?}"),
    ] {
        assert!(!shown.contains(SECRET), "secret in Debug output: {shown}");
    }

    let (result, recorder) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Teardown),
    );
    result.unwrap();
    assert_eq!(recorder.seen.len(), 2);
    let requests = peer.requests();
    let kinds: Vec<_> = requests.iter().map(Request::call_type).collect();
    assert_eq!(kinds, ["SUBSCRIBE", "DECLINE", "TEARDOWN"]);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(expected_header().as_str()))
    );
    assert_no_secret_logged();
}

#[test]
fn wrong_credentials_end_run_with_401_and_no_secret_in_the_error() {
    capture_logs();
    let peer = Peer::start(|_: &Request| Reply::Status {
        status: 401,
        headers: vec![(
            "WWW-Authenticate".into(),
            "Basic realm=\"mesos-master-scheduler\"".into(),
        )],
        body: b"401 Unauthorized.".to_vec(),
    });
    let mut config = fast_config(&peer.addr());
    config.credentials = Some(Credentials::new("fw-principal", SECRET));
    let driver = SchedulerDriver::new(config).unwrap();
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Http { status: 401, .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(SECRET));
    assert_eq!(peer.requests().len(), 1, "a 401 is not retried");
    assert_no_secret_logged();
}
