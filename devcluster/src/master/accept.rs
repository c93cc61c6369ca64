//! ACCEPT (§7.2): offer validation, LAUNCH and LAUNCH_GROUP, the unused remainder.

use std::collections::BTreeSet;

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
        // 1. The offers: current, ours, one agent, one role, no duplicates.
        let mut error = None;
        let mut seen = BTreeSet::new();
        let mut agent: Option<String> = None;
        let mut role: Option<String> = None;
        if a.offer_ids.is_empty() {
            error = Some("No offers specified".to_string());
        }
        for id in &a.offer_ids {
            let id = &id.value;
            let msg = match st.offers.get(id) {
                _ if !seen.insert(id.clone()) => Some(format!("Duplicate offer {id} in accept")),
                None => Some(format!("Offer {id} is no longer valid")),
                Some(o) if o.framework_id != fw_id => {
                    Some(format!("Offer {id} has invalid framework"))
                }
                Some(o) if agent.as_ref().is_some_and(|x| *x != o.agent_id) => {
                    Some("Aggregated offers must belong to one single agent".to_string())
                }
                Some(o) if role.as_ref().is_some_and(|x| *x != o.role) => {
                    Some("Aggregated offers must be allocated to the same role".to_string())
                }
                Some(o) => {
                    agent = Some(o.agent_id.clone());
                    role = Some(o.role.clone());
                    None
                }
            };
            if error.is_none() {
                error = msg;
            }
        }
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
                pool = pool.plus(&o.resources);
            }
        }
        // 2. The operations, in order, against the remaining pool.
        for op in a.operations {
            match op.r#type() {
                offer::operation::Type::Launch => {
                    let tasks = op.launch.map(|l| l.task_infos).unwrap_or_default();
                    for task in tasks {
                        self.launch_one(
                            st,
                            fw_id,
                            &agent_id,
                            &role,
                            &mut pool,
                            task,
                            op.id.is_some(),
                        );
                    }
                }
                offer::operation::Type::LaunchGroup => {
                    if let Some(lg) = op.launch_group {
                        self.launch_group(
                            st,
                            fw_id,
                            &agent_id,
                            &role,
                            &mut pool,
                            lg.executor,
                            lg.task_group.tasks,
                        );
                    }
                }
                // Reservations and volumes are not modelled: the resources stay in the pool.
                _ => {}
            }
        }
        // 3. The rest is declined with accept.filters.
        let refuse = a.filters.as_ref().map(|f| f.refuse_seconds());
        self.install_filter(st, fw_id, &role, &agent_id, pool, refuse);
        st.allocate_now = true;
    }

    /// Checks one task (LAUNCH) and either sends TASK_ERROR or launches it.
    #[allow(clippy::too_many_arguments)]
    fn launch_one(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        pool: &mut Resources,
        mut task: TaskInfo,
        has_op_id: bool,
    ) {
        let check = || -> Result<Resources, String> {
            if has_op_id {
                return Err("'Offer.Operation.id' is not supported for LAUNCH".to_string());
            }
            self.common_task_checks(st, fw_id, agent_id, &task)?;
            match (&task.command, &task.executor) {
                (Some(_), None) => {}
                (None, Some(e)) => {
                    if e.command.is_none() {
                        return Err(format!(
                            "Executor '{}' for task '{}' must have a command",
                            e.executor_id.value, task.task_id.value
                        ));
                    }
                    if e.r#type.is_some() && e.r#type() != executor_info::Type::Custom {
                        return Err("'ExecutorInfo.type' must be 'CUSTOM' for LAUNCH".to_string());
                    }
                }
                _ => {
                    return Err("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".to_string());
                }
            }
            let mut needed = Resources::from_protos(&task.resources);
            if let Some(e) = &task.executor
                && !self.executor_known(st, fw_id, agent_id, &e.executor_id.value)
            {
                needed = needed.plus(&Resources::from_protos(&e.resources));
            }
            if !pool.contains(&needed) {
                return Err(format!(
                    "Total resources {} required by task and its executor is more than available {}",
                    needed.describe(role),
                    pool.describe(role)
                ));
            }
            Ok(needed)
        };
        match check() {
            Err(msg) => {
                let s = master_status(
                    &task.task_id.value,
                    TaskState::TaskError,
                    task_status::Reason::ReasonTaskInvalid,
                    &msg,
                    Some(agent_id),
                );
                self.send_update(st, fw_id, s);
            }
            Ok(needed) => {
                *pool = pool.minus(&needed);
                inject_allocation(&mut task.resources, role);
                if let Some(e) = task.executor.as_mut() {
                    prepare_executor(e, fw_id, role);
                }
                let task = std::sync::Arc::new(task);
                self.add_task(st, fw_id, agent_id, role, task.clone(), needed);
                let Some(framework) = st.frameworks.get(fw_id).map(|f| f.info.clone()) else {
                    return;
                };
                self.to_agent(st, agent_id, ToAgent::RunTask { framework, task });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn launch_group(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        pool: &mut Resources,
        mut executor: ExecutorInfo,
        mut tasks: Vec<TaskInfo>,
    ) {
        let check = || -> Result<Resources, String> {
            if executor.r#type.is_none() {
                return Err("'ExecutorInfo.type' must be set".to_string());
            }
            if executor.r#type() == executor_info::Type::Default && executor.command.is_some() {
                return Err(
                    "'ExecutorInfo.command' must not be set for 'DEFAULT' executor".to_string(),
                );
            }
            if executor.r#type() == executor_info::Type::Custom && executor.command.is_none() {
                return Err("'ExecutorInfo.command' must be set for 'CUSTOM' executor".to_string());
            }
            if tasks.is_empty() {
                return Err("Task group is empty".to_string());
            }
            let mut ids = BTreeSet::new();
            let mut needed = Resources::new();
            for t in &tasks {
                self.common_task_checks(st, fw_id, agent_id, t)?;
                if !ids.insert(t.task_id.value.clone()) {
                    return Err(format!(
                        "Task group has duplicate task ID: {}",
                        t.task_id.value
                    ));
                }
                if executor.r#type() == executor_info::Type::Default && t.command.is_none() {
                    return Err(format!("Task '{}' is missing 'command'", t.task_id.value));
                }
                needed = needed.plus(&Resources::from_protos(&t.resources));
            }
            if !self.executor_known(st, fw_id, agent_id, &executor.executor_id.value) {
                needed = needed.plus(&Resources::from_protos(&executor.resources));
            }
            if !pool.contains(&needed) {
                return Err(format!(
                    "Total resources {} required by task group and its executor are more than available {}",
                    needed.describe(role),
                    pool.describe(role)
                ));
            }
            Ok(needed)
        };
        match check() {
            Err(msg) => {
                for t in &tasks {
                    let s = master_status(
                        &t.task_id.value,
                        TaskState::TaskError,
                        task_status::Reason::ReasonTaskGroupInvalid,
                        &msg,
                        Some(agent_id),
                    );
                    self.send_update(st, fw_id, s);
                }
            }
            Ok(needed) => {
                *pool = pool.minus(&needed);
                prepare_executor(&mut executor, fw_id, role);
                let exec_res =
                    if self.executor_known(st, fw_id, agent_id, &executor.executor_id.value) {
                        Resources::new()
                    } else {
                        Resources::from_protos(&executor.resources)
                    };
                let mut first = true;
                for t in tasks.iter_mut() {
                    inject_allocation(&mut t.resources, role);
                    t.executor = Some(executor.clone());
                    let mut res = Resources::from_protos(&t.resources);
                    if first {
                        res = res.plus(&exec_res);
                        first = false;
                    }
                    self.add_task(st, fw_id, agent_id, role, t.clone().into(), res);
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

    fn common_task_checks(
        &self,
        st: &MasterState,
        fw_id: &str,
        agent_id: &str,
        t: &TaskInfo,
    ) -> Result<(), String> {
        validate::validate_id(&t.task_id.value)
            .map_err(|e| format!("Task ID '{}' is invalid: {e}", t.task_id.value))?;
        if st
            .frameworks
            .get(fw_id)
            .is_some_and(|f| f.tasks.contains_key(&t.task_id.value))
        {
            return Err(format!("Task has duplicate ID: {}", t.task_id.value));
        }
        if t.agent_id.value != agent_id {
            return Err(format!("Task uses invalid agent: {}", t.agent_id.value));
        }
        if t.resources.is_empty() {
            return Err("Task uses no resources".to_string());
        }
        Resources::protos_valid(&t.resources)
            .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        if let Some(kp) = &t.kill_policy
            && kp.grace_period.as_ref().is_some_and(|g| g.nanoseconds < 0)
        {
            return Err("Task's 'kill_policy.grace_period' must be non-negative".to_string());
        }
        Ok(())
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
        fw_id: &str,
        agent_id: &str,
        role: &str,
        task: std::sync::Arc<TaskInfo>,
        res: Resources,
    ) {
        let executor_id = task.executor.as_ref().map(|e| e.executor_id.value.clone());
        if let Some(a) = st.agents.get_mut(agent_id) {
            a.used = a.used.plus(&res);
        }
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        fw.used = fw.used.plus(&res);
        let mut task_res = Resources::from_protos(&task.resources);
        if let Some(e) = &task.executor {
            let key = (agent_id.to_string(), e.executor_id.value.clone());
            fw.executors.entry(key).or_insert_with(|| {
                let exec_res = Resources::from_protos(&e.resources);
                (e.clone(), exec_res)
            });
        } else {
            task_res = res;
        }
        let entry = TaskEntry {
            info: task,
            framework_id: fw_id.to_string(),
            agent_id: agent_id.to_string(),
            role: role.to_string(),
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
