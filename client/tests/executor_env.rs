//! Parsing the `MESOS_*` environment, checked against the environments real
//! agents gave executors (`fixtures/mesos-1.12/executor/*/env.txt`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_client::Error;
use mesos_client::executor::{ExecutorEnv, format_duration, parse_duration};

/// The `NAME=value` lines of a captured env.txt.
fn captured_env(run: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/mesos-1.12/executor")
        .join(run)
        .join("env.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn parses_a_real_agents_environment_without_checkpointing() {
    let env = ExecutorEnv::from_vars(captured_env("run1-launch")).unwrap();
    assert_eq!(
        env.framework_id.value,
        "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-0000"
    );
    assert_eq!(env.executor_id.value, "py-exec-1");
    assert_eq!(env.agent_endpoint, "127.0.0.1:5051");
    assert_eq!(
        env.executor_api_url(),
        "http://127.0.0.1:5051/api/v1/executor"
    );
    assert_eq!(
        env.agent_id.unwrap().value,
        "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-S0"
    );
    assert!(
        env.directory
            .ends_with("runs/6ce9ecdc-4fe2-4065-8203-1a733bac14c8")
    );
    assert_eq!(env.sandbox, env.directory);
    assert!(!env.checkpoint);
    assert_eq!(env.shutdown_grace_period, Duration::from_secs(5));
    // Not set without checkpointing: the agent defaults apply.
    assert_eq!(env.recovery_timeout, Duration::from_secs(15 * 60));
    assert_eq!(env.subscription_backoff_max, Duration::from_secs(2));
    assert_eq!(env.authentication_token, None);
}

#[test]
fn parses_a_real_agents_environment_with_checkpointing() {
    let env = ExecutorEnv::from_vars(captured_env("run4-checkpointing")).unwrap();
    assert!(env.checkpoint);
    assert_eq!(env.executor_id.value, "py-exec-pa");
    assert_eq!(env.recovery_timeout, Duration::from_secs(900));
    assert_eq!(env.subscription_backoff_max, Duration::from_secs(2));
}

#[test]
fn every_variable_is_read() {
    let env = ExecutorEnv::from_vars([
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
        ("MESOS_AGENT_ENDPOINT", "http://10.0.0.1:5051/"),
        ("MESOS_DIRECTORY", "/host/sandbox"),
        ("MESOS_SANDBOX", "/mnt/mesos/sandbox"),
        ("MESOS_CHECKPOINT", "1"),
        ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "1500ms"),
        ("MESOS_RECOVERY_TIMEOUT", "1hrs"),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "0.5secs"),
        ("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "jwt.token.here"),
        ("PATH", "/bin"),
    ])
    .unwrap();
    assert_eq!(env.agent_endpoint, "10.0.0.1:5051");
    assert_eq!(env.sandbox, PathBuf::from("/mnt/mesos/sandbox"));
    assert_eq!(env.directory, PathBuf::from("/host/sandbox"));
    assert!(env.checkpoint);
    assert_eq!(env.shutdown_grace_period, Duration::from_millis(1500));
    assert_eq!(env.recovery_timeout, Duration::from_secs(3600));
    assert_eq!(env.subscription_backoff_max, Duration::from_millis(500));
    assert_eq!(env.authentication_token.as_deref(), Some("jwt.token.here"));
    assert!(!format!("{env:?}").contains("jwt.token.here"));
    assert!(!env.tls && env.ca_file.is_none());
    assert_eq!(
        env.executor_api_url(),
        "http://10.0.0.1:5051/api/v1/executor"
    );
}

#[test]
fn libprocess_tls_settings_make_the_executor_use_https() {
    let base = [
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
        ("MESOS_AGENT_ENDPOINT", "10.0.0.1:5051"),
        ("MESOS_DIRECTORY", "/host/sandbox"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        ExecutorEnv::from_vars(base.iter().chain(extra).copied())
    };
    let env = with(&[
        ("LIBPROCESS_SSL_ENABLED", "true"),
        ("LIBPROCESS_SSL_CA_FILE", "/etc/mesos/ca.pem"),
    ])
    .unwrap();
    assert!(env.tls);
    assert_eq!(env.ca_file, Some(PathBuf::from("/etc/mesos/ca.pem")));
    assert_eq!(
        env.executor_api_url(),
        "https://10.0.0.1:5051/api/v1/executor"
    );
    assert!(with(&[("LIBPROCESS_SSL_ENABLED", "1")]).unwrap().tls);
    assert!(!with(&[("LIBPROCESS_SSL_ENABLED", "0")]).unwrap().tls);
    let err = with(&[("LIBPROCESS_SSL_ENABLED", "yes")]).unwrap_err();
    assert!(err.to_string().contains("LIBPROCESS_SSL_ENABLED"), "{err}");
}

#[test]
fn all_missing_variables_are_listed_at_once() {
    let err =
        ExecutorEnv::from_vars([("MESOS_EXECUTOR_ID", "ex"), ("MESOS_DIRECTORY", "")]).unwrap_err();
    let Error::Config(message) = err else {
        panic!("expected a Config error, got {err:?}");
    };
    for name in [
        "MESOS_FRAMEWORK_ID",
        "MESOS_AGENT_ENDPOINT",
        "MESOS_DIRECTORY",
    ] {
        assert!(message.contains(name), "{name} not in {message:?}");
    }
    assert!(!message.contains("MESOS_EXECUTOR_ID"), "{message}");

    // Nothing at all: all four required names in one message.
    let message = ExecutorEnv::from_vars(Vec::<(String, String)>::new())
        .unwrap_err()
        .to_string();
    for name in [
        "MESOS_FRAMEWORK_ID",
        "MESOS_EXECUTOR_ID",
        "MESOS_AGENT_ENDPOINT",
        "MESOS_DIRECTORY",
    ] {
        assert!(message.contains(name), "{name} not in {message:?}");
    }
}

#[test]
fn invalid_values_are_listed_with_the_missing_ones() {
    let message = ExecutorEnv::from_vars([
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_AGENT_ENDPOINT", "no-port-here"),
        ("MESOS_DIRECTORY", "/d"),
        ("MESOS_CHECKPOINT", "yes"),
        ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5 seconds"),
        ("MESOS_RECOVERY_TIMEOUT", "-1secs"),
    ])
    .unwrap_err()
    .to_string();
    for needle in [
        "MESOS_EXECUTOR_ID",
        "MESOS_AGENT_ENDPOINT=\"no-port-here\"",
        "MESOS_CHECKPOINT=\"yes\"",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=\"5 seconds\"",
        "MESOS_RECOVERY_TIMEOUT=\"-1secs\"",
    ] {
        assert!(message.contains(needle), "{needle} not in {message:?}");
    }
}

#[test]
fn mesos_duration_strings() {
    let cases = [
        ("5secs", Duration::from_secs(5)),
        ("15mins", Duration::from_secs(900)),
        ("2secs", Duration::from_secs(2)),
        ("1500ms", Duration::from_millis(1500)),
        ("10ns", Duration::from_nanos(10)),
        ("7us", Duration::from_micros(7)),
        ("2hrs", Duration::from_secs(7200)),
        ("1days", Duration::from_secs(86_400)),
        ("1weeks", Duration::from_secs(604_800)),
        ("0.5secs", Duration::from_millis(500)),
        ("0ns", Duration::ZERO),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_duration(text), Some(expected), "{text}");
    }
    for bad in [
        "",
        "5",
        "secs",
        "5 secs",
        "5s",
        "-5secs",
        "1e3ms",
        "inf secs",
        "5secs5",
        "1.2.3secs",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn durations_print_like_mesos_and_round_trip() {
    assert_eq!(format_duration(Duration::from_secs(5)), "5secs");
    assert_eq!(format_duration(Duration::from_secs(900)), "15mins");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    assert_eq!(format_duration(Duration::from_secs(86_400)), "1days");
    assert_eq!(format_duration(Duration::ZERO), "0ns");
    for d in [
        Duration::from_nanos(1),
        Duration::from_micros(3),
        Duration::from_secs(7 * 86_400 * 2),
    ] {
        assert_eq!(parse_duration(&format_duration(d)), Some(d));
    }
}

/// Issue 17, row 12: `MESOS_AGENT_ENDPOINT=::1:5051` (IPv6 without brackets) passed
/// validation and the executor then retried forever; with brackets it is fine.
#[test]
fn ipv6_endpoint_needs_brackets() {
    let vars = |endpoint: &str| {
        vec![
            ("MESOS_FRAMEWORK_ID", "f"),
            ("MESOS_EXECUTOR_ID", "e"),
            ("MESOS_AGENT_ENDPOINT", endpoint),
            ("MESOS_DIRECTORY", "/tmp"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>()
    };
    for bad in ["::1:5051", "[::1:5051", "[zz::1]:5051", "[::1]"] {
        match ExecutorEnv::from_vars(vars(bad)) {
            Err(Error::Config(m)) => assert!(m.contains("MESOS_AGENT_ENDPOINT"), "{m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let env = ExecutorEnv::from_vars(vars("[::1]:5051")).expect("bracketed IPv6");
    assert_eq!(env.agent_endpoint, "[::1]:5051");
    assert!(ExecutorEnv::from_vars(vars("127.0.0.1:5051")).is_ok());
}

/// Issue 17, row 12: a non-UTF-8 `MESOS_EXECUTOR_ID` made `from_env` panic (exit 101).
#[test]
fn non_utf8_values_are_a_clear_error() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let vars = vec![
        (OsString::from("MESOS_FRAMEWORK_ID"), OsString::from("f")),
        (
            OsString::from("MESOS_EXECUTOR_ID"),
            OsString::from_vec(vec![0xff, 0xfe]),
        ),
        (
            OsString::from("MESOS_AGENT_ENDPOINT"),
            OsString::from("127.0.0.1:5051"),
        ),
        (OsString::from("MESOS_DIRECTORY"), OsString::from("/tmp")),
        // Not ours: ignored whatever it holds.
        (OsString::from("OTHER"), OsString::from_vec(vec![0xff])),
    ];
    match ExecutorEnv::from_vars_os(vars) {
        Err(Error::Config(m)) => {
            assert!(m.contains("MESOS_EXECUTOR_ID"), "{m}");
            assert!(m.contains("UTF-8"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}
