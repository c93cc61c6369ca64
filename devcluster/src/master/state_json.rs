//! The read-only master endpoints (§6.1) in the shapes of the 1.12 fixtures: resource
//! summaries instead of resource lists, v0 names (`slaves`, `slave_id`).

use serde_json::{Value, json};

use super::{Framework, Master, MasterState, TaskEntry};
use crate::attributes::attributes_json;
use crate::resources::Resources;

const STATES: [&str; 10] = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_UNREACHABLE",
];

/// `/version`.
pub(crate) fn version() -> Value {
    json!({
        "build_date": "2026-11-24 00:00:00",
        "build_time": 1795478400.0,
        "build_user": "devcluster",
        "version": crate::VERSION,
    })
}

fn state_name(s: mesos_proto::v1::TaskState) -> String {
    s.as_str_name().to_string()
}

fn task_json(t: &TaskEntry) -> Value {
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| {
            let mut v =
                json!({"state": state_name(s.state()), "timestamp": s.timestamp.unwrap_or(0.0)});
            if let Some(cs) = &s.container_status {
                v["container_status"] = mesos_proto::json::to_value(cs);
            }
            if let Some(h) = s.healthy {
                v["healthy"] = json!(h);
            }
            v
        })
        .collect();
    let mut v = json!({
        "id": t.info.task_id.value,
        "name": t.info.name,
        "framework_id": &*t.framework_id,
        "executor_id": t.executor_id.clone().unwrap_or_default(),
        "slave_id": &*t.agent_id,
        "state": state_name(t.state),
        "resources": Resources::from_protos(&t.info.resources).summary(),
        "role": &*t.role,
        "statuses": statuses,
    });
    if let Some(l) = &t.info.labels {
        v["labels"] = mesos_proto::json::to_value(l)["labels"].clone();
    }
    v
}

fn capabilities(fw: &Framework) -> Vec<String> {
    fw.info
        .capabilities
        .iter()
        .filter_map(|c| {
            c.r#type
                .and_then(|t| mesos_proto::v1::framework_info::capability::Type::try_from(t).ok())
        })
        .map(|t| t.as_str_name().to_string())
        .collect()
}

fn framework_json(st: &MasterState, fw: &Framework, full: bool) -> Value {
    let mut v = json!({
        "id": fw.id,
        "name": fw.info.name,
        "used_resources": fw.used.summary(),
        "offered_resources": fw.offered.summary(),
        "capabilities": capabilities(fw),
        "hostname": fw.info.hostname.clone().unwrap_or_default(),
        "webui_url": fw.info.webui_url.clone().unwrap_or_default(),
        "active": fw.sub.is_some(),
        "connected": fw.sub.is_some(),
        "recovered": false,
    });
    if !full {
        let mut counts = serde_json::Map::new();
        for s in STATES {
            counts.insert(s.to_string(), json!(0));
        }
        for t in fw.tasks.values() {
            if let Some(c) = counts.get_mut(t.state.as_str_name()) {
                *c = json!(c.as_u64().unwrap_or(0) + 1);
            }
        }
        let obj = v.as_object_mut().expect("object");
        obj.extend(counts);
        let agents: std::collections::BTreeSet<&str> =
            fw.tasks.values().map(|t| &*t.agent_id).collect();
        obj.insert("slave_ids".into(), json!(agents));
        return v;
    }
    let obj = v.as_object_mut().expect("object");
    obj.insert("user".into(), json!(fw.info.user));
    obj.insert("failover_timeout".into(), json!(fw.info.failover_timeout()));
    obj.insert("checkpoint".into(), json!(fw.info.checkpoint()));
    obj.insert("registered_time".into(), json!(fw.registered_time));
    obj.insert(
        "unregistered_time".into(),
        json!(fw.unregistered_time.unwrap_or(0.0)),
    );
    if let Some(t) = fw.reregistered_time {
        obj.insert("reregistered_time".into(), json!(t));
    }
    if let Some(p) = &fw.info.principal {
        obj.insert("principal".into(), json!(p));
    }
    obj.insert("resources".into(), fw.used.plus(&fw.offered).summary());
    if super::validate::is_multi_role(&fw.info) {
        obj.insert("roles".into(), json!(fw.info.roles));
    } else {
        obj.insert(
            "role".into(),
            json!(fw.info.role.clone().unwrap_or_else(|| "*".into())),
        );
    }
    obj.insert(
        "tasks".into(),
        json!(fw.tasks.values().map(task_json).collect::<Vec<_>>()),
    );
    obj.insert("unreachable_tasks".into(), json!([]));
    obj.insert(
        "completed_tasks".into(),
        json!(fw.completed_tasks.iter().map(task_json).collect::<Vec<_>>()),
    );
    let offers: Vec<Value> = fw
        .offers
        .iter()
        .filter_map(|id| st.offers.get(id))
        .map(|o| {
            json!({
                "id": o.offer.id.value,
                "framework_id": o.framework_id,
                "allocation_info": {"role": o.role},
                "slave_id": o.agent_id,
                "resources": o.resources.summary(),
            })
        })
        .collect();
    obj.insert("offers".into(), json!(offers));
    let executors: Vec<Value> = fw
        .executors
        .iter()
        .map(|((agent, _), (e, res))| {
            let mut v = json!({
                "executor_id": e.executor_id.value,
                "name": e.name.clone().unwrap_or_default(),
                "framework_id": fw.id,
                "resources": res.summary(),
                "slave_id": agent,
            });
            if let Some(c) = &e.command {
                v["command"] = mesos_proto::json::to_value(c);
            }
            if let Some(t) = e
                .r#type
                .and_then(|t| mesos_proto::v1::executor_info::Type::try_from(t).ok())
            {
                v["type"] = json!(t.as_str_name());
            }
            v
        })
        .collect();
    obj.insert("executors".into(), json!(executors));
    if let Some(l) = &fw.info.labels {
        obj.insert(
            "labels".into(),
            mesos_proto::json::to_value(l)["labels"].clone(),
        );
    }
    obj.insert("offer_constraints".into(), json!({}));
    v
}

fn agent_json(master: &Master, a: &super::AgentEntry, summary: bool, st: &MasterState) -> Value {
    let port = a.info.port.unwrap_or(5051);
    let mut v = json!({
        "id": a.id,
        "hostname": a.info.hostname,
        "port": port,
        "attributes": attributes_json(&a.info.attributes),
        "pid": format!("slave(1)@{}:{}", master.cfg.ip, port),
        "registered_time": a.registered_time,
        "resources": a.total.summary(),
        "used_resources": a.used.summary(),
        "offered_resources": a.offered.summary(),
        "reserved_resources": {},
        "unreserved_resources": a.total.summary(),
        "active": true,
        "deactivated": false,
        "version": crate::VERSION,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
    });
    if summary {
        let obj = v.as_object_mut().expect("object");
        for s in STATES {
            obj.insert(s.to_string(), json!(0));
        }
        let mut fws = Vec::new();
        for fw in st.frameworks.values() {
            let mut any = false;
            for t in fw.tasks.values().filter(|t| *t.agent_id == *a.id) {
                any = true;
                if let Some(c) = obj.get_mut(t.state.as_str_name()) {
                    *c = json!(c.as_u64().unwrap_or(0) + 1);
                }
            }
            if any {
                fws.push(fw.id.clone());
            }
        }
        obj.insert("framework_ids".into(), json!(fws));
    }
    v
}

/// `/master/state`.
pub(crate) fn state(master: &Master) -> Value {
    let st = master.lock();
    let leader = master.shared.leader_addr();
    let pid = master.info.pid.clone().unwrap_or_default();
    let mut v = json!({
        "version": crate::VERSION,
        "build_date": "2026-11-24 00:00:00",
        "build_time": 1795478400.0,
        "build_user": "devcluster",
        "start_time": st.start_time,
        "id": master.id,
        "pid": pid,
        "hostname": master.cfg.hostname,
        "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
        "activated_slaves": st.agents.len() as f64,
        "deactivated_slaves": 0.0,
        "unreachable_slaves": st.unreachable_agents.len() as f64,
    });
    let obj = v.as_object_mut().expect("object");
    if let Some(t) = st.elected_time {
        obj.insert("elected_time".into(), json!(t));
    }
    if let Some(addr) = leader {
        obj.insert(
            "leader".into(),
            json!(format!("master@{}:{}", addr.ip(), addr.port())),
        );
        obj.insert(
            "leader_info".into(),
            json!({"id": master.id, "pid": format!("master@{}:{}", addr.ip(), addr.port()), "port": addr.port(), "hostname": master.cfg.hostname}),
        );
    }
    obj.insert(
        "flags".into(),
        json!({
            "allocation_interval": crate::config::mesos_duration(master.cfg.allocation_interval),
            "authenticate_http_frameworks": master.cfg.credentials.is_some().to_string(),
            "hostname": master.cfg.hostname,
            "ip": master.cfg.ip.to_string(),
            "port": master.info.port.to_string(),
            "offer_timeout": master.cfg.offer_timeout.map(crate::config::mesos_duration),
            "registry": "in_memory",
        }),
    );
    obj.insert(
        "slaves".into(),
        json!(
            st.agents
                .values()
                .map(|a| agent_json(master, a, false, &st))
                .collect::<Vec<_>>()
        ),
    );
    obj.insert("recovered_slaves".into(), json!([]));
    obj.insert(
        "frameworks".into(),
        json!(
            st.frameworks
                .values()
                .map(|f| framework_json(&st, f, true))
                .collect::<Vec<_>>()
        ),
    );
    obj.insert(
        "completed_frameworks".into(),
        json!(
            st.completed_frameworks
                .iter()
                .map(|f| framework_json(&st, f, true))
                .collect::<Vec<_>>()
        ),
    );
    obj.insert("orphan_tasks".into(), json!([]));
    obj.insert("unregistered_frameworks".into(), json!([]));
    v
}

/// `/master/frameworks`.
pub(crate) fn frameworks(master: &Master) -> Value {
    let st = master.lock();
    json!({
        "frameworks": st.frameworks.values().map(|f| framework_json(&st, f, true)).collect::<Vec<_>>(),
        "completed_frameworks": st.completed_frameworks.iter().map(|f| framework_json(&st, f, true)).collect::<Vec<_>>(),
        "unregistered_frameworks": [],
    })
}

/// `/master/slaves`.
pub(crate) fn slaves(master: &Master) -> Value {
    let st = master.lock();
    json!({
        "slaves": st.agents.values().map(|a| agent_json(master, a, false, &st)).collect::<Vec<_>>(),
        "recovered_slaves": [],
    })
}

/// `/master/tasks`.
pub(crate) fn tasks(master: &Master) -> Value {
    let st = master.lock();
    let mut all = Vec::new();
    for fw in st.frameworks.values() {
        all.extend(fw.tasks.values().map(task_json));
        all.extend(fw.completed_tasks.iter().map(task_json));
    }
    json!({ "tasks": all })
}

/// `/master/state-summary`.
pub(crate) fn state_summary(master: &Master) -> Value {
    let st = master.lock();
    json!({
        "hostname": master.cfg.hostname,
        "slaves": st.agents.values().map(|a| agent_json(master, a, true, &st)).collect::<Vec<_>>(),
        "frameworks": st.frameworks.values().map(|f| framework_json(&st, f, false)).collect::<Vec<_>>(),
    })
}
