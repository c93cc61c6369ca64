//! The chapter steps stay steps: each differs from the one before by 40 changed lines
//! or fewer, added and removed together (readers diff the folders); step 01 is at most
//! 60 lines; each step has its test, a `README.md` saying what you will learn, how to run
//! it and what you will see, and a row in chapters/README.md.
//!
//! The size of a step is an LCS line diff of its `src/**/*.rs` against the step before,
//! file by file, matched by relative path. A file only one of the two has counts in full
//! (as added, or as removed). The step's own number and name are normalised first
//! (`ch07_kill_task`, `ch07-scheduler`, `Step 07`), so a rename costs nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::time::Duration;

use e2e_tests::binaries::{rust_sources, workspace_bin};
use e2e_tests::example_runs::Proc;

/// The most lines a step may change (added plus removed) compared with the step before.
const LIMIT: usize = 40;

/// The most lines of `src/` the first step may have.
const FIRST_STEP_LIMIT: usize = 60;

/// Steps known to exceed [`LIMIT`]. Each is argued in chapters/README.md ("Steps larger
/// than 40 lines"), is still a complete step, and the list may only shrink.
const KNOWN_OVER: &[&str] = &["05-custom-executor", "13-suppress-revive", "16-task-groups"];

fn chapters() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../chapters")
}

/// The step folders `01-...` to `17-...`, in order (the systems examples from 18 on are
/// not steps); the real-master mode runs the same list.
fn steps() -> Vec<String> {
    e2e_tests::real_master::step_folders()
}

/// Replaces the step's own number and name with placeholders.
fn normalise(step: &str, text: &str) -> String {
    let (number, slug) = step.split_at(2);
    let slug = &slug[1..];
    let text = text
        .replace(
            &format!("ch{number}_{}", slug.replace('-', "_")),
            "chNN_SLUG",
        )
        .replace(&format!("ch{number}-{slug}"), "chNN-SLUG")
        .replace(&format!("Step {number}"), "Step NN")
        .replace(&format!("step {number}"), "step NN");
    // `ch07` on its own (`ch07-scheduler`, `"ch07"`), not as part of a longer word.
    let token = format!("ch{number}");
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&token) {
        out.push_str(&rest[..i]);
        let after = rest[i + token.len()..].chars().next();
        let whole = !word(out.chars().last()) && !word(after);
        out.push_str(if whole { "chNN" } else { &token });
        rest = &rest[i + token.len()..];
    }
    out.push_str(rest);
    out
}

/// `src/**/*.rs` of a step: (normalised relative path, normalised text).
fn sources(step: &str) -> Vec<(String, String)> {
    let root = chapters().join(step).join("src");
    rust_sources(&root)
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
            let text = std::fs::read_to_string(&path).expect("readable source");
            (normalise(step, &rel), normalise(step, &text))
        })
        .collect()
}

/// Lines added and removed from `a` to `b`: the lines outside a longest common
/// subsequence.
fn line_diff(a: &str, b: &str) -> (usize, usize) {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    // lcs[i][j]: the LCS length of a[i..] and b[j..], one row at a time.
    let mut next = vec![0usize; b.len() + 1];
    for i in (0..a.len()).rev() {
        let mut row = vec![0usize; b.len() + 1];
        for j in (0..b.len()).rev() {
            row[j] = if a[i] == b[j] {
                next[j + 1] + 1
            } else {
                next[j].max(row[j + 1])
            };
        }
        next = row;
    }
    let common = next[0];
    (b.len() - common, a.len() - common)
}

/// Lines added and removed from step `a` to step `b`.
fn step_diff(a: &str, b: &str) -> (usize, usize) {
    let (old, new) = (sources(a), sources(b));
    let paths: BTreeSet<&String> = old.iter().chain(&new).map(|(p, _)| p).collect();
    let text = |files: &[(String, String)], path: &String| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map_or(String::new(), |(_, t)| t.clone())
    };
    paths.into_iter().fold((0, 0), |(add, rem), path| {
        let (a, r) = line_diff(&text(&old, path), &text(&new, path));
        (add + a, rem + r)
    })
}

#[test]
fn the_line_diff_counts_what_changed() {
    assert_eq!(line_diff("a\nb\nc\n", "a\nc\nd\n"), (1, 1));
    assert_eq!(line_diff("", "x\ny\n"), (2, 0));
    assert_eq!(
        normalise(
            "07-kill-task",
            "ch07_kill_task ch07-scheduler \"ch07\" Step 07 ch070"
        ),
        "chNN_SLUG chNN-scheduler \"chNN\" Step NN ch070"
    );
}

#[test]
fn there_are_seventeen_steps() {
    let steps = steps();
    let numbers: Vec<String> = steps.iter().map(|s| s[..2].to_string()).collect();
    let expected: Vec<String> = (1..=17).map(|n| format!("{n:02}")).collect();
    assert_eq!(numbers, expected, "{steps:?}");
}

#[test]
fn each_step_differs_from_the_one_before_by_at_most_40_lines() {
    let steps = steps();
    let mut failures = Vec::new();
    let map = std::fs::read_to_string(chapters().join("README.md")).expect("chapters/README.md");
    println!(
        "{:<24} {:>6} {:>8} {:>7} {:>5}",
        "step", "added", "removed", "changed", "src"
    );
    for (i, step) in steps.iter().enumerate() {
        let lines: usize = sources(step).iter().map(|(_, t)| t.lines().count()).sum();
        if i == 0 {
            println!("{step:<24} {:>6} {:>8} {:>7} {lines:>5}", "-", "-", "-");
            if lines > FIRST_STEP_LIMIT {
                failures.push(format!("{step}: {lines} lines of src/"));
            }
            continue;
        }
        let (added, removed) = step_diff(&steps[i - 1], step);
        let changed = added + removed;
        let known = KNOWN_OVER.contains(&step.as_str());
        let over = changed > LIMIT;
        let note = match (over, known) {
            (true, true) => "  over the limit (argued in chapters/README.md)",
            (false, true) => "  now within the limit: drop it from KNOWN_OVER",
            _ => "",
        };
        println!("{step:<24} {added:>6} {removed:>8} {changed:>7} {lines:>5}{note}");
        if over && !known {
            failures.push(format!("{step}: +{added} -{removed}"));
        }
        // Keep the list honest: an exception that is no longer needed must go, and one
        // that stays must be argued where readers look.
        if known && !over {
            failures.push(format!("{step}: within the limit, drop it from KNOWN_OVER"));
        }
        if known && !map.contains(&format!("**{step}**")) {
            failures.push(format!(
                "{step}: over the limit, not argued in chapters/README.md"
            ));
        }
    }
    assert!(failures.is_empty(), "steps over the limits: {failures:?}");
}

#[test]
fn each_step_has_its_test_a_readme_and_a_row_in_the_map() {
    let map = std::fs::read_to_string(chapters().join("README.md")).expect("chapters/README.md");
    for step in steps() {
        let dir = chapters().join(&step);
        assert!(
            dir.join("tests/run.rs").is_file(),
            "{step}: no tests/run.rs"
        );
        let number = &step[..2];
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("src/lib.rs");
        assert!(
            lib.starts_with(&format!("//! # Step {number}: ")),
            "{step}: src/lib.rs does not start with `//! # Step {number}: `"
        );
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|_| panic!("{step}: no README.md"));
        for part in [
            &format!("# Step {number}: "),
            "<!-- diagram -->",
            "## What you will learn",
            "## Run it",
            "## What you will see",
            "## What changed from the step before",
            "## In the book",
            &format!("cargo run --bin ch{number}-scheduler"),
        ] {
            assert!(readme.contains(part), "{step}: README.md lacks {part:?}");
        }
        assert!(
            map.contains(&format!("[{step}]({step}/)")),
            "{step}: no row in chapters/README.md"
        );
    }
}

/// Every step runs to completion by its README's command (`cargo run --bin chNN-scheduler`:
/// no arguments, so `--master local`) and ends with its TEARDOWN. The steps run side by
/// side: 10 to 12 wait out Mesos' 15 s heartbeats (the deadline is to fail, not a timing).
#[test]
fn each_step_runs_to_completion_by_its_readme_command() {
    let steps = steps();
    let results: Vec<(String, Result<String, String>)> = std::thread::scope(|scope| {
        let runs: Vec<_> = steps
            .iter()
            .map(|step| {
                scope.spawn(move || {
                    let bin = workspace_bin(&format!("ch{}-scheduler", &step[..2]));
                    let mut p = Proc::spawn(&bin, &[], &[]);
                    let status = p.wait_exit(Duration::from_secs(240));
                    let out = p.output();
                    let torn_down = out.contains("stopping after TEARDOWN");
                    match status.success() && torn_down {
                        true => Ok(out),
                        false => Err(format!("{status}:\n{out}")),
                    }
                })
            })
            .collect();
        steps
            .iter()
            .zip(runs)
            .map(|(step, run)| {
                let result = run.join().unwrap_or_else(|_| Err("did not end".into()));
                (step.clone(), result)
            })
            .collect()
    });
    // Step 12 keeps its framework id in the current folder, as a real scheduler would.
    let _ = std::fs::remove_file("ch12-framework.id");
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|(step, r)| r.err().map(|e| format!("{step}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
