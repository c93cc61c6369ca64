//! Status updates, acknowledgements, kills, agents coming and going, reconciliation (§8).

use std::sync::Arc;

use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{
    AgentId, AgentInfo, ExecutorId, TaskState, TaskStatus, TimeInfo, task_status,
};

use super::{
    AgentEntry, Master, MasterState, TaskEntry, completed_push, event_of, master_status, now_secs,
};
use crate::messages::{TaskReport, ToAgent};
use crate::resources::Resources;

impl Master {
    /// An agent registered (at start, or again with a new leader).
    pub(crate) fn register_agent(
        &self,
        st: &mut MasterState,
        info: AgentInfo,
        tx: crossbeam_channel::Sender<ToAgent>,
        tasks: Vec<TaskReport>,
    ) {
        let id = info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        st.unreachable_agents.remove(&id);
        let mut used = Resources::new();
        for report in tasks {
            let fw_id = report
                .framework
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            if st.removed_ids.contains(&fw_id) {
                continue;
            }
            let state = report.state.state();
            let res = Resources::from_protos(&report.task.resources);
            if !state.is_terminal() {
                used = used.plus(&res);
            }
            // A framework this master has not seen yet (after a failover) is recorded
            // disconnected, without a failover timer, until it subscribes again.
            let fw = st
                .frameworks
                .entry(fw_id.clone())
                .or_insert_with(|| super::Framework {
                    id: fw_id.clone(),
                    info: Arc::new(report.framework.clone()),
                    sub: None,
                    suppressed: Default::default(),
                    tasks: Default::default(),
                    completed_tasks: Default::default(),
                    offers: Default::default(),
                    executors: Default::default(),
                    used: Resources::new(),
                    offered: Resources::new(),
                    registered_time: now_secs(),
                    reregistered_time: None,
                    unregistered_time: None,
                    failover_deadline: None,
                    next_heartbeat: std::time::Instant::now(),
                    seq: 0,
                });
            if !state.is_terminal() {
                fw.used = fw.used.plus(&res);
            }
            let role = report
                .task
                .resources
                .first()
                .and_then(|r| r.allocation_info.as_ref())
                .and_then(|a| a.role.clone())
                .unwrap_or_else(|| "*".to_string());
            let executor_id = report
                .task
                .executor
                .as_ref()
                .map(|e| e.executor_id.value.clone());
            if let Some(e) = &report.task.executor {
                let key = (id.clone(), e.executor_id.value.clone());
                fw.executors.entry(key).or_insert_with(|| {
                    let r = Resources::from_protos(&e.resources);
                    used = used.plus(&r);
                    (e.clone(), r)
                });
            }
            fw.tasks.insert(
                report.task.task_id.value.clone(),
                TaskEntry {
                    info: Arc::new(report.task),
                    framework_id: fw_id.into(),
                    agent_id: id.as_str().into(),
                    role: role.into(),
                    state,
                    statuses: vec![Arc::new(report.state.clone())],
                    last_forwarded: Some(Arc::new(report.state)),
                    resources: res,
                    released: state.is_terminal(),
                    executor_id,
                },
            );
        }
        let total = Resources::from_protos(&info.resources);
        let now = now_secs();
        st.agents.insert(
            id.clone(),
            AgentEntry {
                id,
                info,
                tx,
                total,
                used,
                offered: Resources::new(),
                registered_time: now,
            },
        );
        st.allocate_now = true;
    }

    /// A reliable update from an agent: the master learns the latest state, releases
    /// resources of finished tasks and forwards the pending update.
    pub(crate) fn status_update(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        status: Arc<TaskStatus>,
        latest: i32,
        encoded: Option<super::EncodedUpdate>,
    ) {
        let latest = TaskState::try_from(latest).unwrap_or(status.state());
        let task_id = status.task_id.value.as_str();
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        let Some(task) = fw.tasks.get_mut(task_id) else {
            return;
        };
        task.state = latest;
        if task.statuses.last().is_none_or(|s| s.uuid != status.uuid) {
            task.statuses.push(status.clone());
        }
        if latest.is_terminal() && !task.released {
            task.released = true;
            // In place, and the task's own resources and agent id borrowed, not copied.
            fw.used.subtract(&task.resources);
            if let Some(a) = st.agents.get_mut(&*task.agent_id) {
                a.used.subtract(&task.resources);
            }
            st.allocate_now = true;
        }
        // The agent's status itself is encoded, kept in the history and remembered as
        // `last_forwarded`: no copies of it.
        self.send_update_encoded(st, fw_id, &status, encoded);
        if let Some(task) = st
            .frameworks
            .get_mut(fw_id)
            .and_then(|f| f.tasks.get_mut(task_id))
        {
            task.last_forwarded = Some(status);
        }
    }

    /// ACKNOWLEDGE: forwarded to the agent; an acked terminal update retires the task.
    pub(crate) fn acknowledge(&self, fw_id: &str, a: call::Acknowledge) {
        // A completed task pushed out of the framework's list: freed after the lock
        // (declared first, so dropped after the guard).
        let mut evicted = None;
        let mut guard = self.lock();
        let st = &mut *guard;
        // Whether this acknowledges the task's terminal update, decided before the ids
        // move into the message to the agent (no copies of them).
        let done = st.frameworks.get(fw_id).is_some_and(|fw| {
            fw.tasks.get(&a.task_id.value).is_some_and(|t| {
                t.last_forwarded.as_ref().is_some_and(|s| {
                    s.uuid.as_deref() == Some(&a.uuid[..]) && s.state().is_terminal()
                })
            })
        });
        let retired = if done {
            st.frameworks
                .get_mut(fw_id)
                .and_then(|fw| fw.tasks.remove(&a.task_id.value))
        } else {
            None
        };
        self.to_agent(
            st,
            &a.agent_id.value,
            ToAgent::Acknowledge {
                framework_id: fw_id.to_string(),
                task_id: a.task_id.value,
                uuid: a.uuid,
            },
        );
        if let (Some(t), Some(fw)) = (retired, st.frameworks.get_mut(fw_id)) {
            evicted = completed_push(fw, t, self.cfg.bounds.max_completed_tasks_per_framework);
        }
        drop(guard);
        drop(evicted);
    }

    /// KILL: known task -> agent; unknown -> the explicit reconciliation answer.
    pub(crate) fn kill(&self, fw_id: &str, k: call::Kill) {
        let mut guard = self.lock();
        let st = &mut *guard;
        let task = st
            .frameworks
            .get(fw_id)
            .and_then(|f| f.tasks.get(&k.task_id.value))
            .map(|t| t.agent_id.clone());
        match task {
            Some(agent) => {
                if k.agent_id.as_ref().is_some_and(|a| *a.value != *agent) {
                    return;
                }
                self.to_agent(
                    st,
                    &agent,
                    ToAgent::KillTask {
                        framework_id: fw_id.to_string(),
                        task_id: k.task_id.value,
                        kill_policy: k.kill_policy,
                    },
                );
            }
            None => {
                let r = call::reconcile::Task {
                    task_id: k.task_id,
                    agent_id: k.agent_id,
                };
                if let Some(s) = self.reconcile_one(st, fw_id, &r) {
                    self.send_update(st, fw_id, s);
                }
            }
        }
    }

    /// RECONCILE, implicit (empty list) or explicit.
    pub(crate) fn reconcile(&self, fw_id: &str, r: call::Reconcile) {
        let mut guard = self.lock();
        let st = &mut *guard;
        let answers: Vec<TaskStatus> = if r.tasks.is_empty() {
            st.frameworks
                .get(fw_id)
                .map(|fw| fw.tasks.values().map(latest_state_answer).collect())
                .unwrap_or_default()
        } else {
            r.tasks
                .iter()
                .filter_map(|t| self.reconcile_one(st, fw_id, t))
                .collect()
        };
        for s in answers {
            self.send_update(st, fw_id, s);
        }
    }

    fn reconcile_one(
        &self,
        st: &MasterState,
        fw_id: &str,
        t: &call::reconcile::Task,
    ) -> Option<TaskStatus> {
        let fw = st.frameworks.get(fw_id)?;
        if let Some(task) = fw.tasks.get(&t.task_id.value) {
            return Some(latest_state_answer(task));
        }
        let pa = fw.has_capability(Cap::PartitionAware);
        let reason = task_status::Reason::ReasonReconciliation;
        let id = &t.task_id.value;
        let agent = t.agent_id.as_ref().map(|a| a.value.as_str());
        let pick = |pa_state, msg: &str| {
            let state = if pa { pa_state } else { TaskState::TaskLost };
            master_status(id, state, reason, msg, agent)
        };
        Some(match agent {
            Some(a) if st.agents.contains_key(a) => pick(
                TaskState::TaskGone,
                "Reconciliation: Task is unknown to the agent",
            ),
            Some(a) if st.unreachable_agents.contains_key(a) => {
                let mut s = pick(
                    TaskState::TaskUnreachable,
                    "Reconciliation: Task is unreachable",
                );
                let since = st.unreachable_agents[a].0;
                s.unreachable_time = Some(TimeInfo {
                    nanoseconds: (since * 1e9) as i64,
                });
                s
            }
            _ => pick(TaskState::TaskUnknown, "Reconciliation: Task is unknown"),
        })
    }

    /// An executor ended: its resources return; FAILURE for non-command executors.
    pub(crate) fn executor_exited(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        agent_id: &str,
        exec: &str,
        status: i32,
        notify: bool,
    ) {
        if let Some(fw) = st.frameworks.get_mut(fw_id)
            && let Some((_, res)) = fw
                .executors
                .remove(&(agent_id.to_string(), exec.to_string()))
        {
            fw.used = fw.used.minus(&res);
            if let Some(a) = st.agents.get_mut(agent_id) {
                a.used = a.used.minus(&res);
            }
            st.allocate_now = true;
        }
        if notify {
            let mut e = event_of(event::Type::Failure);
            e.failure = Some(event::Failure {
                agent_id: Some(AgentId {
                    value: agent_id.to_string(),
                }),
                executor_id: Some(ExecutorId {
                    value: exec.to_string(),
                }),
                status: Some(status),
            });
            self.send(st, fw_id, &e);
        }
    }

    /// An agent is gone: RESCIND its offers, fail its tasks as Mesos does (§9 item 51),
    /// FAILURE to every framework.
    pub(crate) fn agent_lost(&self, st: &mut MasterState, agent_id: &str) {
        let Some(agent) = st.agents.remove(agent_id) else {
            return;
        };
        let now = now_secs();
        st.unreachable_agents
            .insert(agent_id.to_string(), (now, agent.info.clone()));
        let offers: Vec<String> = st
            .offers
            .values()
            .filter(|o| o.agent_id == agent_id)
            .map(|o| o.offer.id.value.clone())
            .collect();
        for id in offers {
            self.rescind_offer(st, &id);
        }
        let fw_ids: Vec<String> = st.frameworks.keys().cloned().collect();
        for fw_id in &fw_ids {
            let Some(fw) = st.frameworks.get_mut(fw_id) else {
                continue;
            };
            let pa = fw.has_capability(Cap::PartitionAware);
            let checkpoint = fw.info.checkpoint();
            let ids: Vec<String> = fw
                .tasks
                .values()
                .filter(|t| *t.agent_id == *agent_id)
                .map(|t| t.info.task_id.value.clone())
                .collect();
            let mut updates = Vec::new();
            for id in ids {
                let Some(mut t) = fw.tasks.remove(&id) else {
                    continue;
                };
                if !t.released {
                    fw.used = fw.used.minus(&t.resources);
                    t.released = true;
                }
                let mut s = if checkpoint {
                    let state = if pa {
                        TaskState::TaskUnreachable
                    } else {
                        TaskState::TaskLost
                    };
                    let mut s = master_status(
                        &id,
                        state,
                        task_status::Reason::ReasonAgentRemoved,
                        "health check timed out",
                        Some(agent_id),
                    );
                    s.unreachable_time = Some(TimeInfo {
                        nanoseconds: (now * 1e9) as i64,
                    });
                    s
                } else {
                    let msg = format!("Agent {} disconnected", agent.info.hostname);
                    master_status(
                        &id,
                        TaskState::TaskLost,
                        task_status::Reason::ReasonAgentDisconnected,
                        &msg,
                        Some(agent_id),
                    )
                };
                if let Some(e) = &t.executor_id {
                    s.executor_id = Some(ExecutorId { value: e.clone() });
                }
                t.state = s.state();
                t.statuses.push(Arc::new(s.clone()));
                completed_push(fw, t, self.cfg.bounds.max_completed_tasks_per_framework);
                updates.push(s);
            }
            let execs: Vec<(String, String)> = fw
                .executors
                .keys()
                .filter(|(a, _)| a == agent_id)
                .cloned()
                .collect();
            for k in execs {
                if let Some((_, r)) = fw.executors.remove(&k) {
                    fw.used = fw.used.minus(&r);
                }
            }
            for s in updates {
                self.send_update(st, fw_id, s);
            }
            let mut e = event_of(event::Type::Failure);
            e.failure = Some(event::Failure {
                agent_id: Some(AgentId {
                    value: agent_id.to_string(),
                }),
                ..Default::default()
            });
            self.send(st, fw_id, &e);
        }
    }
}

/// The "latest state" answer for a known task (§8 case 1).
fn latest_state_answer(t: &TaskEntry) -> TaskStatus {
    let base = t.last_forwarded.as_deref();
    let state = base.map_or(t.state, |s| s.state());
    let mut s = master_status(
        &t.info.task_id.value,
        state,
        task_status::Reason::ReasonReconciliation,
        "Reconciliation: Latest task state",
        Some(&t.agent_id),
    );
    if let Some(b) = base {
        s.healthy = b.healthy;
        s.check_status = b.check_status;
        s.container_status = b.container_status.clone();
    }
    if let Some(e) = &t.executor_id {
        s.executor_id = Some(ExecutorId { value: e.clone() });
    }
    s
}
