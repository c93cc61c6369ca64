//! Issue 17: devcluster under misuse. One test (or more) per row of the table,
//! each with the bound it checks lowered by an option, so that it is reached in
//! milliseconds instead of gigabytes.

mod common;

use std::time::Duration;

use common::*;
use devcluster::{Cluster, ClusterConfig};
use serde_json::{Value, json};

fn state(url: &str) -> Value {
    request(url, "GET", "/master/state", &[], b"").json()
}

fn connected(url: &str, fw: &str) -> bool {
    state(url)["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .any(|f| f["id"] == fw && f["connected"] == true)
}

/// Row 3: a subscriber that reads slowly made the master queue its events without
/// bound. Now it is disconnected once it is further behind than the bound, and can
/// subscribe again.
#[test]
fn a_subscriber_that_falls_behind_is_disconnected() {
    let mut cfg = ClusterConfig::for_tests(1);
    cfg.bounds.subscriber_queue_bytes = 64 << 10;
    cfg.bounds.subscriber_queue_events = 1000;
    let c = Cluster::start(cfg).expect("cluster starts");
    let url = c.master_url();
    // This framework stops reading after SUBSCRIBED.
    let mut info = framework("slow");
    info["failover_timeout"] = json!(60.0);
    let slow = subscribe(&url, info.clone());
    let fw = slow.framework_id.clone();
    assert!(connected(&url, &fw));
    // Reconciling 20,000 unknown tasks answers 20,000 UPDATE events (megabytes): more
    // than the socket buffers take, so they queue in the master.
    let tasks: Vec<Value> = (0..20_000)
        .map(|i| json!({"task_id": {"value": format!("task-{i}")}}))
        .collect();
    let r = call(&slow, "RECONCILE", Some(("reconcile", json!({"tasks": tasks}))));
    assert_eq!(r.status, 202, "{}", r.text());
    eventually(10, || !connected(&url, &fw));
    // It comes back as after a cut stream.
    let mut again = info;
    again["id"] = json!({"value": fw});
    let back = subscribe(&url, again);
    assert_eq!(back.framework_id, fw);
    assert!(connected(&url, &fw));
    drop(slow);
    std::thread::sleep(Duration::from_millis(10));
}
