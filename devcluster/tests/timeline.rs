//! The live page's data: the per-framework timeline (`/devcluster/timeline`, JSON and
//! NDJSON), the cluster state it polls, the sandbox proxy, and the page's own files.

mod common;

use common::*;
use devcluster::{Cluster, ClusterConfig};
use mesos_proto::v1::TaskState;
use serde_json::Value;

fn get(url: &str, path: &str) -> Resp {
    request(url, "GET", path, &[], b"")
}

fn timeline(url: &str, fw: &str, extra: &str) -> Value {
    let r = get(
        url,
        &format!("/devcluster/timeline?framework_id={fw}{extra}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn types(v: &Value) -> Vec<String> {
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Position of the first `t` at or after `from`; panics with the whole list if absent.
fn find(list: &[String], t: &str, from: usize) -> usize {
    list.iter()
        .skip(from)
        .position(|x| x == t)
        .map(|p| p + from)
        .unwrap_or_else(|| panic!("no {t} after {from} in {list:?}"))
}

/// Subscribes, launches `echo hello`, acknowledges to FINISHED: returns the stream.
fn run_one_task(c: &Cluster, name: &str) -> Stream {
    let mut s = subscribe(&c.master_url(), framework(name));
    let offer = s.offers(5).remove(0);
    let task = command_task("t1", &offer, "echo hello");
    assert_eq!(launch(&s, &offer, vec![task]).status, 202);
    wait_state(&mut s, 10, "t1", TaskState::TaskFinished);
    s
}

#[test]
fn timeline_lists_the_conversation_in_order() {
    let c = cluster(1);
    let url = c.master_url();
    let s = run_one_task(&c, "tl-order");
    let fw = s.framework_id.clone();
    eventually(5, || {
        types(&timeline(&url, &fw, "")).contains(&"ACKNOWLEDGE".to_string())
    });
    let v = timeline(&url, &fw, "");
    assert_eq!(v["name"], "tl-order");
    let t = types(&v);
    let sub = find(&t, "SUBSCRIBE", 0);
    let subscribed = find(&t, "SUBSCRIBED", sub);
    let offers = find(&t, "OFFERS", subscribed);
    let accept = find(&t, "ACCEPT", offers);
    let update = find(&t, "UPDATE", accept);
    find(&t, "ACKNOWLEDGE", update);
    let entries = v["entries"].as_array().unwrap();
    // Full messages are the Mesos JSON of the call or event.
    assert_eq!(entries[sub]["direction"], "call");
    assert_eq!(entries[subscribed]["direction"], "event");
    assert_eq!(
        entries[subscribed]["message"]["subscribed"]["framework_id"]["value"],
        fw.as_str()
    );
    let launched = &entries[accept]["message"]["accept"]["operations"][0]["launch"];
    assert_eq!(launched["task_infos"][0]["task_id"]["value"], "t1");
    assert!(entries[accept]["summary"].as_str().unwrap().contains("t1"));
    let states: Vec<&str> = entries
        .iter()
        .filter(|e| e["type"] == "UPDATE")
        .map(|e| e["message"]["update"]["status"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.last(), Some(&"TASK_FINISHED"), "{states:?}");
    assert!(states.contains(&"TASK_RUNNING"), "{states:?}");
    // Sequence numbers rise; `since`, `brief` and `seq` narrow the answer.
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let since = timeline(&url, &fw, &format!("&since={}&brief=1", seqs[accept]));
    assert_eq!(since["entries"][0]["seq"], seqs[accept + 1]);
    assert!(since["entries"][0].get("message").is_none());
    let one = timeline(&url, &fw, &format!("&seq={}", seqs[accept]));
    assert_eq!(one["type"], "ACCEPT");
    assert_eq!(one["message"]["type"], "ACCEPT");
    let idx = get(&url, "/devcluster/timeline").json();
    assert!(
        idx["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == fw.as_str() && f["name"] == "tl-order")
    );
}

#[test]
fn injected_faults_appear_in_the_timeline() {
    let c = cluster(1);
    let url = c.master_url();
    let mut s = subscribe(&url, framework("tl-fault"));
    let fw = s.framework_id.clone();
    s.offers(5);
    let r = request(&url, "POST", "/devcluster/faults/cut-streams", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    // A rejected fault is recorded too, marked as such.
    assert!(c.fault("lose-agent", Some("7")).is_err());
    let v = timeline(&url, &fw, "");
    let faults: Vec<&Value> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "FAULT")
        .collect();
    assert_eq!(faults.len(), 2, "{v}");
    assert_eq!(faults[0]["direction"], "fault");
    assert_eq!(faults[0]["fault"], "cut-streams");
    assert_eq!(faults[0]["message"]["ok"], true);
    assert_eq!(faults[1]["fault"], "lose-agent");
    assert_eq!(faults[1]["message"]["ok"], false);
    let idx = get(&url, "/devcluster/timeline").json();
    assert_eq!(idx["faults"].as_array().unwrap().len(), 2);
}

#[test]
fn timeline_survives_a_leader_failover() {
    let mut cfg = ClusterConfig::for_tests(1);
    cfg.masters = 2;
    let c = Cluster::start(cfg).expect("cluster starts");
    let first = c.master_url();
    let mut s = subscribe(&first, framework("tl-failover"));
    let fw = s.framework_id.clone();
    s.offers(5);
    let r = request(
        &first,
        "POST",
        "/devcluster/faults/fail-over-leader",
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let second = c.master_url();
    assert_ne!(first, second);
    // The framework comes back to the new leader with its id.
    let mut info = framework("tl-failover");
    info["id"] = serde_json::json!({"value": fw});
    let mut again = subscribe(&second, info);
    again.offers(5);
    // Either master answers for the whole cluster.
    for url in [&first, &second] {
        let t = types(&timeline(url, &fw, ""));
        let fault = find(&t, "FAULT", 0);
        let resub = find(&t, "SUBSCRIBE", fault);
        find(&t, "SUBSCRIBED", resub);
        let state = get(url, "/devcluster/state").json();
        assert_eq!(state["devcluster"]["leader_index"], 1);
        assert_eq!(state["frameworks"][0]["id"], fw.as_str());
    }
}

#[test]
fn ndjson_download_has_one_entry_per_line() {
    let c = cluster(1);
    let url = c.master_url();
    let mut s = subscribe(&url, framework("tl-ndjson"));
    s.offers(5);
    let fw = s.framework_id.clone();
    let r = get(
        &url,
        &format!("/devcluster/timeline.ndjson?framework_id={fw}"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/x-ndjson"));
    let cd = r
        .header("Content-Disposition")
        .expect("Content-Disposition");
    assert!(cd.starts_with("attachment; filename=\"timeline-"), "{cd}");
    let text = r.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    assert_eq!(lines[0]["type"], "SUBSCRIBE");
    assert!(lines.iter().all(|l| l.get("message").is_some()));
}

#[test]
fn page_files_state_and_sandbox_proxy() {
    let c = cluster(1);
    let url = c.master_url();
    let page = get(&url, "/");
    assert_eq!(page.status, 200);
    assert!(
        page.header("Content-Type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("/devcluster/ui/app.js"));
    assert_eq!(get(&url, "/master/").status, 200);
    for (path, ct) in [
        ("/devcluster/ui/app.js", "text/javascript"),
        ("/devcluster/ui/style.css", "text/css"),
    ] {
        let r = get(&url, path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("Content-Type").unwrap().starts_with(ct));
    }
    assert_eq!(request(&url, "POST", "/", &[], b"").status, 405);
    assert_eq!(
        get(&url, "/devcluster/timeline?framework_id=nope").status,
        404
    );
    let fw_missing = get(&url, "/devcluster/timeline.ndjson");
    assert_eq!(fw_missing.status, 400);

    let s = run_one_task(&c, "tl-sandbox");
    let fw = s.framework_id.clone();
    assert_eq!(
        get(
            &url,
            &format!("/devcluster/timeline?framework_id={fw}&since=x")
        )
        .status,
        400
    );
    let state = get(&url, "/devcluster/state").json();
    assert_eq!(state["devcluster"]["masters"], 1);
    let agent = c.agent_ids().remove(0);
    let q = format!("agent_id={agent}&framework_id={fw}&task_id=t1");
    eventually(5, || {
        get(&url, &format!("/devcluster/sandbox?{q}&file=stdout")).text() == "hello\n"
    });
    let err = get(&url, &format!("/devcluster/sandbox?{q}&file=stderr"));
    assert_eq!(err.status, 200);
    let bad = get(
        &url,
        &format!("/devcluster/sandbox?{q}&file=../../etc/passwd"),
    );
    assert_eq!(bad.status, 400);
    let none = get(
        &url,
        &format!("/devcluster/sandbox?agent_id={agent}&framework_id={fw}&task_id=zz"),
    );
    assert_eq!(none.status, 404);
}
