//! The live page at `/` and the JSON it polls.
//!
//! Routes (on every master; they answer for the whole cluster, so the page keeps working
//! when leadership moves to another master, whose port would be another origin):
//! - `GET /`: the page (`ui/index.html`, `ui/app.js`, `ui/style.css`, compiled into the
//!   binary with `include_str!`: no build step, nothing to install).
//! - `GET /devcluster/state`: the leading master's `/master/state` plus which master leads.
//! - `GET /devcluster/timeline`: frameworks with a timeline, and the injected faults.
//! - `GET /devcluster/timeline?framework_id=F[&since=SEQ][&limit=N][&brief=1]`: the calls
//!   and events of one framework (see `timeline/`); `&seq=N` gives one entry.
//! - `GET /devcluster/timeline.ndjson?framework_id=F`: the same as a downloadable log.
//! - `GET /devcluster/sandbox?agent_id=A&framework_id=F&task_id=T&file=stdout|stderr`:
//!   the tail of a task's stdout or stderr, read from its sandbox on the agent.

use serde_json::json;

use crate::http::{Request, Response, StreamItem};
use crate::master::{Master, state_json};

const INDEX_HTML: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const STYLE_CSS: &str = include_str!("ui/style.css");

/// The most of a sandbox file the page shows (its end).
const SANDBOX_TAIL: u64 = 64 * 1024;

/// Entries a timeline answer holds unless `?limit=` says otherwise.
const DEFAULT_LIMIT: usize = 1000;

/// Answers `below` (the path after alias routing) if it is a page route.
pub(crate) fn handle(master: &Master, req: &Request, below: &str) -> Option<Response> {
    let asset = |ct: &str, body: &str| {
        Response::bytes(200, ct, body.as_bytes().to_vec()).with_header("Cache-Control", "no-cache")
    };
    let resp = match below {
        "/" => asset("text/html; charset=utf-8", INDEX_HTML),
        "/devcluster/ui/app.js" => asset("text/javascript; charset=utf-8", APP_JS),
        "/devcluster/ui/style.css" => asset("text/css; charset=utf-8", STYLE_CSS),
        "/devcluster/state" => cluster_state(master),
        "/devcluster/timeline" => timeline(master, req),
        "/devcluster/timeline.ndjson" => timeline_ndjson(master, req),
        "/devcluster/sandbox" => sandbox(master, req),
        _ => return None,
    };
    if req.method != "GET" && req.method != "HEAD" {
        return Some(
            Response::text(
                405,
                format!(
                    "405 Method Not Allowed. Expecting one of {{ 'GET' }}, but received '{}'.",
                    req.method
                ),
            )
            .with_header("Allow", "GET"),
        );
    }
    Some(resp)
}

/// The leader's state, whichever master is asked.
fn cluster_state(master: &Master) -> Response {
    let Some(cluster) = master.shared.cluster() else {
        return Response::text(503, "Cluster is not running");
    };
    let Some(i) = master.shared.leader() else {
        return Response::text(503, "No leader elected");
    };
    let Some(leader) = cluster.masters.get(i) else {
        return Response::text(503, "No leader elected");
    };
    let mut state = state_json::state(leader);
    state["devcluster"] = json!({
        "leader_index": i,
        "masters": cluster.masters.len(),
        "agents": cluster.agents.iter().map(|a| json!({
            "id": a.id,
            "lost": a.is_lost(),
        })).collect::<Vec<_>>(),
    });
    Response::json(200, &state)
}

fn timeline(master: &Master, req: &Request) -> Response {
    let tl = &master.shared.timeline;
    let Some(fw) = req.query_param("framework_id") else {
        return Response::json(200, &tl.index_json());
    };
    if let Some(seq) = req.query_param("seq") {
        let Ok(seq) = seq.parse::<u64>() else {
            return Response::text(400, "Expecting 'seq' to be a number");
        };
        return match tl.entry(&fw, seq) {
            Some(v) => Response::json(200, &v),
            None => Response::text(404, "No such timeline entry"),
        };
    }
    let since = match req.query_param("since").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return Response::text(400, "Expecting 'since' to be a number"),
    };
    let limit = match req.query_param("limit").map(|s| s.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) => l,
        Some(Err(_)) => return Response::text(400, "Expecting 'limit' to be a number"),
    };
    let brief = req
        .query_param("brief")
        .is_some_and(|b| b == "1" || b == "true");
    if brief {
        // Summaries only: small, and the page polls these every second.
        return match tl.entries_json(&fw, since, limit, true) {
            Some(v) => Response::json(200, &v),
            None => Response::text(404, "No timeline for this framework"),
        };
    }
    // Full messages can add up to the timeline's byte bound several times over once in
    // JSON: rendered piece by piece while it is sent, never whole.
    match tl.snapshot(&fw, since, limit) {
        Some(snap) => streamed("application/json", snap.json_pieces(false)),
        None => Response::text(404, "No timeline for this framework"),
    }
}

/// How much rendered text one chunk of a streamed answer gathers before it is sent.
const STREAM_CHUNK: usize = 64 << 10;
/// Chunks a streamed answer renders ahead of a slow reader.
const STREAM_AHEAD: usize = 4;

/// A chunked answer whose body is `pieces`, rendered on a thread of its own as the client
/// reads: at most [`STREAM_AHEAD`] chunks of [`STREAM_CHUNK`] bytes wait in memory, and the
/// thread stops as soon as the client goes away (its sends fail).
fn streamed(
    content_type: &str,
    pieces: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> Response {
    let (tx, rx) = crossbeam_channel::bounded(STREAM_AHEAD);
    let spawned = std::thread::Builder::new()
        .name("timeline-render".to_string())
        .spawn(move || {
            let mut chunk = Vec::with_capacity(STREAM_CHUNK);
            for piece in pieces {
                chunk.extend_from_slice(&piece);
                if chunk.len() >= STREAM_CHUNK
                    && tx
                        .send(StreamItem::Chunk(std::mem::take(&mut chunk)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(StreamItem::Chunk(chunk));
        });
    match spawned {
        Ok(_) => Response::stream(200, content_type, rx),
        Err(_) => Response::text(503, "Too busy to render the timeline now"),
    }
}

fn timeline_ndjson(master: &Master, req: &Request) -> Response {
    let Some(fw) = req.query_param("framework_id") else {
        return Response::text(400, "Expecting 'framework_id' query parameter");
    };
    let Some(snap) = master.shared.timeline.snapshot(&fw, None, usize::MAX) else {
        return Response::text(404, "No timeline for this framework");
    };
    // The id is ours (uuid-NNNN), but keep the file name to safe characters anyway.
    let safe: String = fw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    streamed("application/x-ndjson", snap.ndjson_pieces()).with_header(
        "Content-Disposition",
        &format!("attachment; filename=\"timeline-{safe}.ndjson\""),
    )
}

/// The end of a task's stdout/stderr. Only those two names are served, from the sandbox
/// of the executor that ran the task, so no path from the request reaches the disk.
fn sandbox(master: &Master, req: &Request) -> Response {
    let (Some(agent_id), Some(fw), Some(task)) = (
        req.query_param("agent_id"),
        req.query_param("framework_id"),
        req.query_param("task_id"),
    ) else {
        return Response::text(400, "Expecting 'agent_id', 'framework_id' and 'task_id'");
    };
    let file = req.query_param("file").unwrap_or_else(|| "stdout".into());
    if file != "stdout" && file != "stderr" {
        return Response::text(400, "Expecting 'file' to be stdout or stderr");
    }
    let Some(cluster) = master.shared.cluster() else {
        return Response::text(503, "Cluster is not running");
    };
    let Some(agent) = cluster.agents.iter().find(|a| a.id == agent_id) else {
        return Response::text(404, "No such agent");
    };
    let dir = {
        let st = agent.lock();
        let completed = st
            .completed_frameworks
            .iter()
            .rev()
            .find(|(id, _)| *id == fw);
        let Some(f) = st.frameworks.get(&fw).or(completed.map(|(_, f)| f)) else {
            return Response::text(404, "No such framework on this agent");
        };
        let runs = |e: &&crate::agent::Executor| {
            e.info.executor_id.value == task
                || e.tasks.contains_key(&task)
                || e.completed_tasks.iter().any(|t| t.task_id.value == task)
                || e.queued.iter().any(|t| t.task_id.value == task)
        };
        let found = f.executors.values().find(runs);
        let found = found.or_else(|| f.completed_executors.iter().rev().find(runs));
        match found {
            Some(e) => e.directory.clone(),
            None => return Response::text(404, "No sandbox for this task"),
        }
    };
    // Only the tail is read, whatever the file's size; a FIFO or device put in its place
    // is refused without blocking.
    let mut f = match crate::agent::open_regular(&dir.join(&file)) {
        Ok(f) => f,
        Err(r) if r.status == 404 => {
            return Response::text(404, format!("No {file} in the sandbox (yet)"));
        }
        Err(r) => return r,
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    match crate::agent::read_at(&mut f, size.saturating_sub(SANDBOX_TAIL), SANDBOX_TAIL) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Response::bytes(200, "text/plain; charset=utf-8", text.into_bytes())
        }
        Err(e) => Response::text(500, format!("Failed to read {file}: {e}")),
    }
}
