//! Runs step 02 against a devcluster in the test's process and checks what the cluster saw.

use ch02_offers::{Args, run};
use clap::Parser;
use mesos_proto::v1::scheduler::call;
use observe::{Seen, cluster, run_step};

#[test]
fn declines_three_rounds_of_offers_with_a_filter() {
    let cluster = cluster(2);
    let url = cluster.master_url();
    let args = Args::parse_from(["ch02-scheduler", "--master", &url]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    // Three rounds (a fourth may have been on its way while the step tore down).
    let rounds: Vec<usize> = seen
        .events()
        .iter()
        .filter_map(|e| e.offers.as_ref())
        .map(|o| o.offers.len())
        .collect();
    assert!(rounds.len() >= 3, "{:?}", seen.kinds());
    let offers = rounds[..3].iter().sum();
    // Every offer of those rounds was answered, with the filter asked for; none was used.
    assert_eq!(seen.declines(), vec![Some(1.0); offers]);
    assert_eq!(seen.calls_of(call::Type::Accept), 0);
    assert!(
        seen.in_order(&["SUBSCRIBED", "OFFERS", "DECLINE", "TEARDOWN"]),
        "{:?}",
        seen.kinds()
    );
    assert!(!cluster.framework_ids().contains(&seen.framework_id));
    observe::check_diagram!(&cluster);
}
