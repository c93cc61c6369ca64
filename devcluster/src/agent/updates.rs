//! Reliable status updates (§3.4): per task, one update outstanding at the master at a
//! time; it is resent (backoff from `status_update_retry`, doubling, capped at 10 min)
//! until the scheduler's acknowledgement comes back, then the next one goes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_proto::v1::{
    AgentId, ContainerId, ContainerStatus, ExecutorId, NetworkInfo, TaskId, TaskState, TaskStatus,
    network_info, task_status,
};

use super::{Agent, AgentState, ExecKind};
use crate::master::now_secs;
use crate::messages::ToMaster;

const MAX_BACKOFF: Duration = Duration::from_secs(600);

impl Agent {
    /// A status as the built-in executors send it (source executor, fresh uuid).
    pub(crate) fn new_status(
        &self,
        task_id: &str,
        state: TaskState,
        message: &str,
        exec_id: Option<&str>,
    ) -> TaskStatus {
        let mut s = TaskStatus {
            task_id: TaskId {
                value: task_id.to_string(),
            },
            message: (!message.is_empty()).then(|| message.to_string()),
            executor_id: exec_id.map(|e| ExecutorId {
                value: e.to_string(),
            }),
            uuid: Some(mesos_proto::uuid::new_v4()),
            ..Default::default()
        };
        s.set_state(state);
        s.set_source(task_status::Source::SourceExecutor);
        s
    }

    /// Takes an update (from an executor or the agent itself): fills in what the agent
    /// adds, records the state, queues it and forwards it if nothing is outstanding.
    pub(crate) fn handle_update(
        &self,
        st: &mut AgentState,
        fw_id: &str,
        exec_id: &str,
        mut s: TaskStatus,
    ) {
        // One walk down framework -> executor -> task (ids with long shared prefixes make
        // every B-tree step a few `memcmp`s; this runs for every update of every task).
        let removed = st.removed.contains(fw_id);
        let Some(ex) = st
            .frameworks
            .get_mut(fw_id)
            .and_then(|f| f.executors.get_mut(exec_id))
        else {
            return;
        };
        let ex_pid = ex.pid;
        let container = &ex.container_id;
        let Some(task) = ex.tasks.get_mut(&s.task_id.value) else {
            return;
        };
        // Duplicates (same uuid) and a second terminal update are dropped.
        if task.pending.iter().any(|p| p.uuid == s.uuid) {
            return;
        }
        if task.state.is_terminal() && s.state().is_terminal() {
            return;
        }
        if s.agent_id.is_none() {
            s.agent_id = Some(AgentId {
                value: self.id.clone(),
            });
        }
        if s.timestamp.is_none() {
            s.timestamp = Some(now_secs());
        }
        if s.container_status.is_none() && !container.is_empty() {
            let mut ip = network_info::IpAddress {
                ip_address: Some(self.ip_text.clone()),
                ..Default::default()
            };
            ip.set_protocol(network_info::Protocol::IPv4);
            s.container_status = Some(ContainerStatus {
                container_id: Some(ContainerId {
                    value: container.clone(),
                    parent: None,
                }),
                network_infos: vec![NetworkInfo {
                    ip_addresses: vec![ip],
                    ..Default::default()
                }],
                executor_pid: ex_pid.or(task.pid),
                ..Default::default()
            });
        }
        if !task.state.is_terminal() {
            task.state = s.state();
        }
        // Nobody will acknowledge updates of a removed framework: keep only the state.
        if removed {
            if ex.kind == ExecKind::Command && ex.tasks.values().all(|t| t.state.is_terminal()) {
                ex.terminated = true;
            }
            self.maybe_complete_executor(st, fw_id, exec_id);
            return;
        }
        task.pending.push_back(Arc::new(s));
        if task.pending.len() == 1 {
            let front = task.pending[0].clone();
            let latest = task.state as i32;
            task.backoff = self.cfg.status_update_retry;
            task.next_retry = Some(Instant::now() + task.backoff);
            self.to_master(ToMaster::StatusUpdate {
                framework_id: fw_id.to_string(),
                status: front,
                latest_state: latest,
            });
        }
    }

    /// The scheduler acknowledged `uuid` for `task_id`.
    pub(crate) fn acknowledge(&self, fw_id: &str, task_id: &str, uuid: &[u8]) {
        let mut st = self.lock();
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        // A command task's executor has the task's id: look there first instead of
        // searching every executor (this runs for every acknowledgement).
        let exec_id = if fw
            .executors
            .get(task_id)
            .is_some_and(|e| e.tasks.contains_key(task_id))
        {
            task_id.to_string()
        } else {
            let Some(id) = fw
                .executors
                .iter()
                .find(|(_, e)| e.tasks.contains_key(task_id))
                .map(|(id, _)| id.clone())
            else {
                return;
            };
            id
        };
        let Some(ex) = fw.executors.get_mut(&exec_id) else {
            return;
        };
        let Some(task) = ex.tasks.get_mut(task_id) else {
            return;
        };
        if task.pending.front().and_then(|s| s.uuid.as_deref()) != Some(uuid) {
            return;
        }
        task.pending.pop_front();
        if let Some(next) = task.pending.front().cloned() {
            let latest = task.state as i32;
            task.backoff = self.cfg.status_update_retry;
            task.next_retry = Some(Instant::now() + task.backoff);
            self.to_master(ToMaster::StatusUpdate {
                framework_id: fw_id.to_string(),
                status: next,
                latest_state: latest,
            });
            return;
        }
        task.next_retry = None;
        if task.state.is_terminal() {
            if let Some(t) = ex.tasks.remove(task_id) {
                if let Some(r) = &t.record {
                    super::checkpoint::forget_task(r);
                }
                ex.completed_tasks.push(t.info);
                cap_front(
                    &mut ex.completed_tasks,
                    self.cfg.bounds.max_completed_tasks_per_executor,
                );
            }
            if ex.kind == ExecKind::Command && ex.tasks.is_empty() {
                // The command executor exits once its terminal update is acknowledged.
                ex.terminated = true;
            }
            self.maybe_complete_executor(&mut st, fw_id, &exec_id);
        }
    }

    /// Moves a terminated executor without pending updates to the completed list.
    pub(crate) fn maybe_complete_executor(&self, st: &mut AgentState, fw_id: &str, exec_id: &str) {
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        let done = fw.executors.get(exec_id).is_some_and(|e| {
            e.terminated
                && e.tasks
                    .values()
                    .all(|t| t.pending.is_empty() && t.state.is_terminal())
        });
        if done && let Some(mut ex) = fw.executors.remove(exec_id) {
            let infos: Vec<_> = std::mem::take(&mut ex.tasks)
                .into_values()
                .map(|t| {
                    if let Some(r) = &t.record {
                        super::checkpoint::forget_task(r);
                    }
                    t.info
                })
                .collect();
            ex.completed_tasks.extend(infos);
            let bounds = &self.cfg.bounds;
            cap_front(
                &mut ex.completed_tasks,
                bounds.max_completed_tasks_per_executor,
            );
            // A finished executor keeps no stream and no queue.
            ex.sub = None;
            ex.queued = Vec::new();
            ex.queued_groups = Vec::new();
            fw.completed_executors.push_back(ex);
            while fw.completed_executors.len() > bounds.max_completed_executors_per_framework {
                fw.completed_executors.pop_front();
            }
        }
        // A removed framework leaves the agent with its last executor.
        // A removed framework leaves the agent with its last executor, for the completed
        // list (Mesos keeps 50 completed frameworks).
        if st.removed.contains(fw_id)
            && st
                .frameworks
                .get(fw_id)
                .is_some_and(|f| f.executors.is_empty())
            && let Some(fw) = st.frameworks.remove(fw_id)
        {
            st.completed_frameworks.push_back((fw_id.to_string(), fw));
            while st.completed_frameworks.len() > super::MAX_COMPLETED_FRAMEWORKS {
                st.completed_frameworks.pop_front();
            }
        }
    }

    /// Resends outstanding updates whose retry time has come.
    pub(crate) fn retry_updates(&self) {
        let now = Instant::now();
        let mut st = self.lock();
        let mut out = Vec::new();
        for (fw_id, fw) in st.frameworks.iter_mut() {
            for ex in fw.executors.values_mut() {
                for t in ex.tasks.values_mut() {
                    if t.next_retry.is_some_and(|r| r <= now)
                        && let Some(front) = t.pending.front()
                    {
                        out.push((fw_id.clone(), front.clone(), t.state as i32));
                        t.backoff = (t.backoff * 2).min(MAX_BACKOFF);
                        t.next_retry = Some(now + t.backoff);
                    }
                }
            }
        }
        drop(st);
        for (framework_id, status, latest_state) in out {
            self.to_master(ToMaster::StatusUpdate {
                framework_id,
                status,
                latest_state,
            });
        }
    }

    /// Resends every outstanding update (of one framework) now, e.g. after it resubscribed.
    pub(crate) fn resend_updates(&self, fw_filter: Option<&str>) {
        let st = self.lock();
        let mut out = Vec::new();
        for (fw_id, fw) in st
            .frameworks
            .iter()
            .filter(|(id, _)| fw_filter.is_none_or(|f| f == id.as_str()))
        {
            for ex in fw.executors.values() {
                for t in ex.tasks.values() {
                    if let Some(front) = t.pending.front() {
                        out.push((fw_id.clone(), front.clone(), t.state as i32));
                    }
                }
            }
        }
        drop(st);
        for (framework_id, status, latest_state) in out {
            self.to_master(ToMaster::StatusUpdate {
                framework_id,
                status,
                latest_state,
            });
        }
    }
}

/// Drops the oldest entries of `list` beyond `max`.
fn cap_front<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.drain(..list.len() - max);
    }
}
