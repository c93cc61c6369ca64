//! The scheduler calls other than SUBSCRIBE (§2.3). All but UPDATE_FRAMEWORK answer 202
//! at once; their effects arrive as events.

use mesos_proto::v1::scheduler::{Call, call};

use super::{Master, validate};
use crate::http::Response;
use crate::messages::ToAgent;

impl Master {
    /// Dispatches a validated call of a subscribed framework.
    pub(crate) fn call(&self, fw_id: &str, c: Call, kind: call::Type) -> Response {
        match kind {
            call::Type::Teardown => self.teardown(fw_id),
            call::Type::Accept => {
                if let Some(a) = c.accept {
                    self.accept(fw_id, a);
                }
            }
            call::Type::Decline => {
                if let Some(d) = c.decline {
                    let mut st = self.lock();
                    for id in d.offer_ids {
                        if st
                            .offers
                            .get(&id.value)
                            .is_some_and(|o| o.framework_id == fw_id)
                            && let Some(o) = self.remove_offer(&mut st, &id.value)
                        {
                            let refuse = d.filters.as_ref().map(|f| f.refuse_seconds());
                            self.install_filter(
                                &mut st,
                                fw_id,
                                &o.role,
                                &o.agent_id,
                                o.resources,
                                refuse,
                            );
                        }
                    }
                }
            }
            call::Type::Revive | call::Type::Suppress => {
                let roles = if kind == call::Type::Revive {
                    c.revive.map(|r| r.roles).unwrap_or_default()
                } else {
                    c.suppress.map(|s| s.roles).unwrap_or_default()
                };
                let mut st = self.lock();
                let Some(fw) = st.frameworks.get_mut(fw_id) else {
                    return Response::empty(202);
                };
                let mine = fw.roles();
                // An unknown role makes Mesos drop the whole call (still 202).
                if roles.iter().any(|r| !mine.contains(r)) {
                    return Response::empty(202);
                }
                let roles = if roles.is_empty() { mine } else { roles };
                if kind == call::Type::Revive {
                    for r in &roles {
                        fw.suppressed.remove(r);
                    }
                    st.filters
                        .retain(|(f, r, _), _| !(f == fw_id && roles.contains(r)));
                    st.allocate_now = true;
                } else {
                    fw.suppressed.extend(roles);
                }
            }
            call::Type::Kill => {
                if let Some(k) = c.kill {
                    self.kill(fw_id, k);
                }
            }
            call::Type::Shutdown => {
                if let Some(s) = c.shutdown {
                    let st = self.lock();
                    self.to_agent(
                        &st,
                        &s.agent_id.value,
                        ToAgent::ShutdownExecutor {
                            framework_id: fw_id.to_string(),
                            executor_id: s.executor_id.value,
                        },
                    );
                }
            }
            call::Type::Acknowledge => {
                if let Some(a) = c.acknowledge {
                    self.acknowledge(fw_id, a);
                }
            }
            call::Type::Reconcile => {
                if let Some(r) = c.reconcile {
                    self.reconcile(fw_id, r);
                }
            }
            call::Type::Message => {
                if let Some(m) = c.message {
                    let st = self.lock();
                    self.to_agent(
                        &st,
                        &m.agent_id.value,
                        ToAgent::FrameworkMessage {
                            framework_id: fw_id.to_string(),
                            executor_id: m.executor_id.value,
                            data: m.data,
                        },
                    );
                }
            }
            call::Type::UpdateFramework => {
                if let Some(u) = c.update_framework {
                    return self.update_framework(fw_id, u);
                }
            }
            call::Type::ReconcileOperations => {
                if let Some(r) = c.reconcile_operations {
                    self.reconcile_operations(fw_id, r);
                }
            }
            // REQUEST is ignored by the built-in allocator; inverse offers and operation
            // feedback do not exist here (no maintenance, no reliable operations), so these
            // are accepted and have no effect.
            call::Type::Request
            | call::Type::AcceptInverseOffers
            | call::Type::DeclineInverseOffers
            | call::Type::AcknowledgeOperationStatus
            | call::Type::Subscribe
            | call::Type::Unknown => {}
        }
        Response::empty(202)
    }

    /// RECONCILE_OPERATIONS (§8) as a 1.12 master answers it for operations it does not
    /// know, which on devcluster is every operation (none are modelled): nothing for an
    /// implicit reconciliation, and for each listed operation an UPDATE_OPERATION_STATUS
    /// without uuid whose state and message depend on what is known of its agent.
    fn reconcile_operations(&self, fw_id: &str, r: call::ReconcileOperations) {
        use mesos_proto::v1::OperationState as S;
        let mut st = self.lock();
        for op in r.operations {
            let agent = op.agent_id.as_ref().map(|a| a.value.as_str());
            let (state, message) = match agent {
                Some(a) if st.agents.contains_key(a) => {
                    (S::OperationUnknown, "Reconciliation: Operation is unknown")
                }
                Some(a) if st.unreachable_agents.contains_key(a) => (
                    S::OperationUnreachable,
                    "Reconciliation: Agent is unreachable",
                ),
                Some(_) => (
                    S::OperationUnknown,
                    "Reconciliation: Both operation and agent are unknown",
                ),
                None => (
                    S::OperationUnknown,
                    "Reconciliation: Operation is unknown and no 'agent_id' was provided",
                ),
            };
            let mut status = mesos_proto::v1::OperationStatus {
                operation_id: Some(op.operation_id),
                message: Some(message.to_string()),
                agent_id: op.agent_id,
                resource_provider_id: op.resource_provider_id,
                ..Default::default()
            };
            status.set_state(state);
            let mut e =
                super::event_of(mesos_proto::v1::scheduler::event::Type::UpdateOperationStatus);
            e.update_operation_status =
                Some(mesos_proto::v1::scheduler::event::UpdateOperationStatus { status });
            self.send(&mut st, fw_id, &e);
        }
    }

    fn update_framework(&self, fw_id: &str, u: call::UpdateFramework) -> Response {
        if let Err(e) = validate::validate_framework(&u.framework_info, &u.suppressed_roles) {
            return Response::text(400, format!("Invalid FrameworkInfo: {e}"));
        }
        let mut st = self.lock();
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return Response::text(409, "Framework cannot be found");
        };
        let new = u.framework_info;
        // Mesos' `validateUpdate`, in its order and words.
        if new.principal != fw.info.principal {
            return Response::text(400, "Changing framework's principal is not allowed.");
        }
        if new.user != fw.info.user {
            return Response::text(
                400,
                format!(
                    "Updating 'FrameworkInfo.user' is unsupported; attempted to update from '{}' to '{}'",
                    fw.info.user, new.user
                ),
            );
        }
        if new.checkpoint() != fw.info.checkpoint() {
            return Response::text(
                400,
                format!(
                    "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '{}' to '{}'",
                    fw.info.checkpoint(),
                    new.checkpoint()
                ),
            );
        }
        let old_roles = fw.roles();
        fw.info = std::sync::Arc::new(new);
        let roles = fw.roles();
        let newly_unsuppressed: Vec<String> = fw
            .suppressed
            .iter()
            .filter(|r| !u.suppressed_roles.contains(r))
            .cloned()
            .collect();
        fw.suppressed = u.suppressed_roles.into_iter().collect();
        let removed: Vec<String> = old_roles
            .into_iter()
            .filter(|r| !roles.contains(r))
            .collect();
        let rescind: Vec<String> = st
            .offers
            .values()
            .filter(|o| o.framework_id == fw_id && removed.contains(&o.role))
            .map(|o| o.offer.id.value.clone())
            .collect();
        for id in rescind {
            self.rescind_offer(&mut st, &id);
        }
        st.filters
            .retain(|(f, r, _), _| !(f == fw_id && newly_unsuppressed.contains(r)));
        st.allocate_now = true;
        Response::empty(200)
    }
}
