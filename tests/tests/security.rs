//! Security end to end: HTTP basic authentication (401 without credentials and with wrong
//! ones, success with the right ones) at the master, through `mesos-client` and through
//! every framework binary's `--principal` / `--secret-file`; the secret never printed
//! (output, errors, `--help`, also with every environment variable a binary reads set to
//! it); TLS with a certificate made at test time, trusted through the client's CA option
//! and refused without it; tasks that see no credential.
//!
//! The table of what is covered is in `docs/reliability.md` ("Security"). Binaries are
//! found by reading the workspace manifests ([`e2e_tests::binaries`]), so a new chapter is
//! covered without editing this file; one that lacks the flags is reported by
//! `every_framework_binary_takes_principal_and_secret_file`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use devcluster::http::{Credentials as ServerCredentials, tls_config_from_pem};
use devcluster::{Cluster, ClusterConfig};
use e2e_tests::binaries::{Binary, built_examples};
use e2e_tests::example_runs::{Proc, files_named};
use e2e_tests::http;
use e2e_tests::jobs::{JobsConfig, Runner};
use e2e_tests::sched::{SCHEDULER, framework, subscribe_body};
use mesos_client::credentials::Credentials;
use mesos_client::{Error, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::FrameworkInfo;
use mesos_proto::v1::scheduler::{Event, event};

const PRINCIPAL: &str = "reliability-principal";
/// A job run over TLS and auth takes 1-3 s; this only keeps a broken one from hanging.
const RUN: Duration = Duration::from_secs(30);

/// A fresh secret for each test: random, so a match in any output can only be a leak.
fn fresh_secret(tag: &str) -> String {
    format!("{tag}-{}", uuid_hex())
}

fn uuid_hex() -> String {
    mesos_proto::uuid::new_v4()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("reliab-security-{}", uuid_hex()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// PEM of a fresh CA, and a server certificate and key for 127.0.0.1/localhost signed by
/// it.
fn certificates() -> (String, String, String) {
    let c = mesos_client::local::localhost_certificates().expect("certificates");
    (c.ca, c.cert, c.key)
}

/// A cluster that wants `PRINCIPAL:secret`, optionally over TLS; returns the CA file then.
struct Secured {
    cluster: Cluster,
    secret: String,
    wrong: String,
    secret_file: PathBuf,
    wrong_file: PathBuf,
    ca_file: Option<PathBuf>,
    scratch: Scratch,
}

fn secured(tls: bool) -> Secured {
    let scratch = Scratch::new();
    let secret = fresh_secret("right");
    let wrong = fresh_secret("wrong");
    let secret_file = scratch.file("secret", &format!("{secret}\n"));
    let wrong_file = scratch.file("wrong", &format!("{wrong}\n"));
    let mut cfg = ClusterConfig::for_tests(1);
    cfg.credentials =
        Some(ServerCredentials::parse(&format!("{PRINCIPAL} {secret}\n")).expect("credentials"));
    let mut ca_file = None;
    if tls {
        let (ca, cert, key) = certificates();
        cfg.tls = Some(tls_config_from_pem(cert.as_bytes(), key.as_bytes()).expect("TLS config"));
        ca_file = Some(scratch.file("ca.pem", &ca));
        // Executors call their agent over https too, trusting this CA.
        cfg.tls_ca_file = ca_file.clone();
    }
    let cluster = Cluster::start(cfg).expect("devcluster starts");
    Secured {
        cluster,
        secret,
        wrong,
        secret_file,
        wrong_file,
        ca_file,
        scratch,
    }
}

impl Secured {
    /// Asserts that neither secret occurs in `text` (named `what` in the failure, which
    /// shows only where, never the secret itself).
    fn assert_absent(&self, what: &str, text: &str) {
        for (name, s) in [
            ("the secret", &self.secret),
            ("the wrong secret", &self.wrong),
        ] {
            if let Some(at) = text.find(s.as_str()) {
                let start = at.saturating_sub(80);
                let context = text[start..at].to_string();
                panic!("{name} appears in {what}, after: {context:?}");
            }
        }
    }

    /// Everything the cluster would show about the framework and its tasks: the state
    /// endpoints of master and agents, and every file in every sandbox.
    fn everything_visible(&self) -> String {
        let mut all = String::new();
        let master = http::host_port(&self.cluster.master_url());
        if self.ca_file.is_none() {
            for path in ["/state", "/frameworks", "/tasks"] {
                all.push_str(&http::get(&master, path).text());
            }
            for url in self.cluster.agent_urls() {
                all.push_str(&http::get(&http::host_port(&url), "/state").text());
            }
        }
        for name in ["stdout", "stderr"] {
            for f in files_named(self.cluster.work_dir(), name) {
                all.push_str(&std::fs::read_to_string(f).unwrap_or_default());
            }
        }
        all
    }
}

// ---- The master --------------------------------------------------------------------

fn basic(principal: &str, secret: &str) -> String {
    use base64::Engine;
    let raw = format!("{principal}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// The scheduler endpoint answers 401 with Mesos' challenge without credentials, with a
/// wrong secret, with an unknown principal and with a malformed header; it streams with
/// the right ones. A 401 is given before anything else is looked at (§1.7 row 0).
#[test]
fn master_basic_auth_401_and_success() {
    let s = secured(false);
    let addr = http::host_port(&s.cluster.master_url());
    let body = subscribe_body(&framework("auth")).to_string();
    let json = ("Content-Type", "application/json");
    let cases = [
        ("no credentials", None),
        ("wrong secret", Some(basic(PRINCIPAL, &s.wrong))),
        ("unknown principal", Some(basic("nobody", &s.secret))),
        ("not basic", Some("Bearer abc".to_string())),
        ("bad base64", Some("Basic %%%".to_string())),
    ];
    for (what, auth) in cases {
        let mut headers = vec![json];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let r = http::post(&addr, SCHEDULER, &headers, body.as_bytes());
        assert_eq!(r.status(), 401, "{what}: {}", r.text());
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Basic realm=\"mesos-master-scheduler\""),
            "{what}"
        );
        assert_eq!(r.text(), "401 Unauthorized.", "{what}");
        s.assert_absent(what, &r.text());
        // Even a GET is 401 first, not 405.
        let r = http::request(&addr, "GET", SCHEDULER, &[], None).expect("GET");
        assert_eq!(r.status(), 401);
    }
    let right = basic(PRINCIPAL, &s.secret);
    let mut stream = http::open_stream::<Event>(
        &addr,
        SCHEDULER,
        &[json, ("Authorization", &right)],
        body.as_bytes(),
    )
    .unwrap_or_else(|r| panic!("SUBSCRIBE answered {}: {}", r.status(), r.text()));
    let (ev, _) = stream.next_event(Duration::from_secs(10));
    assert_eq!(ev.r#type(), event::Type::Subscribed);
}

// ---- mesos-client ------------------------------------------------------------------

/// Stops at SUBSCRIBED (only the subscription matters).
struct StopAtSubscribed;

impl Scheduler for StopAtSubscribed {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        handle.stop(StopMode::Failover);
        Ok(())
    }
}

/// Runs a driver that stops at SUBSCRIBED, giving up after the first failure.
fn subscribe_once(
    masters: &str,
    credentials: Option<Credentials>,
    ca_file: Option<&Path>,
) -> mesos_client::Result<()> {
    let info = FrameworkInfo {
        user: "root".into(),
        name: "security".into(),
        principal: Some(PRINCIPAL.into()),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(masters, info);
    config.credentials = credentials;
    config.ca_file = ca_file.map(Path::to_path_buf);
    config.max_reconnect_attempts = Some(0);
    config.request_timeout = Duration::from_secs(5);
    SchedulerDriver::new(config)?.run(&mut StopAtSubscribed)
}

/// The client with the right secret file subscribes and runs jobs to completion; with a
/// wrong one or none it fails at once with the 401 (a 4xx is not retried), and its error
/// never contains the secret.
#[test]
fn client_basic_auth_end_to_end() {
    let s = secured(false);
    let masters = s.cluster.master_url();
    let right = Credentials::from_file(PRINCIPAL, &s.secret_file).expect("secret file");
    let wrong = Credentials::from_file(PRINCIPAL, &s.wrong_file).expect("secret file");
    for (what, creds) in [("wrong secret", Some(wrong)), ("no credentials", None)] {
        let started = Instant::now();
        let err = subscribe_once(&masters, creds.clone(), None).expect_err(what);
        assert!(
            matches!(err, Error::Http { status: 401, .. }),
            "{what}: {err:?}"
        );
        assert!(started.elapsed() < RUN, "{what}: not given up");
        s.assert_absent(what, &format!("{err} {err:?} {creds:?}"));
        if let Some(c) = &creds {
            s.assert_absent(what, &format!("{c}"));
        }
    }
    assert!(s.cluster.framework_ids().is_empty(), "nobody got in");
    subscribe_once(&masters, Some(right.clone()), None).expect("right secret");

    let mut config = JobsConfig::new(masters, 2, "true");
    config.credentials = Some(right);
    let ledger = Runner::start(config).finish(RUN);
    ledger.assert_nothing_lost(2);
}

/// TLS: devcluster serves https with a certificate made now; the client trusts it
/// through its CA option (and runs jobs over https with basic auth), and refuses it
/// without the option (web PKI roots) or with another CA.
#[test]
fn tls_trusted_through_ca_option_and_refused_without() {
    let s = secured(true);
    let masters = s.cluster.master_url();
    assert!(masters.starts_with("https://"), "{masters}");
    let right = Credentials::from_file(PRINCIPAL, &s.secret_file).expect("secret file");
    let ca = s.ca_file.clone().expect("CA file");

    // Without the CA: the handshake fails; the driver does not get in.
    let err = subscribe_once(&masters, Some(right.clone()), None).expect_err("untrusted");
    assert!(
        !matches!(err, Error::Http { .. }),
        "refused before HTTP: {err:?}"
    );
    // With some other CA: the same.
    let (other_ca, _, _) = certificates();
    let other = s.scratch.file("other-ca.pem", &other_ca);
    let err = subscribe_once(&masters, Some(right.clone()), Some(&other)).expect_err("other CA");
    assert!(!matches!(err, Error::Http { .. }), "{err:?}");
    s.assert_absent("TLS errors", &format!("{err} {err:?}"));
    assert!(s.cluster.framework_ids().is_empty(), "nobody got in");
    // Plain HTTP to the https port gets no HTTP answer.
    let plain = http::request(
        &http::host_port(masters.trim_start_matches("https://")),
        "GET",
        "/health",
        &[],
        None,
    );
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");

    // With the CA: subscribe, then a run of jobs over https, with authentication.
    subscribe_once(&masters, Some(right.clone()), Some(&ca)).expect("trusted");
    let mut config = JobsConfig::new(masters.clone(), 2, "true");
    config.credentials = Some(right);
    config.ca_file = Some(ca);
    let ledger = Runner::start(config).finish(RUN);
    ledger.assert_nothing_lost(2);
    // And with the right CA but a wrong secret: TLS works, authentication does not.
    let wrong = Credentials::from_file(PRINCIPAL, &s.wrong_file).expect("secret file");
    let err = subscribe_once(&masters, Some(wrong), s.ca_file.as_deref()).expect_err("wrong");
    assert!(matches!(err, Error::Http { status: 401, .. }), "{err:?}");
}

/// A task sees no credential: a command task prints its whole environment into its
/// sandbox, and neither that, nor any sandbox file, nor any state endpoint of master and
/// agents contains the secret the scheduler authenticated with.
#[test]
fn tasks_receive_no_credentials() {
    let s = secured(false);
    let mut config = JobsConfig::new(s.cluster.master_url(), 1, "env; echo env-done");
    config.credentials = Some(Credentials::from_file(PRINCIPAL, &s.secret_file).expect("file"));
    let ledger = Runner::start(config).finish(RUN);
    ledger.assert_nothing_lost(1);
    let visible = s.everything_visible();
    assert!(
        visible.contains("env-done"),
        "the task printed its environment"
    );
    assert!(
        visible.contains("MESOS_"),
        "the task's environment was printed"
    );
    s.assert_absent(
        "the task's environment, sandboxes or state endpoints",
        &visible,
    );
    for line in visible.lines() {
        assert!(
            !line.starts_with("MESOS_EXECUTOR_AUTHENTICATION_TOKEN="),
            "a token the task does not need: {line}"
        );
    }
}

// ---- Every framework binary --------------------------------------------------------

/// Extra arguments some binaries need to start (a required option, or a short run).
fn extra_args(name: &str) -> Vec<&'static str> {
    match name {
        "minimal-scheduler" | "skeleton-scheduler" => vec!["--tasks", "1", "--sleep", "1"],
        "offer-proxy" => vec!["--api-url", "http://127.0.0.1:9"],
        "etl-runner" => vec!["--cmd", "true", "--jobs", "1"],
        "sdk-scheduler" => vec![
            "--app",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../chapters/20-framework-sdk/app.json"
            ),
            "--until-running",
        ],
        _ => Vec::new(),
    }
}

fn framework_binaries() -> Vec<(Binary, PathBuf)> {
    built_examples()
        .into_iter()
        .filter(|(b, _)| b.is_framework())
        .collect()
}

/// How one binary did against the secured cluster.
fn check_binary(bin: &Binary, path: &Path, tls: bool) -> Result<(), String> {
    let s = secured(tls);
    let master = s.cluster.master_url();
    let secret = s.secret_file.display().to_string();
    let wrong = s.wrong_file.display().to_string();
    let mut outputs = String::new();
    let mut base = vec!["--master", master.as_str()];
    base.extend(extra_args(&bin.name));
    let ca = s.ca_file.as_ref().map(|p| p.display().to_string());
    if let Some(ca) = &ca {
        base.extend(["--ca-file", ca.as_str()]);
    }
    // Refused: wrong secret, and no credentials at all.
    for (what, auth) in [
        (
            "wrong secret",
            vec!["--principal", PRINCIPAL, "--secret-file", &wrong],
        ),
        ("no credentials", vec![]),
    ] {
        let mut args = base.clone();
        args.extend(auth);
        let mut p = Proc::spawn(path, &args, &[]);
        let status = p.wait_exit(Duration::from_secs(20));
        outputs.push_str(&p.output());
        if status.success() {
            return Err(format!("{}: {what}: exited 0:\n{}", bin.name, p.output()));
        }
        if !s.cluster.framework_ids().is_empty() {
            return Err(format!("{}: {what}: a framework got in", bin.name));
        }
    }
    // Accepted: the right secret file.
    let mut args = base.clone();
    args.extend(["--principal", PRINCIPAL, "--secret-file", &secret]);
    let mut p = Run::spawn(path, &args, &s.scratch.0.join("right.out"));
    let deadline = Instant::now() + Duration::from_secs(20);
    // In: the master lists the framework, or the binary did its whole run (a run ends
    // with TEARDOWN, after which the master forgets it) and exited 0.
    let got_in = loop {
        if !s.cluster.framework_ids().is_empty() {
            break true;
        }
        if let Some(status) = p.exited() {
            break status.success();
        }
        if Instant::now() >= deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    p.stop();
    outputs.push_str(&p.output());
    if !got_in {
        return Err(format!(
            "{}: right secret: never subscribed:\n{}",
            bin.name,
            p.output()
        ));
    }
    s.assert_absent(&format!("{}'s output", bin.name), &outputs);
    s.assert_absent(
        &format!("what {} left in the cluster", bin.name),
        &s.everything_visible(),
    );
    Ok(())
}

/// A process whose output goes to a file, for runs that must be watched without
/// blocking (has it exited?). Killed on drop if still running.
struct Run {
    child: std::process::Child,
    out: PathBuf,
}

impl Run {
    fn spawn(bin: &Path, args: &[&str], out: &Path) -> Run {
        let file = std::fs::File::create(out).expect("output file");
        let err = file.try_clone().expect("output file");
        let child = std::process::Command::new(bin)
            .args(args)
            .env_remove("MESOS_MASTER")
            .stdin(std::process::Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        Run {
            child,
            out: out.to_path_buf(),
        }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn stop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The message of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "check panicked".to_string())
}

/// Every framework binary that takes `--principal` / `--secret-file`: refused (non-zero
/// exit, no framework registered) with a wrong secret and without credentials, subscribed
/// with the right one; the secrets appear in none of its output, nor in anything the
/// cluster shows. A binary that also takes `--ca-file` does all this over TLS.
#[test]
fn binaries_authenticate_with_principal_and_secret_file() {
    let bins = framework_binaries();
    let (with, without): (Vec<_>, Vec<_>) = bins
        .into_iter()
        .partition(|(_, path)| takes_credentials(&help_of(path)));
    let names = |v: &[(Binary, PathBuf)]| v.iter().map(|(b, _)| b.name.clone()).collect::<Vec<_>>();
    eprintln!("checked: {:?}", names(&with));
    eprintln!(
        "NOTE: no --principal/--secret-file yet: {:?}",
        names(&without)
    );
    // In parallel: each run mostly waits.
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = with
            .iter()
            .map(|(b, p)| {
                let tls = help_of(p).contains("--ca-file");
                scope.spawn(move || check_binary(b, p, tls))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| Err(panic_text(&*e))))
            .collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A custom executor on a TLS cluster: the agent tells it (as a Mesos agent passes its
/// libprocess settings down) to use https and which CA to trust, so minimal-scheduler's
/// tasks run to TASK_FINISHED; and no secret reaches the executor or its sandbox.
#[test]
fn custom_executors_run_on_a_tls_cluster() {
    let s = secured(true);
    let built = built_examples();
    let (_, path) = built
        .iter()
        .find(|(b, _)| b.name == "minimal-scheduler")
        .expect("minimal-scheduler is built");
    let master = s.cluster.master_url();
    let secret = s.secret_file.display().to_string();
    let ca = s.ca_file.as_ref().expect("TLS").display().to_string();
    let args = [
        "--master",
        &master,
        "--principal",
        PRINCIPAL,
        "--secret-file",
        &secret,
        "--ca-file",
        &ca,
        "--tasks",
        "1",
        "--sleep",
        "0",
    ];
    let mut p = Run::spawn(path, &args, &s.scratch.0.join("minimal.out"));
    let deadline = Instant::now() + RUN;
    let status = loop {
        if let Some(status) = p.exited() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not finish:\n{}", p.output());
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = p.output();
    assert!(status.success(), "{out}");
    assert!(out.contains("TASK_FINISHED"), "{out}");
    assert!(master.starts_with("https://"), "{master}");
    s.assert_absent("minimal-scheduler's output", &out);
    s.assert_absent("what the run left in the cluster", &s.everything_visible());
}

/// The requirement, strictly: every framework binary takes the two flags, as its
/// `--help` says (a binary may take them through `Connection`, whose source it does not
/// repeat, so the help page is what counts).
#[test]
fn every_framework_binary_takes_principal_and_secret_file() {
    let missing: Vec<String> = framework_binaries()
        .into_iter()
        .filter(|(_, path)| !takes_credentials(&help_of(path)))
        .map(|(b, _)| b.name)
        .collect();
    assert!(
        missing.is_empty(),
        "no --principal/--secret-file: {missing:?}"
    );
}

/// What `path --help` prints (empty if it cannot run): the options a binary takes, however
/// its source spells them (through `Connection`, or its own).
fn help_of(path: &Path) -> String {
    std::process::Command::new(path)
        .arg("--help")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).to_string())
        .unwrap_or_default()
}

/// Whether a help page offers both credential options.
fn takes_credentials(help: &str) -> bool {
    help.contains("--principal") && help.contains("--secret-file")
}

/// The `[env: NAME=...]` variables a clap `--help` lists whose name says they hold a
/// secret (`MESOS_MASTER` is shown with its value on purpose, and is no secret).
fn secret_env_names(help: &str) -> Vec<String> {
    help.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .filter(|name| {
            let n = name.to_ascii_uppercase();
            ["SECRET", "PASSWORD", "TOKEN", "CREDENTIAL", "AUTH"]
                .iter()
                .any(|k| n.contains(k))
        })
        .map(str::to_string)
        .collect()
}

/// No binary prints the secret: not in `--help` (also with every secret-holding environment
/// variable it documents set to the secret, which clap shows unless told to hide it), and not
/// when run with the secret file against a master that is not there (errors, retries).
#[test]
fn secret_never_printed_by_any_binary() {
    let built = built_examples();
    let s = Scratch::new();
    let secret = fresh_secret("never-print");
    let secret_file = s.file("secret", &format!("{secret}\n"));
    let file = secret_file.display().to_string();
    // Port 9 (discard) is closed on test machines: connections are refused at once.
    let nowhere = "http://127.0.0.1:9";
    let outputs: Vec<(String, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = built
            .iter()
            .map(|(b, path)| {
                let (file, secret) = (&file, &secret);
                scope.spawn(move || {
                    let mut out = String::new();
                    // 1. --help; binaries without --help run instead, against nowhere.
                    let help_args = ["--help", "--master", nowhere];
                    let mut p = Proc::spawn(path, &help_args, &[]);
                    let _ = wait_or_kill(&mut p, Duration::from_secs(3));
                    let help = p.output();
                    out.push_str(&help);
                    // 2. --help with every documented secret variable set to the secret.
                    let envs: Vec<(String, String)> = secret_env_names(&help)
                        .into_iter()
                        .map(|n| (n, secret.clone()))
                        .collect();
                    let env_refs: Vec<(&str, &str)> =
                        envs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                    let mut p = Proc::spawn(path, &help_args, &env_refs);
                    let _ = wait_or_kill(&mut p, Duration::from_secs(3));
                    out.push_str(&p.output());
                    // 3. A real run with the secret file, master unreachable.
                    let mut args = vec!["--master", nowhere];
                    args.extend(extra_args(&b.name));
                    args.extend(["--principal", PRINCIPAL, "--secret-file", file.as_str()]);
                    let mut p = Proc::spawn(path, &args, &[]);
                    let _ = wait_or_kill(&mut p, Duration::from_secs(3));
                    out.push_str(&p.output());
                    (b.name.clone(), out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("runner thread"))
            .collect()
    });
    assert!(!outputs.is_empty(), "no binaries were found");
    let leaks: Vec<&String> = outputs
        .iter()
        .filter(|(_, out)| out.contains(&secret))
        .map(|(name, _)| name)
        .collect();
    assert!(
        leaks.is_empty(),
        "the secret appears in the output of {leaks:?}"
    );
}

/// Waits until the process printed a usage text, or `d` passed; dropping the `Proc` then
/// kills it if it still runs. Returns whether a usage text came.
fn wait_or_kill(p: &mut Proc, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        if p.output().to_ascii_lowercase().contains("usage") {
            std::thread::sleep(Duration::from_millis(100));
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Launches one task on a custom executor whose command prints its environment, then
/// stops once the task ends (the executor never subscribes: the agent reports the task
/// ended when the process exits).
struct EnvExecutor {
    launched: bool,
}

impl Scheduler for EnvExecutor {
    fn offers(
        &mut self,
        handle: &SchedulerHandle,
        offers: &[mesos_proto::v1::Offer],
    ) -> mesos_client::Result<()> {
        use mesos_client::offers::{RemainingResources, Resources};
        use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, shell_command};
        for offer in offers {
            let mut left = RemainingResources::from_offer(offer);
            let need = Resources::new(0.1, 32.0);
            let (false, Some(exec_res), Some(task_res)) =
                (self.launched, left.take(&need), left.take(&need))
            else {
                let _ = handle.decline(offer, 60.0);
                continue;
            };
            let executor = ExecutorBuilder::custom(
                "env-executor",
                shell_command("env; echo executor-env-done"),
            )
            .resources(exec_res)
            .build();
            let task = TaskBuilder::executor(offer, executor)
                .id("env-task")
                .name("env-task")
                .resources(task_res)
                .build();
            self.launched = handle.launch(offer, vec![task]).is_ok();
        }
        Ok(())
    }

    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &mesos_proto::v1::TaskStatus,
    ) -> mesos_client::Result<()> {
        if status.state().is_terminal() {
            handle.stop(StopMode::Failover);
        }
        Ok(())
    }
}

/// A custom executor sees no credential either: its environment (the `MESOS_*`
/// variables the agent sets) holds neither the secret nor an authentication token.
#[test]
fn executors_receive_no_credentials() {
    let s = secured(false);
    let info = FrameworkInfo {
        user: "root".into(),
        name: "env-executor".into(),
        principal: Some(PRINCIPAL.into()),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(s.cluster.master_url(), info);
    config.credentials = Some(Credentials::from_file(PRINCIPAL, &s.secret_file).expect("file"));
    config.request_timeout = Duration::from_secs(5);
    let mut driver = SchedulerDriver::new(config).expect("driver");
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = tx.send(driver.run(&mut EnvExecutor { launched: false }));
    });
    rx.recv_timeout(RUN)
        .expect("the task ended in time")
        .expect("driver");
    let visible = s.everything_visible();
    assert!(visible.contains("executor-env-done"), "{visible}");
    assert!(visible.contains("MESOS_EXECUTOR_ID="), "{visible}");
    s.assert_absent("the executor's environment", &visible);
    assert!(
        !visible.contains("MESOS_EXECUTOR_AUTHENTICATION_TOKEN="),
        "a token the executor does not need"
    );
}
