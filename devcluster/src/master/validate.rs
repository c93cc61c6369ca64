//! Call-level (§2.1) and framework-level (§2.2) validation of scheduler calls.

use mesos_proto::v1::FrameworkInfo;
use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::scheduler::{Call, call};

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
/// The error text follows "Failed to validate scheduler::Call: ".
pub(crate) fn validate_call(c: &Call) -> Result<(), String> {
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
            Some(a) if a.agent_id.is_none() => missing("acknowledge_operation_status.agent_id"),
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

/// Mesos' role name rules (§2.2).
pub(crate) fn validate_role(role: &str) -> Result<(), String> {
    if role == "*" {
        return Ok(());
    }
    if role.is_empty() {
        return Err("Empty role name is invalid".to_string());
    }
    if role.starts_with('/') {
        return Err(format!("Role '{role}' cannot start with a slash"));
    }
    if role.ends_with('/') {
        return Err(format!("Role '{role}' cannot end with a slash"));
    }
    if role.contains("//") {
        return Err(format!("Role '{role}' cannot contain two adjacent slashes"));
    }
    for part in role.split('/') {
        if part == "." || part == ".." || part == "*" {
            return Err(format!(
                "Role '{role}' cannot include '{part}' as a component"
            ));
        }
        if part.starts_with('-') {
            return Err(format!(
                "Role '{role}' cannot have a component starting with '-'"
            ));
        }
    }
    if role
        .chars()
        .any(|c| c.is_whitespace() || c == '\u{8}' || c.is_control())
    {
        return Err(format!(
            "Role '{role}' cannot contain whitespace or control characters"
        ));
    }
    Ok(())
}

/// Mesos' id rules (framework ids, task ids, executor ids).
pub(crate) fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".to_string());
    }
    if id.len() > 255 {
        return Err("ID must not be greater than 255 characters".to_string());
    }
    if id == "." || id == ".." {
        return Err("'.' and '..' are disallowed".to_string());
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err("Invalid characters in ID".to_string());
    }
    Ok(())
}

/// §2.2: checks whose failure is an ERROR event on a 200 stream.
pub(crate) fn validate_framework(
    info: &FrameworkInfo,
    suppressed: &[String],
) -> Result<(), String> {
    if let Some(id) = &info.id {
        validate_id(&id.value).map_err(|e| format!("'FrameworkInfo.id' is invalid: {e}"))?;
    }
    let roles: Vec<String> = if is_multi_role(info) {
        if info.role.is_some() {
            return Err(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                    .to_string(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &info.roles {
            validate_role(r)
                .map_err(|e| format!("'FrameworkInfo.roles' contains invalid role: {e}"))?;
            if !seen.insert(r) {
                return Err(format!(
                    "'FrameworkInfo.roles' contains duplicate items: {r}"
                ));
            }
        }
        info.roles.clone()
    } else {
        if !info.roles.is_empty() {
            return Err("'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable".to_string());
        }
        let role = info.role.clone().unwrap_or_else(|| "*".to_string());
        validate_role(&role)
            .map_err(|e| format!("'FrameworkInfo.role' is not a valid role: {e}"))?;
        vec![role]
    };
    for s in suppressed {
        if !roles.contains(s) {
            return Err(format!(
                "Suppressed role '{s}' is not contained in the list of roles"
            ));
        }
    }
    let ft = info.failover_timeout();
    if !ft.is_finite() || ft < 0.0 || ft * 1e9 > i64::MAX as f64 {
        return Err(format!("Invalid 'FrameworkInfo.failover_timeout': {ft}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
