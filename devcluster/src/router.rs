//! Path routing with Mesos' aliases (§1.1): every master route answers as `/X` and
//! `/master/X`, every agent route as `/X` and `/slave(1)/X`; a trailing slash is ignored
//! and routing is longest-prefix (a deeper unknown path reaches its route's handler).

use std::sync::{Arc, OnceLock};

use crate::agent::Agent;
use crate::http::{Handler, Request, Response, require};
use crate::master::{Master, scheduler_api, state_json};

/// Splits `path` into (routed path with the delegate prefix, path below the delegate).
pub(crate) fn route(path: &str, delegate: &str) -> (String, String) {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let prefix = format!("/{delegate}");
    let below = if trimmed == prefix {
        "/".to_string()
    } else if let Some(rest) = trimmed.strip_prefix(&format!("{prefix}/")) {
        format!("/{rest}")
    } else {
        trimmed.to_string()
    };
    // The routed path keeps a trailing slash, as Mesos' Location does.
    let mut routed = format!("{prefix}{}", if below == "/" { "" } else { &below });
    if path.len() > 1 && path.ends_with('/') {
        routed.push('/');
    }
    (routed, below)
}

/// Whether `below` is `route` or lies under it.
fn under(below: &str, route: &str) -> bool {
    below == route || below.starts_with(&format!("{route}/"))
}

fn not_found() -> Response {
    Response::text(404, "404 Not Found.")
}

/// The HTTP handler of one master.
pub(crate) struct MasterRouter {
    pub master: Arc<OnceLock<Arc<Master>>>,
}

impl Handler for MasterRouter {
    fn handle(&self, req: Request) -> Response {
        let Some(master) = self.master.get() else {
            return Response::text(503, "Master is starting");
        };
        // Every call of every scheduler comes here: no routing (and its allocations) for
        // the plain path, which `route` would map to exactly this.
        if req.path == "/api/v1/scheduler" {
            return scheduler_api::handle(master, &req, "/master/api/v1/scheduler");
        }
        let (routed, below) = route(&req.path, "master");
        if under(&below, "/api/v1/scheduler") {
            return scheduler_api::handle(master, &req, &routed);
        }
        if let Some(realm) = master_realm(&below)
            && let Some(refused) = require(master.cfg.credentials.as_ref(), &req, realm)
        {
            return refused;
        }
        if under(&below, "/devcluster/faults") {
            return fault_endpoint(master, &req, &below);
        }
        if let Some(resp) = crate::ui::handle(master, &req, &below) {
            return resp;
        }
        match below.as_str() {
            "/health" => return Response::empty(200),
            "/version" => return Response::json(200, &state_json::version()),
            "/redirect" => {
                return match master.shared.leader_addr() {
                    Some(a) => Response::empty(307).with_header(
                        "Location",
                        &format!("//{}:{}", master.cfg.hostname, a.port()),
                    ),
                    None => Response::text(503, "No leader elected"),
                };
            }
            _ => {}
        }
        if under(&below, "/redirect") {
            return not_found();
        }
        let known = [
            "/state",
            "/state.json",
            "/frameworks",
            "/slaves",
            "/tasks",
            "/state-summary",
        ];
        if !known.contains(&below.as_str()) {
            return not_found();
        }
        if !master.is_leader() {
            return match scheduler_api::redirect_location(master, &routed, &req.query) {
                Some(loc) => Response::empty(307).with_header("Location", &loc),
                None => Response::text(503, "No leader elected"),
            };
        }
        let body = match below.as_str() {
            "/state" | "/state.json" => state_json::state(master),
            "/frameworks" => state_json::frameworks(master),
            "/slaves" => state_json::slaves(master),
            "/tasks" => state_json::tasks(master),
            _ => state_json::state_summary(master),
        };
        Response::json(200, &body)
    }
}

/// Which master paths need credentials (with `--credentials`), by the realm Mesos would
/// name: `readwrite` for what changes the cluster (fault injection), `readonly` for what
/// shows sandboxes and the frameworks' conversations (the live page, its data, the
/// timeline and sandbox endpoints). `None`: open, as in Mesos by default (`/health`,
/// `/version`, `/redirect`, and the state endpoints a Mesos master serves without
/// `--authenticate_http_readonly`); the scheduler API checks its own realm.
fn master_realm(below: &str) -> Option<&'static str> {
    if under(below, "/devcluster/faults") {
        Some("mesos-master-readwrite")
    } else if below == "/" || under(below, "/devcluster") {
        Some("mesos-master-readonly")
    } else {
        None
    }
}

/// `POST /devcluster/faults/<name>?arg=...`: fault injection for people (see
/// [`crate::Cluster::fault`] for the names).
fn fault_endpoint(master: &Master, req: &Request, below: &str) -> Response {
    if req.method != "POST" {
        return scheduler_api::method_not_allowed(&req.method);
    }
    let name = below
        .trim_start_matches("/devcluster/faults")
        .trim_start_matches('/');
    let Some(cluster) = master.shared.cluster() else {
        return Response::text(503, "Cluster is not running");
    };
    let arg = req.query_param("arg");
    // Faults take locks of every master; run them off this connection's thread so a
    // fault that closes this very master's streams cannot wait on itself.
    let name = name.to_string();
    let handle =
        std::thread::spawn(move || crate::faults::apply_fault(&*cluster, &name, arg.as_deref()));
    match handle.join() {
        Ok(Ok(msg)) => Response::text(200, msg),
        Ok(Err(e)) => Response::text(400, e),
        Err(_) => Response::text(500, "Fault injection failed"),
    }
}

/// The HTTP handler of one agent.
pub(crate) struct AgentRouter {
    pub agent: Arc<OnceLock<Arc<Agent>>>,
}

impl Handler for AgentRouter {
    fn handle(&self, req: Request) -> Response {
        let Some(agent) = self.agent.get() else {
            return not_found();
        };
        let (_, below) = route(&req.path, "slave(1)");
        if under(&below, "/api/v1/executor") {
            return agent.executor_api(&req);
        }
        // The sandbox browser shows what tasks wrote: readonly credentials, as a Mesos
        // agent with `--authenticate_http_readonly` asks.
        if under(&below, "/files")
            && let Some(refused) =
                require(agent.cfg.credentials.as_ref(), &req, "mesos-agent-readonly")
        {
            return refused;
        }
        match below.as_str() {
            "/health" => Response::empty(200),
            "/version" => Response::json(200, &state_json::version()),
            "/state" | "/state.json" => Response::json(200, &agent.state_json()),
            _ if below == "/files/read" || below == "/files/read.json" => agent.files_read(&req),
            _ if below == "/files/browse" || below == "/files/browse.json" => {
                agent.files_browse(&req)
            }
            _ => not_found(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(
            route("/api/v1/scheduler", "master"),
            (
                "/master/api/v1/scheduler".into(),
                "/api/v1/scheduler".into()
            )
        );
        assert_eq!(
            route("/master/api/v1/scheduler/", "master"),
            (
                "/master/api/v1/scheduler/".into(),
                "/api/v1/scheduler".into()
            )
        );
        assert_eq!(
            route("/slave(1)/api/v1/executor", "slave(1)").1,
            "/api/v1/executor"
        );
        assert!(under("/api/v1/scheduler/x", "/api/v1/scheduler"));
        assert!(!under("/api/v1/schedulerx", "/api/v1/scheduler"));
    }
}
