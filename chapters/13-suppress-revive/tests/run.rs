//! Runs step 13 against a devcluster in the test's process and checks what the cluster saw.

use ch13_suppress_revive::{Args, run};
use clap::Parser;
use observe::{Seen, cluster, run_step};

#[test]
fn no_offers_while_suppressed_and_offers_at_once_after_revive() {
    let cluster = cluster(1);
    let executor = env!("CARGO_BIN_EXE_ch13-executor");
    let url = cluster.master_url();
    let args = Args::parse_from(["ch13-scheduler", "--master", &url, "--executor", executor]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    assert_eq!(seen.launched_ids().len(), 2, "{:?}", seen.kinds());
    let kinds = seen.kinds();
    let at = |kind: &str| kinds.iter().position(|k| k == kind).expect(kind);
    let (suppress, revive) = (at("SUPPRESS"), at("REVIVE"));
    // Not one offer between SUPPRESS and REVIVE; offers right after REVIVE, then TEARDOWN.
    assert!(suppress < revive, "{kinds:?}");
    assert!(
        !kinds[suppress..revive].contains(&"OFFERS".to_string()),
        "{kinds:?}"
    );
    let after: Vec<&String> = kinds[revive + 1..]
        .iter()
        .filter(|k| *k != "HEARTBEAT")
        .collect();
    assert_eq!(after, ["OFFERS", "TEARDOWN"], "{kinds:?}");
    observe::check_diagram!(&cluster);
}
