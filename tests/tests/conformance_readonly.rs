//! Conformance, read-only endpoints: checklist items 79-80 (§9), with the shapes of the
//! captured `endpoints/` fixtures.

use e2e_tests::http;
use e2e_tests::sched::{Sched, WAIT, framework};
use e2e_tests::testcluster;

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
