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

/// A hand-written record of a program's run: a framework launches tasks on a custom
/// executor (the conversation of `chapters/05-custom-executor`). `Timing` changes what
/// varies between two runs of the same program; the other knobs change the program.
struct Run {
    entries: Vec<Value>,
    fw: String,
}

/// What differs between two runs of one program.
#[derive(Clone, Copy, Default)]
struct Timing {
    /// Tasks' conversations interleaved (else one task after the other).
    interleave: bool,
    /// Offers, declines and heartbeats in between.
    offers: bool,
    /// The agent resends the first update (acknowledged late), and the framework
    /// acknowledges it twice.
    resend: bool,
    /// Ids in another spelling; a program without executors of its own gets each task
    /// on another agent (the allocator's choice).
    two_agents: bool,
    /// The framework's acknowledgements sent after its next call (a driver
    /// acknowledges beside the program's calls).
    late_acks: bool,
    /// The master still had the framework's old stream when it subscribed again.
    old_stream: bool,
}

/// What the program does.
#[derive(Clone, Copy)]
struct Program {
    tasks: usize,
    acknowledge: bool,
    /// Tasks run by the program's executor (else command tasks: the agent runs them).
    executor: bool,
}

const PROGRAM: Program = Program {
    tasks: 2,
    acknowledge: true,
    executor: true,
};

fn uuid_b64(task: usize, state: usize) -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    bytes[0] = task as u8;
    bytes[1] = state as u8;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn uuid_text(task: usize, state: usize) -> String {
    let mut bytes = [0u8; 16];
    bytes[0] = task as u8;
    bytes[1] = state as u8;
    mesos_proto::uuid::to_string(&bytes)
}

impl Run {
    fn push(&mut self, direction: &str, kind: &str, at: Option<(&str, &str)>, message: Value) {
        let seq = self.entries.len() as u64 + 1;
        let mut e = entry(seq, direction, kind);
        if let Some((agent, exec)) = at {
            e["agent_id"] = json!(agent);
            if !exec.is_empty() {
                e["executor_id"] = json!(exec);
            }
        }
        e["message"] = message;
        self.entries.push(e);
    }

    fn timeline(self) -> Timeline {
        Timeline::from_json(&json!({"frameworks": [
            {"framework_id": self.fw, "name": "ch05", "entries": self.entries}
        ]}))
        .expect("a hand-written record parses")
    }
}

/// A message to record: direction, type, agent and executor, message.
type Said = (String, String, Option<(String, String)>, Value);

/// One task's conversation, in causal order.
fn task_story(t: usize, agent: &str, p: Program, timing: Timing) -> Vec<Said> {
    let task = format!("task-{t}");
    let id = json!({"value": task});
    let exec = if p.executor {
        json!({"executor_id": {"value": "the-executor"}})
    } else {
        Value::Null
    };
    let a = Some((agent.to_string(), String::new()));
    let ax = Some((agent.to_string(), "the-executor".to_string()));
    let status =
        |s: usize, state: &str| json!({"task_id": id, "state": state, "uuid": uuid_b64(t, s)});
    let mut out = vec![
        (
            "call".into(),
            "ACCEPT".into(),
            None,
            json!({"type": "ACCEPT", "accept": {"operations": [
            {"type": "LAUNCH", "launch": {"task_infos": [{"task_id": id, "executor": exec}]}}]}}),
        ),
        (
            "to_agent".into(),
            "RunTaskMessage".into(),
            a.clone(),
            json!({"task": {"task_id": id, "executor": exec}}),
        ),
        (
            "executor_event".into(),
            "LAUNCH".into(),
            ax.clone(),
            json!({"type": "LAUNCH", "launch": {"task": {"task_id": id}}}),
        ),
    ];
    if !p.executor {
        out.remove(2);
    }
    for (s, state) in [(1, "TASK_RUNNING"), (2, "TASK_FINISHED")] {
        if !p.executor {
            break;
        }
        out.push((
            "executor_call".into(),
            "UPDATE".into(),
            ax.clone(),
            json!({"type": "UPDATE", "update": {"status": status(s, state)}}),
        ));
        out.push(("executor_event".into(), "ACKNOWLEDGED".into(), ax.clone(), json!({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": id, "uuid": uuid_b64(t, s)}})));
    }
    // The agent forwards one update at a time: the next once the last is acknowledged.
    for (s, state) in [(1, "TASK_RUNNING"), (2, "TASK_FINISHED")] {
        let sends = if (timing.resend && s == 1) || !p.acknowledge {
            2
        } else {
            1
        };
        for _ in 0..sends {
            out.push((
                "from_agent".into(),
                "StatusUpdateMessage".into(),
                a.clone(),
                json!({"status": status(s, state)}),
            ));
            out.push((
                "event".into(),
                "UPDATE".into(),
                None,
                json!({"type": "UPDATE", "update": {"status": status(s, state)}}),
            ));
        }
        if !p.acknowledge {
            break;
        }
        for _ in 0..sends {
            out.push(("call".into(), "ACKNOWLEDGE".into(), None, json!({"type": "ACKNOWLEDGE", "acknowledge": {"task_id": id, "uuid": uuid_b64(t, s)}})));
        }
        out.push((
            "to_agent".into(),
            "StatusUpdateAcknowledgementMessage".into(),
            a.clone(),
            json!({"task_id": task, "uuid": uuid_text(t, s)}),
        ));
    }
    out
}

/// The record of one run of `p` with `timing`.
fn program_run(p: Program, timing: Timing) -> Timeline {
    let fw = if timing.two_agents {
        "other-id-0001"
    } else {
        "fw-0000"
    };
    let mut run = Run {
        entries: Vec::new(),
        fw: fw.to_string(),
    };
    // Two agents: a program without executors of its own gets its tasks on either.
    let cluster: Vec<&str> = match (timing.two_agents, p.executor) {
        (true, false) => vec!["other-S1", "other-S0"],
        (true, true) => vec!["other-S1"],
        _ => vec!["fw-S0"],
    };
    let agents = if timing.two_agents && !p.executor && timing.interleave {
        ["other-S0", "other-S1"]
    } else if timing.two_agents && !p.executor {
        ["other-S1", "other-S1"]
    } else {
        [cluster[0], cluster[0]]
    };
    run.push(
        "call",
        "SUBSCRIBE",
        None,
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "ch05"}}}),
    );
    if timing.old_stream {
        run.push(
            "event",
            "ERROR",
            None,
            json!({"type": "ERROR", "error": {"message": "Framework failed over"}}),
        );
    }
    run.push(
        "event",
        "SUBSCRIBED",
        None,
        json!({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": fw}}}),
    );
    let mut stories: Vec<std::collections::VecDeque<_>> = (1..=p.tasks)
        .map(|t| task_story(t, agents[(t - 1) % 2], p, timing).into())
        .collect();
    // The executor subscribes before its first LAUNCH (per agent).
    let mut subscribed = std::collections::HashSet::new();
    let mut turn = 0;
    let mut held_acks: Vec<Said> = Vec::new();
    while stories.iter().any(|s| !s.is_empty()) {
        let i = if timing.interleave {
            turn % stories.len()
        } else {
            stories.iter().position(|s| !s.is_empty()).unwrap()
        };
        turn += 1;
        let Some((dir, kind, at, msg)) = stories[i].pop_front() else {
            continue;
        };
        if kind == "LAUNCH" {
            let (agent, exec) = at.clone().unwrap();
            if subscribed.insert(agent.clone()) {
                run.push(
                    "executor_call",
                    "SUBSCRIBE",
                    Some((&agent, &exec)),
                    json!({"type": "SUBSCRIBE", "subscribe": {}}),
                );
                run.push(
                    "executor_event",
                    "SUBSCRIBED",
                    Some((&agent, &exec)),
                    json!({"type": "SUBSCRIBED"}),
                );
            }
        }
        if timing.offers && turn % 3 == 0 {
            run.push(
                "event",
                "OFFERS",
                None,
                json!({"type": "OFFERS", "offers": {}}),
            );
            run.push("event", "HEARTBEAT", None, json!({"type": "HEARTBEAT"}));
            run.push(
                "call",
                "DECLINE",
                None,
                json!({"type": "DECLINE", "decline": {}}),
            );
        }
        if timing.late_acks && kind == "ACKNOWLEDGE" {
            held_acks.push((dir, kind, at, msg));
            continue;
        }
        let at_ref = at.as_ref().map(|(a, x)| (a.as_str(), x.as_str()));
        run.push(&dir, &kind, at_ref, msg);
        if kind != "ACKNOWLEDGE" && dir == "call" {
            for (d, k, a, m) in held_acks.drain(..) {
                let a_ref = a.as_ref().map(|(a, x)| (a.as_str(), x.as_str()));
                run.push(&d, &k, a_ref, m);
            }
        }
    }
    for (d, k, a, m) in held_acks.drain(..) {
        let a_ref = a.as_ref().map(|(a, x)| (a.as_str(), x.as_str()));
        run.push(&d, &k, a_ref, m);
    }
    run.push("call", "TEARDOWN", None, json!({"type": "TEARDOWN"}));
    // The master tells every agent; the executor was on the first.
    for agent in cluster {
        run.push(
            "to_agent",
            "ShutdownFrameworkMessage",
            Some((agent, "")),
            json!({}),
        );
        if !p.executor || agents[0] != agent {
            continue;
        }
        run.push(
            "executor_event",
            "SHUTDOWN",
            Some((agent, "the-executor")),
            json!({"type": "SHUTDOWN"}),
        );
        run.push(
            "from_agent",
            "ExitedExecutorMessage",
            Some((agent, "")),
            json!({"executor_id": "the-executor"}),
        );
    }
    run.timeline()
}

#[test]
fn the_normalized_sequence_stays_the_same_across_timing() {
    let base = diagram::Normalized::from_timeline(&program_run(PROGRAM, Timing::default()));
    let text = base.to_text();
    // What the program said, filed by task and direction.
    for line in [
        "party F1 framework \"ch05\"",
        "party A agent",
        "party E1 executor",
        "F1 -> M: SUBSCRIBE",
        "M -> F1: SUBSCRIBED",
        "[T1] F1 -> M: ACCEPT LAUNCH T1",
        "[T1] F1 -> M: ACKNOWLEDGE T1 TASK_RUNNING",
        "[T1] F1 -> M: ACKNOWLEDGE T1 TASK_FINISHED",
        "[T1] M -> A: StatusUpdateAcknowledgementMessage T1 TASK_FINISHED",
        "[T1] A -> E1: ACKNOWLEDGED T1 TASK_RUNNING",
        "[T2] M -> F1: UPDATE T2 TASK_FINISHED",
        "[E1] E1 -> A: SUBSCRIBE",
        "[E1] A -> M: ExitedExecutorMessage",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    for left_out in [
        "OFFERS",
        "DECLINE",
        "HEARTBEAT",
        "ERROR",
        "fw-0000",
        "task-1",
    ] {
        assert!(!text.contains(left_out), "{left_out} in:\n{text}");
    }
    // Each kind of timing alone, and all of them at once.
    let all = Timing {
        interleave: true,
        offers: true,
        resend: true,
        two_agents: true,
        late_acks: true,
        old_stream: true,
    };
    let one_at_a_time = [
        Timing {
            interleave: true,
            ..Timing::default()
        },
        Timing {
            offers: true,
            ..Timing::default()
        },
        Timing {
            resend: true,
            ..Timing::default()
        },
        Timing {
            two_agents: true,
            ..Timing::default()
        },
        Timing {
            late_acks: true,
            ..Timing::default()
        },
        Timing {
            old_stream: true,
            ..Timing::default()
        },
    ];
    for (i, timing) in one_at_a_time.into_iter().chain([all]).enumerate() {
        let t = program_run(PROGRAM, timing);
        // The runs do differ in order, as a run's text shows it.
        let order = Sequence::from_timeline(&t).to_text();
        if i != 3 {
            assert_ne!(
                order,
                Sequence::from_timeline(&program_run(PROGRAM, Timing::default())).to_text(),
                "timing {i} changes the recorded order"
            );
        }
        let other = diagram::Normalized::from_timeline(&t);
        assert_eq!(
            base.diff(&other),
            None,
            "timing {i}:\n{order}\n{}",
            other.to_text()
        );
    }
    // Command tasks (the agent runs them): which agent each lands on does not count.
    let commands = Program {
        executor: false,
        ..PROGRAM
    };
    let in_order = Timing {
        two_agents: true,
        ..Timing::default()
    };
    let one_agent = diagram::Normalized::from_timeline(&program_run(commands, in_order));
    let two = program_run(commands, all);
    assert_eq!(
        Sequence::from_timeline(&two)
            .parties
            .iter()
            .filter(|p| p.kind == PartyKind::Agent)
            .count(),
        2
    );
    assert_eq!(
        one_agent.diff(&diagram::Normalized::from_timeline(&two)),
        None
    );

    // Read back from its text (comments and blank lines skipped), it is the same.
    let kept = format!("# a comment\n\n{text}");
    assert_eq!(diagram::Normalized::parse(&kept), base);
}

#[test]
fn the_normalized_sequence_changes_when_the_program_does() {
    let base = diagram::Normalized::from_timeline(&program_run(PROGRAM, Timing::default()));
    let busy = Timing {
        interleave: true,
        offers: true,
        ..Timing::default()
    };

    // It stops acknowledging: the acknowledgements go, the agent resends, and the
    // finished states never come.
    let no_acks = Program {
        acknowledge: false,
        ..PROGRAM
    };
    let diff = base
        .diff(&diagram::Normalized::from_timeline(&program_run(
            no_acks, busy,
        )))
        .expect("a program that does not acknowledge talks differently");
    for line in [
        "-[T1] F1 -> M: ACKNOWLEDGE T1 TASK_RUNNING",
        "-[T2] M -> A: StatusUpdateAcknowledgementMessage T2 TASK_RUNNING",
        "-[T1] M -> F1: UPDATE T1 TASK_FINISHED",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line:?} in:\n{diff}");
    }
    assert!(!diff.lines().any(|l| l.starts_with('+')), "{diff}");

    // It launches one task fewer: everything about T2 goes.
    let one = Program {
        tasks: 1,
        ..PROGRAM
    };
    let diff = base
        .diff(&diagram::Normalized::from_timeline(&program_run(one, busy)))
        .expect("a program that launches one task fewer talks differently");
    assert!(diff.contains("-[T2] F1 -> M: ACCEPT LAUNCH T2\n"), "{diff}");
    assert!(
        !diff
            .lines()
            .any(|l| (l.starts_with('-') || l.starts_with('+')) && l.contains("[T1]")),
        "T1 is the same: {diff}"
    );

    // A state more, and an ERROR that is not the old stream's, count.
    let mut t = program_run(PROGRAM, busy);
    let log = &mut t.frameworks[0];
    let mut extra = log.entries[log.entries.len() - 4].clone();
    extra.seq = 1000;
    extra.kind = "ERROR".into();
    extra.direction = diagram::Direction::Event;
    extra.agent_id = None;
    extra.executor_id = None;
    extra.message = Some(json!({"type": "ERROR", "error": {"message": "bad call"}}));
    log.entries.push(extra);
    let diff = base
        .diff(&diagram::Normalized::from_timeline(&t))
        .expect("an ERROR counts");
    assert_eq!(
        diff.lines().filter(|l| l.starts_with('+')).count(),
        1,
        "{diff}"
    );
    assert!(diff.contains("+M -> F1: ERROR\n"), "{diff}");
}

#[test]
fn a_checked_in_picture_is_written_compared_and_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, "# Step\n\n<!-- diagram -->\n\n## Text\n").unwrap();
    let run = program_run(PROGRAM, Timing::default());

    // Nothing kept yet: the message says how to draw it.
    let err = diagram::check_files(&run, None, dir.path(), "ch99-step", false).unwrap_err();
    assert!(err.contains("sequence.txt is missing"), "{err}");
    assert!(
        err.contains("UPDATE_DIAGRAMS=1 cargo test -p ch99-step"),
        "{err}"
    );

    // Drawing writes the text, the picture and the README's block under its slot.
    let wrote = diagram::check_files(&run, None, dir.path(), "ch99-step", true).unwrap();
    assert!(wrote.contains("sequence.svg"), "{wrote}");
    let text = std::fs::read_to_string(dir.path().join("sequence.txt")).unwrap();
    assert!(text.starts_with("# "), "{text}");
    assert!(
        text.contains("#   UPDATE_DIAGRAMS=1 cargo test -p ch99-step\n"),
        "{text}"
    );
    let svg = std::fs::read_to_string(dir.path().join("sequence.svg")).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!svg.contains("<script") && !svg.contains("data-seq") && !svg.contains("fw-0000"));
    let page = std::fs::read_to_string(&readme).unwrap();
    assert!(
        page.starts_with("# Step\n\n<!-- diagram -->\n![Sequence diagram"),
        "{page}"
    );
    assert!(page.contains("](sequence.svg)"), "{page}");
    assert!(page.ends_with("<!-- /diagram -->\n\n## Text\n"), "{page}");
    // Drawing again replaces the block instead of adding one.
    diagram::check_files(&run, None, dir.path(), "ch99-step", true).unwrap();
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), page);

    // Another run of the same program matches; a program that changed does not, and
    // the message shows the difference and the command.
    let again = program_run(
        PROGRAM,
        Timing {
            interleave: true,
            resend: true,
            ..Timing::default()
        },
    );
    diagram::check_files(&again, None, dir.path(), "ch99-step", false).expect("the same program");
    let changed = program_run(
        Program {
            tasks: 1,
            ..PROGRAM
        },
        Timing::default(),
    );
    let err = diagram::check_files(&changed, None, dir.path(), "ch99-step", false).unwrap_err();
    assert!(err.contains("(- kept, + this run)"), "{err}");
    assert!(err.contains("\n-[T2] F1 -> M: ACCEPT LAUNCH T2\n"), "{err}");
    assert!(
        err.contains("\n  UPDATE_DIAGRAMS=1 cargo test -p ch99-step\n"),
        "{err}"
    );

    // A README that lost the picture is reported too.
    std::fs::write(&readme, "# Step\n").unwrap();
    let err = diagram::check_files(&again, None, dir.path(), "ch99-step", false).unwrap_err();
    assert!(err.contains("does not show sequence.svg"), "{err}");
    let err = diagram::check_files(&again, None, dir.path(), "ch99-step", true).unwrap_err();
    assert!(err.contains("no `<!-- diagram -->` line"), "{err}");
}
