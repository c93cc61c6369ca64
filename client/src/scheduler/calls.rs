//! One method per scheduler call, so frameworks need not build `Call`
//! messages by hand. The first ones answer an offer in one call, as the
//! book's Python driver does (`launch(&offer, tasks)`, `decline(&offer,
//! refuse_seconds)`, `launch_group`, `reconcile(&[task ids])`, `kill`); the
//! low-level forms (`launch_offers`, `decline_offers`, `accept`,
//! `reconcile_tasks`, `kill_on`) take ids and filters for the rare case
//! that needs them. Each is a thin wrapper over
//! [`SchedulerHandle::call`]: same errors, same "202 means queued" meaning.
//! The table of calls, their payloads and what the master does with them is
//! in the fact sheet §2.3.

use mesos_proto::v1::scheduler::call::{self, Type};
use mesos_proto::v1::{
    AgentId, ExecutorId, ExecutorInfo, Filters, FrameworkInfo, Offer, OfferId, OperationStatus,
    Request, TaskGroupInfo, TaskId, TaskInfo, TaskStatus, offer,
};

use super::handle::{SchedulerHandle, simple_call};
use crate::error::{Error, Result};

fn filters(refuse_seconds: Option<f64>) -> Option<Filters> {
    refuse_seconds.map(|seconds| Filters {
        refuse_seconds: Some(seconds),
    })
}

impl SchedulerHandle {
    /// Launches `tasks` on `offer`: one ACCEPT with one LAUNCH (the book's
    /// `driver.launchTasks(offer.id, [task])`). What the tasks do not use
    /// goes back to the master, which offers it again after Mesos' default
    /// 5 s.
    ///
    /// Returns once the ACCEPT is queued (it goes out at once, on the
    /// driver's `mesos-calls` thread); `Err` only if it cannot be queued (no
    /// live subscription, or torn down). What becomes of the tasks comes as
    /// status updates; a refused ACCEPT as
    /// [`Scheduler::call_failed`](super::Scheduler::call_failed).
    ///
    /// ```no_run
    /// # use mesos_client::{SchedulerHandle, tasks::TaskBuilder};
    /// # fn f(handle: &SchedulerHandle, offer: &mesos_proto::v1::Offer, r: Vec<mesos_proto::v1::Resource>) -> mesos_client::Result<()> {
    /// let task = TaskBuilder::command(offer, "echo hello").resources(r).build();
    /// handle.launch(offer, vec![task])?;
    /// # Ok(()) }
    /// ```
    pub fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) -> Result<()> {
        self.launch_offers(vec![offer.id.clone()], tasks, None)
    }

    /// Launches `tasks` together on `executor`, as one task group, on
    /// `offer`: one ACCEPT with one LAUNCH_GROUP. The tasks start and (with
    /// Mesos' default executor) fail together. A task of a group names no
    /// executor of its own: build it with
    /// [`TaskBuilder::command`](crate::tasks::TaskBuilder::command), and the
    /// executor with
    /// [`ExecutorBuilder::default_executor`](crate::tasks::ExecutorBuilder::default_executor).
    ///
    /// Two things Mesos checks in a LAUNCH_GROUP, and answers with
    /// `TASK_ERROR` (`REASON_TASK_GROUP_INVALID`) for every task of the group
    /// (fact sheet §3.5):
    ///
    /// * the executor's `framework_id` must be set: unlike LAUNCH, the master
    ///   does not fill it in. This call does, from the subscription, when
    ///   `executor.framework_id` is unset (as [`accept`](Self::accept) does
    ///   for every LAUNCH_GROUP).
    /// * the executor needs resources of its own, out of the same offer, on
    ///   top of its tasks': `cpus`, `mem` *and* `disk` (Mesos' default
    ///   executor without disk gets `Executor '<id>' uses no disk`), e.g.
    ///   `left.take(&Resources::new(0.1, 32.0).with_disk(32.0))`.
    pub fn launch_group(
        &self,
        offer: &Offer,
        executor: ExecutorInfo,
        tasks: Vec<TaskInfo>,
    ) -> Result<()> {
        let mut operation = offer::Operation {
            launch_group: Some(offer::operation::LaunchGroup {
                executor,
                task_group: TaskGroupInfo { tasks },
            }),
            ..Default::default()
        };
        operation.set_type(offer::operation::Type::LaunchGroup);
        self.accept(vec![offer.id.clone()], vec![operation], None)
    }

    /// Gives `offer` back: DECLINE, and do not offer these resources to
    /// this framework again for `refuse_seconds` (the book's
    /// `driver.declineOffer(offer.id, filters)`). Mesos' default is 5 s; a
    /// framework that needs nothing more declines for longer.
    pub fn decline(&self, offer: &Offer, refuse_seconds: f64) -> Result<()> {
        self.decline_offers(vec![offer.id.clone()], Some(refuse_seconds))
    }

    /// Declines every offer of `offers` in one call, like
    /// [`decline`](Self::decline). Does nothing for an empty slice.
    pub fn decline_all(&self, offers: &[Offer], refuse_seconds: f64) -> Result<()> {
        if offers.is_empty() {
            return Ok(());
        }
        let ids = offers.iter().map(|offer| offer.id.clone()).collect();
        self.decline_offers(ids, Some(refuse_seconds))
    }

    /// Asks the master for the state of these tasks: one update per task
    /// follows (without uuid, so nothing to acknowledge). Explicit
    /// reconciliation, after a failover or when an update seems overdue.
    /// A task the master does not know comes back as `TASK_UNKNOWN` (or
    /// `TASK_LOST` for a framework that is not partition-aware).
    pub fn reconcile(&self, task_ids: &[TaskId]) -> Result<()> {
        let tasks = task_ids
            .iter()
            .map(|task_id| call::reconcile::Task {
                task_id: task_id.clone(),
                agent_id: None,
            })
            .collect();
        self.reconcile_tasks(tasks)
    }

    /// Kills a task (the book's `driver.killTask(task_id)`). The task's
    /// terminal update (`TASK_KILLED`) follows; a task the master does not
    /// know is answered with an update too, not an error.
    pub fn kill(&self, task_id: &TaskId) -> Result<()> {
        self.kill_on(task_id.clone(), None)
    }

    /// The low-level LAUNCH: ACCEPT `offer_ids` (all from one agent)
    /// launching `tasks` on them, with `filters` for what they do not use
    /// (`None`: Mesos' default, 5 s). Prefer [`launch`](Self::launch).
    pub fn launch_offers(
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
    ///
    /// A LAUNCH_GROUP's executor without `framework_id` gets this
    /// framework's id (Mesos refuses the group without it, see
    /// [`launch_group`](Self::launch_group)).
    pub fn accept(
        &self,
        offer_ids: Vec<OfferId>,
        mut operations: Vec<offer::Operation>,
        filters: Option<Filters>,
    ) -> Result<()> {
        let framework_id = self.framework_id();
        for group in operations
            .iter_mut()
            .filter_map(|op| op.launch_group.as_mut())
        {
            if group.executor.framework_id.is_none() {
                group.executor.framework_id = framework_id.clone();
            }
        }
        let mut call = simple_call(Type::Accept);
        call.accept = Some(call::Accept {
            offer_ids,
            operations,
            filters,
        });
        self.call(call)
    }

    /// The low-level DECLINE of several offers by id. The master will not
    /// offer those resources again to this framework for `refuse_seconds`
    /// (`None`: Mesos' default, 5 s). Prefer [`decline`](Self::decline).
    pub fn decline_offers(
        &self,
        offer_ids: Vec<OfferId>,
        refuse_seconds: Option<f64>,
    ) -> Result<()> {
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

    /// The low-level KILL, with the agent if known (and an owned id).
    /// Prefer [`kill`](Self::kill).
    pub fn kill_on(&self, task_id: TaskId, agent_id: Option<AgentId>) -> Result<()> {
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

    /// The low-level RECONCILE of tasks given with their agents: the master
    /// answers with one update per task (without uuid), reporting the state
    /// it knows. An empty list asks for every task (see
    /// [`reconcile_all`](Self::reconcile_all)). Prefer
    /// [`reconcile`](Self::reconcile).
    pub fn reconcile_tasks(&self, tasks: Vec<call::reconcile::Task>) -> Result<()> {
        let mut call = simple_call(Type::Reconcile);
        call.reconcile = Some(call::Reconcile { tasks });
        self.call(call)
    }

    /// Implicit RECONCILE: an update for every task the master knows of this
    /// framework. Do it after (re)subscribing to catch up.
    pub fn reconcile_all(&self) -> Result<()> {
        self.reconcile_tasks(Vec::new())
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
