//! End to end in a real browser: a framework runs against devcluster, headless Chromium
//! loads the live page, sees the framework, its tasks and its timeline, presses the
//! "Fail over the leader" button and sees the fault (and the framework coming back) in the
//! timeline, then saves a screenshot.
//!
//! Chromium is driven with the DevTools protocol over its websocket (tungstenite, no
//! browser driver, no Node). Needs Debian's `chromium` (`.ci/install-chromium.sh`); without
//! it the test prints why and passes, except under `CI=true`, where it must run.
//! `DEVCLUSTER_CHROMIUM=/path` picks another binary. The screenshot goes to
//! `$DEVCLUSTER_SCREENSHOT` or `<target>/tmp/devcluster-ui.png`.

mod browser;
mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use browser::{Browser, chromium_or_skip};
use common::*;
use devcluster::{Cluster, ClusterConfig};
use mesos_proto::v1::TaskState;
use serde_json::json;

fn screenshot_path() -> PathBuf {
    match std::env::var("DEVCLUSTER_SCREENSHOT") {
        Ok(p) => PathBuf::from(p),
        Err(_) => Path::new(env!("CARGO_TARGET_TMPDIR")).join("devcluster-ui.png"),
    }
}

#[test]
fn live_page_in_headless_chromium() {
    let Some(bin) = chromium_or_skip("live_page_in_headless_chromium") else {
        return;
    };
    // Two masters, so that "fail over the leader" really moves leadership.
    let mut cfg = ClusterConfig::for_tests(2);
    cfg.masters = 2;
    let c = Cluster::start(cfg).expect("cluster starts");
    let url = c.master_url();

    // The framework: one task that finishes, one that keeps running.
    let mut s = subscribe(&url, framework("ui-browser"));
    let fw = s.framework_id.clone();
    let offer = s.offers(5).remove(0);
    let tasks = vec![
        command_task("hello-task", &offer, "echo hello from the sandbox"),
        command_task("sleeper", &offer, "sleep 30"),
    ];
    assert_eq!(launch(&s, &offer, tasks).status, 202);
    wait_state(&mut s, 10, "hello-task", TaskState::TaskFinished);
    wait_state(&mut s, 10, "sleeper", TaskState::TaskRunning);

    let browser = Browser::start(&bin);
    let mut page = browser.open(&format!("{url}/"));
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1100, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.wait_true(
        10,
        "the framework",
        &format!("!!document.querySelector('#frameworks tr[data-framework=\"{fw}\"]')"),
    );
    page.wait_true(
        10,
        "the finished task",
        "(document.querySelector('#tasks tr[data-task=\"hello-task\"]') || {}).textContent?.includes('TASK_FINISHED')",
    );
    page.wait_true(
        10,
        "the running task's history",
        "(document.querySelector('#tasks tr[data-task=\"sleeper\"]') || {}).textContent?.includes('STARTING \\u2192 RUNNING')",
    );
    for t in [
        "SUBSCRIBE",
        "SUBSCRIBED",
        "OFFERS",
        "ACCEPT",
        "UPDATE",
        "ACKNOWLEDGE",
    ] {
        page.wait_true(
            10,
            &format!("{t} in the timeline"),
            &format!("!!document.querySelector('#timeline li[data-type=\"{t}\"]')"),
        );
    }
    // The sandbox link serves the task's stdout.
    let stdout = page.eval(
        "fetch(document.querySelector('#tasks tr[data-task=\"hello-task\"] a').href).then(r => r.text())",
    );
    assert_eq!(stdout, json!("hello from the sandbox\n"));
    // Clicking an entry shows it in full.
    page.click("#timeline li[data-type=\"ACCEPT\"]");
    page.wait_true(
        5,
        "the ACCEPT call as JSON",
        "document.querySelector('#detail').textContent.includes('\"task_infos\"')",
    );

    // The fault button: leadership moves to master 1; the framework comes back there.
    page.click("button[data-fault=\"fail-over-leader\"]");
    page.wait_true(
        10,
        "the fault in the timeline",
        "[...document.querySelectorAll('#timeline li[data-type=\"FAULT\"]')].some(li => li.textContent.includes('fail-over-leader'))",
    );
    page.wait_true(
        10,
        "the new leader",
        "document.querySelector('#leader').textContent.includes('master 1')",
    );
    let new_leader = c.master_url();
    assert_ne!(new_leader, url);
    let mut info = framework("ui-browser");
    info["id"] = json!({"value": fw});
    let mut again = subscribe(&new_leader, info);
    again.offers(5);
    page.wait_true(
        10,
        "SUBSCRIBED after the fault",
        "(() => { const t = [...document.querySelectorAll('#timeline li')].map(li => li.dataset.type); \
         const f = t.lastIndexOf('FAULT'); return f >= 0 && t.indexOf('SUBSCRIBED', f) > f; })()",
    );
    page.click("#timeline li[data-type=\"FAULT\"]");
    page.wait_true(
        5,
        "the fault as JSON",
        "document.querySelector('#detail').textContent.includes('\"fail-over-leader\"')",
    );
    let path = screenshot_path();
    page.screenshot(&path);
    eprintln!("screenshot: {}", path.display());
    let mut head = [0u8; 8];
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut head))
        .expect("screenshot readable");
    assert_eq!(&head[1..4], b"PNG");
}
