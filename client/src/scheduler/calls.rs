//! One convenience method per scheduler call, so examples need not build
//! `Call` messages by hand. Each is a thin wrapper over
//! [`SchedulerHandle::call`]: same errors, same "202 means queued" meaning.
//! The table of calls, their payloads and what the master does with them is
//! in the fact sheet §2.3.

use mesos_proto::v1::scheduler::call::{self, Type};
use mesos_proto::v1::{
    AgentId, ExecutorId, Filters, FrameworkInfo, OfferId, OperationStatus, Request, TaskId,
    TaskInfo, TaskStatus, offer,
};

use super::handle::{SchedulerHandle, simple_call};
use crate::error::{Error, Result};

fn filters(refuse_seconds: Option<f64>) -> Option<Filters> {
    refuse_seconds.map(|seconds| Filters {
        refuse_seconds: Some(seconds),
    })
}

impl SchedulerHandle {
    /// ACCEPT `offer_ids` (all from one agent) launching `tasks` on them.
    /// Resources of the offers that the tasks do not use are declined with
    /// `filters` (Mesos' default: 5 s).
    pub fn launch(
        &self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Option<Filters>,
    ) -> Result<()> {
        let mut launch = offer::Operation {
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        launch.set_type(offer::operation::Type::Launch);
        self.accept(offer_ids, vec![launch], filters)
    }

    /// ACCEPT `offer_ids` applying `operations` in order (LAUNCH,
    /// LAUNCH_GROUP, RESERVE, CREATE, ...).
    pub fn accept(
        &self,
        offer_ids: Vec<OfferId>,
        operations: Vec<offer::Operation>,
        filters: Option<Filters>,
    ) -> Result<()> {
        let mut call = simple_call(Type::Accept);
        call.accept = Some(call::Accept {
            offer_ids,
            operations,
            filters,
        });
        self.call(call)
    }

    /// DECLINE `offer_ids`. The master will not offer those resources again
    /// to this framework for `refuse_seconds` (`None`: Mesos' default, 5 s).
    pub fn decline(&self, offer_ids: Vec<OfferId>, refuse_seconds: Option<f64>) -> Result<()> {
        let mut call = simple_call(Type::Decline);
        call.decline = Some(call::Decline {
            offer_ids,
            filters: filters(refuse_seconds),
        });
        self.call(call)
    }

    /// ACCEPT_INVERSE_OFFERS: this framework will leave the agents in time.
    pub fn accept_inverse_offers(
        &self,
        inverse_offer_ids: Vec<OfferId>,
        refuse_seconds: Option<f64>,
    ) -> Result<()> {
        let mut call = simple_call(Type::AcceptInverseOffers);
        call.accept_inverse_offers = Some(call::AcceptInverseOffers {
            inverse_offer_ids,
            filters: filters(refuse_seconds),
        });
        self.call(call)
    }

    /// DECLINE_INVERSE_OFFERS: this framework cannot leave the agents in time.
    pub fn decline_inverse_offers(
        &self,
        inverse_offer_ids: Vec<OfferId>,
        refuse_seconds: Option<f64>,
    ) -> Result<()> {
        let mut call = simple_call(Type::DeclineInverseOffers);
        call.decline_inverse_offers = Some(call::DeclineInverseOffers {
            inverse_offer_ids,
            filters: filters(refuse_seconds),
        });
        self.call(call)
    }

    /// REVIVE: offers again for `roles` (empty: all the framework's roles),
    /// clearing decline filters.
    pub fn revive(&self, roles: Vec<String>) -> Result<()> {
        let mut call = simple_call(Type::Revive);
        call.revive = Some(call::Revive { roles });
        self.call(call)
    }

    /// SUPPRESS: no more offers for `roles` (empty: all) until [`revive`](Self::revive).
    pub fn suppress(&self, roles: Vec<String>) -> Result<()> {
        let mut call = simple_call(Type::Suppress);
        call.suppress = Some(call::Suppress { roles });
        self.call(call)
    }

    /// KILL a task. A task the master does not know is answered with an
    /// update (`TASK_LOST`, ...), not an error.
    pub fn kill(&self, task_id: TaskId, agent_id: Option<AgentId>) -> Result<()> {
        let mut call = simple_call(Type::Kill);
        call.kill = Some(call::Kill {
            task_id,
            agent_id,
            kill_policy: None,
        });
        self.call(call)
    }

    /// SHUTDOWN an executor (and with it its tasks).
    pub fn shutdown(&self, executor_id: ExecutorId, agent_id: AgentId) -> Result<()> {
        let mut call = simple_call(Type::Shutdown);
        call.shutdown = Some(call::Shutdown {
            executor_id,
            agent_id,
        });
        self.call(call)
    }

    /// ACKNOWLEDGE a status update, if it needs it: one without a uuid (made
    /// by the master) is skipped and `Ok(())` returned, because acknowledging
    /// it would be an error. Only needed with `auto_acknowledge` off.
    pub fn acknowledge(&self, status: &TaskStatus) -> Result<()> {
        let Some(uuid) = status.uuid.clone() else {
            return Ok(());
        };
        let agent_id = status
            .agent_id
            .clone()
            .ok_or_else(|| missing("status.agent_id"))?;
        let mut call = simple_call(Type::Acknowledge);
        call.acknowledge = Some(call::Acknowledge {
            agent_id,
            task_id: status.task_id.clone(),
            uuid,
        });
        self.call(call)
    }

    /// ACKNOWLEDGE_OPERATION_STATUS, if the status has a uuid (skipped
    /// otherwise, like [`acknowledge`](Self::acknowledge)).
    pub fn acknowledge_operation_status(&self, status: &OperationStatus) -> Result<()> {
        let Some(uuid) = status.uuid.as_ref() else {
            return Ok(());
        };
        let mut call = simple_call(Type::AcknowledgeOperationStatus);
        call.acknowledge_operation_status = Some(call::AcknowledgeOperationStatus {
            agent_id: Some(
                status
                    .agent_id
                    .clone()
                    .ok_or_else(|| missing("status.agent_id"))?,
            ),
            resource_provider_id: status.resource_provider_id.clone(),
            // The event wraps the bytes in a UUID message; the call wants them raw.
            uuid: uuid.value.clone(),
            operation_id: status
                .operation_id
                .clone()
                .ok_or_else(|| missing("status.operation_id"))?,
        });
        self.call(call)
    }

    /// RECONCILE these tasks: the master answers with one update per task
    /// (without uuid), reporting the state it knows.
    pub fn reconcile(&self, tasks: Vec<call::reconcile::Task>) -> Result<()> {
        let mut call = simple_call(Type::Reconcile);
        call.reconcile = Some(call::Reconcile { tasks });
        self.call(call)
    }

    /// Implicit RECONCILE: an update for every task the master knows of this
    /// framework. Do it after (re)subscribing to catch up.
    pub fn reconcile_all(&self) -> Result<()> {
        self.reconcile(Vec::new())
    }

    /// RECONCILE_OPERATIONS (empty: all); answers come as operation updates.
    pub fn reconcile_operations(
        &self,
        operations: Vec<call::reconcile_operations::Operation>,
    ) -> Result<()> {
        let mut call = simple_call(Type::ReconcileOperations);
        call.reconcile_operations = Some(call::ReconcileOperations { operations });
        self.call(call)
    }

    /// MESSAGE: best-effort bytes to an executor.
    pub fn message(&self, agent_id: AgentId, executor_id: ExecutorId, data: Vec<u8>) -> Result<()> {
        let mut call = simple_call(Type::Message);
        call.message = Some(call::Message {
            agent_id,
            executor_id,
            data,
        });
        self.call(call)
    }

    /// REQUEST resources from the allocator (Mesos' own allocator ignores it).
    pub fn request(&self, requests: Vec<Request>) -> Result<()> {
        let mut call = simple_call(Type::Request);
        call.request = Some(call::Request { requests });
        self.call(call)
    }

    /// UPDATE_FRAMEWORK: change roles, name, capabilities, ... without
    /// re-subscribing. `framework_info.id` is filled in if unset. Answered
    /// synchronously: `Ok` means applied.
    pub fn update_framework(
        &self,
        mut framework_info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Result<()> {
        if framework_info.id.is_none() {
            framework_info.id = self.framework_id();
        }
        let mut call = simple_call(Type::UpdateFramework);
        call.update_framework = Some(call::UpdateFramework {
            framework_info,
            suppressed_roles,
            offer_constraints: None,
        });
        self.call(call)
    }
}

fn missing(field: &str) -> Error {
    Error::Protocol(mesos_proto::Error::MissingRequired(vec![field.to_string()]))
}
