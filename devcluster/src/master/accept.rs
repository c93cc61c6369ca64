//! ACCEPT (§7.2): offer validation, LAUNCH and LAUNCH_GROUP, the unused remainder.

use std::collections::BTreeSet;
use std::sync::Arc;

use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::scheduler::call;
use mesos_proto::v1::{
    ExecutorInfo, FrameworkId, TaskInfo, TaskState, TaskStatus, executor_info, offer, resource,
    task_status,
};

use super::{Master, MasterState, TaskEntry, master_status, validate};
use crate::messages::ToAgent;
use crate::resources::Resources;

impl Master {
    pub(crate) fn accept(&self, fw_id: &str, a: call::Accept) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if !st.frameworks.contains_key(fw_id) {
            return;
        }
        // 1. The offers, checked as Mesos' `offer::validate` does, in its order and with
        // its messages: none listed twice, all current, all ours, one role, one agent.
        let error = validate_offers(st, fw_id, &a.offer_ids).err();
        let first = a.offer_ids.first().and_then(|id| st.offers.get(&id.value));
        let agent = first.map(|o| o.agent_id.clone());
        let role = first.map(|o| o.role.clone());
        if let Some(err) = error {
            for id in &a.offer_ids {
                if st
                    .offers
                    .get(&id.value)
                    .is_some_and(|o| o.framework_id == fw_id)
                {
                    self.remove_offer(st, &id.value);
                }
            }
            let pa = st
                .frameworks
                .get(fw_id)
                .is_some_and(|f| f.has_capability(Cap::PartitionAware));
            let state = if pa {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            // Other operations asking for feedback get OPERATION_ERROR (Mesos' `drop`).
            for op in (a.operations.iter()).filter(|op| {
                !matches!(
                    op.r#type(),
                    offer::operation::Type::Launch | offer::operation::Type::LaunchGroup
                )
            }) {
                if let Some(id) = &op.id {
                    let mut status = mesos_proto::v1::OperationStatus {
                        operation_id: Some(id.clone()),
                        message: Some(format!("Operation attempted with invalid offers: {err}")),
                        ..Default::default()
                    };
                    status.set_state(mesos_proto::v1::OperationState::OperationError);
                    let mut e = super::event_of(
                        mesos_proto::v1::scheduler::event::Type::UpdateOperationStatus,
                    );
                    e.update_operation_status =
                        Some(mesos_proto::v1::scheduler::event::UpdateOperationStatus { status });
                    self.send(st, fw_id, &e);
                }
            }
            for task in launched_tasks(&a.operations) {
                let s = master_status(
                    &task.task_id.value,
                    state,
                    task_status::Reason::ReasonInvalidOffers,
                    &format!("Task launched with invalid offers: {err}"),
                    Some(&task.agent_id.value),
                );
                self.send_update(st, fw_id, s);
            }
            return;
        }
        let (Some(agent_id), Some(role)) = (agent, role) else {
            return;
        };
        // What every task of this ACCEPT records: allocated once here, shared by all.
        let ids = TaskIds {
            framework_id: fw_id.into(),
            agent_id: agent_id.as_str().into(),
            role: role.as_str().into(),
        };
        let mut pool = Resources::new();
        // Benchmarks: offer-to-ACCEPT latency (stats.rs).
        let created: Vec<_> = (a.offer_ids.iter())
            .filter_map(|id| st.offers.get(&id.value).map(|o| o.created))
            .collect();
        let launches = (a.operations.iter())
            .map(|op| {
                op.launch.as_ref().map_or(0, |l| l.task_infos.len())
                    + op.launch_group
                        .as_ref()
                        .map_or(0, |g| g.task_group.tasks.len())
            })
            .sum();
        self.shared.stats.accepted(&created, launches);
        for id in &a.offer_ids {
            if let Some(o) = self.remove_offer(st, &id.value) {
                pool.add_all(&o.resources);
            }
        }
        // 2. The operations, in order, against the remaining pool. As in Mesos, every
        // resource of a LAUNCH / LAUNCH_GROUP is checked first, then the operation `id`
        // (no feedback exists for launches), then each task (§7.2, §3.5).
        for op in a.operations {
            let kind = op.r#type();
            let (tasks, reason) = match kind {
                offer::operation::Type::Launch => (
                    op.launch.as_ref().map(|l| &l.task_infos[..]).unwrap_or(&[]),
                    task_status::Reason::ReasonTaskInvalid,
                ),
                offer::operation::Type::LaunchGroup => (
                    op.launch_group
                        .as_ref()
                        .map(|g| &g.task_group.tasks[..])
                        .unwrap_or(&[]),
                    task_status::Reason::ReasonTaskGroupInvalid,
                ),
                // Reservations and volumes are not modelled: the resources stay in the pool.
                _ => continue,
            };
            let op_error = operation_resources(&op).err().or_else(|| {
                op.id.as_ref().map(|_| {
                    let name = if kind == offer::operation::Type::Launch {
                        "LAUNCH"
                    } else {
                        "LAUNCH_GROUP"
                    };
                    format!("The `id` field cannot be set on {name} operations")
                })
            });
            if let Some(msg) = op_error {
                for t in tasks {
                    self.task_error(st, fw_id, t, reason, &msg);
                }
                continue;
            }
            if kind == offer::operation::Type::Launch {
                let tasks = op.launch.map(|l| l.task_infos).unwrap_or_default();
                for task in tasks {
                    self.launch_one(st, &ids, &mut pool, task);
                }
            } else if let Some(lg) = op.launch_group {
                self.launch_group(st, &ids, &mut pool, lg.executor, lg.task_group.tasks);
            }
        }
        // 3. The rest is declined with accept.filters.
        let refuse = a.filters.as_ref().map(|f| f.refuse_seconds());
        self.install_filter(st, fw_id, &role, &agent_id, pool, refuse);
        st.allocate_now = true;
    }

    /// Checks one task (LAUNCH) as Mesos' `task::validate` does, in its order, and either
    /// sends TASK_ERROR or launches it.
    fn launch_one(
        &self,
        st: &mut MasterState,
        ids: &TaskIds,
        pool: &mut Resources,
        mut task: TaskInfo,
    ) {
        let (fw_id, agent_id, role) = (&*ids.framework_id, &*ids.agent_id, &*ids.role);
        // What the master does before validating: the offer's allocation role into
        // resources lacking one, the framework id into the executor lacking one.
        inject_allocation(&mut task.resources, role);
        if let Some(e) = task.executor.as_mut() {
            inject_allocation(&mut e.resources, role);
            e.framework_id.get_or_insert_with(|| FrameworkId {
                value: fw_id.to_string(),
            });
        }
        let check = || -> Result<Resources, String> {
            self.common_task_checks(st, fw_id, agent_id, &task)?;
            if task.command.is_some() == task.executor.is_some() {
                return Err("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".to_string());
            }
            let mut needed = Resources::from_protos(&task.resources);
            let mut offerable = Resources::offerable_to(&task.resources, role);
            if let Some(e) = &task.executor {
                self.executor_checks(st, fw_id, agent_id, e)?;
                if e.r#type.is_some() && e.r#type() != executor_info::Type::Custom {
                    return Err("'ExecutorInfo.type' must be 'CUSTOM'".to_string());
                }
                if e.command.is_none() {
                    return Err("'ExecutorInfo.command' must be set".to_string());
                }
                validate::executor_cgroups(e)?;
                if Resources::overlap(&[&task.resources, &e.resources]) {
                    return Err(format!(
                        "There are overlapping resources in the task resources {} and executor resources {}",
                        Resources::from_protos(&task.resources).describe(role),
                        Resources::from_protos(&e.resources).describe(role)
                    ));
                }
                if !self.executor_known(st, fw_id, agent_id, &e.executor_id.value) {
                    needed = needed.plus(&Resources::from_protos(&e.resources));
                    offerable &= Resources::offerable_to(&e.resources, role);
                }
            }
            if !offerable || !pool.contains(&needed) {
                return Err(format!(
                    "Total resources {} required by task and its executor is more than available {}",
                    needed.describe(role),
                    pool.describe(role)
                ));
            }
            validate::launch_task_cgroups(&task)?;
            Ok(needed)
        };
        match check() {
            Err(msg) => {
                self.task_error(
                    st,
                    fw_id,
                    &task,
                    task_status::Reason::ReasonTaskInvalid,
                    &msg,
                );
            }
            Ok(needed) => {
                pool.subtract(&needed);
                if let Some(e) = task.executor.as_mut() {
                    prepare_executor(e, fw_id, role);
                }
                let task = std::sync::Arc::new(task);
                self.add_task(st, ids, task.clone(), needed);
                let Some(framework) = st.frameworks.get(fw_id).map(|f| f.info.clone()) else {
                    return;
                };
                self.to_agent(st, agent_id, ToAgent::RunTask { framework, task });
            }
        }
    }

    /// TASK_ERROR for `task`, from the master (no uuid), with `reason` and `msg`.
    fn task_error(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        task: &TaskInfo,
        reason: task_status::Reason,
        msg: &str,
    ) {
        let s = master_status(
            &task.task_id.value,
            TaskState::TaskError,
            reason,
            msg,
            Some(&task.agent_id.value),
        );
        self.send_update(st, fw_id, s);
    }

    /// Mesos' `executor::internal::validate`: the ExecutorInfo alone, its framework id
    /// and resources, and that it equals the executor of that id already on the agent.
    fn executor_checks(
        &self,
        st: &MasterState,
        fw_id: &str,
        agent_id: &str,
        e: &ExecutorInfo,
    ) -> Result<(), String> {
        validate::executor_fields(e)?;
        validate::executor_framework_and_resources(e, fw_id)?;
        let existing = st.frameworks.get(fw_id).and_then(|f| {
            f.executors
                .get(&(agent_id.to_string(), e.executor_id.value.clone()))
        });
        if let Some((known, _)) = existing {
            // Compared as the master keeps it (our record also has the type filled in).
            let mut candidate = e.clone();
            if candidate.r#type.is_none() {
                candidate.set_type(executor_info::Type::Custom);
            }
            if !same_executor(&candidate, known) {
                return Err(format!(
                    "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID '{}'",
                    e.executor_id.value
                ));
            }
        }
        Ok(())
    }

    /// Checks a task group (LAUNCH_GROUP) as Mesos' `task::group::validate` does, in its
    /// order, and either sends TASK_ERROR for every task of it or launches it.
    fn launch_group(
        &self,
        st: &mut MasterState,
        ids: &TaskIds,
        pool: &mut Resources,
        mut executor: ExecutorInfo,
        mut tasks: Vec<TaskInfo>,
    ) {
        let (fw_id, agent_id, role) = (&*ids.framework_id, &*ids.agent_id, &*ids.role);
        // What the master does before validating: the offer's allocation role into every
        // resource lacking one, the group's executor into every task lacking one. Unlike
        // LAUNCH it does not fill in `ExecutorInfo.framework_id` (§3.5).
        inject_allocation(&mut executor.resources, role);
        for t in tasks.iter_mut() {
            inject_allocation(&mut t.resources, role);
            match t.executor.as_mut() {
                Some(e) => inject_allocation(&mut e.resources, role),
                None => t.executor = Some(executor.clone()),
            }
        }
        let check = || -> Result<Resources, String> {
            let mut ids = BTreeSet::new();
            let mut needed = Resources::new();
            let mut offerable = Resources::offerable_to(&executor.resources, role);
            for t in &tasks {
                self.common_task_checks(st, fw_id, agent_id, t)
                    .and_then(|()| validate::group_task(t))
                    .map_err(|e| format!("Task '{}' is invalid: {e}", t.task_id.value))?;
                needed = needed.plus(&Resources::from_protos(&t.resources));
                offerable &= Resources::offerable_to(&t.resources, role);
            }
            self.executor_checks(st, fw_id, agent_id, &executor)?;
            validate::group_executor(&executor, &tasks)?;
            let mut lists: Vec<&[mesos_proto::v1::Resource]> =
                tasks.iter().map(|t| &t.resources[..]).collect();
            lists.push(&executor.resources);
            if Resources::overlap(&lists) {
                let tasks_text: Vec<String> = (tasks.iter())
                    .map(|t| Resources::from_protos(&t.resources).describe(role))
                    .collect();
                return Err(format!(
                    "There are overlapping resources in the task group's task resources [ {} ] and/or executor resources {}",
                    tasks_text.join(", "),
                    Resources::from_protos(&executor.resources).describe(role)
                ));
            }
            if !self.executor_known(st, fw_id, agent_id, &executor.executor_id.value) {
                needed = needed.plus(&Resources::from_protos(&executor.resources));
            }
            if !offerable || !pool.contains(&needed) {
                return Err(format!(
                    "Total resources {} required by task group and its executor are more than available {}",
                    needed.describe(role),
                    pool.describe(role)
                ));
            }
            validate::group_cgroups(&executor, &tasks)?;
            // Stricter than the 1.12 master, which checks neither and, for a duplicate id,
            // fails an internal check and aborts: devcluster refuses both plainly.
            if tasks.is_empty() {
                return Err("Task group is empty".to_string());
            }
            for t in &tasks {
                if !ids.insert(t.task_id.value.clone()) {
                    return Err(format!(
                        "Task group has duplicate task ID: {}",
                        t.task_id.value
                    ));
                }
            }
            // Stricter too: the default executor runs each task's command, and a task
            // without one fails there (at run time on Mesos); here it is refused at once.
            if executor.r#type() == executor_info::Type::Default
                && let Some(t) = tasks.iter().find(|t| t.command.is_none())
            {
                return Err(format!("Task '{}' is missing 'command'", t.task_id.value));
            }
            Ok(needed)
        };
        match check() {
            Err(msg) => {
                for t in &tasks {
                    self.task_error(
                        st,
                        fw_id,
                        t,
                        task_status::Reason::ReasonTaskGroupInvalid,
                        &msg,
                    );
                }
            }
            Ok(needed) => {
                pool.subtract(&needed);
                prepare_executor(&mut executor, fw_id, role);
                let exec_res =
                    if self.executor_known(st, fw_id, agent_id, &executor.executor_id.value) {
                        Resources::new()
                    } else {
                        Resources::from_protos(&executor.resources)
                    };
                let mut first = true;
                for t in tasks.iter_mut() {
                    t.executor = Some(executor.clone());
                    let mut res = Resources::from_protos(&t.resources);
                    if first {
                        res = res.plus(&exec_res);
                        first = false;
                    }
                    self.add_task(st, ids, t.clone().into(), res);
                }
                let Some(framework) = st.frameworks.get(fw_id).map(|f| f.info.clone()) else {
                    return;
                };
                self.to_agent(
                    st,
                    agent_id,
                    ToAgent::RunTaskGroup {
                        framework,
                        executor: Box::new(executor),
                        group: mesos_proto::v1::TaskGroupInfo { tasks },
                    },
                );
            }
        }
    }

    /// Mesos' `task::internal::validateTask`, in its order: the id, not a live task's id,
    /// the offer's agent, then the task's own fields (`validate::task_fields`).
    fn common_task_checks(
        &self,
        st: &MasterState,
        fw_id: &str,
        agent_id: &str,
        t: &TaskInfo,
    ) -> Result<(), String> {
        validate::validate_id(&t.task_id.value)?;
        if st
            .frameworks
            .get(fw_id)
            .is_some_and(|f| f.tasks.contains_key(&t.task_id.value))
        {
            return Err(format!("Task has duplicate ID: {}", t.task_id.value));
        }
        if t.agent_id.value != agent_id {
            return Err(format!(
                "Task uses invalid agent {} while agent {agent_id} is expected",
                t.agent_id.value
            ));
        }
        validate::task_fields(t)
    }

    fn executor_known(&self, st: &MasterState, fw_id: &str, agent_id: &str, exec: &str) -> bool {
        st.frameworks.get(fw_id).is_some_and(|f| {
            f.executors
                .contains_key(&(agent_id.to_string(), exec.to_string()))
        })
    }

    /// Records a validated task as STAGING and charges its resources.
    fn add_task(
        &self,
        st: &mut MasterState,
        ids: &TaskIds,
        task: std::sync::Arc<TaskInfo>,
        res: Resources,
    ) {
        let (fw_id, agent_id) = (&*ids.framework_id, &*ids.agent_id);
        let executor_id = task.executor.as_ref().map(|e| e.executor_id.value.clone());
        if let Some(a) = st.agents.get_mut(agent_id) {
            a.used.add_all(&res);
        }
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        fw.used.add_all(&res);
        // A command task is charged exactly its own resources (`res`); only a task with
        // an executor has its own share to work out.
        let task_res = if let Some(e) = &task.executor {
            let key = (agent_id.to_string(), e.executor_id.value.clone());
            fw.executors.entry(key).or_insert_with(|| {
                let exec_res = Resources::from_protos(&e.resources);
                (e.clone(), exec_res)
            });
            Resources::from_protos(&task.resources)
        } else {
            res
        };
        let entry = TaskEntry {
            info: task,
            framework_id: ids.framework_id.clone(),
            agent_id: ids.agent_id.clone(),
            role: ids.role.clone(),
            state: TaskState::TaskStaging,
            statuses: Vec::new(),
            last_forwarded: None,
            resources: task_res,
            released: false,
            executor_id,
        };
        fw.tasks.insert(entry.info.task_id.value.clone(), entry);
    }

    /// Sends an UPDATE event carrying `status`.
    pub(crate) fn send_update(&self, st: &mut MasterState, fw_id: &str, status: TaskStatus) {
        self.send_status(st, fw_id, &status);
    }
}

/// The framework, agent and role of one ACCEPT's tasks, as every task entry keeps them.
struct TaskIds {
    framework_id: Arc<str>,
    agent_id: Arc<str>,
    role: Arc<str>,
}

/// Mesos' `offer::validate` of an ACCEPT's offer ids (§7.2); an empty list is
/// "No offers specified" as in the master's ACCEPT handler.
fn validate_offers(
    st: &MasterState,
    fw_id: &str,
    ids: &[mesos_proto::v1::OfferId],
) -> Result<(), String> {
    if ids.is_empty() {
        return Err("No offers specified".to_string());
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(&id.value) {
            return Err(format!("Duplicate offer {} in offer list", id.value));
        }
    }
    let mut offers = Vec::new();
    for id in ids {
        match st.offers.get(&id.value) {
            Some(o) => offers.push((&id.value, o)),
            None => return Err(format!("Offer {} is no longer valid", id.value)),
        }
    }
    for (id, o) in &offers {
        if o.framework_id != fw_id {
            return Err(format!(
                "Offer {id} has invalid framework {} while framework {fw_id} is expected",
                o.framework_id
            ));
        }
    }
    let (_, first) = offers[0];
    for (id, o) in &offers {
        if o.role != first.role {
            return Err(format!(
                "Aggregated offers must be allocated to the same role. Offer {id} uses role '{} but another is using role '{}",
                o.role, first.role
            ));
        }
    }
    for (id, o) in &offers {
        if o.agent_id != first.agent_id {
            return Err(format!(
                "Aggregated offers must belong to one single agent. Offer {id} uses agent {} and agent {}",
                o.agent_id, first.agent_id
            ));
        }
    }
    Ok(())
}

/// Mesos' `validateAndUpgradeResources` for a LAUNCH / LAUNCH_GROUP: every resource of
/// every task and executor in the operation is well-formed, else the whole operation fails
/// with the bare `Resources::validate` message.
fn operation_resources(op: &offer::Operation) -> Result<(), String> {
    let tasks = op
        .launch
        .iter()
        .flat_map(|l| &l.task_infos)
        .chain(op.launch_group.iter().flat_map(|g| &g.task_group.tasks));
    if let Some(g) = &op.launch_group {
        Resources::validate(&g.executor.resources)?;
    }
    for t in tasks {
        Resources::validate(&t.resources)?;
        if let Some(e) = &t.executor {
            Resources::validate(&e.resources)?;
        }
    }
    Ok(())
}

/// Mesos' ExecutorInfo equality for "the same executor": resources compared as bags,
/// everything else field by field.
fn same_executor(a: &ExecutorInfo, b: &ExecutorInfo) -> bool {
    let strip = |e: &ExecutorInfo| ExecutorInfo {
        resources: Vec::new(),
        ..e.clone()
    };
    strip(a) == strip(b)
        && Resources::from_protos(&a.resources) == Resources::from_protos(&b.resources)
}

fn launched_tasks(ops: &[offer::Operation]) -> Vec<TaskInfo> {
    let mut out = Vec::new();
    for op in ops {
        if let Some(l) = &op.launch {
            out.extend(l.task_infos.iter().cloned());
        }
        if let Some(lg) = &op.launch_group {
            out.extend(lg.task_group.tasks.iter().cloned());
        }
    }
    out
}

/// The master injects the offer's allocation role into resources lacking it (§7.2).
fn inject_allocation(res: &mut [mesos_proto::v1::Resource], role: &str) {
    for r in res {
        if r.allocation_info.is_none() {
            r.allocation_info = Some(resource::AllocationInfo {
                role: Some(role.to_string()),
            });
        }
    }
}

fn prepare_executor(e: &mut ExecutorInfo, fw_id: &str, role: &str) {
    e.framework_id = Some(FrameworkId {
        value: fw_id.to_string(),
    });
    // An executor given with LAUNCH is a custom one; Mesos records the type.
    if e.r#type.is_none() {
        e.set_type(executor_info::Type::Custom);
    }
    inject_allocation(&mut e.resources, role);
}
