//! The live page watching the minimal framework: headless Chromium opens devcluster's
//! page first, then `minimal-scheduler` runs its two tasks; the page shows the framework
//! (removed after its TEARDOWN), both tasks FINISHED, and the conversation in the timeline
//! from SUBSCRIBE to TEARDOWN. Saves `<target>/tmp/devcluster-ui-minimal.png`.
//!
//! The browser helper is devcluster's own (`devcluster/tests/browser/`), included by path
//! so both crates drive Chromium the same way. Without Chromium the test prints why and
//! passes, except under `CI=true` (`.ci/install-chromium.sh` installs it).

#[path = "../../devcluster/tests/browser/mod.rs"]
mod browser;

use std::path::Path;
use std::time::Duration;

use browser::{Browser, chromium_or_skip};
use devcluster::{Cluster, ClusterConfig};
use e2e_tests::example_runs::{Proc, example_bin};
use serde_json::json;

/// Only keeps a broken run from hanging (a run takes a few seconds).
const RUN: Duration = Duration::from_secs(30);

#[test]
fn live_page_shows_the_minimal_framework() {
    let Some(bin) = chromium_or_skip("live_page_shows_the_minimal_framework") else {
        return;
    };
    let cluster = Cluster::start(ClusterConfig::for_tests(2)).expect("devcluster starts");
    let master = cluster.master_url();
    let scheduler = example_bin("minimal-scheduler");

    let browser = Browser::start(&bin);
    let mut page = browser.open(&format!("{master}/"));
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.wait_true(10, "the page", "!!document.querySelector('#timeline')");

    let mut sched = Proc::spawn(
        &scheduler,
        &["--master", &master, "--tasks", "2", "--sleep", "1"],
        &[],
    );
    page.wait_true(
        20,
        "the framework",
        "[...document.querySelectorAll('#frameworks tr')].some(tr => tr.textContent.includes('MinimalFramework'))",
    );
    sched.assert_success(RUN);
    for task in ["minimal-1", "minimal-2"] {
        page.wait_true(
            10,
            &format!("{task} finished"),
            &format!(
                "(document.querySelector('#tasks tr[data-task=\"{task}\"]') || {{}}).textContent?.includes('TASK_FINISHED')"
            ),
        );
    }
    page.wait_true(
        10,
        "the whole conversation",
        "(() => { const t = [...document.querySelectorAll('#timeline li')].map(li => li.dataset.type); \
         return ['SUBSCRIBE', 'SUBSCRIBED', 'OFFERS', 'ACCEPT', 'UPDATE', 'ACKNOWLEDGE', 'TEARDOWN'] \
           .every(x => t.includes(x)) && t.indexOf('SUBSCRIBE') < t.indexOf('ACCEPT') \
           && t.indexOf('ACCEPT') < t.lastIndexOf('TEARDOWN'); })()",
    );
    page.wait_true(
        10,
        "the framework removed",
        "[...document.querySelectorAll('#frameworks tr')].some(tr => tr.textContent.includes('removed'))",
    );
    page.click("#timeline li[data-type=\"TEARDOWN\"]");
    page.wait_true(
        5,
        "TEARDOWN as JSON",
        "document.querySelector('#detail').textContent.includes('\"TEARDOWN\"')",
    );
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("devcluster-ui-minimal.png");
    page.screenshot(&path);
    eprintln!("screenshot: {}", path.display());
}
