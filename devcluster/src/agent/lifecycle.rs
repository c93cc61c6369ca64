//! Executor lifecycle: starting custom executors, their termination, kills, shutdowns
//! and the registration timeout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::{
    ExecutorId, ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo, TaskState, task_status,
};

use super::{Agent, ExecKind, Executor, process};
use crate::messages::ToMaster;

impl Agent {
    pub(crate) fn start_custom_executor(
        self: &Arc<Self>,
        fw_id: &str,
        exec_id: &str,
        fw: &FrameworkInfo,
        exec: &ExecutorInfo,
        dir: PathBuf,
    ) {
        let agent = self.clone();
        let (fw_id, exec_id, fw, exec) = (
            fw_id.to_string(),
            exec_id.to_string(),
            fw.clone(),
            exec.clone(),
        );
        std::thread::spawn(move || {
            let cmd = exec.command.clone().unwrap_or_default();
            if let Err(e) = super::fetcher::fetch_all(&cmd.uris, &dir) {
                let _ =
                    process::append(&dir.join("stderr"), &format!("Failed to fetch URIs: {e}\n"));
                agent.executor_terminated(&fw_id, &exec_id, -1);
                return;
            }
            let env = agent.executor_env(&fw, &exec, &dir);
            let child = match process::spawn(&cmd, &dir, &env) {
                Ok(c) => c,
                Err(e) => {
                    let _ = process::append(
                        &dir.join("stderr"),
                        &format!("Failed to launch executor: {e}\n"),
                    );
                    agent.executor_terminated(&fw_id, &exec_id, -1);
                    return;
                }
            };
            let pid = child.id();
            {
                let mut st = agent.lock();
                st.pgids.insert(pid);
                super::checkpoint::record_process(&agent.meta, pid);
                if let Some(ex) = st
                    .frameworks
                    .get_mut(&fw_id)
                    .and_then(|f| f.executors.get_mut(&exec_id))
                {
                    ex.pid = Some(pid);
                }
            }
            if agent.is_lost() {
                process::signal_group(pid, "KILL");
            }
            let status = process::wait(child);
            agent.lock().pgids.remove(&pid);
            super::checkpoint::forget_process(&agent.meta, pid);
            agent.executor_terminated(&fw_id, &exec_id, status);
        });
    }

    /// A custom or default executor ended with wait status `status`.
    pub(crate) fn executor_terminated(&self, fw_id: &str, exec_id: &str, status: i32) {
        let mut st = self.lock();
        let Some(ex) = st
            .frameworks
            .get_mut(fw_id)
            .and_then(|f| f.executors.get_mut(exec_id))
        else {
            return;
        };
        if ex.terminated {
            return;
        }
        ex.terminated = true;
        ex.sub = None;
        let (reason, message) = if ex.registration_timed_out {
            (
                task_status::Reason::ReasonExecutorRegistrationTimeout,
                "Executor did not register within the timeout".to_string(),
            )
        } else {
            (
                task_status::Reason::ReasonExecutorTerminated,
                "Executor terminated".to_string(),
            )
        };
        let live: Vec<String> = ex
            .tasks
            .values()
            .filter(|t| !t.state.is_terminal())
            .map(|t| t.info.task_id.value.clone())
            .collect();
        let kind = ex.kind;
        for t in live {
            let mut s = self.new_status(&t, TaskState::TaskFailed, &message, None);
            s.set_source(task_status::Source::SourceAgent);
            s.set_reason(reason);
            s.executor_id = Some(ExecutorId {
                value: exec_id.to_string(),
            });
            self.handle_update(&mut st, fw_id, exec_id, s);
        }
        self.maybe_complete_executor(&mut st, fw_id, exec_id);
        drop(st);
        self.to_master(ToMaster::ExecutorExited {
            framework_id: fw_id.to_string(),
            agent_id: self.id.clone(),
            executor_id: exec_id.to_string(),
            status,
            notify: kind != ExecKind::Command,
        });
    }

    /// A launch failed before any executor ran: TASK_FAILED from the agent.
    pub(crate) fn agent_failure(&self, fw_id: &str, exec_id: &str, task: TaskInfo, msg: &str) {
        let mut st = self.lock();
        let task_id = task.task_id.value.clone();
        if let Some(fw) = st.frameworks.get_mut(fw_id) {
            let ex = fw.executors.entry(exec_id.to_string()).or_insert_with(|| {
                Executor::ended(task.executor.clone().unwrap_or_default(), ExecKind::Command)
            });
            ex.tasks.insert(task_id.clone(), Self::new_task(task));
        }
        let mut s = self.new_status(&task_id, TaskState::TaskFailed, msg, None);
        s.set_source(task_status::Source::SourceAgent);
        s.set_reason(task_status::Reason::ReasonContainerLaunchFailed);
        self.handle_update(&mut st, fw_id, exec_id, s);
    }

    /// KillTask from the master.
    pub(crate) fn kill_task(
        self: &Arc<Self>,
        fw_id: &str,
        task_id: &str,
        policy: Option<KillPolicy>,
    ) {
        let mut st = self.lock();
        let killing_state = st
            .frameworks
            .get(fw_id)
            .is_some_and(|f| crate::master::has_capability(&f.info, Cap::TaskKillingState));
        let Some(fw) = st.frameworks.get_mut(fw_id) else {
            return;
        };
        let Some((exec_id, ex)) = fw
            .executors
            .iter_mut()
            .find(|(_, e)| e.tasks.contains_key(task_id))
        else {
            return;
        };
        let exec_id = exec_id.clone();
        let kind = ex.kind;
        let Some(task) = ex.tasks.get_mut(task_id) else {
            return;
        };
        if task.state.is_terminal() {
            return;
        }
        match kind {
            ExecKind::Custom => {
                if let Some(pos) = ex.queued.iter().position(|t| t.task_id.value == task_id) {
                    ex.queued.remove(pos);
                    let mut s = self.new_status(
                        task_id,
                        TaskState::TaskKilled,
                        "Killed before delivery to the executor",
                        None,
                    );
                    s.set_source(task_status::Source::SourceAgent);
                    s.set_reason(task_status::Reason::ReasonTaskKilledDuringLaunch);
                    self.handle_update(&mut st, fw_id, &exec_id, s);
                    // As Mesos (MESOS-8411): an executor that has not subscribed yet and has
                    // just lost its last task would otherwise wait for work that never
                    // comes; it is shut down (its SUBSCRIBE will get SHUTDOWN).
                    let idle = st
                        .frameworks
                        .get(fw_id)
                        .and_then(|f| f.executors.get(&exec_id))
                        .is_some_and(|e| {
                            e.sub.is_none()
                                && e.queued.is_empty()
                                && e.queued_groups.is_empty()
                                && e.tasks.values().all(|t| t.state.is_terminal())
                        });
                    if idle {
                        drop(st);
                        self.shutdown_executor(fw_id, &exec_id);
                    }
                } else if let Some((tx, ct)) = &ex.sub {
                    let e = super::executor_api::kill_event(task_id, policy);
                    self.send_to_executor(fw_id, &exec_id, tx, *ct, &e);
                }
            }
            ExecKind::Command | ExecKind::Default => {
                let grace = policy
                    .or(task.info.kill_policy)
                    .and_then(|p| p.grace_period)
                    .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
                    .unwrap_or(self.cfg.kill_grace_period);
                let first = !task.kill_requested;
                task.kill_requested = true;
                let pid = task.pid;
                if first && killing_state && task.state == TaskState::TaskRunning {
                    let s = self.new_status(task_id, TaskState::TaskKilling, "", Some(&exec_id));
                    self.handle_update(&mut st, fw_id, &exec_id, s);
                }
                drop(st);
                if self.cfg.simulate_tasks.is_some() {
                    self.simulated_kill(fw_id, &exec_id, task_id);
                } else if let Some(pid) = pid {
                    process::terminate_with_grace(self.clone(), pid, grace);
                }
            }
        }
    }

    /// ShutdownExecutor from the master.
    pub(crate) fn shutdown_executor(self: &Arc<Self>, fw_id: &str, exec_id: &str) {
        let mut st = self.lock();
        let Some(ex) = st
            .frameworks
            .get_mut(fw_id)
            .and_then(|f| f.executors.get_mut(exec_id))
        else {
            return;
        };
        if ex.terminated || ex.shutting_down {
            return;
        }
        ex.shutting_down = true;
        let grace = ex
            .info
            .shutdown_grace_period
            .as_ref()
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(self.cfg.executor_shutdown_grace_period);
        match ex.kind {
            ExecKind::Custom => {
                let pid = ex.pid;
                if let Some((tx, ct)) = ex.sub.take() {
                    let e = super::executor_api::event_of(
                        mesos_proto::v1::executor::event::Type::Shutdown,
                    );
                    self.send_to_executor(fw_id, exec_id, &tx, ct, &e);
                    // Keep the stream open so the executor can still send its updates.
                    ex.sub = Some((tx, ct));
                }
                drop(st);
                match pid {
                    Some(pid) => process::kill_after(self.clone(), pid, grace),
                    None => {
                        // Never started (or still fetching): nothing to wait for.
                        self.executor_terminated(fw_id, exec_id, -1);
                    }
                }
            }
            _ => {
                let tasks: Vec<String> = ex.tasks.keys().cloned().collect();
                drop(st);
                for t in tasks {
                    let policy = KillPolicy {
                        grace_period: Some(mesos_proto::v1::DurationInfo {
                            nanoseconds: grace.saturating_sub(Duration::from_secs(2)).as_nanos()
                                as i64,
                        }),
                    };
                    self.kill_task(fw_id, &t, Some(policy));
                }
            }
        }
    }

    /// Custom executors that never subscribed within the registration timeout are killed.
    pub(crate) fn registration_timeouts(self: &Arc<Self>) {
        let timeout = self.cfg.executor_registration_timeout;
        let mut victims = Vec::new();
        {
            let mut st = self.lock();
            for fw in st.frameworks.values_mut() {
                for ex in fw.executors.values_mut() {
                    if ex.kind == ExecKind::Custom
                        && !ex.subscribed_ever
                        && !ex.terminated
                        && !ex.registration_timed_out
                        && ex.launched.elapsed() > timeout
                    {
                        ex.registration_timed_out = true;
                        if let Some(p) = ex.pid {
                            victims.push(p);
                        }
                    }
                }
            }
        }
        for p in victims {
            process::signal_group(p, "KILL");
        }
    }
}
