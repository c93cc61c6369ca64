//! The chapter steps stay steps: each differs from the one before by about 80 lines or
//! fewer (readers diff the folders), each has its test, a header saying what you will
//! learn, and a row in chapters/README.md.
//!
//! The size of a step is an LCS line diff of its `src/**/*.rs` against the step before,
//! file by file, matched by relative path. A file only one of the two has counts in full
//! (as added, or as removed). The step's own number and name are normalised first
//! (`ch07_kill_task`, `ch07-scheduler`, `Step 07`), so a rename costs nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use e2e_tests::binaries::rust_sources;

/// The most lines a step may add, or remove, compared with the step before.
const LIMIT: usize = 80;

/// Steps known to exceed [`LIMIT`], with why. Each must still be a complete step; the
/// measurement is printed for them as for every other, and the list may only shrink.
const KNOWN_OVER: &[(&str, &str)] = &[
    (
        "05-custom-executor",
        "adds the executor program (src/executor.rs, src/bin/)",
    ),
    (
        "07-kill-task",
        "drops step 06's message exchange from scheduler and executor",
    ),
    (
        "10-heartbeats",
        "adds the fault injection and the driver's heartbeat settings",
    ),
    ("13-suppress-revive", "drops step 12's failover machinery"),
    (
        "16-task-groups",
        "drops the executor program (src/executor.rs, src/bin/): the default executor runs the group",
    ),
];

fn chapters() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../chapters")
}

/// The step folders `01-...` to `17-...`, in order (the systems examples from 18 on are
/// not steps).
fn steps() -> Vec<String> {
    let mut steps: Vec<String> = std::fs::read_dir(chapters())
        .expect("chapters/ is readable")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            let number = name.get(..2).and_then(|n| n.parse::<u32>().ok());
            matches!(number, Some(1..=17))
        })
        .collect();
    steps.sort();
    steps
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
fn each_step_differs_from_the_one_before_by_at_most_80_lines() {
    let steps = steps();
    let mut failures = Vec::new();
    println!("{:<24} {:>6} {:>8}", "step", "added", "removed");
    for pair in steps.windows(2) {
        let (added, removed) = step_diff(&pair[0], &pair[1]);
        let known = KNOWN_OVER.iter().find(|(s, _)| *s == pair[1]);
        let over = added > LIMIT || removed > LIMIT;
        let note = match (over, known) {
            (true, Some((_, why))) => format!("  over the limit (known: {why})"),
            (false, Some(_)) => "  now within the limit: drop it from KNOWN_OVER".to_string(),
            _ => String::new(),
        };
        println!("{:<24} {added:>6} {removed:>8}{note}", pair[1]);
        if over && known.is_none() {
            failures.push(format!("{}: +{added} -{removed}", pair[1]));
        }
        // Keep the list honest: an exception that is no longer needed must go.
        if !over && known.is_some() {
            failures.push(format!(
                "{}: within the limit, drop it from KNOWN_OVER",
                pair[1]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "steps over {LIMIT} lines: {failures:?}"
    );
}

#[test]
fn each_step_has_its_test_a_header_and_a_row_in_the_map() {
    let map = std::fs::read_to_string(chapters().join("README.md")).expect("chapters/README.md");
    for step in steps() {
        let dir = chapters().join(&step);
        assert!(
            dir.join("tests/run.rs").is_file(),
            "{step}: no tests/run.rs"
        );
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("src/lib.rs");
        let number = &step[..2];
        assert!(
            lib.starts_with(&format!("//! # Step {number}: ")),
            "{step}: the header does not start with `//! # Step {number}: `"
        );
        for part in [
            "What you will learn",
            "What you should see",
            &format!("cargo run --bin ch{number}-scheduler"),
        ] {
            assert!(lib.contains(part), "{step}: the header lacks {part:?}");
        }
        assert!(
            map.contains(&format!("[{step}]({step}/src/lib.rs)")),
            "{step}: no row in chapters/README.md"
        );
    }
}
