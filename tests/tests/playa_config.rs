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

fn readme() -> String {
    let path = project_root().join("playa-config/README.md");
    std::fs::read_to_string(&path).expect("playa-config/README.md exists")
}

#[test]
fn the_readme_provisions_the_pinned_mesos() {
    // playa-mesos' Vagrantfile runs its installer only for `provision` / `--provision`:
    // a plain `vagrant up` keeps the box's old Mesos.
    let readme = readme();
    assert!(readme.contains("vagrant up --provision"), "{readme}");
    assert!(readme.contains("vagrant provision"), "{readme}");
    // playa has the `/vagrant` synced folder commented out: no advice may rely on it.
    assert!(!readme.contains("build from `/vagrant`"), "{readme}");
    assert!(!readme.contains("under `/vagrant`"), "{readme}");
}

#[test]
fn the_readme_master_is_the_vms_address() {
    let text = std::fs::read_to_string(project_root().join("playa-config/config.json"))
        .expect("config.json");
    let config: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let master = format!(
        "{}:5050",
        config["ip_address"].as_str().expect("ip_address")
    );
    assert!(readme().contains(&format!("--master {master}")), "{master}");
}

#[test]
fn every_flag_of_the_readmes_commands_exists() {
    let readme = readme();
    let help =
        std::process::Command::new(e2e_tests::example_runs::example_bin("minimal-scheduler"))
            .arg("--help")
            .output()
            .expect("minimal-scheduler --help runs");
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    // The command may continue on the next line (a trailing backslash).
    let mut command = String::new();
    let mut in_command = false;
    for line in readme.lines() {
        if line.contains("cargo run --bin minimal-scheduler") {
            in_command = true;
        }
        if in_command {
            command.push_str(line);
            command.push(' ');
            in_command = line.trim_end().ends_with('\\');
        }
    }
    let flags: Vec<&str> = command
        .split_whitespace()
        .skip_while(|word| *word != "--")
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .collect();
    assert!(flags.contains(&"--master"), "{command}");
    assert!(flags.contains(&"--executor"), "{command}");
    for flag in flags {
        assert!(help.contains(flag), "{flag} is not an option:\n{help}");
    }
    assert!(help.contains("--advertise-ip"), "{help}");
}

#[test]
fn one_example_master_address_across_the_repository() {
    // The book's VM is at 10.141.141.10; an older address must not linger in the
    // documentation or the code.
    let mut stale = Vec::new();
    let mut dirs = vec![project_root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("readable directory")
            .flatten()
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "fixtures") {
                    dirs.push(path);
                }
            } else if name.ends_with(".md") || name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Spelled in two pieces so this file does not find itself.
                if text.contains(&format!("192.168.{}", "33.10")) {
                    stale.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "another example master address in {stale:?}"
    );
}
