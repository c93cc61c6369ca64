//! Sequence diagrams of recorded timelines (`devcluster::diagram`): a real run with a
//! custom executor drawn from the cluster's record (endpoint, library and CLI), and the
//! drawing rules (lanes, folded heartbeats, faults on the lanes they struck, escaping,
//! bad input) on records written by hand.

mod common;

use common::*;
use devcluster::diagram::{self, PartyKind, RenderOptions, Sequence, Step, Timeline};
use mesos_proto::v1::TaskState;
use mesos_proto::v1::executor::event::Type as ExecEvent;
use serde_json::{Value, json};

/// Whether `want` appears in `lines` in this order (other lines may come between).
fn in_order(lines: &[&str], want: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for w in want {
        match lines[at..].iter().position(|l| l == w) {
            Some(i) => at += i + 1,
            None => {
                return Err(format!(
                    "missing (in order) {w:?} in:\n{}",
                    lines.join("\n")
                ));
            }
        }
    }
    Ok(())
}

/// A framework launches one task on a custom executor; the test is the executor (it
/// subscribes to the agent, gets LAUNCH, sends TASK_RUNNING); the framework acknowledges;
/// then heartbeats are stalled (a fault that leaves the record still: the test reads it
/// several times). Returns the cluster, the framework id and its subscription, which the
/// test keeps open: a framework that left would be removed and its executor shut down,
/// and the record would go on changing while the test reads it.
fn custom_executor_run() -> (devcluster::Cluster, String, Stream) {
    let c = cluster(1);
    let url = c.master_url();
    let mut s = subscribe(&url, framework("diagram-run"));
    let fw = s.framework_id.clone();
    let offer = s.offers(5).remove(0);
    let task = executor_task("the-task", "the-executor", &offer, "sleep 60");
    assert_eq!(launch(&s, &offer, vec![task]).status, 202);
    let agent = agent_url(&c, &offer.agent_id.value);
    eventually(10, || !c.running_pids().is_empty());
    let mut ex = exec_subscribe(&agent, &fw, "the-executor");
    assert_eq!(
        ex.next_exec().map(|e| e.r#type()),
        Some(ExecEvent::Subscribed)
    );
    assert_eq!(ex.next_exec().map(|e| e.r#type()), Some(ExecEvent::Launch));
    let (r, _) = exec_update(&agent, &fw, "the-executor", "the-task", "TASK_RUNNING");
    assert_eq!(r.status, 202);
    assert_eq!(
        ex.next_exec().map(|e| e.r#type()),
        Some(ExecEvent::Acknowledged)
    );
    wait_state(&mut s, 10, "the-task", TaskState::TaskRunning);
    // The acknowledgement travels on to the agent; the fault comes after it arrived.
    eventually(10, || {
        request(&c.master_url(), "GET", "/devcluster/diagram.txt", &[], b"")
            .text()
            .contains("M -> A1: StatusUpdateAcknowledgementMessage T1 TASK_RUNNING\n")
    });
    c.fault("stall-heartbeats", Some("0"))
        .expect("fault applies");
    (c, fw, s)
}

#[test]
fn a_custom_executor_run_is_drawn_from_the_record() {
    let (c, fw, _subscription) = custom_executor_run();
    let url = c.master_url();

    // The stable form: parties, then the conversation with ids shortened.
    let text = request(&url, "GET", "/devcluster/diagram.txt", &[], b"");
    assert_eq!(text.status, 200);
    let text = text.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..4],
        &[
            "party F1 framework \"diagram-run\"",
            "party M master",
            "party A1 agent",
            "party E1 executor on A1",
        ],
        "{text}"
    );
    in_order(
        &lines,
        &[
            "F1 -> M: SUBSCRIBE",
            "M -> F1: SUBSCRIBED",
            "M -> F1: OFFERS",
            "F1 -> M: ACCEPT LAUNCH T1",
            "M -> A1: RunTaskMessage T1",
            "E1 -> A1: SUBSCRIBE",
            "A1 -> E1: SUBSCRIBED",
            "A1 -> E1: LAUNCH T1",
            "E1 -> A1: UPDATE T1 TASK_RUNNING",
            "A1 -> M: StatusUpdateMessage T1 TASK_RUNNING",
            "M -> F1: UPDATE T1 TASK_RUNNING",
            "F1 -> M: ACKNOWLEDGE T1 TASK_RUNNING",
            "M -> A1: StatusUpdateAcknowledgementMessage T1 TASK_RUNNING",
            "fault stall-heartbeats at M",
        ],
    )
    .unwrap();
    in_order(
        &lines,
        &[
            "E1 -> A1: UPDATE T1 TASK_RUNNING",
            "M -> F1: UPDATE T1 TASK_RUNNING",
        ],
    )
    .unwrap();
    in_order(
        &lines,
        &[
            "E1 -> A1: UPDATE T1 TASK_RUNNING",
            "A1 -> E1: ACKNOWLEDGED T1 TASK_RUNNING",
        ],
    )
    .unwrap();
    assert!(
        !text.contains("HEARTBEAT"),
        "heartbeats are timing, not the conversation"
    );
    assert!(!text.contains(&fw), "ids are shortened");
    // One pair's conversation, in order (it does not depend on other pairs' timing).
    let seq = Sequence::from_timeline(
        &Timeline::parse(&request(&url, "GET", "/devcluster/diagram.json", &[], b"").text())
            .unwrap(),
    );
    assert_eq!(
        seq.between("E1", "A1"),
        [
            "E1 -> A1: SUBSCRIBE",
            "A1 -> E1: SUBSCRIBED",
            "A1 -> E1: LAUNCH T1",
            "E1 -> A1: UPDATE T1 TASK_RUNNING",
            "A1 -> E1: ACKNOWLEDGED T1 TASK_RUNNING",
        ]
    );

    // The record (diagram.json) read by the library gives the same text.
    let record = request(&url, "GET", "/devcluster/diagram.json", &[], b"").text();
    let timeline = Timeline::parse(&record).expect("the record parses");
    let seq = Sequence::from_timeline(&timeline);
    assert_eq!(seq.to_text(), text);
    assert_eq!(
        seq.parties.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [
            PartyKind::Framework,
            PartyKind::Master,
            PartyKind::Agent,
            PartyKind::Executor
        ]
    );
    assert_eq!(seq.parties[0].id, fw);
    assert_eq!(seq.parties[3].id, "the-executor");

    // The SVG endpoint: one lane per party, an arrow per message, the fault marked.
    let svg = request(&url, "GET", "/devcluster/diagram.svg", &[], b"");
    assert_eq!(svg.status, 200);
    assert_eq!(
        svg.header("Content-Type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let svg = svg.text();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("class=\"lane\"").count(), 4);
    for t in [
        "SUBSCRIBE",
        "OFFERS",
        "ACCEPT",
        "RunTaskMessage",
        "StatusUpdateMessage",
        "StatusUpdateAcknowledgementMessage",
        "LAUNCH",
        "ACKNOWLEDGED",
        "UPDATE",
    ] {
        assert!(svg.contains(&format!("data-type=\"{t}\"")), "{t} drawn");
    }
    assert!(svg.contains("data-fault=\"stall-heartbeats\""));
    // Kept for a look: in the target directory, and the stable picture where
    // $DEVCLUSTER_DIAGRAM_SVG says (docs/sequence-run.svg was written so).
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("diagram-run.svg"),
        &svg,
    );
    if let Ok(path) = std::env::var("DEVCLUSTER_DIAGRAM_SVG") {
        let stable = request(&url, "GET", "/devcluster/diagram.svg?stable=1", &[], b"").text();
        std::fs::write(&path, stable).expect("write the stable picture");
    }
    // Stable: neither times nor ids.
    let stable = request(&url, "GET", "/devcluster/diagram.svg?stable=1", &[], b"").text();
    let agent_id = &Sequence::from_timeline(&timeline).parties[2].id;
    for id in [
        &fw[..8],
        &agent_id[agent_id.len() - 8..],
        "the-task",
        "the-executor",
    ] {
        assert!(
            !stable.contains(id),
            "{id} in the stable picture:\n{stable}"
        );
    }
    assert!(stable.contains("LAUNCH</tspan> T1"), "{stable}");
    assert!(!stable.contains("+0.000s"));
    assert!(svg.contains("+0.000s"));

    // One framework's record; an unknown framework is a 404.
    let one = request(
        &url,
        "GET",
        &format!("/devcluster/diagram.txt?framework_id={fw}"),
        &[],
        b"",
    );
    assert_eq!(one.text(), text);
    let none = request(
        &url,
        "GET",
        "/devcluster/diagram.svg?framework_id=nope",
        &[],
        b"",
    );
    assert_eq!(none.status, 404);

    // The downloadable NDJSON log reads too (the framework id from SUBSCRIBED).
    let log = request(
        &url,
        "GET",
        &format!("/devcluster/timeline.ndjson?framework_id={fw}"),
        &[],
        b"",
    )
    .text();
    let from_log = Timeline::parse(&log).expect("the log parses");
    assert_eq!(from_log.frameworks[0].id, fw);
    assert_eq!(from_log.frameworks[0].name, "diagram-run");
    assert_eq!(Sequence::from_timeline(&from_log).to_text(), text);
}

#[test]
fn the_cli_draws_a_file_and_a_running_cluster() {
    let (c, _fw, _subscription) = custom_executor_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("timeline.json");
    let body = request(&c.master_url(), "GET", "/devcluster/diagram.json", &[], b"").text();
    std::fs::write(&record, &body).expect("write record");
    let out = dir.path().join("run.svg");
    let bin = env!("CARGO_BIN_EXE_devcluster");
    let st = std::process::Command::new(bin)
        .args(["diagram", "--from"])
        .arg(&record)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("devcluster diagram runs");
    assert!(st.success());
    let svg = std::fs::read_to_string(&out).expect("run.svg written");
    assert_eq!(svg, diagram::render_svg(&Timeline::parse(&body).unwrap()));

    // --text from the running cluster's URL.
    let o = std::process::Command::new(bin)
        .args(["diagram", "--text", "--from", &c.master_url()])
        .output()
        .expect("devcluster diagram --text runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("party F1 framework \"diagram-run\"\n"),
        "{text}"
    );
    assert!(text.contains("A1 -> E1: LAUNCH T1\n"));

    // A file that is not a timeline: a clear error, exit status 1.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"frameworks":[{"id":"x","name":"y"}]}"#).unwrap();
    let o = std::process::Command::new(bin)
        .args(["diagram", "--from"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/devcluster/diagram.json"), "{err}");
}

fn entry(seq: u64, direction: &str, kind: &str) -> Value {
    json!({"seq": seq, "time": 1000.0 + seq as f64 / 10.0, "direction": direction, "type": kind, "summary": ""})
}

fn exec_entry(seq: u64, direction: &str, kind: &str, agent: &str, exec: &str) -> Value {
    let mut e = entry(seq, direction, kind);
    e["agent_id"] = json!(agent);
    e["executor_id"] = json!(exec);
    e
}

fn fault(seq: u64, name: &str, arg: Option<&str>) -> Value {
    let mut e = entry(seq, "fault", "FAULT");
    let arg_text = arg.map(|a| format!(" ({a})")).unwrap_or_default();
    e["summary"] = json!(format!("{name}{arg_text}: Fault '{name}' injected"));
    e["fault"] = json!(name);
    e["time"] = json!(2000.0);
    e
}

#[test]
fn lanes_heartbeats_and_faults_follow_the_rules() {
    let record = json!({"frameworks": [
        {"framework_id": "fw-b", "name": "second", "dropped": 3, "entries": [
            entry(2, "call", "SUBSCRIBE"),
            fault(11, "lose-agent", Some("1")),
            fault(13, "crash-executor", Some("fw-a/ex-1")),
        ]},
        {"framework_id": "fw-a", "name": "first", "entries": [
            entry(1, "call", "SUBSCRIBE"),
            entry(3, "event", "HEARTBEAT"),
            entry(4, "event", "HEARTBEAT"),
            exec_entry(5, "executor_event", "HEARTBEAT", "m-S1", "ex-1"),
            exec_entry(6, "executor_call", "SUBSCRIBE", "m-S1", "ex-1"),
            exec_entry(7, "executor_call", "SUBSCRIBE", "m-S0", "ex-2"),
            entry(8, "event", "HEARTBEAT"),
            fault(10, "lose-agent", Some("1")),
            fault(12, "crash-executor", Some("fw-a/ex-1")),
            fault(14, "fail-over-leader", None),
        ]},
    ]});
    let t = Timeline::from_json(&record).expect("parses");
    let seq = Sequence::from_timeline(&t);
    // Frameworks in order of appearance, the master, each agent followed by its executors.
    let lanes: Vec<String> = seq
        .parties
        .iter()
        .map(|p| format!("{} {}", p.short, p.id))
        .collect();
    assert_eq!(
        lanes,
        [
            "F1 fw-a", "F2 fw-b", "M master", "A1 m-S1", "E1 ex-1", "A2 m-S0", "E2 ex-2"
        ]
    );
    assert_eq!(seq.parties[1].note, "second");
    assert_eq!(seq.parties[4].note, "A1");
    assert_eq!(seq.dropped, 3);
    // Three heartbeats in a row are one row; the one after the executors' calls another.
    let rows: Vec<String> = seq
        .steps
        .iter()
        .map(|s| match s {
            Step::Message(a) => format!("{}>{} {}", a.from, a.to, a.kind),
            Step::Heartbeats { count, lanes, .. } => format!("hb x{count} {lanes:?}"),
            Step::Fault(f) => format!("fault {} {:?}", f.name, f.lanes),
        })
        .collect();
    assert_eq!(
        rows,
        [
            "0>2 SUBSCRIBE",
            "1>2 SUBSCRIBE",
            "hb x3 [0, 2, 3, 4]",
            "4>3 SUBSCRIBE",
            "6>5 SUBSCRIBE",
            "hb x1 [0, 2]",
            // Each fault once, though both timelines hold it; on the lane it struck.
            "fault lose-agent [3]",
            "fault crash-executor [4]",
            "fault fail-over-leader [2]",
        ]
    );
    assert_eq!(seq.message_count(), 8);
    let text = seq.to_text();
    assert!(text.contains("fault lose-agent at A1\n"), "{text}");
    assert!(!text.contains("HEARTBEAT"));

    // The picture: a lane per party, folded heartbeats counted, faults marked.
    let svg = diagram::render_svg(&t);
    assert_eq!(svg.matches("class=\"lane\"").count(), 7);
    assert!(svg.contains("HEARTBEAT \u{d7}3"));
    assert_eq!(svg.matches("class=\"fault\"").count(), 3);
    assert!(svg.contains("3 older entries dropped"));
    assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());

    // At most max_steps rows, the newest; a note says how many were left out.
    let few = diagram::render_svg_with(
        &t,
        &RenderOptions {
            max_steps: 2,
            ..RenderOptions::default()
        },
    );
    assert_eq!(few.matches("class=\"fault\"").count(), 2);
    assert!(few.contains("7 earlier rows not drawn"));
}

#[test]
fn text_from_frameworks_is_escaped_in_the_svg() {
    let mut e = entry(1, "call", "SUBSCRIBE");
    e["summary"] = json!("name=</text><script>alert(1)</script> & \"more\"");
    let record = json!({"framework_id": "f<1>", "name": "<b>bold</b>", "entries": [e]});
    let svg = diagram::render_svg(&Timeline::from_json(&record).unwrap());
    assert!(!svg.contains("<script"), "{svg}");
    assert!(!svg.contains("<b>"));
    assert!(svg.contains("&lt;script&gt;"));
    assert!(svg.contains("&amp; &quot;more&quot;"));
    assert!(svg.contains("data-framework=\"f&lt;1&gt;\""));
}

#[test]
fn bad_records_give_clear_errors() {
    let err = |text: &str| Timeline::parse(text).unwrap_err().to_string();
    assert_eq!(err(""), "The timeline is empty");
    assert!(err(r#"{"frameworks":[{"id":"a"}]}"#).contains("timeline index"));
    assert!(err("42").contains("Expecting a recorded timeline"));
    let bad_dir = r#"{"entries":[{"seq":1,"time":1,"direction":"sideways","type":"X"}]}"#;
    assert!(err(bad_dir).contains("Unknown direction 'sideways'"));
    let no_ids = r#"{"entries":[{"seq":1,"time":1,"direction":"executor_call","type":"UPDATE"}]}"#;
    assert!(err(no_ids).contains("agent_id"));
    let no_agent =
        r#"{"entries":[{"seq":1,"time":1,"direction":"to_agent","type":"RunTaskMessage"}]}"#;
    assert!(err(no_agent).contains("master-agent"));
    assert!(err("{\"seq\":1}\nnot json\n").starts_with("Line 1"));
    // A log of one line is one entry.
    let one = Timeline::parse(r#"{"seq":1,"time":1,"direction":"call","type":"SUBSCRIBE"}"#)
        .expect("one entry");
    assert_eq!(one.frameworks[0].entries.len(), 1);
    assert_eq!(one.frameworks[0].id, "framework");
    // An empty record draws an empty picture, not an error.
    let empty = Timeline::from_json(&json!({"frameworks": []})).unwrap();
    assert!(diagram::render_svg(&empty).contains("No messages recorded yet."));
}
