//! Building `TaskInfo`, `ExecutorInfo` and `CommandInfo` without the
//! protobuf noise; unique task ids; the default user.
//!
//! A task runs either a shell command under Mesos' built-in command executor
//! ([`TaskBuilder::command`]) or on an executor you supply
//! ([`TaskBuilder::executor`] with an [`ExecutorBuilder::custom`]). The
//! agent fetches the executor program first, through the URIs of its
//! `CommandInfo` ([`uri`]); [`ArtifactServer`](crate::artifact::ArtifactServer)
//! can serve a local file for that.
//!
//! A task is built from the offer it will use, so it always has its agent
//! and [`TaskBuilder::build`] cannot fail:
//!
//! ```
//! use mesos_client::tasks::{TaskBuilder, TaskIdGenerator};
//! use mesos_client::resources::scalar;
//! use mesos_proto::v1::{AgentId, Offer};
//!
//! # let offer = Offer { agent_id: AgentId { value: "S0".into() }, ..Default::default() };
//! let ids = TaskIdGenerator::new("hello");
//! let task = TaskBuilder::command(&offer, "echo hi")
//!     .task_id(ids.next_id())
//!     .resources(vec![scalar("cpus", 0.1), scalar("mem", 32.0)])
//!     .build();
//! assert!(task.task_id.value.starts_with("hello-"));
//! assert_eq!(task.name, task.task_id.value);
//! assert_eq!(task.agent_id.value, "S0");
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mesos_proto::v1::{
    AgentId, CommandInfo, ContainerInfo, DurationInfo, Environment, ExecutorId, ExecutorInfo,
    FrameworkId, KillPolicy, Label, Labels, Offer, Resource, TaskId, TaskInfo, TaskState,
    TaskStatus, command_info, environment, executor_info,
};

use crate::error::{Error, Result};

/// Builds a [`TaskInfo`]. Start with [`command`](Self::command) or
/// [`executor`](Self::executor), which take the offer the task will use
/// (and so its agent), add resources, then [`build`](Self::build).
#[derive(Clone, Debug)]
pub struct TaskBuilder {
    task: TaskInfo,
}

impl TaskBuilder {
    /// A task on `offer`'s agent that runs `shell_command` with `/bin/sh -c`
    /// under the built-in command executor (or, in a task group, under the
    /// group's executor).
    pub fn command(offer: &Offer, shell_command: &str) -> TaskBuilder {
        TaskBuilder::command_info(offer, self::shell_command(shell_command))
    }

    /// A task on `offer`'s agent for the command executor with a
    /// `CommandInfo` you built (e.g. with [`exec_command`] and [`uri`]s).
    pub fn command_info(offer: &Offer, command: CommandInfo) -> TaskBuilder {
        TaskBuilder {
            task: TaskInfo {
                command: Some(command),
                agent_id: offer.agent_id.clone(),
                ..Default::default()
            },
        }
    }

    /// A task on `offer`'s agent for a custom executor. Tasks that name the
    /// same executor id (with the same `ExecutorInfo`) share one executor
    /// process.
    pub fn executor(offer: &Offer, executor: ExecutorInfo) -> TaskBuilder {
        TaskBuilder {
            task: TaskInfo {
                executor: Some(executor),
                agent_id: offer.agent_id.clone(),
                ..Default::default()
            },
        }
    }

    /// The task's name, shown in the UI and logs. Default: its id.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.task.name = name.into();
        self
    }

    /// The task id as text. Must be unique within the framework.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.task.task_id = TaskId { value: id.into() };
        self
    }

    /// The task id (e.g. from [`TaskIdGenerator::next_id`]).
    pub fn task_id(mut self, id: TaskId) -> Self {
        self.task.task_id = id;
        self
    }

    /// Another agent than the offer's (rare: only for tests that make up
    /// offers, or tasks sent back with a changed offer).
    pub fn agent(mut self, agent_id: &AgentId) -> Self {
        self.task.agent_id = agent_id.clone();
        self
    }

    /// The resources, best cut out of the offer with
    /// [`RemainingResources::take`](crate::offers::RemainingResources::take).
    pub fn resources(mut self, resources: Vec<Resource>) -> Self {
        self.task.resources = resources;
        self
    }

    /// Opaque bytes for the executor (`TaskInfo.data`).
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.task.data = Some(data.into());
        self
    }

    /// Adds a key/value label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        push_label(&mut self.task.labels, key, value);
        self
    }

    /// How long a kill waits between SIGTERM and SIGKILL (command executor;
    /// custom executors get it in `TaskInfo.kill_policy`). Mesos default 3 s.
    pub fn kill_grace_period(mut self, grace: Duration) -> Self {
        self.task.kill_policy = Some(KillPolicy {
            grace_period: Some(duration_info(grace)),
        });
        self
    }

    /// A container description (image, volumes, ...).
    pub fn container(mut self, container: ContainerInfo) -> Self {
        self.task.container = Some(container);
        self
    }

    /// The `TaskInfo`. A missing id is generated (`task-<n>`), a missing
    /// name is the id. The agent is the offer's, so nothing can be missing.
    pub fn build(mut self) -> TaskInfo {
        if self.task.task_id.value.is_empty() {
            self.task.task_id = TaskIdGenerator::new("task").next_id();
        }
        if self.task.name.is_empty() {
            self.task.name = self.task.task_id.value.clone();
        }
        self.task
    }
}

/// Builds an [`ExecutorInfo`] for a custom executor.
#[derive(Clone, Debug, Default)]
pub struct ExecutorBuilder {
    info: ExecutorInfo,
}

impl ExecutorBuilder {
    /// Mesos' built-in default executor (type `DEFAULT`), which runs the
    /// command tasks of a task group
    /// ([`SchedulerHandle::launch_group`](crate::SchedulerHandle::launch_group)).
    /// It needs resources of its own, like any executor, and Mesos wants
    /// `disk` among them, not only `cpus` and `mem`
    /// ([`resources`](Self::resources); fact sheet §3.5).
    pub fn default_executor(id: impl Into<String>) -> ExecutorBuilder {
        let mut info = ExecutorInfo {
            executor_id: ExecutorId { value: id.into() },
            ..Default::default()
        };
        info.set_type(executor_info::Type::Default);
        ExecutorBuilder { info }
    }

    /// A `CUSTOM` executor with id `id` that the agent starts with
    /// `command`. Add the program with [`uri`](Self::uri) if the agent does
    /// not have it already.
    pub fn custom(id: impl Into<String>, command: CommandInfo) -> ExecutorBuilder {
        let mut info = ExecutorInfo {
            executor_id: ExecutorId { value: id.into() },
            command: Some(command),
            ..Default::default()
        };
        info.set_type(executor_info::Type::Custom);
        ExecutorBuilder { info }
    }

    /// A human-readable name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.info.name = Some(name.into());
        self
    }

    /// Something for the agent to fetch into the sandbox before starting
    /// the executor (see [`uri`]).
    pub fn uri(mut self, uri: command_info::Uri) -> Self {
        self.info
            .command
            .get_or_insert_with(Default::default)
            .uris
            .push(uri);
        self
    }

    /// Sets an environment variable for the executor process.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        let command = self.info.command.get_or_insert_with(Default::default);
        push_env(command, name, value);
        self
    }

    /// The executor's own resources (on top of its tasks'). Mesos asks for
    /// some: e.g. 0.1 cpus and 32 MB, the command executor's overhead.
    pub fn resources(mut self, resources: Vec<Resource>) -> Self {
        self.info.resources = resources;
        self
    }

    /// The framework id. Unset is fine: for a LAUNCH the master fills it in,
    /// and for a LAUNCH_GROUP (where Mesos requires it)
    /// [`SchedulerHandle::launch_group`](crate::SchedulerHandle::launch_group) does.
    pub fn framework_id(mut self, id: &FrameworkId) -> Self {
        self.info.framework_id = Some(id.clone());
        self
    }

    /// How long the agent waits after SHUTDOWN before killing the executor
    /// (the agent's default is 5 s).
    pub fn shutdown_grace_period(mut self, grace: Duration) -> Self {
        self.info.shutdown_grace_period = Some(duration_info(grace));
        self
    }

    /// Adds a key/value label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        push_label(&mut self.info.labels, key, value);
        self
    }

    /// Opaque bytes the executor receives in `SUBSCRIBED.executor_info.data`.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.info.data = Some(data.into());
        self
    }

    /// The `ExecutorInfo`.
    pub fn build(self) -> ExecutorInfo {
        self.info
    }
}

/// Checks a status update against the ends a framework expects of its task:
/// `Ok(())` while the task has not ended, and when it ended in one of
/// `expected`; [`Error::UnexpectedTaskState`] (task id, state, source,
/// reason and message) when it ended in any other state.
///
/// One line in [`Scheduler::update`](crate::Scheduler::update) turns an
/// outcome the framework does not want into an error: a task the master
/// refused (`TASK_ERROR`, e.g. an invalid `TaskInfo`), one that never ran
/// (`TASK_LOST`, `TASK_DROPPED`: a rescinded or invalid offer, a lost
/// agent), one that failed or was killed when it should have finished.
/// Returned with `?`, it stops [`SchedulerDriver::run`](crate::SchedulerDriver::run)
/// with that error (a framework's own error: see "Errors in callbacks" on
/// [`Scheduler`](crate::Scheduler)), so `main` reports it and the process
/// exits non-zero instead of waiting forever for a task that is gone, or
/// saying all went well.
///
/// ```
/// use mesos_client::Error;
/// use mesos_client::tasks::expect_end;
/// use mesos_proto::v1::{TaskId, TaskState, TaskStatus, task_status};
///
/// let mut status = TaskStatus {
///     task_id: TaskId { value: "task-1".into() },
///     message: Some("Command exited with status 3".into()),
///     ..Default::default()
/// };
/// status.set_state(TaskState::TaskRunning);
/// assert!(expect_end(&status, &[TaskState::TaskFinished]).is_ok());
/// status.set_state(TaskState::TaskFinished);
/// assert!(expect_end(&status, &[TaskState::TaskFinished]).is_ok());
/// status.set_state(TaskState::TaskFailed);
/// status.set_source(task_status::Source::SourceExecutor);
/// let err = expect_end(&status, &[TaskState::TaskFinished]).unwrap_err();
/// assert!(matches!(err, Error::UnexpectedTaskState { state: TaskState::TaskFailed, .. }));
/// assert_eq!(
///     err.to_string(),
///     "task task-1 ended TASK_FAILED unexpectedly (from SOURCE_EXECUTOR, no reason): \
///      Command exited with status 3"
/// );
/// ```
///
/// Ended means [`TaskState::is_terminal`]: `TASK_UNREACHABLE` and
/// `TASK_UNKNOWN` (only partition-aware frameworks see them) are not ends,
/// the task may come back. An empty `expected` says that no end is
/// expected at all (tasks that run until the framework tears down). A
/// reconciliation answer is a status like any other: one about a task the
/// master never heard of is `TASK_LOST`, so check those apart.
pub fn expect_end(status: &TaskStatus, expected: &[TaskState]) -> Result<()> {
    let state = status.state();
    if !state.is_terminal() || expected.contains(&state) {
        return Ok(());
    }
    Err(Error::unexpected_task(status))
}

/// A command run with `/bin/sh -c <command>`.
pub fn shell_command(command: &str) -> CommandInfo {
    CommandInfo {
        shell: Some(true),
        value: Some(command.to_string()),
        ..Default::default()
    }
}

/// A program run directly, without a shell: `program` is executed with
/// `argv[0] = program` followed by `args` (Mesos passes `arguments` as the
/// whole argv, so the program name comes first).
pub fn exec_command(program: &str, args: &[&str]) -> CommandInfo {
    let mut arguments = vec![program.to_string()];
    arguments.extend(args.iter().map(|a| a.to_string()));
    CommandInfo {
        shell: Some(false),
        value: Some(program.to_string()),
        arguments,
        ..Default::default()
    }
}

/// A file for the agent's fetcher: an absolute path on the agent, or a URL
/// (`http://`, `https://`, `file://`, ...). `executable` sets the
/// executable bit after fetching; `extract` unpacks archives (`.tar.gz`,
/// `.zip`, ...). The file lands in the sandbox under its base name.
pub fn uri(path_or_url: &str, executable: bool, extract: bool) -> command_info::Uri {
    command_info::Uri {
        value: path_or_url.to_string(),
        executable: Some(executable),
        extract: Some(extract),
        ..Default::default()
    }
}

/// Adds `name=value` to a command's environment.
pub fn push_env(command: &mut CommandInfo, name: &str, value: &str) {
    let mut variable = environment::Variable {
        name: name.to_string(),
        value: Some(value.to_string()),
        ..Default::default()
    };
    variable.set_type(environment::variable::Type::Value);
    command
        .environment
        .get_or_insert_with(Environment::default)
        .variables
        .push(variable);
}

/// Process-wide, so two generators with the same prefix never collide.
static NEXT_TASK_NUMBER: AtomicU64 = AtomicU64::new(1);

/// Makes task ids `<prefix>-<n>` with a counter shared by the whole process,
/// so ids are unique within one run of a scheduler.
///
/// Mesos wants task ids unique per framework for the framework's whole
/// life. A scheduler that fails over and keeps its framework id should put
/// something run-specific into the prefix (a start time, a uuid).
#[derive(Clone, Debug)]
pub struct TaskIdGenerator {
    prefix: String,
}

impl TaskIdGenerator {
    /// A generator of `<prefix>-1`, `<prefix>-2`, ... (numbers are shared
    /// with every other generator in the process).
    pub fn new(prefix: impl Into<String>) -> TaskIdGenerator {
        TaskIdGenerator {
            prefix: prefix.into(),
        }
    }

    /// The next id.
    pub fn next_id(&self) -> TaskId {
        let n = NEXT_TASK_NUMBER.fetch_add(1, Ordering::Relaxed);
        TaskId {
            value: format!("{}-{n}", self.prefix),
        }
    }
}

/// The user tasks run as by default: the current OS user, never empty.
///
/// Looks at `USER`, then `LOGNAME`, then asks `id -un`. If all of that fails
/// (a bare container with no passwd entry) it returns `"nobody"`, a user
/// that exists on nearly every Unix system and has no privileges. An agent
/// started without `--switch_user` runs tasks as its own user whatever this
/// says.
pub fn default_user() -> String {
    let from_env = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty());
    if let Some(user) = from_env {
        return user;
    }
    let from_id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|user| !user.is_empty());
    from_id.unwrap_or_else(|| "nobody".to_string())
}

/// A protobuf `DurationInfo` (nanoseconds), saturating at `i64::MAX`.
pub fn duration_info(duration: Duration) -> DurationInfo {
    DurationInfo {
        nanoseconds: i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX),
    }
}

fn push_label(labels: &mut Option<Labels>, key: &str, value: &str) {
    labels
        .get_or_insert_with(Labels::default)
        .labels
        .push(Label {
            key: key.to_string(),
            value: Some(value.to_string()),
        });
}
