//! Conformance, read-only endpoints: checklist items 79-80 (§9), with the shapes of the
//! captured `endpoints/` fixtures.

use e2e_tests::http;
use e2e_tests::sched::{Sched, WAIT, framework};
use e2e_tests::{shape, testcluster};

#[test]
fn c79_version_is_numeric_dotted() {
    let (c, addr) = testcluster::start(1);
    for target in [addr.clone(), http::host_port(&c.agent_urls()[0])] {
        let r = http::get(&target, "/version");
        assert_eq!(r.status(), 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let v = r.json();
        let version = v["version"].as_str().expect("version string");
        // pymesos parses it as dot-separated integers.
        assert!(
            version.split('.').all(|p| p.parse::<u32>().is_ok()),
            "{version}"
        );
        assert!(
            v["build_time"].is_number() && v["build_date"].is_string(),
            "{v}"
        );
    }
}

#[test]
fn c80_redirect_state_and_health() {
    let (_c, addr) = testcluster::start(1);
    let port = addr.rsplit(':').next().unwrap().to_string();
    for path in ["/master/redirect", "/redirect"] {
        let r = http::get(&addr, path);
        assert_eq!(r.status(), 307, "{path}");
        let location = r.header("Location").expect("Location");
        assert!(
            location.starts_with("//") && location.ends_with(&format!(":{port}")),
            "{location}"
        );
        assert_eq!(r.header("Content-Length"), Some("0"));
    }
    assert_eq!(http::get(&addr, "/master/redirect/x").status(), 404);

    let mut s = Sched::subscribe(&addr, framework("c80"));
    s.offers(WAIT);
    for path in ["/master/state", "/state"] {
        let r = http::get(&addr, path);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let v = r.json();
        for key in [
            "version",
            "id",
            "pid",
            "hostname",
            "leader",
            "leader_info",
            "flags",
            "slaves",
            "frameworks",
            "completed_frameworks",
            "activated_slaves",
        ] {
            assert!(v.get(key).is_some(), "{path}: no {key}");
        }
        assert_eq!(v["leader"], v["pid"], "a single master leads");
        let fw = v["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == s.framework_id.as_str());
        let fw = fw.expect("subscribed framework listed");
        for key in [
            "name",
            "user",
            "active",
            "connected",
            "failover_timeout",
            "checkpoint",
            "used_resources",
            "offered_resources",
            "tasks",
            "completed_tasks",
            "offers",
        ] {
            assert!(fw.get(key).is_some(), "framework entry lacks {key}");
        }
        let slave = &v["slaves"][0];
        for key in [
            "id",
            "hostname",
            "port",
            "pid",
            "resources",
            "used_resources",
            "active",
        ] {
            assert!(slave.get(key).is_some(), "slave entry lacks {key}");
        }
        // Resource summaries, not Resource lists.
        assert!(slave["resources"]["cpus"].is_number() && slave["resources"]["mem"].is_number());
        assert!(slave["pid"].as_str().unwrap().starts_with("slave(1)@"));
    }
    for path in ["/health", "/master/health"] {
        let r = http::get(&addr, path);
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.body.is_empty());
    }
}

/// §1.2: a non-streaming body of 1024 bytes or more is gzip-compressed when the request
/// accepts gzip (`/master/state` is always that large).
#[test]
fn c80_large_bodies_are_gzipped_on_request() {
    let (_c, addr) = testcluster::start(2);
    // A framework with outstanding offers makes the state comfortably large.
    let mut s = Sched::subscribe(&addr, framework("c80-gzip"));
    s.offers(WAIT);
    let plain = http::get(&addr, "/master/state");
    assert!(plain.body.len() >= 1024, "{} bytes", plain.body.len());
    assert!(
        plain.header("Content-Encoding").is_none(),
        "not compressed unless asked"
    );
    let r = http::request(
        &addr,
        "GET",
        "/master/state",
        &[("Accept-Encoding", "gzip")],
        None,
    )
    .expect("GET");
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert!(r.body.starts_with(&[0x1f, 0x8b]), "gzip magic");
}

/// §6.1/§6.2 (nice to have, used by UIs and tools): the other master endpoints, the
/// agent's state and the sandbox file browser answer with the top-level keys of the
/// captured fixtures.
#[test]
fn c80_other_state_endpoints_have_the_fixture_keys() {
    let (c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c80-more"));
    let offer = s.launch_one(|o| {
        e2e_tests::sched::command_task("c80-t", &o.agent_id.value, "echo hello-sandbox")
    });
    s.wait_state(WAIT, "c80-t", mesos_proto::v1::TaskState::TaskFinished);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    for (path, fixture) in [
        ("/master/frameworks", "endpoints/master-frameworks.json"),
        ("/master/slaves", "endpoints/master-slaves.json"),
        ("/master/tasks", "endpoints/master-tasks.json"),
        (
            "/master/state-summary",
            "endpoints/master-state-summary.json",
        ),
    ] {
        let r = http::get(&addr, path);
        assert_eq!(r.status(), 200, "{path}");
        let ours = keys(&r.json());
        for k in keys(&shape::fixture(fixture)) {
            assert!(ours.contains(&k), "{path} lacks {k}");
        }
    }
    let agent = http::host_port(&c.agent_urls()[0]);
    for path in ["/state", "/slave(1)/state"] {
        let r = http::get(&agent, path);
        assert_eq!(r.status(), 200, "{path}");
        let v = r.json();
        for k in [
            "id",
            "pid",
            "hostname",
            "resources",
            "frameworks",
            "completed_frameworks",
        ] {
            assert!(v.get(k).is_some(), "agent {path} lacks {k}");
        }
    }
    // The sandbox of the finished task, through the agent's file browser.
    let state = http::get(&agent, "/state").json();
    let dirs: Vec<String> = ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|k| state[*k].as_array().cloned().unwrap_or_default())
        .flat_map(|f| {
            ["executors", "completed_executors"]
                .iter()
                .flat_map(|k| f[*k].as_array().cloned().unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .filter(|e| e["id"] == "c80-t")
        .filter_map(|e| e["directory"].as_str().map(String::from))
        .collect();
    let dir = dirs
        .first()
        .expect("the task's executor directory in agent /state");
    let r = http::get(&agent, &format!("/files/read?path={dir}/stdout&offset=0"));
    assert_eq!(r.status(), 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["offset"], 0);
    assert!(
        v["data"]
            .as_str()
            .unwrap_or_default()
            .contains("hello-sandbox"),
        "{v}"
    );
    let r = http::get(&agent, &format!("/files/browse?path={dir}"));
    assert_eq!(r.status(), 200);
    assert!(r.json().as_array().is_some_and(|a| !a.is_empty()));
    let _ = offer;
}
