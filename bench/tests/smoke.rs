//! The harness runs end to end with tiny parameters. No timing is asserted: only that
//! each subcommand finishes, succeeds and prints its table.

use std::process::Command;

fn bench(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(args)
        .output()
        .expect("the bench binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "bench {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn e2e_with_an_external_scheduler_prints_rows() {
    // The "external" scheduler is our own raw one, started by its command line, so the
    // {master} and {tasks} substitution is exercised too.
    let exe = env!("CARGO_BIN_EXE_bench");
    let external = format!("{exe} scheduler --kind raw --master {{master}} --tasks {{tasks}}");
    let out = bench(&[
        "e2e",
        "--tasks",
        "30",
        "--agents",
        "2",
        "--timeout-secs",
        "20",
        "--external",
        &external,
    ]);
    assert!(out.contains("| ours: driver, JSON | 30 | 2 |"), "{out}");
    assert!(out.contains("scheduler --kind raw"), "{out}");
    assert!(!out.contains("failed"), "{out}");
}

#[test]
fn ceiling_runs_simulated_and_real_tasks() {
    let out = bench(&[
        "ceiling",
        "--tasks",
        "30",
        "--agents",
        "2",
        "--process-tasks",
        "3",
        "--process-agents",
        "1",
        "--timeout-secs",
        "20",
    ]);
    assert!(
        out.contains("| raw: protobuf, pipelined, simulated | 30 | 2 |"),
        "{out}"
    );
    assert!(
        out.contains("| raw: real processes (`true`) | 3 | 1 |"),
        "{out}"
    );
    assert!(!out.contains("failed"), "{out}");
}
