//! Call-level (§2.1) and framework-level (§2.2) validation of scheduler calls.

use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::scheduler::{Call, call};
use mesos_proto::v1::{
    CheckInfo, CommandInfo, ContainerInfo, ExecutorInfo, FrameworkInfo, HealthCheck, TaskInfo,
    check_info, container_info, environment, executor_info, health_check, volume,
};

use crate::resources::Resources;

/// Whether `info` lists capability `cap`.
pub(crate) fn has_capability(info: &FrameworkInfo, cap: Cap) -> bool {
    info.capabilities
        .iter()
        .any(|c| c.r#type == Some(cap as i32))
}

/// Whether the framework uses `roles` (MULTI_ROLE) rather than `role`.
pub(crate) fn is_multi_role(info: &FrameworkInfo) -> bool {
    has_capability(info, Cap::MultiRole)
}

/// §2.1: the checks that make a call a 400 before anything else looks at it.
/// The error text follows "Failed to validate scheduler::Call: ". `principal` is the
/// authenticated one, if the master authenticates frameworks.
pub(crate) fn validate_call(c: &Call, principal: Option<&str>) -> Result<(), String> {
    let Some(kind) = c.r#type else {
        return Err("Expecting 'type' to be present".to_string());
    };
    let kind = call::Type::try_from(kind).unwrap_or(call::Type::Unknown);
    if kind == call::Type::Subscribe {
        let Some(sub) = &c.subscribe else {
            return Err("Expecting 'subscribe' to be present".to_string());
        };
        if c.framework_id != sub.framework_info.id {
            return Err("'framework_id' differs from 'subscribe.framework_info.id'".to_string());
        }
        if let (Some(p), Some(fp)) = (principal, &sub.framework_info.principal)
            && p != fp
        {
            return Err(format!(
                "Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
            ));
        }
        return Ok(());
    }
    if c.framework_id.is_none() {
        return Err("Expecting 'framework_id' to be present".to_string());
    }
    let missing = |name: &str| Err(format!("Expecting '{name}' to be present"));
    match kind {
        call::Type::Accept if c.accept.is_none() => missing("accept"),
        call::Type::Decline if c.decline.is_none() => missing("decline"),
        call::Type::AcceptInverseOffers if c.accept_inverse_offers.is_none() => {
            missing("accept_inverse_offers")
        }
        call::Type::DeclineInverseOffers if c.decline_inverse_offers.is_none() => {
            missing("decline_inverse_offers")
        }
        call::Type::Kill if c.kill.is_none() => missing("kill"),
        call::Type::Shutdown if c.shutdown.is_none() => missing("shutdown"),
        call::Type::Acknowledge => match &c.acknowledge {
            None => missing("acknowledge"),
            Some(a) if !mesos_proto::uuid::is_valid(&a.uuid) => Err("Not a valid UUID".to_string()),
            Some(_) => Ok(()),
        },
        call::Type::AcknowledgeOperationStatus => match &c.acknowledge_operation_status {
            None => missing("acknowledge_operation_status"),
            Some(a) if !mesos_proto::uuid::is_valid(&a.uuid) => Err("Not a valid UUID".to_string()),
            Some(a) if a.agent_id.is_none() => missing("agent_id"),
            Some(_) => Ok(()),
        },
        call::Type::Reconcile if c.reconcile.is_none() => missing("reconcile"),
        call::Type::ReconcileOperations if c.reconcile_operations.is_none() => {
            missing("reconcile_operations")
        }
        call::Type::Message if c.message.is_none() => missing("message"),
        call::Type::Request if c.request.is_none() => missing("request"),
        call::Type::UpdateFramework => match &c.update_framework {
            None => missing("update_framework"),
            Some(u) if u.framework_info.id != c.framework_id => {
                Err("'framework_id' differs from 'update_framework.framework_info.id'".to_string())
            }
            Some(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

pub(crate) use crate::resources::validate_role;

/// Mesos' id rules (`common::validation::validateID`: framework, task and executor ids),
/// with its messages. Bytes, as Mesos checks them: a control byte (below 0x20, or 0x7f), `/`
/// or `\\` is refused; other bytes, UTF-8 included, are fine.
pub(crate) fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".to_string());
    }
    if id.len() > 255 {
        return Err("ID must not be greater than 255 characters".to_string());
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == b'/' || b == b'\\')
    {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

/// §2.2: checks whose failure is an ERROR event on a 200 stream (and a 400 for
/// UPDATE_FRAMEWORK): Mesos' `framework::validate` (roles, id, offer filters, failover
/// timeout, in that order) and its suppressed-roles check, with their messages.
pub(crate) fn validate_framework(
    info: &FrameworkInfo,
    suppressed: &[String],
) -> Result<(), String> {
    let multi_role = is_multi_role(info);
    if multi_role && info.role.is_some() {
        return Err(
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                .to_string(),
        );
    }
    if !multi_role && !info.roles.is_empty() {
        return Err(
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
                .to_string(),
        );
    }
    let roles: Vec<String> = if multi_role {
        let mut seen = std::collections::BTreeSet::new();
        let dups: std::collections::BTreeSet<&String> =
            info.roles.iter().filter(|r| !seen.insert(*r)).collect();
        if !dups.is_empty() {
            let list: Vec<&str> = dups.iter().map(|r| r.as_str()).collect();
            return Err(format!(
                "'FrameworkInfo.roles' contains duplicate items: {{ {} }}",
                list.join(", ")
            ));
        }
        for r in &info.roles {
            validate_role(r)
                .map_err(|e| format!("'FrameworkInfo.roles' contains invalid role: {e}"))?;
        }
        info.roles.clone()
    } else {
        let role = info.role.clone().unwrap_or_else(|| "*".to_string());
        validate_role(&role)
            .map_err(|e| format!("'FrameworkInfo.role' is not a valid role: {e}"))?;
        vec![role]
    };
    // An empty id counts as none (a first subscription), as in Mesos.
    if let Some(id) = info.id.as_ref().filter(|i| !i.value.is_empty()) {
        validate_id(&id.value)?;
    }
    for filters in info.offer_filters.values() {
        let Some(min) = &filters.min_allocatable_resources else {
            continue;
        };
        for q in &min.quantities {
            if q.quantities.is_empty() {
                return Err("Resource quantities must contain at least one quantity".to_string());
            }
            for (name, v) in &q.quantities {
                let why = match v.value {
                    x if x.is_infinite() => Some("Infinite values not supported"),
                    x if x.is_nan() => Some("NaN not supported"),
                    x if x.is_subnormal() => Some("Subnormal values not supported"),
                    x if x < 0.0 => Some("Negative values not supported"),
                    _ => None,
                };
                if let Some(why) = why {
                    return Err(format!("Invalid resource quantity for '{name}': {why}"));
                }
            }
        }
    }
    // Mesos' `Duration::create`: any number of seconds whose nanoseconds fit an int64
    // (negative ones too).
    let ft = info.failover_timeout();
    if !ft.is_finite() || (ft * 1e9).abs() > i64::MAX as f64 {
        return Err(format!(
            "The framework failover_timeout ({}) is invalid",
            fmt_double(ft)
        ));
    }
    let bad: std::collections::BTreeSet<&String> =
        suppressed.iter().filter(|s| !roles.contains(s)).collect();
    if !bad.is_empty() {
        let list: Vec<&str> = bad.iter().map(|r| r.as_str()).collect();
        return Err(format!(
            "Suppressed roles {{ {} }} are not contained in the set of roles",
            list.join(", ")
        ));
    }
    Ok(())
}

/// The smallest executor Mesos 1.12 lets a task group use (`MIN_CPUS`, `MIN_MEM`).
const MIN_CPUS: f64 = 0.01;
const MIN_MEM_MB: f64 = 32.0;

/// Mesos' `stringify(double)`: C++'s default stream output, `%g` with six significant
/// digits (`0.01`, `0.005`, `1`, `1e+300`).
fn fmt_double(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_nan() {
            "nan".to_string()
        } else if v.is_infinite() {
            if v > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            "0".to_string()
        };
    }
    // Round to six significant digits first; the exponent after rounding decides.
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exp.abs())
    } else {
        let decimals = (5 - exp).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

/// Mesos' `stringify(Bytes)` of a `mem` value in MB: the largest unit without loss.
fn fmt_megabytes(mb: f64) -> String {
    let bytes = (mb * 1024.0 * 1024.0) as u64;
    const KB: u64 = 1024;
    match bytes {
        0 => "0B".to_string(),
        b if b % KB != 0 => format!("{b}B"),
        b if b % (KB * KB) != 0 => format!("{}KB", b / KB),
        b if b % (KB * KB * KB) != 0 => format!("{}MB", b / (KB * KB)),
        b if b % (KB * KB * KB * KB) != 0 => format!("{}GB", b / (KB * KB * KB)),
        b => format!("{}TB", b / (KB * KB * KB * KB)),
    }
}

/// Mesos' `validateEnvironment` (the only part of `validateCommandInfo` there is).
fn command_info(c: &CommandInfo) -> Result<(), String> {
    let Some(env) = &c.environment else {
        return Ok(());
    };
    for v in &env.variables {
        let name = &v.name;
        match v.r#type.map(environment::variable::Type::try_from) {
            None | Some(Ok(environment::variable::Type::Value)) => {
                if v.value.is_none() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must have a value set"
                    ));
                }
                if v.secret.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must not have a secret set"
                    ));
                }
            }
            Some(Ok(environment::variable::Type::Secret)) => {
                if v.secret.is_none() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must have a secret set"
                    ));
                }
                if v.value.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must not have a value set"
                    ));
                }
            }
            Some(_) => {
                return Err("Environment variable of type 'UNKNOWN' is not allowed".to_string());
            }
        }
    }
    Ok(())
}

/// Mesos' `validateContainerInfo`: each volume names exactly one source, a DOCKER
/// container carries its `docker` part without a `name` parameter.
fn container_info(c: &ContainerInfo) -> Result<(), String> {
    for v in &c.volumes {
        let count = [v.host_path.is_some(), v.image.is_some(), v.source.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if count != 1 {
            return Err(
                "Invalid volume: Only one of them should be set: 'host_path', 'image' and 'source'"
                    .to_string(),
            );
        }
        if let Some(src) = &v.source {
            use volume::source::Type as T;
            let missing = match src.r#type.map(T::try_from) {
                Some(Ok(T::DockerVolume)) if src.docker_volume.is_none() => {
                    Some("'source.docker_volume' is not set for DOCKER_VOLUME volume")
                }
                Some(Ok(T::HostPath)) if src.host_path.is_none() => {
                    Some("'source.host_path' is not set for HOST_PATH volume")
                }
                Some(Ok(T::SandboxPath)) if src.sandbox_path.is_none() => {
                    Some("'source.sandbox_path' is not set for SANDBOX_PATH volume")
                }
                Some(Ok(T::Secret)) if src.secret.is_none() => {
                    Some("'source.secret' is not set for SECRET volume")
                }
                // CSI volumes are not in our schema; their fields cannot be checked.
                Some(Ok(_)) => None,
                None | Some(Err(_)) => Some("'source.type' is unknown"),
            };
            if let Some(m) = missing {
                return Err(format!("Invalid volume: {m}"));
            }
        }
    }
    if c.r#type() == container_info::Type::Docker {
        let Some(d) = &c.docker else {
            return Err(
                "DockerInfo 'docker' is not set for DOCKER typed ContainerInfo".to_string(),
            );
        };
        if d.parameters.iter().any(|p| p.key == "name") {
            return Err("Parameter in DockerInfo must not be 'name'".to_string());
        }
    }
    Ok(())
}

/// Mesos' `validateHealthCheck`.
fn health_check(h: &HealthCheck) -> Result<(), String> {
    use health_check::Type as T;
    let Some(kind) = h.r#type else {
        return Err("HealthCheck must specify 'type'".to_string());
    };
    match T::try_from(kind) {
        Ok(T::Command) => {
            let Some(c) = &h.command else {
                return Err("Expecting 'command' to be set for COMMAND health check".to_string());
            };
            if c.value.is_none() {
                let what = if c.shell() {
                    "'shell command'"
                } else {
                    "'executable path'"
                };
                return Err(format!("Command health check must contain {what}"));
            }
            command_info(c).map_err(|e| format!("Health check's `CommandInfo` is invalid: {e}"))?;
        }
        Ok(T::Http) => {
            let Some(http) = &h.http else {
                return Err("Expecting 'http' to be set for HTTP health check".to_string());
            };
            if let Some(scheme) = &http.scheme
                && scheme != "http"
                && scheme != "https"
            {
                return Err(format!("Unsupported HTTP health check scheme: '{scheme}'"));
            }
            if let Some(path) = &http.path
                && !path.starts_with('/')
            {
                return Err(format!(
                    "The path '{path}' of HTTP health check must start with '/'"
                ));
            }
        }
        Ok(T::Tcp) => {
            if h.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP health check".to_string());
            }
        }
        _ => return Err("'UNKNOWN' is not a valid health check type".to_string()),
    }
    non_negative(&[
        (h.delay_seconds, "delay_seconds"),
        (h.grace_period_seconds, "grace_period_seconds"),
        (h.interval_seconds, "interval_seconds"),
        (h.timeout_seconds, "timeout_seconds"),
    ])
}

/// The durations of a (health) check that are set must not be negative;
/// the first that is, in Mesos' order, is named.
fn non_negative(durations: &[(Option<f64>, &str)]) -> Result<(), String> {
    match durations.iter().find(|(v, _)| v.is_some_and(|v| v < 0.0)) {
        Some((_, name)) => Err(format!("Expecting '{name}' to be non-negative")),
        None => Ok(()),
    }
}

/// Mesos' `validateCheckInfo`.
fn check_info(c: &CheckInfo) -> Result<(), String> {
    use check_info::Type as T;
    let Some(kind) = c.r#type else {
        return Err("CheckInfo must specify 'type'".to_string());
    };
    match T::try_from(kind) {
        Ok(T::Command) => {
            let Some(cmd) = &c.command else {
                return Err("Expecting 'command' to be set for COMMAND check".to_string());
            };
            if cmd.command.value.is_none() {
                let what = if cmd.command.shell() {
                    "'shell command'"
                } else {
                    "'executable path'"
                };
                return Err(format!("Command check must contain {what}"));
            }
            command_info(&cmd.command)
                .map_err(|e| format!("Check's `CommandInfo` is invalid: {e}"))?;
        }
        Ok(T::Http) => {
            let Some(http) = &c.http else {
                return Err("Expecting 'http' to be set for HTTP check".to_string());
            };
            if let Some(path) = &http.path
                && !path.starts_with('/')
            {
                return Err(format!(
                    "The path '{path}' of HTTP check must start with '/'"
                ));
            }
        }
        Ok(T::Tcp) => {
            if c.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP check".to_string());
            }
        }
        _ => return Err("'UNKNOWN' is not a valid check type".to_string()),
    }
    non_negative(&[
        (c.delay_seconds, "delay_seconds"),
        (c.interval_seconds, "interval_seconds"),
        (c.timeout_seconds, "timeout_seconds"),
    ])
}

/// The part of Mesos' `task::internal::validateTask` that needs nothing but the task (the
/// id, duplicate and agent checks need the master's state: `accept.rs`), in Mesos' order.
pub(crate) fn task_fields(t: &TaskInfo) -> Result<(), String> {
    if t.kill_policy
        .as_ref()
        .and_then(|k| k.grace_period.as_ref())
        .is_some_and(|g| g.nanoseconds < 0)
    {
        return Err("Task's 'kill_policy.grace_period' must be non-negative".to_string());
    }
    if t.max_completion_time
        .as_ref()
        .is_some_and(|d| d.nanoseconds < 0)
    {
        return Err("Task's `max_completion_time` must be non-negative".to_string());
    }
    if let Some(c) = &t.check {
        check_info(c).map_err(|e| format!("Task uses invalid check: {e}"))?;
    }
    if let Some(h) = &t.health_check {
        health_check(h).map_err(|e| format!("Task uses invalid health check: {e}"))?;
    }
    if t.resources.is_empty() {
        return Err("Task uses no resources".to_string());
    }
    Resources::protos_valid(&t.resources)
        .map_err(|e| format!("Task uses invalid resources: {e}"))?;
    if let Some(c) = &t.command {
        command_info(c).map_err(|e| format!("Task's `CommandInfo` is invalid: {e}"))?;
    }
    if let Some(c) = &t.container {
        container_info(c).map_err(|e| format!("Task's `ContainerInfo` is invalid: {e}"))?;
    }
    // `validateResourceLimits` (devcluster's agents are capable of limits, as 1.12's are).
    if !t.limits.is_empty() {
        if t.limits.keys().any(|k| k != "cpus" && k != "mem") {
            return Err(
                "Only cpus and mem may be included in a task's resource limits".to_string(),
            );
        }
        let res = Resources::from_protos(&t.resources);
        let has = |name: &str| t.resources.iter().any(|r| r.name == name);
        if let Some(l) = t.limits.get("cpus") {
            if !has("cpus") {
                return Err(
                    "When a CPU limit is specified, a CPU request must also be specified"
                        .to_string(),
                );
            }
            if l.value < res.scalar("cpus") {
                return Err(
                    "The cpu limit must be greater than or equal to the cpu request".to_string(),
                );
            }
        }
        if let Some(l) = t.limits.get("mem") {
            if !has("mem") {
                return Err(
                    "When a memory limit is specified, a memory request must also be specified"
                        .to_string(),
                );
            }
            if l.value.is_finite() && l.value < res.scalar("mem") {
                return Err(
                    "The memory limit must be greater than or equal to the memory request"
                        .to_string(),
                );
            }
        }
    }
    Ok(())
}

/// Whether the task's container says `share_cgroups: false` (only task-group tasks may).
fn shares_no_cgroups(t: &TaskInfo) -> bool {
    t.container
        .as_ref()
        .and_then(|c| c.linux_info.as_ref())
        .and_then(|l| l.share_cgroups)
        == Some(false)
}

/// Mesos' `validateShareCgroups` for a task of LAUNCH.
pub(crate) fn launch_task_cgroups(t: &TaskInfo) -> Result<(), String> {
    if shares_no_cgroups(t) {
        return Err(
            "Only tasks in a task group may have 'share_cgroups' set to 'false'".to_string(),
        );
    }
    Ok(())
}

/// Mesos' `executor::validate`: the checks that need nothing but the ExecutorInfo (its
/// type, id, shutdown grace period, command and container), in Mesos' order.
pub(crate) fn executor_fields(e: &ExecutorInfo) -> Result<(), String> {
    match e.r#type.map(executor_info::Type::try_from) {
        Some(Ok(executor_info::Type::Default)) => {
            if e.command.is_some() {
                return Err(
                    "'ExecutorInfo.command' must not be set for 'DEFAULT' executor".to_string(),
                );
            }
            if let Some(c) = &e.container {
                if c.r#type() != container_info::Type::Mesos {
                    return Err(
                        "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor"
                            .to_string(),
                    );
                }
                if c.mesos.as_ref().is_some_and(|m| m.image.is_some()) {
                    return Err(
                        "'ExecutorInfo.container.mesos.image' must not be set for 'DEFAULT' executor"
                            .to_string(),
                    );
                }
            }
        }
        Some(Ok(executor_info::Type::Custom)) if e.command.is_none() => {
            return Err("'ExecutorInfo.command' must be set for 'CUSTOM' executor".to_string());
        }
        _ => {}
    }
    validate_id(&e.executor_id.value)?;
    if e.shutdown_grace_period
        .as_ref()
        .is_some_and(|d| d.nanoseconds < 0)
    {
        return Err("ExecutorInfo's 'shutdown_grace_period' must be non-negative".to_string());
    }
    if let Some(c) = &e.command {
        command_info(c).map_err(|e| format!("Executor's `CommandInfo` is invalid: {e}"))?;
    }
    if let Some(c) = &e.container {
        container_info(c).map_err(|e| format!("Executor's `ContainerInfo` is invalid: {e}"))?;
    }
    Ok(())
}

/// Mesos' `executor::internal::validateFrameworkID` and `validateResources`: the
/// executor's framework id, set and this framework's, and its resources well-formed.
pub(crate) fn executor_framework_and_resources(
    e: &ExecutorInfo,
    fw_id: &str,
) -> Result<(), String> {
    let Some(id) = &e.framework_id else {
        return Err("'ExecutorInfo.framework_id' must be set".to_string());
    };
    if id.value != fw_id {
        return Err(format!(
            "ExecutorInfo has an invalid FrameworkID (Actual: {} vs Expected: {fw_id})",
            id.value
        ));
    }
    Resources::protos_valid(&e.resources)
        .map_err(|e| format!("Executor uses invalid resources: {e}"))
}

/// Mesos' task-group checks of one task (`group::internal::validateTask`, after the common
/// ones): no Docker container, no HTTP/TCP health check on a task with its own networks,
/// limits only with `share_cgroups: false`.
pub(crate) fn group_task(t: &TaskInfo) -> Result<(), String> {
    if let Some(c) = &t.container {
        if !c.network_infos.is_empty()
            && t.health_check.as_ref().is_some_and(|h| {
                matches!(
                    h.r#type.map(health_check::Type::try_from),
                    Some(Ok(health_check::Type::Http | health_check::Type::Tcp))
                )
            })
        {
            return Err("HTTP and TCP health checks are not supported for nested containers not joining parent's network".to_string());
        }
        if c.r#type() == container_info::Type::Docker {
            return Err("Docker ContainerInfo is not supported on the task".to_string());
        }
    }
    if !t.limits.is_empty() && !shares_no_cgroups(t) {
        return Err("Resource limits may only be set for tasks within a task group when the 'share_cgroups' field is set to 'false'.".to_string());
    }
    Ok(())
}

/// Mesos' task-group checks of the group's executor (`group::internal::validateExecutor`,
/// after the common ones and before the resource total): its type set and known, no
/// Docker container, the same ExecutorInfo in every task that names one, and at least
/// 0.01 cpus, 32 MB mem and some disk.
pub(crate) fn group_executor(e: &ExecutorInfo, tasks: &[TaskInfo]) -> Result<(), String> {
    let Some(kind) = e.r#type else {
        return Err("'ExecutorInfo.type' must be set".to_string());
    };
    if !matches!(
        executor_info::Type::try_from(kind),
        Ok(executor_info::Type::Default | executor_info::Type::Custom)
    ) {
        return Err("Unknown executor type".to_string());
    }
    if e.container
        .as_ref()
        .is_some_and(|c| c.r#type() == container_info::Type::Docker)
    {
        return Err("Docker ContainerInfo is not supported on the executor".to_string());
    }
    let id = &e.executor_id.value;
    for t in tasks {
        if t.executor.as_ref().is_some_and(|te| te != e) {
            return Err(format!(
                "The `ExecutorInfo` of task '{}' is different from executor '{id}'",
                t.task_id.value
            ));
        }
    }
    let has = |name: &str| e.resources.iter().any(|r| r.name == name);
    let res = Resources::from_protos(&e.resources);
    let cpus = res.scalar("cpus");
    if !has("cpus") || cpus < MIN_CPUS {
        let shown = if res.scalar("cpus") > 0.0 {
            fmt_double(cpus)
        } else {
            "None".to_string()
        };
        return Err(format!(
            "Executor '{id}' uses less CPUs ({shown}) than the minimum required ({})",
            fmt_double(MIN_CPUS)
        ));
    }
    let mem = res.scalar("mem");
    if !has("mem") || mem < MIN_MEM_MB {
        let shown = if mem > 0.0 {
            fmt_megabytes(mem)
        } else {
            "None".to_string()
        };
        return Err(format!(
            "Executor '{id}' uses less memory ({shown}) than the minimum required ({})",
            fmt_megabytes(MIN_MEM_MB)
        ));
    }
    if res.scalar("disk") <= 0.0 {
        return Err(format!("Executor '{id}' uses no disk"));
    }
    Ok(())
}

/// An executor's container may not share its cgroups (Mesos refuses `share_cgroups: true`
/// on executor containers, for LAUNCH and LAUNCH_GROUP alike).
pub(crate) fn executor_cgroups(e: &ExecutorInfo) -> Result<(), String> {
    if e.container
        .as_ref()
        .and_then(|c| c.linux_info.as_ref())
        .and_then(|l| l.share_cgroups)
        == Some(true)
    {
        return Err(
            "The 'share_cgroups' field cannot be set to 'true' on executor containers".to_string(),
        );
    }
    Ok(())
}

/// Mesos' `validateShareCgroups` for a task group: never `true` on the executor, and one
/// value for every task of the group.
pub(crate) fn group_cgroups(e: &ExecutorInfo, tasks: &[TaskInfo]) -> Result<(), String> {
    executor_cgroups(e)?;
    let mut values = tasks.iter().map(|t| !shares_no_cgroups(t));
    if let Some(first) = values.next()
        && values.any(|v| v != first)
    {
        return Err("If set, the value of 'share_cgroups' must be the same for all tasks in each task group and under a single executor".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_cpp_streams_do() {
        assert_eq!(fmt_double(0.01), "0.01");
        assert_eq!(fmt_double(0.005), "0.005");
        assert_eq!(fmt_double(1.0), "1");
        assert_eq!(fmt_double(1e300), "1e+300");
        assert_eq!(fmt_double(123456789.0), "1.23457e+08");
        assert_eq!(fmt_double(0.00001), "1e-05");
        assert_eq!(fmt_double(-2.5), "-2.5");
    }

    #[test]
    fn check_durations_that_are_set_must_not_be_negative() {
        let mut h = HealthCheck {
            tcp: Some(Default::default()),
            grace_period_seconds: Some(-1.0),
            interval_seconds: Some(-2.0),
            ..Default::default()
        };
        h.set_type(health_check::Type::Tcp);
        // The first in Mesos' order is named; an unset one (delay) is not checked.
        assert_eq!(
            health_check(&h).unwrap_err(),
            "Expecting 'grace_period_seconds' to be non-negative"
        );
        h.grace_period_seconds = Some(0.0);
        h.interval_seconds = None;
        assert!(health_check(&h).is_ok());
        let mut c = CheckInfo {
            tcp: Some(Default::default()),
            timeout_seconds: Some(-0.5),
            ..Default::default()
        };
        c.set_type(check_info::Type::Tcp);
        assert_eq!(
            check_info(&c).unwrap_err(),
            "Expecting 'timeout_seconds' to be non-negative"
        );
    }

    #[test]
    fn roles() {
        assert!(validate_role("*").is_ok());
        assert!(validate_role("eng/frontend").is_ok());
        assert_eq!(
            validate_role("/test/test1").unwrap_err(),
            "Role '/test/test1' cannot start with a slash"
        );
        assert!(validate_role("a//b").is_err());
        assert!(validate_role("a/../b").is_err());
    }
}
