//! `playa-config/config.json` must stay usable: valid JSON with the keys
//! playa-mesos reads, pinned to a Mesos release that has the v1 APIs.

use e2e_tests::project_root;

#[test]
fn config_json_parses_and_pins_a_mesos_with_the_v1_apis() {
    let path = project_root().join("playa-config/config.json");
    let text = std::fs::read_to_string(&path).expect("playa-config/config.json exists");
    let config: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for key in [
        "platform",
        "box_name",
        "base_url",
        "ip_address",
        "mesos_release",
        "vm_ram",
        "vm_cpus",
    ] {
        assert!(
            config.get(key).and_then(|v| v.as_str()).is_some(),
            "missing string key {key}"
        );
    }
    // `1.1.0-2.0.107.ubuntu1404`: the Mesos version is before the first '-'.
    let release = config["mesos_release"].as_str().unwrap();
    let version: Vec<u32> = release
        .split('-')
        .next()
        .unwrap()
        .split('.')
        .map(|part| part.parse().expect("numeric version part"))
        .collect();
    assert!(version.len() == 3, "{release}");
    assert!(
        version[0] >= 1,
        "{release} predates the v1 HTTP APIs (Mesos 1.0)"
    );
}
