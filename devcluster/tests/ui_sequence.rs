//! The live page's sequence view in headless Chromium: a framework runs a task on a
//! custom executor (this test is the executor), and the view shows one lane per party,
//! the arrows of the run (framework-master, master-agent and agent-executor), follows the cluster as a
//! new message goes by, draws an injected fault on the executor's lane, folds heartbeats,
//! and shows a message in full on a click. A second test feeds the view 10,500 messages
//! and checks that only the rows in sight are in the page and that the oldest are paged
//! out (the time each step took is printed, not asserted).
//!
//! Needs Debian's `chromium` (`.ci/install-chromium.sh`); without it the tests print why
//! and pass, except under `CI=true`. The screenshot of the view goes to
//! `$DEVCLUSTER_SEQUENCE_SCREENSHOT` or `<target>/tmp/devcluster-sequence.png`
//! (`docs/sequence-view.png` is one).

mod browser;
mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use browser::{Browser, Page, chromium_or_skip};
use common::*;
use devcluster::{Cluster, ClusterConfig};
use mesos_proto::v1::TaskState;
use mesos_proto::v1::executor::event::Type as ExecEvent;
use serde_json::{Value, json};

fn screenshot_path() -> PathBuf {
    match std::env::var("DEVCLUSTER_SEQUENCE_SCREENSHOT") {
        Ok(p) => PathBuf::from(p),
        Err(_) => Path::new(env!("CARGO_TARGET_TMPDIR")).join("devcluster-sequence.png"),
    }
}

/// A selector for an arrow of the view.
fn arrow(kind: &str, direction: &str) -> String {
    format!("#seq-rows g.msg[data-type=\"{kind}\"][data-direction=\"{direction}\"]")
}

fn wait_for(page: &mut Page, what: &str, selector: &str) {
    page.wait_true(
        15,
        what,
        &format!(
            "!!document.querySelector('{}')",
            selector.replace('\'', "\\'")
        ),
    );
}

/// The x of the middle of an element's box on screen.
fn center_x(page: &mut Page, selector: &str) -> f64 {
    let v = page.eval(&format!(
        "(() => {{ const r = document.querySelector('{}').getBoundingClientRect(); return r.x + r.width / 2; }})()",
        selector.replace('\'', "\\'")
    ));
    v.as_f64().expect("a number")
}

#[test]
fn sequence_view_draws_a_run_live() {
    let Some(bin) = chromium_or_skip("sequence_view_draws_a_run_live") else {
        return;
    };
    let mut cfg = ClusterConfig::for_tests(1);
    cfg.heartbeat_interval = Duration::from_millis(300);
    let c = Cluster::start(cfg).expect("cluster starts");
    let url = c.master_url();

    // The run: a task on a custom executor; this test plays the executor.
    let mut s = subscribe(&url, framework("sequence-demo"));
    let fw = s.framework_id.clone();
    let offer = s.offers(5).remove(0);
    let task = executor_task("task-1", "executor-1", &offer, "sleep 60");
    assert_eq!(launch(&s, &offer, vec![task]).status, 202);
    let agent = agent_url(&c, &offer.agent_id.value);
    eventually(10, || !c.running_pids().is_empty());
    let mut ex = exec_subscribe(&agent, &fw, "executor-1");
    assert_eq!(
        ex.next_exec().map(|e| e.r#type()),
        Some(ExecEvent::Subscribed)
    );
    assert_eq!(ex.next_exec().map(|e| e.r#type()), Some(ExecEvent::Launch));
    let (r, _) = exec_update(&agent, &fw, "executor-1", "task-1", "TASK_RUNNING");
    assert_eq!(r.status, 202);
    wait_state(&mut s, 10, "task-1", TaskState::TaskRunning);

    let browser = Browser::start(&bin);
    let mut page = browser.open(&format!("{url}/"));
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1100, "deviceScaleFactor": 1, "mobile": false}),
    );

    // One lane per party, in order: framework, master, agent, executor.
    page.wait_true(
        15,
        "four lanes",
        "document.querySelectorAll('#seq-head g.lane').length === 4",
    );
    let lanes = page.eval("[...document.querySelectorAll('#seq-head g.lane')].map(g => g.dataset.party + ' ' + g.dataset.id)");
    let agent_id = offer.agent_id.value.clone();
    assert_eq!(
        lanes,
        json!([
            format!("framework {fw}"),
            "master master",
            format!("agent {agent_id}"),
            "executor executor-1"
        ])
    );
    // The arrows of the run.
    for (kind, dir) in [
        ("SUBSCRIBE", "call"),
        ("SUBSCRIBED", "event"),
        ("OFFERS", "event"),
        ("ACCEPT", "call"),
        ("RunTaskMessage", "to_agent"),
        ("SUBSCRIBE", "executor_call"),
        ("SUBSCRIBED", "executor_event"),
        ("LAUNCH", "executor_event"),
        ("UPDATE", "executor_call"),
        ("ACKNOWLEDGED", "executor_event"),
        ("StatusUpdateMessage", "from_agent"),
        ("UPDATE", "event"),
        ("ACKNOWLEDGE", "call"),
        ("StatusUpdateAcknowledgementMessage", "to_agent"),
    ] {
        wait_for(&mut page, &format!("{kind} ({dir})"), &arrow(kind, dir));
    }
    // An executor's arrow runs between the agent's and the executor's lanes.
    let launch_line = page.eval(&format!(
        "(() => {{ const l = document.querySelector('{} line'); return [+l.getAttribute('x1'), +l.getAttribute('x2')]; }})()",
        arrow("LAUNCH", "executor_event").replace('\'', "\\'")
    ));
    let lane_x = page.eval("[...document.querySelectorAll('#seq-head g.lane text.lane-title')].map(t => +t.getAttribute('x'))");
    assert_eq!(launch_line, json!([lane_x[2], lane_x[3]]));

    // Heartbeats are folded into rows of their own; the box shows them one by one.
    wait_for(&mut page, "folded heartbeats", "#seq-rows g.heartbeats");
    assert_eq!(
        page.eval(&format!(
            "!!document.querySelector('{}')",
            arrow("HEARTBEAT", "event")
        )),
        json!(false)
    );
    page.click("#seq-heartbeats");
    wait_for(&mut page, "heartbeats shown", &arrow("HEARTBEAT", "event"));
    page.click("#seq-heartbeats");
    page.wait_true(
        5,
        "heartbeats folded again",
        &format!("!document.querySelector('{}')", arrow("HEARTBEAT", "event")),
    );

    // It follows the cluster: a message from the framework reaches the executor.
    let r = call(
        &s,
        "MESSAGE",
        Some((
            "message",
            json!({"agent_id": {"value": agent_id}, "executor_id": {"value": "executor-1"}, "data": "aGVsbG8="}),
        )),
    );
    assert_eq!(r.status, 202);
    wait_for(
        &mut page,
        "the framework's MESSAGE",
        &arrow("MESSAGE", "call"),
    );
    wait_for(
        &mut page,
        "the MESSAGE from master to agent",
        &arrow("FrameworkToExecutorMessage", "to_agent"),
    );
    wait_for(
        &mut page,
        "the MESSAGE to the executor",
        &arrow("MESSAGE", "executor_event"),
    );

    // A fault, drawn on the lane it struck: the executor crashes.
    c.fault("crash-executor", Some(&format!("{fw}/executor-1")))
        .expect("the executor crashes");
    wait_for(
        &mut page,
        "the crash-executor fault",
        "#seq-rows g.fault[data-fault=\"crash-executor\"]",
    );
    let fault_x = center_x(
        &mut page,
        "#seq-rows g.fault[data-fault=\"crash-executor\"] rect",
    );
    let executor_x = center_x(&mut page, "#seq-head g.lane[data-party=\"executor\"] rect");
    assert!(
        (fault_x - executor_x).abs() < 1.0,
        "fault at x={fault_x}, executor lane at x={executor_x}"
    );
    // The agent tells the framework: TASK_FAILED.
    let failed = s.update_for(10, "task-1");
    assert_eq!(failed.state(), TaskState::TaskFailed);
    ack(&s, &failed);
    page.wait_true(
        10,
        "TASK_FAILED after the fault",
        "[...document.querySelectorAll('#seq-rows g.msg[data-type=\"UPDATE\"][data-direction=\"event\"] title')].some(t => t.textContent.includes('TASK_FAILED'))",
    );

    // The fault comes before what it caused.
    let order = page.eval(
        "(() => { const rows = window.devclusterSequence.state.rows; \
         const f = rows.findIndex(r => r.type === 'fault'); \
         const u = rows.findIndex(r => r.type === 'msg' && r.e.type === 'UPDATE' && r.e.direction === 'event' \
           && r.e.summary.includes('TASK_FAILED')); return [f, u]; })()",
    );
    assert!(
        order[0].as_i64() < order[1].as_i64(),
        "fault row, update row: {order}"
    );

    // A click shows the message in full.
    page.click(&format!("{} rect.hit", arrow("ACCEPT", "call")));
    page.wait_true(
        5,
        "the ACCEPT call as JSON",
        "document.querySelector('#seq-detail').textContent.includes('\"task_infos\"')",
    );
    page.click(&format!("{} rect.hit", arrow("LAUNCH", "executor_event")));
    page.wait_true(
        5,
        "the LAUNCH event as JSON",
        "(() => { const t = document.querySelector('#seq-detail').textContent; \
         return t.includes('executor_event LAUNCH') && t.includes('\"launch\"') && t.includes('\"task-1\"'); })()",
    );
    assert_eq!(
        page.eval("document.querySelectorAll('#seq-rows g.selected').length"),
        json!(1)
    );

    // The picture, for the README: a window tall enough for the whole run, from its start.
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1650, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.eval(
        "new Promise(done => { document.querySelector('#sequence').scrollTop = 0; \
         requestAnimationFrame(() => requestAnimationFrame(done)); })",
    );
    let rect = page.eval(
        "(() => { const r = document.querySelector('#sequence-section').getBoundingClientRect(); \
         return [r.x + window.scrollX, r.y + window.scrollY, r.width, r.height]; })()",
    );
    let clip = json!({"x": rect[0], "y": rect[1], "width": rect[2], "height": rect[3], "scale": 1});
    let shot = page.call(
        "Page.captureScreenshot",
        json!({"format": "png", "clip": clip}),
    );
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("png data"))
        .expect("base64");
    let path = screenshot_path();
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
    let mut head = [0u8; 8];
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut head))
        .expect("screenshot readable");
    assert_eq!(&head[1..4], b"PNG");
}

/// `n` synthetic brief entries in the shapes the recorder gives: two frameworks talking
/// to the master, an executor on each of two agents, a heartbeat every tenth message.
fn synthetic(from_seq: u64, n: u64) -> Value {
    let mut out = Vec::new();
    for i in 0..n {
        let seq = from_seq + i;
        let fw = if seq.is_multiple_of(2) {
            "fw-even"
        } else {
            "fw-odd"
        };
        let time = 1_000.0 + seq as f64 * 0.001;
        let e = match seq % 10 {
            0 => json!({"direction": "event", "type": "HEARTBEAT", "summary": ""}),
            1 | 5 => {
                json!({"direction": "call", "type": "ACKNOWLEDGE", "summary": format!("task t{seq}")})
            }
            2 | 6 => {
                json!({"direction": "event", "type": "UPDATE", "summary": format!("task t{seq} TASK_RUNNING")})
            }
            3 => {
                json!({"direction": "executor_call", "type": "UPDATE", "summary": format!("task t{seq} TASK_RUNNING"),
                         "agent_id": "c-S0", "executor_id": "ex-a"})
            }
            4 => {
                json!({"direction": "executor_event", "type": "ACKNOWLEDGED", "summary": format!("task t{seq}"),
                         "agent_id": "c-S1", "executor_id": "ex-b"})
            }
            _ => json!({"direction": "event", "type": "OFFERS", "summary": "1 offer(s)"}),
        };
        let mut e = e;
        e["seq"] = json!(seq);
        e["time"] = json!(time);
        e["fw"] = json!(fw);
        out.push(e);
    }
    Value::Array(out)
}

#[test]
fn ten_thousand_messages_stay_responsive() {
    let Some(bin) = chromium_or_skip("ten_thousand_messages_stay_responsive") else {
        return;
    };
    let c = Cluster::start(ClusterConfig::for_tests(1)).expect("cluster starts");
    let browser = Browser::start(&bin);
    let mut page = browser.open(&format!("{}/", c.master_url()));
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1100, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.wait_true(10, "the sequence view", "!!window.devclusterSequence");

    // 10,000 messages arrive at once (as after opening the page on a long run).
    let took = page.eval(&format!(
        "(() => {{ const t = performance.now(); window.devclusterSequence.add({}); return performance.now() - t; }})()",
        synthetic(1, 10_000)
    ));
    eprintln!("10,000 messages: model and first draw took {took} ms");
    page.wait_true(
        5,
        "10,000 messages counted",
        "document.querySelector('#seq-count').textContent.startsWith('10000 message(s) \\u00b7 7 lane(s)')",
    );
    // Only the rows in sight (and a few around) are in the page.
    let drawn = page.eval("document.querySelectorAll('#seq-rows > g').length");
    let rows = page.eval("window.devclusterSequence.state.rows.length");
    eprintln!("rows: {rows} (heartbeats folded), drawn: {drawn}");
    assert!(drawn.as_u64().unwrap() < 80, "{drawn} rows in the DOM");
    // A heartbeat every tenth message: each folds alone, so one row per message.
    assert_eq!(rows, json!(10_000));
    // It followed to the end: the newest message is in sight.
    wait_for(
        &mut page,
        "the newest message",
        "#seq-rows g.msg[data-seq=\"9999\"]",
    );

    // Scrolling to the middle draws the middle.
    let took = page.eval(
        "new Promise(done => { const box = document.querySelector('#sequence'); \
         const t = performance.now(); box.scrollTop = box.scrollHeight / 2; \
         requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t))); })",
    );
    eprintln!("scroll to the middle and draw: {took} ms");
    let seqs =
        page.eval("[...document.querySelectorAll('#seq-rows g.msg')].map(g => +g.dataset.seq)");
    let seqs: Vec<u64> = seqs
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        seqs.iter().any(|s| (4_000..6_000).contains(s)),
        "middle rows drawn: {seqs:?}"
    );
    assert_eq!(
        page.eval("document.querySelector('#seq-follow').checked"),
        json!(false),
        "scrolled away from the end: no longer following"
    );

    // 500 more: the oldest 500 are paged out, the page holds 10,000.
    page.eval(&format!(
        "window.devclusterSequence.add({})",
        synthetic(10_001, 500)
    ));
    page.wait_true(
        5,
        "500 paged out",
        "document.querySelector('#seq-count').textContent.startsWith('10000 message(s), 500 older paged out')",
    );
    assert_eq!(
        page.eval("window.devclusterSequence.state.entries[0].seq"),
        json!(501)
    );
}

/// The real path: two frameworks make 10,000 calls; the recorder keeps 5,000 per
/// framework and the page loads them all through the timeline endpoints.
#[test]
fn ten_thousand_recorded_messages_reach_the_view() {
    let Some(bin) = chromium_or_skip("ten_thousand_recorded_messages_reach_the_view") else {
        return;
    };
    let c = Cluster::start(ClusterConfig::for_tests(1)).expect("cluster starts");
    let url = c.master_url();
    let started = std::time::Instant::now();
    let streams: Vec<_> = ["busy-1", "busy-2"]
        .iter()
        .map(|name| subscribe(&url, framework(name)))
        .collect();
    for s in &streams {
        for _ in 0..5_000 {
            assert_eq!(call(s, "REVIVE", None).status, 202);
        }
    }
    eprintln!(
        "10,000 REVIVE calls took {} ms",
        started.elapsed().as_millis()
    );
    let browser = Browser::start(&bin);
    let opened = std::time::Instant::now();
    let mut page = browser.open(&format!("{url}/"));
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1500, "height": 1100, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.wait_true(
        30,
        "10,000 recorded messages in the view",
        "!!window.devclusterSequence && window.devclusterSequence.state.entries.length >= 10000",
    );
    eprintln!(
        "page opened to 10,000 messages drawn: {} ms",
        opened.elapsed().as_millis()
    );
    let lanes = page.eval("document.querySelectorAll('#seq-head g.lane').length");
    assert_eq!(lanes, json!(3), "two frameworks and the master");
    let drawn = page.eval("document.querySelectorAll('#seq-rows > g').length");
    assert!(drawn.as_u64().unwrap() < 80, "{drawn} rows in the DOM");
    let took = page.eval(
        "new Promise(done => { const box = document.querySelector('#sequence'); \
         const t = performance.now(); box.scrollTop = box.scrollHeight / 3; \
         requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t))); })",
    );
    eprintln!("scroll a third of the way and draw: {took} ms");
    wait_for(&mut page, "REVIVE arrows", &arrow("REVIVE", "call"));
}
