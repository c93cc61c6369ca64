//! A Mesos agent: runs tasks as real processes (or simulated ones) in sandboxes, serves
//! the executor API, and talks to the leading master through [`ToAgent`]/[`ToMaster`].
//!
//! Layout: `mod.rs` (state, the agent thread, master messages), `updates.rs` (reliable
//! status updates: one outstanding per task, retried until acknowledged), `executor_api.rs`
//! (`/api/v1/executor`), `runner.rs` (the built-in command and default executors and the
//! simulated mode), `process.rs` (spawning and signalling process groups), `fetcher.rs`
//! (URIs), `state_json.rs` (`/state`, `/files/*`), `checkpoint.rs` (what a restarted
//! devcluster recovers from the work directory).

mod checkpoint;
mod executor_api;
mod fetcher;
mod launch;
mod lifecycle;
mod process;
mod runner;
mod state_json;
mod updates;

pub(crate) use state_json::{open_regular, read_at};

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mesos_proto::ContentType;
use mesos_proto::v1::{
    AgentId, AgentInfo, ExecutorInfo, FrameworkInfo, TaskGroupInfo, TaskInfo, TaskState, TaskStatus,
};

use crate::Result;
use crate::attributes::parse_attributes;
use crate::cluster::Shared;
use crate::config::{AgentConfig, ClusterConfig};
use crate::http::{BoundedSender, Server, ServerConfig};
use crate::messages::{TaskReport, ToAgent, ToMaster};
use crate::resources::Resources;
use crate::router::AgentRouter;

/// Removed frameworks remembered (so that late updates of theirs are not queued); older
/// ones are forgotten first (ids are ordered by the master's sequence).
const MAX_REMOVED_FRAMEWORKS: usize = 1000;

/// Completed frameworks kept (Mesos agent `--max_completed_frameworks`: 50).
pub(crate) const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// How often subscribed executors get a HEARTBEAT event (Mesos: 30 minutes).
pub(crate) const EXECUTOR_HEARTBEAT: Duration = Duration::from_secs(30 * 60);

/// Which executor runs a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExecKind {
    /// The built-in command executor (emulated in the agent; executor id = task id).
    Command,
    /// A framework's executor: a real process speaking the executor API.
    Custom,
    /// The built-in default executor for task groups (emulated in the agent).
    Default,
}

/// One task on this agent.
pub(crate) struct AgentTask {
    /// Behind a pointer: a TaskInfo is about 2.7 KB, moved whenever the task map changes.
    /// Shared with the master's record (the RunTask carried it).
    pub info: Arc<TaskInfo>,
    pub state: TaskState,
    /// Updates not yet acknowledged by the scheduler; the front one is outstanding.
    /// Shared (`Arc`) with the messages that carry them to the master.
    pub pending: VecDeque<Arc<TaskStatus>>,
    pub next_retry: Option<Instant>,
    pub backoff: Duration,
    pub kill_requested: bool,
    /// The process group of a command/default-executor task.
    pub pid: Option<u32>,
    /// Where this task of a checkpointing framework is written down (`checkpoint.rs`).
    pub record: Option<PathBuf>,
}

/// One executor (one container run).
pub(crate) struct Executor {
    /// Boxed: an ExecutorInfo is large, and executors are moved whenever the executor
    /// map changes and into the completed list.
    pub info: Box<ExecutorInfo>,
    pub kind: ExecKind,
    pub container_id: String,
    pub directory: PathBuf,
    /// Boxed: a map node of inline tasks is over 1 KB, and most executors (every command
    /// task's) get a map of their own; glibc's malloc tidies all its small free blocks
    /// (`malloc_consolidate`) before every allocation that large.
    #[allow(clippy::vec_box)]
    pub tasks: BTreeMap<String, Box<AgentTask>>,
    /// A finished task's info moves here from its `AgentTask` without copying ~2.7 KB.
    pub completed_tasks: Vec<Arc<TaskInfo>>,
    /// Tasks/groups waiting for a custom executor to subscribe.
    pub queued: Vec<TaskInfo>,
    pub queued_groups: Vec<TaskGroupInfo>,
    /// The executor's event stream. Only framework messages count against its bound
    /// (they are best effort, as in Mesos: one beyond it is dropped); the protocol's own
    /// events are few and always queued.
    pub sub: Option<(BoundedSender, ContentType)>,
    pub pid: Option<u32>,
    pub launched: Instant,
    pub subscribed_ever: bool,
    pub terminated: bool,
    pub registration_timed_out: bool,
    pub shutting_down: bool,
    /// When the next executor HEARTBEAT event is due (every 30 minutes, §1.9).
    pub next_heartbeat: Instant,
}

impl Executor {
    /// An executor being started now, in `container_id` with its sandbox at `directory`:
    /// no tasks yet, not subscribed.
    pub(crate) fn starting(
        info: ExecutorInfo,
        kind: ExecKind,
        container_id: String,
        directory: PathBuf,
    ) -> Executor {
        Executor {
            info: Box::new(info),
            kind,
            container_id,
            directory,
            tasks: BTreeMap::new(),
            completed_tasks: Vec::new(),
            queued: Vec::new(),
            queued_groups: Vec::new(),
            sub: None,
            pid: None,
            launched: Instant::now(),
            subscribed_ever: false,
            terminated: false,
            registration_timed_out: false,
            shutting_down: false,
            next_heartbeat: Instant::now() + EXECUTOR_HEARTBEAT,
        }
    }

    /// The record of an executor that is not running (it never started, or did not survive
    /// a restart): it only holds tasks until their terminal updates are sent.
    pub(crate) fn ended(info: ExecutorInfo, kind: ExecKind) -> Executor {
        Executor {
            terminated: true,
            ..Executor::starting(info, kind, String::new(), PathBuf::new())
        }
    }
}

/// A framework as the agent knows it.
pub(crate) struct AgentFramework {
    /// The master's (shared) record: launches compare pointers, not contents.
    pub info: Arc<FrameworkInfo>,
    pub executors: BTreeMap<String, Executor>,
    pub completed_executors: VecDeque<Executor>,
}

/// Everything an agent knows, behind one lock.
#[derive(Default)]
pub(crate) struct AgentState {
    pub frameworks: BTreeMap<String, AgentFramework>,
    /// Simulated mode: (when, framework, executor, task) of pending FINISHED updates.
    pub sim_timers: BinaryHeap<Reverse<(Instant, String, String, String)>>,
    /// Live process groups started by this agent.
    pub pgids: BTreeSet<u32>,
    /// Frameworks the master removed: their updates are no longer sent anywhere.
    pub removed: BTreeSet<String>,
    /// Removed frameworks whose executors have all ended (id, framework), oldest first.
    pub completed_frameworks: VecDeque<(String, AgentFramework)>,
}

/// One agent.
pub(crate) struct Agent {
    /// Position in the configuration (logs, thread names).
    #[allow(dead_code)]
    pub index: usize,
    pub id: String,
    pub info: AgentInfo,
    pub cfg: Arc<ClusterConfig>,
    pub shared: Arc<Shared>,
    pub work_dir: PathBuf,
    /// This agent's checkpoint directory (`checkpoint.rs`).
    pub meta: PathBuf,
    pub start_time: f64,
    /// The cluster's IP as text, for every status's container network (formatted once).
    pub ip_text: String,
    /// `id` again, shared by this agent's timeline entries (three per task; no copy each).
    timeline_id: Arc<str>,
    addr: SocketAddr,
    state: Mutex<AgentState>,
    tx: Sender<ToAgent>,
    server: Mutex<Option<Server>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    lost: AtomicBool,
    /// False until the agent first registered: the executor API answers 503 meanwhile,
    /// as a recovering Mesos agent does.
    recovered: AtomicBool,
    /// Set when tasks of an earlier run were recovered: their updates go out right after
    /// the first registration.
    resend_after_register: AtomicBool,
    me: OnceLock<std::sync::Weak<Agent>>,
}

/// Mesos' `strsignal` names for the usual signals.
pub(crate) fn signal_name(sig: i32) -> String {
    match sig {
        1 => "Hangup".into(),
        2 => "Interrupt".into(),
        3 => "Quit".into(),
        6 => "Aborted".into(),
        9 => "Killed".into(),
        11 => "Segmentation fault".into(),
        13 => "Broken pipe".into(),
        14 => "Alarm clock".into(),
        15 => "Terminated".into(),
        n => format!("Unknown signal {n}"),
    }
}

impl Agent {
    /// Binds the agent's server and starts its thread (it registers later, see
    /// [`Agent::register`]).
    pub fn start(
        index: usize,
        id: String,
        acfg: &AgentConfig,
        cfg: Arc<ClusterConfig>,
        shared: Arc<Shared>,
        work_dir: &Path,
    ) -> Result<Arc<Agent>> {
        let resources = Resources::parse(&acfg.resources).map_err(crate::Error::Config)?;
        let attributes = parse_attributes(&acfg.attributes).map_err(crate::Error::Config)?;
        let slot = Arc::new(OnceLock::new());
        let mut sc = ServerConfig::new(SocketAddr::new(cfg.ip, 0));
        sc.tls = cfg.tls.clone();
        let server = Server::start_with_limits(
            sc,
            cfg.server_limits(),
            Arc::new(AgentRouter {
                agent: slot.clone(),
            }),
        )?;
        let addr = server.local_addr();
        let info = AgentInfo {
            hostname: cfg.hostname.clone(),
            port: Some(i32::from(addr.port())),
            resources: resources.to_protos_configured(),
            attributes,
            id: Some(AgentId { value: id.clone() }),
            ..Default::default()
        };
        let dir = work_dir.join("slaves").join(&id);
        std::fs::create_dir_all(&dir)?;
        checkpoint::remember_agent_id(work_dir, index, &id)?;
        let meta = checkpoint::agent_dir(work_dir, &id);
        let ip_text = cfg.ip.to_string();
        let (tx, rx) = crossbeam_channel::unbounded();
        let agent = Arc::new(Agent {
            index,
            timeline_id: id.as_str().into(),
            id,
            info,
            cfg,
            shared,
            work_dir: work_dir.to_path_buf(),
            meta,
            start_time: crate::master::now_secs(),
            ip_text,
            addr,
            state: Mutex::new(AgentState::default()),
            tx,
            server: Mutex::new(Some(server)),
            thread: Mutex::new(None),
            lost: AtomicBool::new(false),
            recovered: AtomicBool::new(false),
            resend_after_register: AtomicBool::new(false),
            me: OnceLock::new(),
        });
        agent.recover_tasks();
        let _ = agent.me.set(Arc::downgrade(&agent));
        let _ = slot.set(agent.clone());
        let a = agent.clone();
        let handle = std::thread::Builder::new()
            .name(format!("agent-{index}"))
            .spawn(move || a.run(rx))?;
        *agent.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(agent)
    }

    /// A strong reference to this agent (for threads it spawns).
    pub(crate) fn arc(&self) -> Option<Arc<Agent>> {
        self.me.get().and_then(|w| w.upgrade())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, AgentState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_recovered(&self) -> bool {
        self.recovered.load(Ordering::SeqCst)
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Sends a message to this agent's thread.
    pub fn send(&self, msg: ToAgent) {
        let _ = self.tx.send(msg);
    }

    /// (Re-)registers with the leading master, reporting every live task.
    pub fn register(&self) {
        if self.is_lost() {
            return;
        }
        let st = self.lock();
        let mut tasks = Vec::new();
        for fw in st.frameworks.values() {
            for ex in fw.executors.values() {
                for t in ex.tasks.values() {
                    let mut state = TaskStatus {
                        task_id: t.info.task_id.clone(),
                        ..Default::default()
                    };
                    state.set_state(t.state);
                    tasks.push(TaskReport {
                        framework: (*fw.info).clone(),
                        task: (*t.info).clone(),
                        state,
                    });
                }
            }
        }
        drop(st);
        self.recovered.store(true, Ordering::SeqCst);
        self.shared.to_leader(ToMaster::RegisterAgent {
            info: Box::new(self.info.clone()),
            tx: self.tx.clone(),
            tasks,
        });
        if self.resend_after_register.swap(false, Ordering::SeqCst) {
            self.resend_updates(None);
        }
    }

    /// The id agent `index` had in an earlier run on `work_dir`, after killing every
    /// process that run left behind (see `checkpoint.rs`); `None` for a fresh work dir.
    /// Called before any server of the cluster starts.
    pub(crate) fn recover_id(work_dir: &Path, index: usize) -> Option<String> {
        let id = checkpoint::previous_agent_id(work_dir, index)?;
        let killed = checkpoint::kill_leftovers(work_dir, &id);
        if killed > 0 {
            log::warn!("agent {id}: killed {killed} process group(s) of an earlier run");
        }
        Some(id)
    }

    /// Crash recovery for a cluster of `agents` agents on `work_dir` (before anything
    /// serves): claims the directory (refused while another devcluster uses it), kills
    /// what every agent of an earlier run left, and returns the ids to keep, by index.
    pub(crate) fn recover_all(work_dir: &Path, agents: usize) -> Result<Vec<Option<String>>> {
        checkpoint::claim_work_dir(work_dir).map_err(crate::Error::Config)?;
        let mut ids = vec![None; agents];
        for index in checkpoint::previous_agent_indexes(work_dir) {
            let id = Agent::recover_id(work_dir, index);
            if let Some(slot) = ids.get_mut(index) {
                *slot = id;
            }
        }
        Ok(ids)
    }

    /// Tasks of checkpointing frameworks written down by an earlier run: their processes
    /// are dead (see [`Agent::recover_id`]), so each is reported as a Mesos agent reports
    /// the tasks of an executor that did not reregister: TASK_LOST (TASK_GONE for
    /// partition-aware frameworks), `REASON_EXECUTOR_REREGISTRATION_TIMEOUT`, retried
    /// until acknowledged.
    fn recover_tasks(&self) {
        use mesos_proto::v1::framework_info::capability::Type as Cap;
        use mesos_proto::v1::task_status;
        let recorded = checkpoint::recorded_tasks(&self.work_dir, &self.id);
        if recorded.is_empty() {
            return;
        }
        let mut st = self.lock();
        for r in recorded {
            let fw_id = r
                .framework
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            let partition_aware = crate::master::has_capability(&r.framework, Cap::PartitionAware);
            let state = if partition_aware {
                TaskState::TaskGone
            } else {
                TaskState::TaskLost
            };
            let mut status = self.new_status(
                &r.task.task_id.value,
                state,
                "Executor did not reregister: devcluster's executors do not survive a restart of the agent",
                Some(&r.executor_id),
            );
            status.set_source(task_status::Source::SourceAgent);
            status.set_reason(task_status::Reason::ReasonExecutorReregistrationTimeout);
            status.agent_id = Some(AgentId {
                value: self.id.clone(),
            });
            status.timestamp = Some(crate::master::now_secs());
            let fw = st
                .frameworks
                .entry(fw_id.clone())
                .or_insert_with(|| AgentFramework {
                    info: Arc::new(r.framework.clone()),
                    executors: BTreeMap::new(),
                    completed_executors: VecDeque::new(),
                });
            let ex = fw
                .executors
                .entry(r.executor_id.clone())
                .or_insert_with(|| {
                    let info = r.task.executor.clone().unwrap_or_else(|| ExecutorInfo {
                        executor_id: mesos_proto::v1::ExecutorId {
                            value: r.executor_id.clone(),
                        },
                        ..Default::default()
                    });
                    Executor::ended(info, r.kind)
                });
            log::warn!(
                "agent {}: task {} of framework {fw_id} did not survive the restart: {}",
                self.id,
                r.task.task_id.value,
                state.as_str_name()
            );
            ex.tasks.insert(
                r.task.task_id.value.clone(),
                Box::new(AgentTask {
                    info: Arc::new(r.task),
                    state,
                    pending: VecDeque::from([Arc::new(status)]),
                    next_retry: Some(Instant::now() + self.cfg.status_update_retry),
                    backoff: self.cfg.status_update_retry,
                    kill_requested: false,
                    pid: None,
                    record: Some(r.path),
                }),
            );
        }
        self.resend_after_register.store(true, Ordering::SeqCst);
    }

    /// Sends to the leading master unless this agent is lost.
    pub(crate) fn to_master(&self, msg: ToMaster) {
        if !self.is_lost() {
            self.shared
                .timeline
                .agent_to_master(&self.timeline_id, &msg);
            self.shared.to_leader(msg);
        }
    }

    fn run(self: Arc<Self>, rx: Receiver<ToAgent>) {
        let tick = Duration::from_millis(50);
        let mut next_tick = Instant::now();
        loop {
            if self.shared.stopping() || self.is_lost() {
                break;
            }
            let wait = next_tick.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(msg) => {
                    // Under load, handle what has queued up before looking at timers
                    // (bounded, so timers still run).
                    self.handle(msg);
                    for msg in rx.try_iter().take(1000) {
                        // A lost or stopping agent handles nothing more, as before batching.
                        if self.shared.stopping() || self.is_lost() {
                            break;
                        }
                        self.handle(msg);
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            // Simulated tasks whose time has come finish at once (a 0 ms task must not
            // wait for the tick); the other timers walk every executor and task, so they
            // run every 50 ms, not after every message (at thousands of messages a second
            // the walks cost more than the messages).
            self.simulated_tick();
            let now = Instant::now();
            if now >= next_tick {
                self.tick();
                next_tick = now + tick;
            }
        }
    }

    fn handle(self: &Arc<Self>, msg: ToAgent) {
        self.shared
            .timeline
            .master_to_agent(&self.timeline_id, &msg);
        match msg {
            ToAgent::RunTask { framework, task } => self.run_task(framework, task),
            ToAgent::RunTaskGroup {
                framework,
                executor,
                group,
            } => self.run_task_group(framework, *executor, group),
            ToAgent::KillTask {
                framework_id,
                task_id,
                kill_policy,
            } => self.kill_task(&framework_id, &task_id, kill_policy),
            ToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => self.shutdown_executor(&framework_id, &executor_id),
            ToAgent::ShutdownFramework { framework_id } => self.shutdown_framework(&framework_id),
            ToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => {
                let st = self.lock();
                if let Some((tx, ct)) = st
                    .frameworks
                    .get(&framework_id)
                    .and_then(|f| f.executors.get(&executor_id))
                    .and_then(|e| e.sub.as_ref())
                {
                    let mut e =
                        executor_api::event_of(mesos_proto::v1::executor::event::Type::Message);
                    e.message = Some(mesos_proto::v1::executor::event::Message { data });
                    // Best effort, as in Mesos: dropped when the executor does not read.
                    if !self.send_message_to_executor(&framework_id, &executor_id, tx, *ct, &e) {
                        log::warn!(
                            "dropping a framework message for executor {executor_id} of \
                             framework {framework_id}: the executor is not reading its events"
                        );
                    }
                }
            }
            ToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => self.acknowledge(&framework_id, &task_id, &uuid),
            ToAgent::ResendUpdates { framework_id } => self.resend_updates(Some(&framework_id)),
            ToAgent::Reregister => self.register(),
        }
    }

    /// The master removed a framework: as a Mesos agent, its executors are shut down and
    /// its pending status updates dropped (nobody will acknowledge them), so that its
    /// executors complete and the framework leaves this agent once they have ended.
    fn shutdown_framework(self: &Arc<Self>, framework_id: &str) {
        let execs: Vec<String> = {
            let mut guard = self.lock();
            let st = &mut *guard;
            st.removed.insert(framework_id.to_string());
            while st.removed.len() > MAX_REMOVED_FRAMEWORKS {
                st.removed.pop_first();
            }
            let Some(fw) = st.frameworks.get_mut(framework_id) else {
                return;
            };
            let mut done = Vec::new();
            for (id, ex) in fw.executors.iter_mut() {
                for t in ex.tasks.values_mut() {
                    t.pending.clear();
                    t.next_retry = None;
                }
                // Built-in executors whose tasks all ended have nothing left to run.
                if ex.kind != ExecKind::Custom && ex.tasks.values().all(|t| t.state.is_terminal()) {
                    ex.terminated = true;
                    done.push(id.clone());
                }
            }
            let execs = fw.executors.keys().cloned().collect();
            for id in done {
                self.maybe_complete_executor(st, framework_id, &id);
            }
            execs
        };
        for e in execs {
            self.shutdown_executor(framework_id, &e);
        }
    }

    fn tick(self: &Arc<Self>) {
        self.executor_heartbeats();
        self.retry_updates();
        self.registration_timeouts();
    }

    /// Sends the 30-minute HEARTBEAT event to subscribed executors.
    fn executor_heartbeats(&self) {
        let now = Instant::now();
        let mut st = self.lock();
        for (fw_id, fw) in st.frameworks.iter_mut() {
            for (exec_id, ex) in fw.executors.iter_mut() {
                if now < ex.next_heartbeat {
                    continue;
                }
                ex.next_heartbeat = now + EXECUTOR_HEARTBEAT;
                if let Some((tx, ct)) = &ex.sub {
                    let e =
                        executor_api::event_of(mesos_proto::v1::executor::event::Type::Heartbeat);
                    self.send_to_executor(fw_id, exec_id, tx, *ct, &e);
                }
            }
        }
    }

    /// The process groups alive right now.
    pub fn running_pids(&self) -> Vec<u32> {
        self.lock().pgids.iter().copied().collect()
    }

    /// Fault injection: SIGKILL an executor's (or command task's) processes.
    pub fn crash_executor(&self, framework_id: &str, executor_id: &str) -> bool {
        let st = self.lock();
        let Some(ex) = st
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(executor_id))
        else {
            return false;
        };
        let mut pids: Vec<u32> = ex.pid.into_iter().collect();
        pids.extend(ex.tasks.values().filter_map(|t| t.pid));
        drop(st);
        for p in &pids {
            process::signal_group(*p, "KILL");
        }
        !pids.is_empty()
    }

    /// The agent's HTTP handling over in-memory bytes (see [`crate::Cluster::serve_bytes`]);
    /// `None` once the agent is lost.
    pub fn serve_bytes(&self, input: &[u8]) -> Option<Vec<u8>> {
        let guard = self.server.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|s| s.serve_bytes(input))
    }

    /// Fault injection: the agent dies. Its processes are killed; it stops talking to the
    /// master. Returns false if it was already lost.
    pub fn lose(&self) -> bool {
        if self.lost.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.kill_all();
        if let Some(s) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            s.shutdown();
        }
        true
    }

    fn kill_all(&self) {
        let pids = self.running_pids();
        for p in &pids {
            process::signal_group(*p, "KILL");
        }
        // Wait (bounded) until the runner threads have reaped them.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.lock().pgids.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the agent: every process is killed, the server and the thread end.
    pub fn stop(&self) {
        self.lost.store(true, Ordering::SeqCst);
        self.kill_all();
        if let Some(s) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            s.shutdown();
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}
