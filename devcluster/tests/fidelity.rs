//! devcluster refuses what a Mesos 1.12 master refuses (docs/fidelity.md): ACCEPT's
//! LAUNCH / LAUNCH_GROUP validation (§3.5, §7.2) with Mesos' states, reasons and messages,
//! the RESERVATION_REFINEMENT resource format (§7.1), and the call checks that were more
//! lenient than Mesos. Each test here failed on the devcluster before it was made strict.

mod common;

use common::*;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{Offer, TaskState, TaskStatus};
use serde_json::{Value, json};

/// A scalar resource as JSON.
fn scalar(name: &str, v: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": v}})
}

/// A DEFAULT executor a 1.12 master accepts: framework id, 0.1 cpus, 32 MB mem, disk.
fn default_executor(fw: &str) -> Value {
    json!({"type": "DEFAULT", "executor_id": {"value": "E"}, "framework_id": {"value": fw},
           "resources": [scalar("cpus", 0.1), scalar("mem", 32.0), scalar("disk", 10.0)]})
}

/// A command task of the group (no executor: the master copies the group's in).
fn group_task(id: &str, o: &Offer) -> Value {
    let mut t = command_task(id, o, "sleep 5");
    t.as_object_mut().unwrap().remove("executor");
    t
}

/// Sends one ACCEPT with `ops` on the first offer and returns the first UPDATE for each of
/// `tasks`, acknowledging what needs it.
fn accept_updates(
    s: &mut Stream,
    o: &Offer,
    ops: Vec<Value>,
    tasks: &[&str],
) -> std::collections::BTreeMap<String, TaskStatus> {
    let body = json!({"offer_ids": [{"value": o.id.value}], "operations": ops,
                      "filters": {"refuse_seconds": 0.0}});
    assert_eq!(call(s, "ACCEPT", Some(("accept", body))).status, 202);
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < tasks.len() {
        let e = s.wait_type(10, event::Type::Update);
        let st = e.update.unwrap().status;
        ack(s, &st);
        if tasks.contains(&st.task_id.value.as_str()) {
            seen.entry(st.task_id.value.clone()).or_insert(st);
        }
    }
    seen
}

/// Asserts the master refused the task: TASK_ERROR, source master, no uuid, `reason`, `msg`.
fn assert_refused(st: &TaskStatus, reason: Reason, msg: &str) {
    assert_eq!(st.state(), TaskState::TaskError, "{st:?}");
    assert_eq!(st.source(), Source::SourceMaster);
    assert_eq!(st.reason(), reason);
    assert!(st.uuid.is_none());
    assert_eq!(st.message.as_deref(), Some(msg));
}

/// One LAUNCH_GROUP of tasks `G1`, `G2` whose executor or tasks `edit` changes; both tasks
/// must be refused with REASON_TASK_GROUP_INVALID and `msg` (`{fw}` stands for the id).
fn group_refused(name: &str, edit: impl FnOnce(&str, &mut Value, &mut Vec<Value>), msg: &str) {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework(name));
    let o = s.offers(5).remove(0);
    let mut exec = default_executor(&s.framework_id);
    let mut tasks = vec![group_task("G1", &o), group_task("G2", &o)];
    edit(&s.framework_id, &mut exec, &mut tasks);
    let op = json!({"type": "LAUNCH_GROUP",
                    "launch_group": {"executor": exec, "task_group": {"tasks": tasks}}});
    let op = if name == "op-id" {
        let mut op = op;
        op["id"] = json!({"value": "op-1"});
        op
    } else {
        op
    };
    let mut ids: Vec<String> = (op["launch_group"]["task_group"]["tasks"].as_array())
        .unwrap()
        .iter()
        .map(|t| t["task_id"]["value"].as_str().unwrap().to_string())
        .collect();
    ids.dedup();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let seen = accept_updates(&mut s, &o, vec![op], &ids);
    let msg = msg
        .replace("{fw}", &s.framework_id)
        .replace("{agent}", &o.agent_id.value);
    for st in seen.values() {
        assert_refused(st, Reason::ReasonTaskGroupInvalid, &msg);
    }
}

/// One LAUNCH of task `T` that `edit` changes; it must be refused with REASON_TASK_INVALID.
fn launch_refused(name: &str, edit: impl FnOnce(&str, &Offer, &mut Value), msg: &str) {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework(name));
    let o = s.offers(5).remove(0);
    let mut t = command_task("T", &o, "sleep 5");
    edit(&s.framework_id, &o, &mut t);
    let id = t["task_id"]["value"].as_str().unwrap().to_string();
    let mut op = json!({"type": "LAUNCH", "launch": {"task_infos": [t]}});
    if name == "op-id" {
        op["id"] = json!({"value": "op-1"});
    }
    let seen = accept_updates(&mut s, &o, vec![op], &[id.as_str()]);
    let msg = msg
        .replace("{fw}", &s.framework_id)
        .replace("{agent}", &o.agent_id.value);
    assert_refused(&seen[&id], Reason::ReasonTaskInvalid, &msg);
}

/// A custom executor for LAUNCH.
fn custom_executor() -> Value {
    json!({"executor_id": {"value": "X"}, "command": {"value": "sleep 30"},
           "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]})
}

/// Turns command task `t` into a task of the custom executor `e`.
fn on_executor(t: &mut Value, e: Value) {
    t.as_object_mut().unwrap().remove("command");
    t["executor"] = e;
}

// ---- LAUNCH_GROUP: the group's executor (§3.5) ----

#[test]
fn group_executor_without_framework_id() {
    group_refused(
        "no-fw",
        |_, e, _| {
            e.as_object_mut().unwrap().remove("framework_id");
        },
        "'ExecutorInfo.framework_id' must be set",
    );
}

#[test]
fn group_executor_of_another_framework() {
    group_refused(
        "other-fw",
        |_, e, _| e["framework_id"] = json!({"value": "other"}),
        "ExecutorInfo has an invalid FrameworkID (Actual: other vs Expected: {fw})",
    );
}

#[test]
fn group_executor_without_disk() {
    group_refused(
        "no-disk",
        |_, e, _| e["resources"] = json!([scalar("cpus", 0.1), scalar("mem", 32.0)]),
        "Executor 'E' uses no disk",
    );
}

#[test]
fn group_executor_below_min_cpus() {
    group_refused(
        "few-cpus",
        |_, e, _| e["resources"][0]["scalar"]["value"] = json!(0.005),
        "Executor 'E' uses less CPUs (0.005) than the minimum required (0.01)",
    );
}

#[test]
fn group_executor_without_cpus() {
    group_refused(
        "no-cpus",
        |_, e, _| e["resources"] = json!([scalar("mem", 32.0), scalar("disk", 10.0)]),
        "Executor 'E' uses less CPUs (None) than the minimum required (0.01)",
    );
}

#[test]
fn group_executor_below_min_mem() {
    group_refused(
        "few-mem",
        |_, e, _| e["resources"][1]["scalar"]["value"] = json!(16.0),
        "Executor 'E' uses less memory (16MB) than the minimum required (32MB)",
    );
}

#[test]
fn group_executor_without_type() {
    group_refused(
        "no-type",
        |_, e, _| {
            e.as_object_mut().unwrap().remove("type");
        },
        "'ExecutorInfo.type' must be set",
    );
}

#[test]
fn group_executor_with_docker_container() {
    group_refused(
        "docker-exec",
        |_, e, _| {
            e["type"] = json!("CUSTOM");
            e["command"] = json!({"value": "sleep 30"});
            e["container"] = json!({"type": "DOCKER", "docker": {"image": "busybox"}});
        },
        "Docker ContainerInfo is not supported on the executor",
    );
}

#[test]
fn group_default_executor_with_image() {
    group_refused(
        "image-exec",
        |_, e, _| {
            e["container"] = json!({"type": "MESOS", "mesos": {"image": {"type": "DOCKER",
                "docker": {"name": "busybox"}}}})
        },
        "'ExecutorInfo.container.mesos.image' must not be set for 'DEFAULT' executor",
    );
}

#[test]
fn group_executor_with_negative_grace_period() {
    group_refused(
        "grace",
        |_, e, _| e["shutdown_grace_period"] = json!({"nanoseconds": -1}),
        "ExecutorInfo's 'shutdown_grace_period' must be non-negative",
    );
}

#[test]
fn group_executor_with_invalid_id() {
    group_refused(
        "bad-exec-id",
        |_, e, _| e["executor_id"] = json!({"value": "a/b"}),
        "'a/b' contains invalid characters",
    );
}

#[test]
fn group_task_naming_another_executor() {
    group_refused(
        "task-exec",
        |fw, _, t| {
            let mut other = default_executor(fw);
            other["executor_id"] = json!({"value": "F"});
            t[1]["executor"] = other;
        },
        "The `ExecutorInfo` of task 'G2' is different from executor 'E'",
    );
}

#[test]
fn group_operation_with_an_id() {
    group_refused(
        "op-id",
        |_, _, _| {},
        "The `id` field cannot be set on LAUNCH_GROUP operations",
    );
}

// ---- LAUNCH_GROUP: the group's tasks ----

#[test]
fn group_task_with_docker_container() {
    group_refused(
        "docker-task",
        |_, _, t| t[0]["container"] = json!({"type": "DOCKER", "docker": {"image": "busybox"}}),
        "Task 'G1' is invalid: Docker ContainerInfo is not supported on the task",
    );
}

#[test]
fn group_task_with_networks_and_http_health_check() {
    group_refused(
        "net-hc",
        |_, _, t| {
            t[0]["container"] = json!({"type": "MESOS", "network_infos": [{"name": "net"}]});
            t[0]["health_check"] = json!({"type": "HTTP", "http": {"port": 80}});
        },
        "Task 'G1' is invalid: HTTP and TCP health checks are not supported for nested containers not joining parent's network",
    );
}

#[test]
fn group_task_with_limits_but_shared_cgroups() {
    group_refused(
        "limits",
        |_, _, t| t[0]["limits"] = json!({"cpus": {"value": 1.0}}),
        "Task 'G1' is invalid: Resource limits may only be set for tasks within a task group when the 'share_cgroups' field is set to 'false'.",
    );
}

#[test]
fn group_task_on_another_agent() {
    group_refused(
        "agent",
        |_, _, t| t[1]["agent_id"] = json!({"value": "S9"}),
        "Task 'G1' is invalid: Task uses invalid agent S9 while agent {agent} is expected"
            .replace("G1", "G2")
            .as_str(),
    );
}

#[test]
fn group_resources_are_checked_for_the_whole_operation() {
    group_refused(
        "neg",
        |_, _, t| t[1]["resources"][0]["scalar"]["value"] = json!(-1.0),
        "Invalid scalar resource: value < 0",
    );
}

// ---- LAUNCH (§7.2) ----

#[test]
fn launch_operation_with_an_id() {
    launch_refused(
        "op-id",
        |_, _, _| {},
        "The `id` field cannot be set on LAUNCH operations",
    );
}

#[test]
fn launch_task_on_another_agent() {
    launch_refused(
        "agent",
        |_, _, t| t["agent_id"] = json!({"value": "S9"}),
        "Task uses invalid agent S9 while agent {agent} is expected",
    );
}

#[test]
fn launch_task_with_invalid_id() {
    launch_refused(
        "bad-id",
        |_, _, t| t["task_id"] = json!({"value": ".."}),
        "'..' is disallowed",
    );
}

#[test]
fn launch_task_with_negative_max_completion_time() {
    launch_refused(
        "mct",
        |_, _, t| t["max_completion_time"] = json!({"nanoseconds": -5}),
        "Task's `max_completion_time` must be non-negative",
    );
}

#[test]
fn launch_task_with_untyped_health_check() {
    launch_refused(
        "hc",
        |_, _, t| t["health_check"] = json!({"command": {"value": "true"}}),
        "Task uses invalid health check: HealthCheck must specify 'type'",
    );
}

#[test]
fn launch_task_with_bad_check_path() {
    launch_refused(
        "check",
        |_, _, t| t["check"] = json!({"type": "HTTP", "http": {"port": 80, "path": "x"}}),
        "Task uses invalid check: The path 'x' of HTTP check must start with '/'",
    );
}

#[test]
fn launch_task_with_valueless_environment_variable() {
    launch_refused(
        "env",
        |_, _, t| t["command"]["environment"] = json!({"variables": [{"name": "A"}]}),
        "Task's `CommandInfo` is invalid: Environment variable 'A' of type 'VALUE' must have a value set",
    );
}

#[test]
fn launch_task_with_docker_type_but_no_docker_info() {
    launch_refused(
        "docker",
        |_, _, t| t["container"] = json!({"type": "DOCKER"}),
        "Task's `ContainerInfo` is invalid: DockerInfo 'docker' is not set for DOCKER typed ContainerInfo",
    );
}

#[test]
fn launch_task_with_disk_limit() {
    launch_refused(
        "limit",
        |_, _, t| t["limits"] = json!({"disk": {"value": 1.0}}),
        "Only cpus and mem may be included in a task's resource limits",
    );
}

#[test]
fn launch_task_with_unshared_cgroups() {
    launch_refused(
        "cgroups",
        |_, _, t| t["container"] = json!({"type": "MESOS", "linux_info": {"share_cgroups": false}}),
        "Only tasks in a task group may have 'share_cgroups' set to 'false'",
    );
}

#[test]
fn launch_task_with_fractional_gpus() {
    launch_refused(
        "gpus",
        |_, _, t| t["resources"][0] = scalar("gpus", 0.5),
        "Task uses invalid resources: Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer",
    );
}

#[test]
fn launch_task_with_overlapping_ranges() {
    launch_refused(
        "ranges",
        |_, _, t| {
            t["resources"].as_array_mut().unwrap().push(json!({"name": "ports", "type": "RANGES",
                "ranges": {"range": [{"begin": 31000, "end": 31005}, {"begin": 31003, "end": 31004}]}}))
        },
        "Invalid ranges resource: overlapping ranges",
    );
}

#[test]
fn launch_task_with_reserved_resources_the_offer_lacks() {
    launch_refused(
        "reserved",
        |_, _, t| t["resources"][0]["role"] = json!("eng"),
        "Total resources cpus(allocated: *):0.1; mem(allocated: *):32 required by task and its executor is more than available cpus(allocated: *):4; mem(allocated: *):4096; disk(allocated: *):10240; ports(allocated: *):[31000-32000]",
    );
}

#[test]
fn launch_task_with_revocable_resources_the_offer_lacks() {
    launch_refused(
        "revocable",
        |_, _, t| t["resources"][0]["revocable"] = json!({}),
        "Total resources cpus(allocated: *):0.1; mem(allocated: *):32 required by task and its executor is more than available cpus(allocated: *):4; mem(allocated: *):4096; disk(allocated: *):10240; ports(allocated: *):[31000-32000]",
    );
}

#[test]
fn launch_task_allocated_to_another_role() {
    launch_refused(
        "alloc",
        |_, _, t| t["resources"][0]["allocation_info"] = json!({"role": "eng"}),
        "Total resources cpus(allocated: *):0.1; mem(allocated: *):32 required by task and its executor is more than available cpus(allocated: *):4; mem(allocated: *):4096; disk(allocated: *):10240; ports(allocated: *):[31000-32000]",
    );
}

#[test]
fn launch_executor_of_default_type() {
    launch_refused(
        "default",
        |_, _, t| {
            let mut e = custom_executor();
            e["type"] = json!("DEFAULT");
            e.as_object_mut().unwrap().remove("command");
            on_executor(t, e);
        },
        "'ExecutorInfo.type' must be 'CUSTOM'",
    );
}

#[test]
fn launch_executor_without_command() {
    launch_refused(
        "no-cmd",
        |_, _, t| {
            let mut e = custom_executor();
            e.as_object_mut().unwrap().remove("command");
            on_executor(t, e);
        },
        "'ExecutorInfo.command' must be set",
    );
}

#[test]
fn launch_executor_of_another_framework() {
    launch_refused(
        "exec-fw",
        |_, _, t| {
            let mut e = custom_executor();
            e["framework_id"] = json!({"value": "other"});
            on_executor(t, e);
        },
        "ExecutorInfo has an invalid FrameworkID (Actual: other vs Expected: {fw})",
    );
}

/// A second task naming a launched executor's id with a different ExecutorInfo is refused
/// (Mesos' `validateCompatibleExecutorInfo`); the first, which made the executor, is not.
#[test]
fn launch_on_an_existing_executor_id_with_another_executor_info() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("compat"));
    let o = s.offers(5).remove(0);
    let mut t1 = command_task("T1", &o, "x");
    on_executor(&mut t1, custom_executor());
    let mut t2 = command_task("T2", &o, "x");
    let mut other = custom_executor();
    other["command"]["value"] = json!("sleep 31");
    on_executor(&mut t2, other);
    let ops = vec![
        json!({"type": "LAUNCH", "launch": {"task_infos": [t1]}}),
        json!({"type": "LAUNCH", "launch": {"task_infos": [t2]}}),
    ];
    let seen = accept_updates(&mut s, &o, ops, &["T1", "T2"]);
    assert_ne!(seen["T1"].state(), TaskState::TaskError, "{:?}", seen["T1"]);
    let st = &seen["T2"];
    assert_eq!(st.state(), TaskState::TaskError);
    assert_eq!(st.reason(), Reason::ReasonTaskInvalid);
    assert!(
        st.message.as_deref().unwrap_or("").starts_with(
            "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID"
        ),
        "{st:?}"
    );
}

// ---- The offers of an ACCEPT (§7.2, checklist 48) ----

/// Invalid offers: TASK_LOST, REASON_INVALID_OFFERS, with Mesos' message.
fn assert_invalid_offers(st: &TaskStatus, msg: &str) {
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
    assert_eq!(st.source(), Source::SourceMaster);
    assert!(st.uuid.is_none());
    assert_eq!(
        st.message.as_deref(),
        Some(format!("Task launched with invalid offers: {msg}").as_str())
    );
}

#[test]
fn accept_listing_an_offer_twice() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("dup-offer"));
    let o = s.offers(5).remove(0);
    let body = json!({"offer_ids": [{"value": o.id.value}, {"value": o.id.value}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [command_task("T", &o, "true")]}}]});
    assert_eq!(call(&s, "ACCEPT", Some(("accept", body))).status, 202);
    let st = s.update_for(5, "T");
    assert_invalid_offers(
        &st,
        &format!("Duplicate offer {} in offer list", o.id.value),
    );
}

#[test]
fn accept_of_another_frameworks_offer() {
    let c = cluster(1);
    let mut a = subscribe(&c.master_url(), framework("owner"));
    let o = a.offers(5).remove(0);
    let mut b = subscribe(&c.master_url(), framework("thief"));
    let body = json!({"offer_ids": [{"value": o.id.value}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [command_task("T", &o, "true")]}}]});
    assert_eq!(call(&b, "ACCEPT", Some(("accept", body))).status, 202);
    let st = b.update_for(5, "T");
    assert_invalid_offers(
        &st,
        &format!(
            "Offer {} has invalid framework {} while framework {} is expected",
            o.id.value, a.framework_id, b.framework_id
        ),
    );
}

// ---- Offers in the RESERVATION_REFINEMENT format (§7.1, checklist 47) ----

#[test]
fn refinement_capable_frameworks_get_offers_without_role() {
    let c = cluster(1);
    let info = json!({"user": "u", "name": "refine",
                      "capabilities": [{"type": "RESERVATION_REFINEMENT"}]});
    let mut s = subscribe(&c.master_url(), info);
    let o = s.offers(5).remove(0);
    assert!(!o.resources.is_empty());
    for r in &o.resources {
        assert_eq!(r.role, None, "{r:?}");
        assert!(
            r.reservation.is_none() && r.reservations.is_empty(),
            "{r:?}"
        );
    }
    // And what it offers can be launched, as given back.
    let t = json!({"name": "T", "task_id": {"value": "T"}, "agent_id": {"value": o.agent_id.value},
                   "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)], "command": {"value": "true"}});
    let st = &accept_updates(
        &mut s,
        &o,
        vec![json!({"type": "LAUNCH", "launch": {"task_infos": [t]}})],
        &["T"],
    )["T"];
    assert_ne!(st.state(), TaskState::TaskError, "{st:?}");
}

// ---- Scheduler calls (§2.1, §2.2) ----

/// With HTTP authentication, a SUBSCRIBE whose `framework_info.principal` differs from
/// the authenticated one fails call validation: 400, not an ERROR event.
#[test]
fn subscribe_with_another_principal_is_400() {
    use base64::Engine;
    let mut cfg = devcluster::ClusterConfig::for_tests(0);
    cfg.credentials = Some(devcluster::http::Credentials::parse("alice s3cret\n").unwrap());
    let c = devcluster::Cluster::start(cfg).unwrap();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let body = subscribe_body(json!({"user": "u", "name": "p", "principal": "bob"}));
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Authenticated principal 'alice' does not match principal 'bob' set in `FrameworkInfo`"
    );
}

/// An invalid `offer_filters` quantity refuses the subscription (ERROR event), as Mesos'
/// `validateOfferFilters` does.
#[test]
fn subscribe_with_a_negative_offer_filter_quantity_gets_error() {
    let c = cluster(0);
    let info = json!({"user": "u", "name": "f", "offer_filters": {"*": {
        "min_allocatable_resources": {"quantities": [{"quantities": {"cpus": {"value": -1.0}}}]}}}});
    let body = subscribe_body(info).to_string();
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s.status, 200);
    let e = s.next().unwrap();
    assert_eq!(e.r#type(), event::Type::Error);
    assert_eq!(
        e.error.unwrap().message,
        "Invalid resource quantity for 'cpus': Negative values not supported"
    );
    assert!(s.next().is_none(), "stream closes after ERROR");
}

/// Suppressed roles outside the framework's roles: ERROR with Mesos' message.
#[test]
fn subscribe_suppressing_a_foreign_role_gets_mesos_message() {
    let c = cluster(0);
    let body = json!({"type": "SUBSCRIBE", "subscribe": {
        "framework_info": {"user": "u", "name": "n"}, "suppressed_roles": ["x"]}});
    let mut s = subscribe_raw(
        &c.master_url(),
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    let e = s.next().unwrap();
    assert_eq!(
        e.error.unwrap().message,
        "Suppressed roles { x } are not contained in the set of roles"
    );
}

// ---- Executor calls (§3.1) ----

/// An UPDATE whose `check_status` has no type is a 400 (Mesos' `validateCheckStatusInfo`);
/// validation comes before any lookup, so unknown ids do not matter.
#[test]
fn executor_update_with_untyped_check_status_is_400() {
    let c = cluster(1);
    let agent = c.agent_urls()[0].clone();
    let body = json!({"executor_id": {"value": "e"}, "framework_id": {"value": "f"},
        "type": "UPDATE", "update": {"status": {"task_id": {"value": "t"}, "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR", "uuid": "vQMQmtWnSm6GPb3NdQYDyg==", "check_status": {}}}});
    let r = request(
        &agent,
        "POST",
        "/api/v1/executor",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.text(),
        "Failed to validate Executor::Call: CheckStatusInfo must specify 'type'"
    );
}

/// UPDATE_FRAMEWORK changing `user` or `checkpoint`: 400 with Mesos' words (which say
/// from what to what).
#[test]
fn update_framework_immutable_fields_say_what_changed() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("uf"));
    let update = |info: Value| {
        let r = call(
            &s,
            "UPDATE_FRAMEWORK",
            Some(("update_framework", json!({"framework_info": info}))),
        );
        (r.status, r.text())
    };
    let id = json!({"value": s.framework_id});
    assert_eq!(
        update(json!({"user": "other", "name": "uf", "id": id})),
        (
            400,
            "Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'tester' to 'other'"
                .to_string()
        )
    );
    assert_eq!(
        update(json!({"user": "tester", "name": "uf", "id": id, "checkpoint": true})),
        (
            400,
            "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'false' to 'true'"
                .to_string()
        )
    );
}

/// ACKNOWLEDGE_OPERATION_STATUS without `agent_id`: 400 with Mesos' words.
#[test]
fn acknowledge_operation_status_without_agent_id_is_400() {
    let c = cluster(0);
    let s = subscribe(&c.master_url(), framework("aos"));
    let r = call(
        &s,
        "ACKNOWLEDGE_OPERATION_STATUS",
        Some((
            "acknowledge_operation_status",
            json!({"uuid": "vQMQmtWnSm6GPb3NdQYDyg==", "operation_id": {"value": "op"}}),
        )),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Expecting 'agent_id' to be present"
    );
}

// ---- More rows of docs/fidelity.md ----

/// A SUBSCRIBE refused for its framework id and for its failover timeout: Mesos' texts
/// (`validateID`; C++'s printing of the double).
#[test]
fn subscribe_with_invalid_id_or_failover_timeout_gets_mesos_messages() {
    let c = cluster(0);
    for (info, msg) in [
        (
            json!({"user": "u", "name": "n", "id": {"value": "a/b"}}),
            "'a/b' contains invalid characters",
        ),
        (
            json!({"user": "u", "name": "n", "failover_timeout": 1e300}),
            "The framework failover_timeout (1e+300) is invalid",
        ),
    ] {
        let body = subscribe_body(info).to_string();
        let mut s = subscribe_raw(
            &c.master_url(),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(s.next().unwrap().error.unwrap().message, msg);
    }
}

/// With authentication, a call authenticated as another principal than the framework's:
/// 400 (§1.7 row 14).
#[test]
fn call_authenticated_as_another_principal_is_400() {
    use base64::Engine;
    let mut cfg = devcluster::ClusterConfig::for_tests(0);
    cfg.credentials = Some(devcluster::http::Credentials::parse("alice a1\nbob b1\n").unwrap());
    let c = devcluster::Cluster::start(cfg).unwrap();
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    let body = subscribe_body(json!({"user": "u", "name": "p", "principal": "alice"}));
    let alice = basic("alice", "a1");
    let mut s = subscribe_raw(
        &c.master_url(),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &alice),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(s.status, 200);
    let fw = s.next().unwrap().subscribed.unwrap().framework_id.value;
    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": fw}}).to_string();
    let r = request(
        &c.master_url(),
        "POST",
        "/api/v1/scheduler",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &basic("bob", "b1")),
            ("Mesos-Stream-Id", &s.stream_id),
        ],
        teardown.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.text(),
        "Authenticated principal 'bob' does not match principal 'alice' set in `FrameworkInfo`"
    );
}

#[test]
fn accept_without_offers() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("no-offers"));
    let o = s.offers(5).remove(0);
    let body = json!({"offer_ids": [],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [command_task("T", &o, "true")]}}]});
    assert_eq!(call(&s, "ACCEPT", Some(("accept", body))).status, 202);
    assert_invalid_offers(&s.update_for(5, "T"), "No offers specified");
}

#[test]
fn accept_of_offers_for_two_roles() {
    let c = cluster(2);
    let info = json!({"user": "u", "name": "roles", "roles": ["a", "b"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut s = subscribe(&c.master_url(), info);
    let role = |o: &Offer| o.allocation_info.as_ref().unwrap().role.clone().unwrap();
    // Hold offers until two roles are among them: an agent refused for one role is
    // offered to the other.
    let mut held: Vec<Offer> = Vec::new();
    while !held.iter().any(|o| role(o) != role(&held[0])) {
        held.extend(s.offers(5));
        if held.len() >= 2 && held.iter().all(|o| role(o) == role(&held[0])) {
            let o = held.pop().unwrap();
            let d = json!({"offer_ids": [{"value": o.id.value}], "filters": {"refuse_seconds": 3600.0}});
            assert_eq!(call(&s, "DECLINE", Some(("decline", d))).status, 202);
        }
    }
    let o1 = held[0].clone();
    let o2 = held.iter().find(|o| role(o) != role(&o1)).unwrap().clone();
    let body = json!({"offer_ids": [{"value": o1.id.value}, {"value": o2.id.value}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [command_task("T", &o1, "true")]}}]});
    assert_eq!(call(&s, "ACCEPT", Some(("accept", body))).status, 202);
    assert_invalid_offers(
        &s.update_for(5, "T"),
        &format!(
            "Aggregated offers must be allocated to the same role. Offer {} uses role '{} but another is using role '{}",
            o2.id.value,
            role(&o2),
            role(&o1)
        ),
    );
}

#[test]
fn launch_task_with_negative_kill_grace_period() {
    launch_refused(
        "kill",
        |_, _, t| t["kill_policy"] = json!({"grace_period": {"nanoseconds": -1}}),
        "Task's 'kill_policy.grace_period' must be non-negative",
    );
}

#[test]
fn group_bigger_than_the_offer() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("big-group"));
    let o = s.offers(5).remove(0);
    let mut exec = default_executor(&s.framework_id);
    exec["resources"][0]["scalar"]["value"] = json!(100.0);
    let op = json!({"type": "LAUNCH_GROUP", "launch_group": {"executor": exec,
        "task_group": {"tasks": [group_task("G1", &o)]}}});
    let st = &accept_updates(&mut s, &o, vec![op], &["G1"])["G1"];
    assert_eq!(st.state(), TaskState::TaskError);
    assert_eq!(st.reason(), Reason::ReasonTaskGroupInvalid);
    assert!(
        st.message.as_deref().unwrap_or("").starts_with(
            "Total resources cpus(allocated: *):100.1; mem(allocated: *):64; disk(allocated: *):10 required by task group and its executor are more than available "
        ),
        "{st:?}"
    );
}

#[test]
fn group_tasks_disagreeing_on_share_cgroups() {
    group_refused(
        "cgroups",
        |_, _, t| {
            t[1]["container"] = json!({"type": "MESOS", "linux_info": {"share_cgroups": false}})
        },
        "If set, the value of 'share_cgroups' must be the same for all tasks in each task group and under a single executor",
    );
}

/// Stricter than Mesos (docs/fidelity.md 6.21, 6.22): two tasks of one id, and a task
/// without a command on the default executor, are refused at once.
#[test]
fn group_with_duplicate_ids_or_commandless_task_is_refused() {
    group_refused(
        "dup",
        |_, _, t| t[1]["task_id"] = json!({"value": "G1"}),
        "Task group has duplicate task ID: G1",
    );
}

#[test]
fn group_default_executor_task_without_command_is_refused() {
    group_refused(
        "no-cmd",
        |_, _, t| {
            t[1].as_object_mut().unwrap().remove("command");
        },
        "Task 'G2' is missing 'command'",
    );
}

/// A port in both the task and its executor: refused (Mesos'
/// `detectOverlappingSetAndRangeResources`), though the offer holds the port.
#[test]
fn launch_task_and_executor_sharing_a_port() {
    let port = json!({"name": "ports", "type": "RANGES",
                      "ranges": {"range": [{"begin": 31000, "end": 31000}]}});
    launch_refused(
        "overlap",
        |_, _, t| {
            t["resources"].as_array_mut().unwrap().push(port.clone());
            let mut e = custom_executor();
            e["resources"].as_array_mut().unwrap().push(port.clone());
            on_executor(t, e);
        },
        "There are overlapping resources in the task resources cpus(allocated: *):0.1; mem(allocated: *):32; ports(allocated: *):[31000-31000] and executor resources cpus(allocated: *):0.1; mem(allocated: *):32; ports(allocated: *):[31000-31000]",
    );
}

#[test]
fn group_tasks_sharing_a_port() {
    group_refused(
        "overlap",
        |_, _, t| {
            let port = json!({"name": "ports", "type": "RANGES",
                              "ranges": {"range": [{"begin": 31000, "end": 31001}]}});
            t[0]["resources"].as_array_mut().unwrap().push(port.clone());
            t[1]["resources"].as_array_mut().unwrap().push(port);
        },
        "There are overlapping resources in the task group's task resources [ cpus(allocated: *):0.1; mem(allocated: *):32; ports(allocated: *):[31000-31001], cpus(allocated: *):0.1; mem(allocated: *):32; ports(allocated: *):[31000-31001] ] and/or executor resources cpus(allocated: *):0.1; mem(allocated: *):32; disk(allocated: *):10",
    );
}

/// A RESERVE asking for feedback (`id`) in an ACCEPT of invalid offers: UPDATE_OPERATION_STATUS
/// OPERATION_ERROR, with Mesos' message and no uuid.
#[test]
fn accept_of_invalid_offers_errors_operations_with_an_id() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("op-error"));
    let o = s.offers(5).remove(0);
    let body = json!({"offer_ids": [{"value": "no-such-offer"}],
        "operations": [{"type": "RESERVE", "id": {"value": "r1"},
                        "reserve": {"resources": [scalar("cpus", 1.0)]}}]});
    assert_eq!(call(&s, "ACCEPT", Some(("accept", body))).status, 202);
    let e = s.wait_type(5, event::Type::UpdateOperationStatus);
    let st = e.update_operation_status.unwrap().status;
    assert_eq!(st.operation_id.as_ref().unwrap().value, "r1");
    assert_eq!(st.state(), mesos_proto::v1::OperationState::OperationError);
    assert!(st.uuid.is_none());
    assert_eq!(
        st.message.as_deref(),
        Some("Operation attempted with invalid offers: Offer no-such-offer is no longer valid")
    );
    drop(o);
}

/// RECONCILE_OPERATIONS of operations devcluster does not know (all of them): one
/// UPDATE_OPERATION_STATUS per listed operation, as a 1.12 master answers for unknown ones.
#[test]
fn reconcile_operations_answers_each_unknown_operation() {
    let c = cluster(1);
    let mut s = subscribe(&c.master_url(), framework("rec-ops"));
    let o = s.offers(5).remove(0);
    let body = json!({"operations": [
        {"operation_id": {"value": "a"}, "agent_id": {"value": o.agent_id.value}},
        {"operation_id": {"value": "b"}, "agent_id": {"value": "S9"}},
        {"operation_id": {"value": "c"}}]});
    let r = call(
        &s,
        "RECONCILE_OPERATIONS",
        Some(("reconcile_operations", body)),
    );
    assert_eq!(r.status, 202);
    let mut got = Vec::new();
    while got.len() < 3 {
        let e = s.wait_type(5, event::Type::UpdateOperationStatus);
        let st = e.update_operation_status.unwrap().status;
        assert!(st.uuid.is_none());
        assert_eq!(
            st.state(),
            mesos_proto::v1::OperationState::OperationUnknown
        );
        got.push((st.operation_id.unwrap().value, st.message.unwrap()));
    }
    assert_eq!(
        got,
        [
            ("a", "Reconciliation: Operation is unknown"),
            ("b", "Reconciliation: Both operation and agent are unknown"),
            (
                "c",
                "Reconciliation: Operation is unknown and no 'agent_id' was provided"
            ),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
