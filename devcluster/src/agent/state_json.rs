//! The agent's read-only endpoints: `/state` (§6.2) and the sandbox file browser
//! (`/files/read`, `/files/browse`), which never serves anything outside the work dir.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Agent, Executor};
use crate::attributes::attributes_json;
use crate::http::{Request, Response};
use crate::resources::Resources;

fn executor_json(e: &Executor) -> Value {
    let task = |t: &mesos_proto::v1::TaskInfo, state: &str| {
        json!({
            "id": t.task_id.value,
            "name": t.name,
            "framework_id": e.info.framework_id.as_ref().map(|f| f.value.clone()).unwrap_or_default(),
            "executor_id": if e.kind == super::ExecKind::Command { String::new() } else { e.info.executor_id.value.clone() },
            "slave_id": t.agent_id.value,
            "state": state,
            "resources": Resources::from_protos(&t.resources).summary(),
        })
    };
    let mut res = Resources::from_protos(&e.info.resources);
    for t in e.tasks.values() {
        res = res.plus(&Resources::from_protos(&t.info.resources));
    }
    json!({
        "id": e.info.executor_id.value,
        "name": e.info.name.clone().unwrap_or_default(),
        "source": e.info.source.clone().unwrap_or_default(),
        "container": e.container_id,
        "directory": e.directory.display().to_string(),
        "resources": res.summary(),
        "role": e.info.resources.first().and_then(|r| r.allocation_info.as_ref()).and_then(|a| a.role.clone()).unwrap_or_else(|| "*".into()),
        "type": if e.kind == super::ExecKind::Default { "DEFAULT" } else { "CUSTOM" },
        "tasks": e.tasks.values().filter(|t| !e.queued.iter().any(|q| q.task_id == t.info.task_id)).map(|t| task(&t.info, t.state.as_str_name())).collect::<Vec<_>>(),
        "queued_tasks": e.queued.iter().map(|t| task(t, "TASK_STAGING")).collect::<Vec<_>>(),
        "completed_tasks": e.completed_tasks.iter().map(|t| task(t, "TASK_FINISHED")).collect::<Vec<_>>(),
    })
}

impl Agent {
    /// `/state`.
    pub(crate) fn state_json(&self) -> Value {
        let st = self.lock();
        let total = Resources::from_protos(&self.info.resources);
        let framework_json = |(id, f): (&String, &super::AgentFramework)| {
            json!({
                "id": id,
                "name": f.info.name,
                "user": f.info.user,
                "failover_timeout": f.info.failover_timeout(),
                "checkpoint": f.info.checkpoint(),
                "hostname": f.info.hostname.clone().unwrap_or_default(),
                "role": f.info.role.clone().unwrap_or_else(|| "*".into()),
                "executors": f.executors.values().map(executor_json).collect::<Vec<_>>(),
                "completed_executors": f.completed_executors.iter().map(executor_json).collect::<Vec<_>>(),
            })
        };
        let frameworks: Vec<Value> = st.frameworks.iter().map(framework_json).collect();
        let completed: Vec<Value> = st
            .completed_frameworks
            .iter()
            .map(|(id, f)| framework_json((id, f)))
            .collect();
        let port = self.addr().port();
        json!({
            "version": crate::VERSION,
            "build_date": "2026-11-24 00:00:00",
            "build_time": 1795478400.0,
            "build_user": "devcluster",
            "start_time": self.start_time,
            "id": self.id,
            "pid": format!("slave(1)@{}:{}", self.cfg.ip, port),
            "hostname": self.info.hostname,
            "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
            "resources": total.summary(),
            "reserved_resources": {},
            "unreserved_resources": total.summary(),
            "reserved_resources_full": {},
            "unreserved_resources_full": self.info.resources.iter().map(mesos_proto::json::to_value).collect::<Vec<_>>(),
            "reserved_resources_allocated": {},
            "unreserved_resources_allocated": {},
            "resource_providers": [],
            "attributes": attributes_json(&self.info.attributes),
            "master_hostname": self.cfg.hostname,
            "flags": {
                "work_dir": self.work_dir.display().to_string(),
                "port": port.to_string(),
                "executor_registration_timeout": crate::config::mesos_duration(self.cfg.executor_registration_timeout),
                "executor_shutdown_grace_period": crate::config::mesos_duration(self.cfg.executor_shutdown_grace_period),
            },
            "frameworks": frameworks,
            "completed_frameworks": completed,
        })
    }

    /// Resolves `?path=` to a file or directory inside the work dir.
    fn sandbox_path(&self, req: &Request) -> Result<PathBuf, Response> {
        let Some(path) = req.query_param("path") else {
            return Err(Response::text(400, "Expecting 'path' query parameter"));
        };
        let p = PathBuf::from(&path);
        let p = if p.is_absolute() {
            p
        } else {
            self.work_dir.join(p)
        };
        let canon = p
            .canonicalize()
            .map_err(|_| Response::text(404, "File not found"))?;
        if !canon.starts_with(&self.work_dir) {
            return Err(Response::text(
                403,
                "Path is outside the agent's work directory",
            ));
        }
        Ok(canon)
    }

    /// `/files/read?path=&offset=&length=` -> `{"data": ..., "offset": ...}`.
    pub(crate) fn files_read(&self, req: &Request) -> Response {
        let path = match self.sandbox_path(req) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let offset = match req.query_param("offset").map(|o| o.trim().parse::<i64>()) {
            None => 0,
            Some(Ok(o)) => o,
            Some(Err(e)) => return Response::text(400, format!("Failed to parse offset: {e}")),
        };
        let length = match req.query_param("length").map(|l| l.trim().parse::<i64>()) {
            None => None,
            Some(Ok(l)) if l >= 0 => Some(l as u64),
            Some(Ok(_)) => return Response::text(400, "Negative length provided"),
            Some(Err(e)) => return Response::text(400, format!("Failed to parse length: {e}")),
        };
        let mut file = match open_regular(&path) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        // As Mesos: offset -1 asks for the size only.
        if offset < 0 {
            return Response::json(200, &json!({"data": "", "offset": size}));
        }
        let start = (offset as u64).min(size);
        let want = length.unwrap_or(MAX_READ).min(MAX_READ);
        match read_at(&mut file, start, want) {
            Ok(bytes) => Response::json(
                200,
                &json!({"data": String::from_utf8_lossy(&bytes), "offset": start}),
            ),
            Err(e) => Response::text(500, format!("Failed to read file: {e}")),
        }
    }

    /// `/files/browse?path=` -> `[{gid, mode, mtime, nlink, path, size, uid}]`.
    pub(crate) fn files_browse(&self, req: &Request) -> Response {
        let path = match self.sandbox_path(req) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Ok(entries) = std::fs::read_dir(&path) else {
            return Response::text(404, "Not a directory");
        };
        let mut out = Vec::new();
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else { continue };
            out.push(json!({
                "gid": m.gid().to_string(),
                "mode": mode_string(m.is_dir(), m.permissions().mode()),
                "mtime": m.mtime() as f64,
                "nlink": m.nlink(),
                "path": e.path().display().to_string(),
                "size": m.size(),
                "uid": m.uid().to_string(),
            }));
        }
        Response::json(200, &Value::Array(out))
    }
}

/// The most one `/files/read` answers, as Mesos caps it: 16 pages.
pub(crate) const MAX_READ: u64 = 16 * 4096;

/// Opens `path` for reading if it is a regular file, without ever blocking: a FIFO or a
/// device in a sandbox is opened non-blocking, looked at, and refused (`400`); a
/// directory is refused too. Errors are the answers to give.
pub(crate) fn open_regular(path: &std::path::Path) -> Result<std::fs::File, Response> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|_| Response::text(404, "File not found"))?;
    let meta = file
        .metadata()
        .map_err(|_| Response::text(404, "File not found"))?;
    if meta.is_dir() {
        return Err(Response::text(400, "Cannot read a directory"));
    }
    if !meta.is_file() {
        return Err(Response::text(
            400,
            "Cannot read a file that is not a regular file",
        ));
    }
    Ok(file)
}

/// Reads at most `max` bytes from `offset` (fewer at the end of the file): only what is
/// asked for is ever in memory.
pub(crate) fn read_at(file: &mut std::fs::File, offset: u64, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    file.take(max).read_to_end(&mut out)?;
    Ok(out)
}

fn mode_string(dir: bool, mode: u32) -> String {
    let mut s = String::from(if dir { "d" } else { "-" });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}
