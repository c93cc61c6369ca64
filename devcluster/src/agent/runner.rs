//! The built-in executors, emulated inside the agent (§3.8, §3.5): the command executor
//! (one process per task: STARTING, RUNNING, then FINISHED/FAILED/KILLED), the default
//! executor for task groups (kills the whole group when one task fails), and the
//! simulated mode (no processes; FINISHED after a configured time).

use std::cmp::Reverse;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, task_status};

use super::{Agent, process, signal_name};

/// How a finished process maps to a terminal state (§3.8 step 3).
fn outcome(status: i32, killed: bool) -> (TaskState, String) {
    if status < 0 {
        return (
            TaskState::TaskFailed,
            "Failed to wait for the command".to_string(),
        );
    }
    let (code, sig) = process::decode_wait_status(status);
    if let Some(sig) = sig {
        let msg = format!("Command terminated with signal {}", signal_name(sig));
        return (
            if killed {
                TaskState::TaskKilled
            } else {
                TaskState::TaskFailed
            },
            msg,
        );
    }
    let msg = format!("Command exited with status {code}");
    if killed {
        (TaskState::TaskKilled, msg)
    } else if code == 0 {
        (TaskState::TaskFinished, msg)
    } else {
        (TaskState::TaskFailed, msg)
    }
}

impl Agent {
    fn update_from(&self, fw_id: &str, exec_id: &str, task_id: &str, state: TaskState, msg: &str) {
        let s = self.new_status(task_id, state, msg, Some(exec_id));
        let mut st = self.lock();
        self.handle_update(&mut st, fw_id, exec_id, s);
    }

    fn kill_requested(&self, fw_id: &str, exec_id: &str, task_id: &str) -> bool {
        self.lock()
            .frameworks
            .get(fw_id)
            .and_then(|f| f.executors.get(exec_id))
            .and_then(|e| e.tasks.get(task_id))
            .is_some_and(|t| t.kill_requested)
    }

    /// Runs one task's command in `dir`, reporting STARTING/RUNNING/terminal updates.
    /// Returns the terminal state.
    fn run_process(
        &self,
        fw_id: &str,
        exec_id: &str,
        task: &TaskInfo,
        fw: &FrameworkInfo,
        exec: &ExecutorInfo,
        dir: PathBuf,
    ) -> TaskState {
        let task_id = task.task_id.value.as_str();
        let uris = task
            .command
            .as_ref()
            .map(|c| c.uris.clone())
            .unwrap_or_default();
        if let Err(e) = super::fetcher::fetch_all(&uris, &dir) {
            let _ = process::append(&dir.join("stderr"), &format!("Failed to fetch URIs: {e}\n"));
            let mut s = self.new_status(
                task_id,
                TaskState::TaskFailed,
                &format!("Failed to fetch URIs: {e}"),
                None,
            );
            s.set_source(task_status::Source::SourceAgent);
            s.set_reason(task_status::Reason::ReasonContainerLaunchFailed);
            let mut st = self.lock();
            self.handle_update(&mut st, fw_id, exec_id, s);
            return TaskState::TaskFailed;
        }
        if self.kill_requested(fw_id, exec_id, task_id) {
            self.update_from(
                fw_id,
                exec_id,
                task_id,
                TaskState::TaskKilled,
                "Task killed before it was started",
            );
            return TaskState::TaskKilled;
        }
        let mut env = self.executor_env(fw, exec, &dir);
        let role = task
            .resources
            .first()
            .and_then(|r| r.allocation_info.as_ref())
            .and_then(|a| a.role.clone());
        env.insert(
            "MESOS_ALLOCATION_ROLE".into(),
            role.unwrap_or_else(|| "*".into()),
        );
        env.insert("MESOS_TASK_ID".into(), task_id.to_string());
        if let Some(vars) = task.command.as_ref().and_then(|c| c.environment.as_ref()) {
            for v in &vars.variables {
                env.insert(v.name.clone(), v.value.clone().unwrap_or_default());
            }
        }
        let cmd = task.command.clone().unwrap_or_default();
        let child = match process::spawn(&cmd, &dir, &env) {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("Failed to launch command: {e}");
                let _ = process::append(&dir.join("stderr"), &format!("{msg}\n"));
                self.update_from(fw_id, exec_id, task_id, TaskState::TaskFailed, &msg);
                return TaskState::TaskFailed;
            }
        };
        let pid = child.id();
        {
            let mut st = self.lock();
            st.pgids.insert(pid);
            super::checkpoint::record_process(&self.meta, pid);
            if let Some(t) = st
                .frameworks
                .get_mut(fw_id)
                .and_then(|f| f.executors.get_mut(exec_id))
                .and_then(|e| e.tasks.get_mut(task_id))
            {
                t.pid = Some(pid);
            }
        }
        if self.is_lost() {
            process::signal_group(pid, "KILL");
        }
        // The process exists before STARTING goes out, so both updates carry its pid as
        // `container_status.executor_pid` (the command executor's pid in real Mesos).
        self.update_from(fw_id, exec_id, task_id, TaskState::TaskStarting, "");
        self.update_from(fw_id, exec_id, task_id, TaskState::TaskRunning, "");
        // A kill that arrived between spawn and recording the pid.
        if self.kill_requested(fw_id, exec_id, task_id)
            && let Some(a) = self.arc()
        {
            process::terminate_with_grace(a, pid, self.cfg.kill_grace_period);
        }
        let status = process::wait(child);
        self.lock().pgids.remove(&pid);
        super::checkpoint::forget_process(&self.meta, pid);
        let (state, msg) = outcome(status, self.kill_requested(fw_id, exec_id, task_id));
        self.update_from(fw_id, exec_id, task_id, state, &msg);
        state
    }

    /// Starts a command task (its executor entry exists already).
    pub(crate) fn start_command_task(
        self: &Arc<Self>,
        fw_id: &str,
        exec_id: &str,
        task_id: &str,
        fw: &FrameworkInfo,
        exec: &ExecutorInfo,
        dir: PathBuf,
    ) {
        // Simulated tasks need no copy of their TaskInfo: they run nowhere.
        if self.cfg.simulate_tasks.is_some() {
            self.start_simulated_task(fw_id, exec_id, task_id);
            return;
        }
        let task = {
            let st = self.lock();
            st.frameworks
                .get(fw_id)
                .and_then(|f| f.executors.get(exec_id))
                .and_then(|e| e.tasks.get(task_id))
                .map(|t| t.info.clone())
        };
        let Some(task) = task else { return };
        let agent = self.clone();
        let (fw_id, exec_id, fw, exec) = (
            fw_id.to_string(),
            exec_id.to_string(),
            fw.clone(),
            exec.clone(),
        );
        std::thread::spawn(move || {
            agent.run_process(&fw_id, &exec_id, &task, &fw, &exec, dir);
        });
    }

    /// Simulated mode: STARTING and RUNNING now, FINISHED when the task's time is up.
    pub(crate) fn start_simulated_task(&self, fw_id: &str, exec_id: &str, task_id: &str) {
        let Some(d) = self.cfg.simulate_tasks else {
            return;
        };
        self.simulated_start(fw_id, exec_id, task_id, d);
    }

    /// A simulated task starts: STARTING and RUNNING, and its timer. Under one taking of
    /// the agent's lock (built before it): nothing a real executor does comes between.
    fn simulated_start(&self, fw_id: &str, exec_id: &str, task_id: &str, d: Duration) {
        let starting = self.new_status(task_id, TaskState::TaskStarting, "", Some(exec_id));
        let running = self.new_status(task_id, TaskState::TaskRunning, "", Some(exec_id));
        let ids = (fw_id.to_string(), exec_id.to_string(), task_id.to_string());
        let mut st = self.lock();
        self.handle_update(&mut st, fw_id, exec_id, starting);
        self.handle_update(&mut st, fw_id, exec_id, running);
        // Its time runs from RUNNING, as before.
        st.sim_timers
            .push(Reverse((Instant::now() + d, ids.0, ids.1, ids.2)));
    }

    /// Starts one task of a group on the (emulated) default executor.
    pub(crate) fn start_group_task(
        self: &Arc<Self>,
        fw_id: &str,
        exec_id: &str,
        fw: &FrameworkInfo,
        exec: &ExecutorInfo,
        task: TaskInfo,
        dir: PathBuf,
    ) {
        let task_id = task.task_id.value.clone();
        if let Some(d) = self.cfg.simulate_tasks {
            self.simulated_start(fw_id, exec_id, &task_id, d);
            return;
        }
        let agent = self.clone();
        let (fw_id, exec_id, fw, exec) = (
            fw_id.to_string(),
            exec_id.to_string(),
            fw.clone(),
            exec.clone(),
        );
        std::thread::spawn(move || {
            let task_dir = dir.join("tasks").join(&task_id);
            if std::fs::create_dir_all(&task_dir).is_err() {
                return;
            }
            for f in ["stdout", "stderr"] {
                let _ = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(task_dir.join(f));
            }
            let state = agent.run_process(&fw_id, &exec_id, &task, &fw, &exec, task_dir);
            agent.group_task_done(&fw_id, &exec_id, state);
        });
    }

    /// The default executor kills the group when a task fails, and exits when none is left.
    fn group_task_done(self: &Arc<Self>, fw_id: &str, exec_id: &str, state: TaskState) {
        let others: Vec<String> = {
            let st = self.lock();
            let Some(ex) = st
                .frameworks
                .get(fw_id)
                .and_then(|f| f.executors.get(exec_id))
            else {
                return;
            };
            ex.tasks
                .values()
                .filter(|t| !t.state.is_terminal())
                .map(|t| t.info.task_id.value.clone())
                .collect()
        };
        if state != TaskState::TaskFinished {
            for t in &others {
                self.kill_task(fw_id, t, None);
            }
        }
        if others.is_empty() {
            self.executor_terminated(fw_id, exec_id, 0);
        }
    }

    /// Simulated mode: tasks whose time is up finish.
    pub(crate) fn simulated_tick(&self) {
        if self.cfg.simulate_tasks.is_none() {
            return;
        }
        let now = Instant::now();
        loop {
            let due = {
                let mut st = self.lock();
                match st.sim_timers.peek() {
                    Some(Reverse((t, ..))) if *t <= now => st.sim_timers.pop().map(|Reverse(x)| x),
                    _ => None,
                }
            };
            let Some((_, fw_id, exec_id, task_id)) = due else {
                break;
            };
            self.update_from(
                &fw_id,
                &exec_id,
                &task_id,
                TaskState::TaskFinished,
                "Command exited with status 0",
            );
        }
    }

    /// Simulated mode: a kill ends the task at once.
    pub(crate) fn simulated_kill(&self, fw_id: &str, exec_id: &str, task_id: &str) {
        self.update_from(
            fw_id,
            exec_id,
            task_id,
            TaskState::TaskKilled,
            "Command terminated with signal Terminated",
        );
    }
}
