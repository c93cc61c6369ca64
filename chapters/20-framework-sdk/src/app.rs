//! The app file: which tasks to keep running, described in JSON.
//!
//! ```json
//! {"name": "sdk-example",
//!  "tasks": [{"name": "web", "instances": 3,
//!             "resources": {"cpus": 0.1, "mem": 32},
//!             "command": "sleep 3600",
//!             "uris": ["http://example.org/site.tgz"], "image": "nginx:1.27",
//!             "labels": {"tier": "front"},
//!             "attributes": [{"name": "zone", "value": "a"}],
//!             "retry": {"backoff_min_secs": 0.5, "backoff_max_secs": 30, "max_failures": 5}}]}
//! ```
//!
//! Only `name`, `instances`, `resources` and `command` are required. Unknown
//! keys are an error, so a typo (`instance`) is caught instead of ignored.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// A whole app: a framework name and its task kinds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The framework name Mesos shows.
    pub name: String,
    /// The task kinds.
    pub tasks: Vec<TaskSpec>,
}

/// One kind of task and how many instances of it to keep running.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Name; instances are `<name>-0`, `<name>-1`, ...
    pub name: String,
    /// How many instances.
    pub instances: usize,
    /// What each instance needs.
    pub resources: ResourceSpec,
    /// The shell command.
    pub command: String,
    /// URIs the agent fetches into the sandbox first.
    #[serde(default)]
    pub uris: Vec<String>,
    /// A Docker image to run the command in.
    #[serde(default)]
    pub image: Option<String>,
    /// Labels put on every task.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Agent attributes an offer must have (all of them).
    #[serde(default)]
    pub attributes: Vec<AttributeFilter>,
    /// What to do when an instance fails.
    #[serde(default)]
    pub retry: RetryPolicy,
}

/// Resources per instance.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    /// CPU shares.
    pub cpus: f64,
    /// Memory, MB.
    pub mem: f64,
    /// Disk, MB.
    #[serde(default)]
    pub disk: f64,
}

/// "The agent's attribute `name` has the value `value`" (text, or a
/// scalar written as text, e.g. `"3"`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AttributeFilter {
    /// Attribute name.
    pub name: String,
    /// Wanted value.
    pub value: String,
}

/// Relaunching failed instances: wait `backoff_min_secs`, doubling up to
/// `backoff_max_secs`, and stop after `max_failures` failures of one instance.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// First wait, seconds.
    pub backoff_min_secs: f64,
    /// Longest wait, seconds.
    pub backoff_max_secs: f64,
    /// Failures of one instance before it is given up.
    pub max_failures: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            backoff_min_secs: 1.0,
            backoff_max_secs: 60.0,
            max_failures: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failure (1-based).
    pub fn delay(&self, failures: u32) -> Duration {
        let min = self.backoff_min_secs.max(0.0);
        let secs = (min * 2f64.powi(failures.saturating_sub(1).min(30) as i32))
            .min(self.backoff_max_secs.max(min));
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(60))
    }
}

impl App {
    /// Parses and checks an app.
    pub fn from_json(text: &str) -> Result<App, String> {
        let app: App = serde_json::from_str(text).map_err(|e| format!("app file: {e}"))?;
        let mut names = std::collections::BTreeSet::new();
        for task in &app.tasks {
            let r = task.resources;
            if !(r.cpus > 0.0 && r.mem > 0.0 && r.disk >= 0.0) {
                return Err(format!("task {}: cpus and mem must be positive", task.name));
            }
            if task.name.is_empty() || !names.insert(task.name.clone()) {
                return Err(format!("task name {:?} is empty or repeated", task.name));
            }
        }
        Ok(app)
    }

    /// Reads and checks an app file.
    pub fn load(path: &Path) -> Result<App, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        App::from_json(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_app_parses() {
        let app = App::from_json(include_str!("../app.json")).unwrap();
        assert_eq!(app.tasks[0].instances, 3);
        assert_eq!(app.tasks[0].labels["tier"], "front");
        assert_eq!(app.tasks[1].attributes[0].value, "a");
        assert_eq!(app.tasks[1].retry, RetryPolicy::default());
    }

    #[test]
    fn mistakes_are_errors() {
        let typo = r#"{"name":"a","tasks":[{"name":"t","instance":1,"resources":{"cpus":1,"mem":1},"command":"x"}]}"#;
        assert!(App::from_json(typo).is_err());
        let zero = r#"{"name":"a","tasks":[{"name":"t","instances":1,"resources":{"cpus":0,"mem":1},"command":"x"}]}"#;
        assert!(App::from_json(zero).is_err());
    }

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let p = RetryPolicy {
            backoff_min_secs: 1.0,
            backoff_max_secs: 5.0,
            max_failures: 3,
        };
        assert_eq!(p.delay(1), Duration::from_secs(1));
        assert_eq!(p.delay(3), Duration::from_secs(4));
        assert_eq!(p.delay(9), Duration::from_secs(5));
    }
}
