//! Talking to the backend: `POST <api-url>/offer` and `POST <api-url>/status`.
//!
//! The backend owns the decisions (what to run where); the proxy owns the
//! Mesos protocol. The backend is another team's service, so every answer
//! is checked and a bad one is a [`BadAnswer`], never a panic: the proxy
//! then declines the offer and logs why.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::time::Duration;

use serde_json::Value;

/// The largest answer read from the backend; more is a bad answer.
const MAX_ANSWER: u64 = 1 << 20;

/// One task the backend wants launched: `{"id", "cmd", "resources": {"cpus", "mem"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// The task id (unique per framework; the backend chooses it).
    pub id: String,
    /// The shell command, run with `/bin/sh -c` by Mesos' command executor.
    pub cmd: String,
    /// CPU shares.
    pub cpus: f64,
    /// Memory in MB.
    pub mem: f64,
}

/// Why an answer to `POST /offer` cannot be used. Each declines the offer.
#[derive(Debug, Clone, PartialEq)]
pub enum BadAnswer {
    /// No answer in time.
    Timeout,
    /// The connection failed (refused, reset, ...).
    Unreachable(String),
    /// A status other than 200 (5xx, 4xx, ...), with the body's start.
    Status(u16, String),
    /// The body is not JSON.
    NotJson(String),
    /// JSON, but not a list of `{"id", "cmd", "resources": {"cpus", "mem"}}`.
    Shape(String),
    /// The tasks together need more than the offer has.
    TooBig(String),
}

impl fmt::Display for BadAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadAnswer::Timeout => write!(f, "the backend did not answer in time"),
            BadAnswer::Unreachable(e) => write!(f, "the backend is unreachable: {e}"),
            BadAnswer::Status(code, body) => write!(f, "the backend answered HTTP {code}: {body}"),
            BadAnswer::NotJson(e) => write!(f, "the backend's answer is not JSON: {e}"),
            BadAnswer::Shape(e) => write!(f, "the backend's answer has the wrong shape: {e}"),
            BadAnswer::TooBig(e) => write!(f, "the backend asked for more than the offer: {e}"),
        }
    }
}

/// The backend at `api_url`.
#[derive(Debug, Clone)]
pub struct Backend {
    api_url: String,
    agent: ureq::Agent,
}

impl Backend {
    /// A client for `api_url` (e.g. `http://127.0.0.1:8080`); each request
    /// may take at most `timeout`.
    pub fn new(api_url: &str, timeout: Duration) -> Backend {
        let agent = ureq::Agent::config_builder()
            // We judge statuses ourselves: a 5xx is an answer, not an error.
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .new_agent();
        Backend {
            api_url: api_url.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// Sends an offer summary; returns the tasks to launch (empty: decline).
    pub fn offer(&self, summary: &Value) -> Result<Vec<TaskRequest>, BadAnswer> {
        let (status, body) = self.post("/offer", summary)?;
        if status != 200 {
            let start: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(BadAnswer::Status(status, start));
        }
        parse_tasks(&body)
    }

    /// Reports a status; `Ok` once the backend took it (any 2xx).
    pub fn status(&self, id: &str, state: &str) -> Result<(), BadAnswer> {
        let body = serde_json::json!({ "id": id, "state": state });
        match self.post("/status", &body)? {
            (200..=299, _) => Ok(()),
            (status, body) => Err(BadAnswer::Status(
                status,
                String::from_utf8_lossy(&body).chars().take(200).collect(),
            )),
        }
    }

    fn post(&self, path: &str, body: &Value) -> Result<(u16, Vec<u8>), BadAnswer> {
        let url = format!("{}{path}", self.api_url);
        let response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .map_err(from_ureq)?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut bytes)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => BadAnswer::Timeout,
                _ => BadAnswer::Unreachable(e.to_string()),
            })?;
        Ok((status, bytes))
    }
}

fn from_ureq(err: ureq::Error) -> BadAnswer {
    match err {
        ureq::Error::Timeout(_) => BadAnswer::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => BadAnswer::Timeout,
        other => BadAnswer::Unreachable(other.to_string()),
    }
}

/// Checks an answer to `POST /offer`: a JSON list of
/// `{"id": string, "cmd": string, "resources": {"cpus": number, "mem": number}}`
/// with distinct, non-empty ids and positive amounts.
pub fn parse_tasks(body: &[u8]) -> Result<Vec<TaskRequest>, BadAnswer> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BadAnswer::NotJson(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(BadAnswer::Shape("expected a list of tasks".into()));
    };
    let mut seen = BTreeSet::new();
    let mut tasks = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let text = |key: &str| item.get(key).and_then(Value::as_str);
        let amount = |key: &str| {
            item.get("resources")
                .and_then(|r| r.get(key))
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let (Some(id), Some(cmd), Some(cpus), Some(mem)) =
            (text("id"), text("cmd"), amount("cpus"), amount("mem"))
        else {
            return Err(BadAnswer::Shape(format!(
                "task {i} needs a string id and cmd and positive resources.cpus and resources.mem"
            )));
        };
        if id.is_empty() || !seen.insert(id.to_string()) {
            return Err(BadAnswer::Shape(format!(
                "task {i}: empty or repeated id {id:?}"
            )));
        }
        tasks.push(TaskRequest {
            id: id.to_string(),
            cmd: cmd.to_string(),
            cpus,
            mem,
        });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_answer_parses() {
        let body = br#"[{"id":"t1","cmd":"true","resources":{"cpus":0.5,"mem":64}}]"#;
        let tasks = parse_tasks(body).unwrap();
        assert_eq!(tasks[0].id, "t1");
        assert_eq!(tasks[0].mem, 64.0);
        assert_eq!(parse_tasks(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn bad_answers_are_named() {
        assert!(matches!(parse_tasks(b"<html>"), Err(BadAnswer::NotJson(_))));
        assert!(matches!(parse_tasks(b"{}"), Err(BadAnswer::Shape(_))));
        let no_mem = br#"[{"id":"t1","cmd":"true","resources":{"cpus":1}}]"#;
        assert!(matches!(parse_tasks(no_mem), Err(BadAnswer::Shape(_))));
        let twice = br#"[{"id":"t","cmd":"a","resources":{"cpus":1,"mem":1}},
                         {"id":"t","cmd":"b","resources":{"cpus":1,"mem":1}}]"#;
        assert!(matches!(parse_tasks(twice), Err(BadAnswer::Shape(_))));
    }
}
