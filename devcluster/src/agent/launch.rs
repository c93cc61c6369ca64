//! Launching tasks and executors, killing and shutting them down.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::{
    CommandInfo, ExecutorId, ExecutorInfo, FrameworkInfo, TaskGroupInfo, TaskInfo, TaskState,
    executor_info,
};

use super::{Agent, AgentFramework, AgentState, AgentTask, ExecKind, Executor};
use crate::config::mesos_duration;

/// Whether an id can be a directory name inside the sandbox tree.
pub(crate) fn safe_component(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains('/') && !id.contains('\0')
}

impl Agent {
    pub(crate) fn new_task(info: impl Into<Arc<TaskInfo>>) -> Box<AgentTask> {
        Box::new(AgentTask {
            info: info.into(),
            state: TaskState::TaskStaging,
            pending: Default::default(),
            next_retry: None,
            backoff: Duration::ZERO,
            kill_requested: false,
            pid: None,
            record: None,
        })
    }

    /// A task to run: written down first when its framework asked for checkpointing,
    /// so that a restarted agent can report it (see `checkpoint.rs`).
    fn launched_task(
        &self,
        framework: &FrameworkInfo,
        exec_id: &str,
        kind: ExecKind,
        info: impl Into<Arc<TaskInfo>>,
    ) -> Box<AgentTask> {
        let info = info.into();
        let record = if framework.checkpoint() {
            super::checkpoint::record_task(&self.meta, framework, exec_id, kind, &info)
        } else {
            None
        };
        let mut task = Self::new_task(info);
        task.record = record;
        task
    }

    /// Creates the executor's run directory.
    fn sandbox(&self, fw_id: &str, exec_id: &str, container: &str) -> Result<PathBuf, String> {
        if !safe_component(fw_id) || !safe_component(exec_id) {
            return Err(format!("Invalid executor id '{exec_id}'"));
        }
        // Built in one buffer: eight `join`s would grow and copy it eight times, and this
        // runs for every task.
        let mut dir = PathBuf::with_capacity(
            self.work_dir.as_os_str().len()
                + self.id.len()
                + fw_id.len()
                + exec_id.len()
                + container.len()
                + 48,
        );
        dir.push(&self.work_dir);
        for part in [
            "slaves",
            self.id.as_str(),
            "frameworks",
            fw_id,
            "executors",
            exec_id,
            "runs",
            container,
        ] {
            dir.push(part);
        }
        // Simulated tasks run nowhere: no directories for 10,000 of them.
        if self.cfg.simulate_tasks.is_some() {
            return Ok(dir);
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("Failed to create sandbox: {e}"))?;
        for f in ["stdout", "stderr"] {
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(f));
        }
        Ok(dir)
    }

    /// The environment of §3.7 (plus `CommandInfo.environment`, highest priority).
    pub(crate) fn executor_env(
        &self,
        fw: &FrameworkInfo,
        exec: &ExecutorInfo,
        dir: &std::path::Path,
    ) -> BTreeMap<String, String> {
        let ip = self.cfg.ip.to_string();
        let port = self.addr().port();
        let dir = dir.display().to_string();
        let grace = exec
            .shutdown_grace_period
            .as_ref()
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(self.cfg.executor_shutdown_grace_period);
        let mut env = BTreeMap::new();
        let checkpoint = fw.checkpoint();
        for (k, v) in [
            (
                "MESOS_FRAMEWORK_ID",
                fw.id.as_ref().map(|i| i.value.clone()).unwrap_or_default(),
            ),
            ("MESOS_EXECUTOR_ID", exec.executor_id.value.clone()),
            ("MESOS_DIRECTORY", dir.clone()),
            ("MESOS_SANDBOX", dir),
            // `SocketAddr` puts an IPv6 address in brackets, as executors must read it.
            (
                "MESOS_AGENT_ENDPOINT",
                std::net::SocketAddr::new(self.cfg.ip, port).to_string(),
            ),
            ("MESOS_SLAVE_PID", format!("slave(1)@{ip}:{port}")),
            ("MESOS_SLAVE_ID", self.id.clone()),
            (
                "MESOS_CHECKPOINT",
                if checkpoint { "1" } else { "0" }.to_string(),
            ),
            ("MESOS_HTTP_COMMAND_EXECUTOR", "0".to_string()),
            (
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                mesos_duration(grace),
            ),
            ("LIBPROCESS_PORT", "0".to_string()),
            ("LIBPROCESS_IP", ip),
            (
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ),
        ] {
            env.insert(k.to_string(), v);
        }
        // As a Mesos agent passes its libprocess TLS settings down: the executor must
        // call this agent over https.
        if self.cfg.tls.is_some() {
            env.insert("LIBPROCESS_SSL_ENABLED".into(), "true".into());
            if let Some(ca) = &self.cfg.tls_ca_file {
                env.insert("LIBPROCESS_SSL_CA_FILE".into(), ca.display().to_string());
            }
        }
        if checkpoint {
            env.insert("MESOS_RECOVERY_TIMEOUT".into(), "15mins".into());
            env.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX".into(), "2secs".into());
        }
        if let Some(vars) = exec.command.as_ref().and_then(|c| c.environment.as_ref()) {
            for v in &vars.variables {
                env.insert(v.name.clone(), v.value.clone().unwrap_or_default());
            }
        }
        env
    }

    fn framework_entry<'a>(
        st: &'a mut AgentState,
        framework: &Arc<FrameworkInfo>,
    ) -> &'a mut AgentFramework {
        let id = framework.id.as_ref().map_or("", |i| i.value.as_str());
        // Looked up by &str first: `entry` would allocate the key on every launch.
        if !st.frameworks.contains_key(id) {
            st.frameworks.insert(
                id.to_string(),
                AgentFramework {
                    info: framework.clone(),
                    executors: BTreeMap::new(),
                    completed_executors: Default::default(),
                },
            );
        }
        let fw = st
            .frameworks
            .get_mut(id)
            .expect("the framework was inserted above");
        // Every launch carries the master's current FrameworkInfo (shared, so this is a
        // pointer copy): the agent keeps the latest.
        if !Arc::ptr_eq(&fw.info, framework) {
            fw.info = framework.clone();
        }
        fw
    }

    /// RunTask from the master.
    /// The task stays in the box it came in (a TaskInfo is about 2.7 KB).
    pub(crate) fn run_task(self: &Arc<Self>, framework: Arc<FrameworkInfo>, task: Arc<TaskInfo>) {
        // Both ids borrowed, not copied: from the framework, and from a second handle on
        // the task (which moves into the executor's map below).
        let fw_id = framework.id.as_ref().map_or("", |i| i.value.as_str());
        let task_held = Arc::clone(&task);
        let task_id = task_held.task_id.value.as_str();
        // Simulated mode runs every task like a command task, without processes.
        let (exec_info, kind) = match &task.executor {
            Some(e) if self.cfg.simulate_tasks.is_none() => (e.clone(), ExecKind::Custom),
            _ => (self.command_executor_info(fw_id, &task), ExecKind::Command),
        };
        let exec_id = exec_info.executor_id.value.clone();
        if let Some(reason) = unsupported_container(&task) {
            // Like a real agent started with only the Mesos containerizer:
            // the launch fails, and the agent says so in the update.
            let mut st = self.lock();
            Self::framework_entry(&mut st, &framework);
            drop(st);
            self.agent_failure(fw_id, &exec_id, Arc::unwrap_or_clone(task), &reason);
            return;
        }
        let mut st = self.lock();
        let fw = Self::framework_entry(&mut st, &framework);
        // The kind first: a command task always gets an executor of its own, and the
        // lookup (ids with long shared prefixes) is not free.
        if kind == ExecKind::Custom
            && let Some(ex) = fw.executors.get_mut(&exec_id).filter(|e| !e.terminated)
        {
            ex.tasks.insert(
                task_id.to_string(),
                self.launched_task(&framework, &exec_id, kind, task.clone()),
            );
            if let Some((tx, ct)) = &ex.sub {
                let e = super::executor_api::launch_event(&task);
                self.send_to_executor(fw_id, &exec_id, tx, *ct, &e);
            } else {
                ex.queued.push((*task).clone());
            }
            return;
        }
        let container = uuid::Uuid::new_v4().to_string();
        let dir = match self.sandbox(fw_id, &exec_id, &container) {
            Ok(d) => d,
            Err(e) => {
                drop(st);
                self.agent_failure(fw_id, &exec_id, Arc::unwrap_or_clone(task), &e);
                return;
            }
        };
        // A simulated command task starts without its ExecutorInfo: no copy of it then.
        let simulated = kind == ExecKind::Command && self.cfg.simulate_tasks.is_some();
        let start_info = (!simulated).then(|| exec_info.clone());
        let mut ex = Executor::starting(exec_info, kind, container, dir.clone());
        // Only a custom executor needs a second copy (queued until it subscribes).
        if kind == ExecKind::Custom {
            ex.queued.push((*task).clone());
        }
        ex.tasks.insert(
            task_id.to_string(),
            self.launched_task(&framework, &exec_id, kind, task),
        );
        fw.executors.insert(exec_id.clone(), ex);
        drop(st);
        match (kind, start_info) {
            (_, None) => self.start_simulated_task(fw_id, &exec_id, task_id),
            (ExecKind::Command, Some(exec_info)) => {
                self.start_command_task(fw_id, &exec_id, task_id, &framework, &exec_info, dir)
            }
            (_, Some(exec_info)) => {
                self.start_custom_executor(fw_id, &exec_id, &framework, &exec_info, dir)
            }
        }
    }

    /// The ExecutorInfo the agent synthesizes for a command task (§3.8).
    fn command_executor_info(&self, fw_id: &str, task: &TaskInfo) -> ExecutorInfo {
        let value = task
            .command
            .as_ref()
            .and_then(|c| c.value.as_deref())
            .unwrap_or_default();
        let name = command_executor_name(&task.task_id.value, value);
        let mut cmd = CommandInfo {
            uris: task
                .command
                .as_ref()
                .map(|c| c.uris.clone())
                .unwrap_or_default(),
            ..Default::default()
        };
        cmd.environment = task.command.as_ref().and_then(|c| c.environment.clone());
        let mut e = ExecutorInfo {
            executor_id: ExecutorId {
                value: task.task_id.value.clone(),
            },
            framework_id: Some(mesos_proto::v1::FrameworkId {
                value: fw_id.to_string(),
            }),
            command: Some(cmd),
            name: Some(name),
            source: Some(task.task_id.value.clone()),
            labels: task.labels.clone(),
            ..Default::default()
        };
        e.set_type(executor_info::Type::Custom);
        e
    }

    /// RunTaskGroup from the master.
    pub(crate) fn run_task_group(
        self: &Arc<Self>,
        framework: Arc<FrameworkInfo>,
        executor: ExecutorInfo,
        group: TaskGroupInfo,
    ) {
        let fw_id = framework
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let exec_id = executor.executor_id.value.clone();
        let kind = if executor.r#type() == executor_info::Type::Default {
            ExecKind::Default
        } else {
            ExecKind::Custom
        };
        let mut st = self.lock();
        let fw = Self::framework_entry(&mut st, &framework);
        let existing = fw.executors.get(&exec_id).is_some_and(|e| !e.terminated);
        if !existing {
            let container = uuid::Uuid::new_v4().to_string();
            let dir = match self.sandbox(&fw_id, &exec_id, &container) {
                Ok(d) => d,
                Err(e) => {
                    drop(st);
                    for t in group.tasks {
                        self.agent_failure(&fw_id, &exec_id, t, &e);
                    }
                    return;
                }
            };
            let fw = Self::framework_entry(&mut st, &framework);
            fw.executors.insert(
                exec_id.clone(),
                Executor::starting(executor.clone(), kind, container, dir),
            );
        }
        let fw = Self::framework_entry(&mut st, &framework);
        let Some(ex) = fw.executors.get_mut(&exec_id) else {
            return;
        };
        for t in &group.tasks {
            let task = self.launched_task(&framework, &exec_id, kind, t.clone());
            ex.tasks.insert(t.task_id.value.clone(), task);
        }
        let dir = ex.directory.clone();
        match kind {
            ExecKind::Custom => {
                if let Some((tx, ct)) = &ex.sub {
                    let e = super::executor_api::launch_group_event(&group);
                    self.send_to_executor(&fw_id, &exec_id, tx, *ct, &e);
                } else {
                    ex.queued_groups.push(group);
                }
                drop(st);
                if !existing {
                    self.start_custom_executor(&fw_id, &exec_id, &framework, &executor, dir);
                }
            }
            _ => {
                drop(st);
                for t in group.tasks {
                    self.start_group_task(&fw_id, &exec_id, &framework, &executor, t, dir.clone());
                }
            }
        }
    }
}

/// The name a Mesos agent gives a command task's executor: the task id and the first 12
/// characters of the command. Built in one buffer, borrowing the command (`format!` and a
/// collected prefix cost two passes and a copy, for every command task).
fn command_executor_name(task_id: &str, command: &str) -> String {
    let short = command
        .char_indices()
        .nth(12)
        .map_or(command, |(end, _)| &command[..end]);
    let mut name = String::with_capacity(task_id.len() + short.len() + 48);
    for part in [
        "Command Executor (Task: ",
        task_id,
        ") (Command: sh -c '",
        short,
        "...')",
    ] {
        name.push_str(part);
    }
    name
}

/// Why this agent cannot run the task's container, if it cannot: devcluster
/// has no Docker engine (the Mesos containerizer only, without images), as an
/// agent started with `--containerizers=mesos` on a machine without Docker.
fn unsupported_container(task: &TaskInfo) -> Option<String> {
    use mesos_proto::v1::container_info::Type;
    let containers = [
        task.container.as_ref(),
        task.executor.as_ref().and_then(|e| e.container.as_ref()),
    ];
    containers.into_iter().flatten().find_map(|c| {
        (c.r#type() == Type::Docker).then(|| {
            let image = c.docker.as_ref().map(|d| d.image.as_str()).unwrap_or("?");
            format!(
                "Failed to launch container: container type DOCKER (image '{image}') is not \
                 supported: this agent runs only the Mesos containerizer"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::command_executor_name;

    #[test]
    fn command_executor_names_keep_twelve_characters() {
        assert_eq!(
            command_executor_name("t1", "sleep 1000; echo done"),
            "Command Executor (Task: t1) (Command: sh -c 'sleep 1000; ...')"
        );
        assert_eq!(
            command_executor_name("t2", "true"),
            "Command Executor (Task: t2) (Command: sh -c 'true...')"
        );
        // Characters, not bytes: a multi-byte command is cut on a character boundary.
        assert_eq!(
            command_executor_name("t3", "échoéchoéchoécho"),
            "Command Executor (Task: t3) (Command: sh -c 'échoéchoécho...')"
        );
        assert_eq!(
            command_executor_name("t4", ""),
            "Command Executor (Task: t4) (Command: sh -c '...')"
        );
    }
}
