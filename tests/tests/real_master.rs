//! Every chapter step, example and system against one master, with one report:
//!
//! ```sh
//! MESOS_MASTER=10.141.141.10:5050 cargo test -p e2e-tests --test real_master -- --nocapture
//! ```
//!
//! With `MESOS_MASTER` set, the items run against that master (a user's own cluster; the
//! `E2E_*` variables of `e2e_tests::real_master::env` give the executors' address and
//! credentials) and the test fails when any item fails. Without it, the same runner is
//! pointed at a devcluster started as a process of its own, as if it were a stranger's
//! master: every item that is not skipped must pass, and the report must name each item
//! and each reason for a skip. A second devcluster, with a password and https, then runs
//! the two steps that need them (and one example), given the settings a user would give.
//! See the README, "Check the toolkit against your own Mesos cluster".

use std::path::{Path, PathBuf};

use e2e_tests::binaries::workspace_bin;
use e2e_tests::real_master::{
    DevclusterProcess, FAULT_STEPS, Outcome, Report, Settings, Skip, items, run,
};

/// One test, so that the command above prints one report.
#[test]
fn every_step_example_and_system_against_a_master() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    match Settings::from_env(&tmp.join("real-master")) {
        Err(e) => panic!("{e}"),
        Ok(Some(settings)) => {
            let report = run(&settings, None);
            println!("\n{}", report.render());
            assert!(
                report.failed().is_empty(),
                "items failed against {}:\n{}",
                settings.master,
                report.render()
            );
        }
        Ok(None) => against_devcluster_processes(&tmp.join("real-master-devcluster")),
    }
}

/// Without `MESOS_MASTER`: the runner against devcluster processes.
fn against_devcluster_processes(base: &Path) {
    let _ = std::fs::remove_dir_all(base);
    std::fs::create_dir_all(base).expect("scratch folder");
    let devcluster = workspace_bin("devcluster");

    // A plain cluster, as most are: no password, no https.
    let plain = {
        let cluster = DevclusterProcess::start(
            &devcluster,
            &["--agents".into(), "2".into()],
            &base.join("plain-cluster"),
            &base.join("plain-cluster.log"),
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let settings = Settings::new(&cluster.master, &base.join("plain"));
        let report = run(&settings, None);
        println!("\n{}", report.render());
        report
    };
    check_plain(&plain);

    // A cluster with a password and https: steps 14 and 15 run when given the settings
    // a user gives (principal, secret file, CA file), and an example with them too.
    let secured = secured_run(&devcluster, base);
    println!("\n{}", secured.render());
    for name in ["minimal", "14-basic-auth", "15-tls"] {
        let item = secured
            .item(name)
            .unwrap_or_else(|| panic!("{name} is not in the report:\n{}", secured.render()));
        assert_eq!(item.outcome, Outcome::Passed, "{}", secured.render());
    }
    assert_eq!(secured.items.len(), 3, "{}", secured.render());

    // Nothing failed: the logs are of no further use.
    let _ = std::fs::remove_dir_all(base);
}

/// Every item is in the report; exactly the fault steps, 14 and 15 are skipped, each with
/// its reason printed; everything else passed.
fn check_plain(report: &Report) {
    let text = report.render();
    let all = items();
    assert_eq!(report.items.len(), all.len(), "{text}");
    assert!(all.len() >= 22, "17 steps, 2 examples, 3 systems: {all:?}");
    for item in &all {
        let entry = report
            .item(&item.name)
            .unwrap_or_else(|| panic!("{} is not in the report:\n{text}", item.name));
        assert!(text.contains(&item.name), "{text}");
        let number = item.name.get(..2).unwrap_or_default();
        let expected_skip = match number {
            n if FAULT_STEPS.contains(&n) => Some(Skip::Fault(item.name.clone())),
            "14" => Some(Skip::Credentials),
            "15" => Some(Skip::Tls),
            _ => None,
        };
        match (expected_skip, &entry.outcome) {
            (Some(skip), Outcome::Skipped(got)) => {
                assert_eq!(&skip, got, "{text}");
                // Its line: the name, `skipped`, the reason.
                let line = text
                    .lines()
                    .find(|l| l.starts_with(&format!("{} ", item.name)));
                assert!(
                    line.is_some_and(|l| l.contains("  skipped  ") && l.contains(&skip.reason())),
                    "the reason for skipping {} is printed:\n{text}",
                    item.name
                );
            }
            (None, Outcome::Passed) => {}
            (expected, got) => panic!("{}: expected {expected:?}, got {got:?}:\n{text}", item.name),
        }
    }
    assert!(report.failed().is_empty(), "{text}");
}

/// The paths of the secured cluster's files.
struct Secrets {
    credentials: PathBuf,
    secret: PathBuf,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

const PRINCIPAL: &str = "e2e-real-master";

fn write_secrets(dir: &Path) -> Secrets {
    std::fs::create_dir_all(dir).expect("secrets folder");
    let certs = mesos_client::local::localhost_certificates().expect("certificates");
    let secret = "real-master-s3cret";
    let s = Secrets {
        credentials: dir.join("credentials"),
        secret: dir.join("secret"),
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    for (path, text) in [
        (&s.credentials, format!("{PRINCIPAL} {secret}\n")),
        (&s.secret, format!("{secret}\n")),
        (&s.ca, certs.ca),
        (&s.cert, certs.cert),
        (&s.key, certs.key),
    ] {
        std::fs::write(path, text).expect("write a secrets file");
    }
    s
}

fn secured_run(devcluster: &Path, base: &Path) -> Report {
    let s = write_secrets(&base.join("secrets"));
    let arg = |p: &PathBuf| p.display().to_string();
    let args = [
        "--agents".to_string(),
        "1".into(),
        "--credentials".into(),
        arg(&s.credentials),
        "--tls-cert".into(),
        arg(&s.cert),
        "--tls-key".into(),
        arg(&s.key),
        "--tls-ca".into(),
        arg(&s.ca),
    ];
    let cluster = DevclusterProcess::start(
        devcluster,
        &args,
        &base.join("secured-cluster"),
        &base.join("secured-cluster.log"),
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut settings = Settings::new(&cluster.master, &base.join("secured"));
    settings.principal = Some(PRINCIPAL.into());
    settings.secret_file = Some(s.secret);
    settings.ca_file = Some(s.ca);
    run(&settings, Some(&["minimal", "14-basic-auth", "15-tls"]))
}
