//! [`Cluster`]: masters and agents started together, stopped together.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::agent::Agent;
use crate::config::ClusterConfig;
use crate::faults::FaultOps;
use crate::http::{Server, ServerConfig};
use crate::master::Master;
use crate::messages::ToMaster;
use crate::router::MasterRouter;
use crate::{Error, Result};

/// State shared by every master and agent of one cluster: who leads, where, and the
/// switches fault injection flips.
pub(crate) struct Shared {
    pub(crate) leader: Mutex<Option<usize>>,
    master_addrs: Mutex<Vec<SocketAddr>>,
    inboxes: Mutex<Vec<Sender<ToMaster>>>,
    stopping: AtomicBool,
    pub(crate) unavailable_until: Mutex<Option<Instant>>,
    pub(crate) stall_until: Mutex<Option<Instant>>,
    /// Benchmark measurements (offer-to-ACCEPT latency), see `stats.rs`.
    pub(crate) stats: crate::stats::Stats,
    /// Calls, events and faults per framework, for the live page (`timeline/`).
    pub(crate) timeline: crate::timeline::Timeline,
    inner: OnceLock<std::sync::Weak<Inner>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn new(bounds: &crate::config::Bounds) -> Shared {
        Shared {
            leader: Mutex::new(None),
            master_addrs: Mutex::new(Vec::new()),
            inboxes: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            unavailable_until: Mutex::new(None),
            stall_until: Mutex::new(None),
            stats: crate::stats::Stats::default(),
            timeline: crate::timeline::Timeline::new(bounds),
            inner: OnceLock::new(),
        }
    }

    /// The index of the leading master, if any.
    pub fn leader(&self) -> Option<usize> {
        *lock(&self.leader)
    }

    /// The leading master's address, if any.
    pub fn leader_addr(&self) -> Option<SocketAddr> {
        let i = self.leader()?;
        lock(&self.master_addrs).get(i).copied()
    }

    /// Sends an agent's message to the leading master (dropped while there is none).
    pub fn to_leader(&self, msg: ToMaster) {
        if let Some(i) = self.leader()
            && let Some(tx) = lock(&self.inboxes).get(i)
        {
            let _ = tx.send(msg);
        }
    }

    /// Whether the cluster is shutting down.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Whether the "answer 503" fault is active.
    pub fn unavailable(&self) -> bool {
        lock(&self.unavailable_until).is_some_and(|t| Instant::now() < t)
    }

    /// Whether the "stall heartbeats" fault is active.
    pub fn heartbeats_stalled(&self) -> bool {
        lock(&self.stall_until).is_some_and(|t| Instant::now() < t)
    }

    /// The cluster, for the HTTP fault endpoint (None while starting or stopped).
    pub fn cluster(&self) -> Option<Arc<Inner>> {
        self.inner.get().and_then(|w| w.upgrade())
    }
}

/// The parts of a cluster that stay fixed after start; faults act on these.
pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) masters: Vec<Arc<Master>>,
    pub(crate) agents: Vec<Arc<Agent>>,
    /// With `--zk`: each master's ZooKeeper membership, by master index. The
    /// lowest sequence leads, so the order of registration is the order of
    /// succession; a failed-over leader registers again at the back.
    pub(crate) zk: Mutex<Vec<Option<crate::zk::ZkMembership>>>,
}

/// Kills every process a cluster's agents started, from any thread: for a signal
/// handler that must not leave tasks behind when the program dies before the cluster is
/// dropped. Holds the cluster weakly; once the cluster is gone it does nothing.
#[derive(Clone)]
pub struct ProcessKiller {
    inner: std::sync::Weak<Inner>,
}

impl ProcessKiller {
    /// Whether the cluster still exists.
    pub fn is_alive(&self) -> bool {
        self.inner.strong_count() > 0
    }

    /// Stops every agent (their processes are killed); the masters keep running.
    pub fn kill_all(&self) {
        if let Some(inner) = self.inner.upgrade() {
            for a in &inner.agents {
                a.stop();
            }
        }
    }
}

/// A running cluster. Dropping it (or [`Cluster::shutdown`]) stops every server, thread
/// and process it started.
pub struct Cluster {
    cfg: Arc<ClusterConfig>,
    shared: Arc<Shared>,
    inner: Arc<Inner>,
    servers: Vec<Server>,
    threads: Vec<JoinHandle<()>>,
    work_dir: PathBuf,
    remove_work_dir: bool,
    stopped: bool,
}

impl Cluster {
    /// Starts masters and agents as configured. The first master leads.
    pub fn start(config: ClusterConfig) -> Result<Cluster> {
        if config.masters == 0 {
            return Err(Error::Config("at least one master is needed".to_string()));
        }
        let (work_dir, remove_work_dir) = match &config.work_dir {
            Some(d) => (d.clone(), false),
            None => {
                let d = std::env::temp_dir().join(format!("devcluster-{}", uuid::Uuid::new_v4()));
                (d, true)
            }
        };
        std::fs::create_dir_all(&work_dir)?;
        // A temporary work dir is removed again if the start fails (a busy port, say):
        // until the cluster exists, nothing else would.
        let mut unstarted = TempWorkDir(remove_work_dir.then(|| work_dir.clone()));
        let work_dir = work_dir.canonicalize()?;
        // Crash recovery first, before anything serves: whatever an earlier run on this
        // work dir left running is killed, so no scheduler hears of a lost task while
        // its old copy still runs (see `agent/checkpoint.rs`).
        let previous_ids = Agent::recover_all(&work_dir, config.agents.len())?;
        let cfg = Arc::new(config);
        let shared = Arc::new(Shared::new(&cfg.bounds));
        let mut masters = Vec::new();
        let mut servers = Vec::new();
        let mut threads = Vec::new();
        let mut agents = Vec::new();
        // Masters: bind first (the port goes into MasterInfo), then create.
        for i in 0..cfg.masters {
            let port = if i == 0 { cfg.port } else { 0 };
            let slot = Arc::new(OnceLock::new());
            let mut sc = ServerConfig::new(SocketAddr::new(cfg.ip, port));
            sc.tls = cfg.tls.clone();
            let server = Server::start_with_limits(
                sc,
                cfg.server_limits(),
                Arc::new(MasterRouter {
                    master: slot.clone(),
                }),
            )?;
            let addr = server.local_addr();
            lock(&shared.master_addrs).push(addr);
            let master = Arc::new(Master::new(i, cfg.clone(), shared.clone(), addr.port()));
            let _ = slot.set(master.clone());
            let (tx, rx) = crossbeam_channel::unbounded();
            lock(&shared.inboxes).push(tx);
            let m = master.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("master-{i}"))
                    .spawn(move || m.run(rx))?,
            );
            masters.push(master);
            servers.push(server);
        }
        let mut zk_members = Vec::new();
        if let Some(url) = &cfg.zk {
            // Registered in index order: master 0 gets the lowest sequence and leads.
            let registrar = crate::zk::ZkRegistrar::default();
            for m in &masters {
                zk_members.push(Some(registrar.register_master(url, &m.info)?));
            }
        }
        *lock(&shared.leader) = Some(0);
        masters[0].lock().elected_time = Some(crate::master::now_secs());
        let master_id = masters[0].id.clone();
        let inner_agents: Result<()> = (|| {
            for (i, acfg) in cfg.agents.iter().enumerate() {
                // A restarted agent keeps its id, as a recovering Mesos agent does.
                let id = previous_ids[i]
                    .clone()
                    .unwrap_or_else(|| format!("{master_id}-S{i}"));
                agents.push(Agent::start(
                    i,
                    id,
                    acfg,
                    cfg.clone(),
                    shared.clone(),
                    &work_dir,
                )?);
            }
            Ok(())
        })();
        let inner = Arc::new(Inner {
            shared: shared.clone(),
            masters,
            agents,
            zk: Mutex::new(zk_members),
        });
        let _ = shared.inner.set(Arc::downgrade(&inner));
        // From here on the cluster owns its work dir (and removes it when it stops).
        unstarted.0 = None;
        let cluster = Cluster {
            cfg,
            shared,
            inner,
            servers,
            threads,
            work_dir,
            remove_work_dir,
            stopped: false,
        };
        inner_agents?;
        let delay = cluster.cfg.agent_recovery_delay;
        for a in &cluster.inner.agents {
            if delay.is_zero() {
                a.register();
            } else {
                let a = a.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    a.register();
                });
            }
        }
        Ok(cluster)
    }

    /// `http://ip:port` (or `https://`) of the leading master.
    pub fn master_url(&self) -> String {
        let addr = self
            .shared
            .leader_addr()
            .unwrap_or_else(|| self.servers[0].local_addr());
        self.url(addr)
    }

    /// The URLs of all masters, in order.
    pub fn master_urls(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| self.url(s.local_addr()))
            .collect()
    }

    /// The URLs of all agents, in order.
    pub fn agent_urls(&self) -> Vec<String> {
        self.inner
            .agents
            .iter()
            .map(|a| self.url(a.addr()))
            .collect()
    }

    /// The agent ids, in order.
    pub fn agent_ids(&self) -> Vec<String> {
        self.inner.agents.iter().map(|a| a.id.clone()).collect()
    }

    /// The work directory holding the agents' sandboxes.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.work_dir
    }

    fn url(&self, addr: SocketAddr) -> String {
        let scheme = if self.cfg.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{addr}")
    }

    /// A handle that kills the agents' processes from another thread (see
    /// [`ProcessKiller`]).
    pub fn process_killer(&self) -> ProcessKiller {
        ProcessKiller {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The pids of every process the agents run right now (executors and tasks).
    pub fn running_pids(&self) -> Vec<u32> {
        self.inner
            .agents
            .iter()
            .flat_map(|a| a.running_pids())
            .collect()
    }

    /// Fault: leadership moves to the next master (see [`Cluster::fault`] for all faults).
    /// Subscriptions to the old leader break and frameworks must resubscribe to the new
    /// one; agents register with the new leader. With one master, this is a restart.
    pub fn fail_over_leader(&self) {
        self.inner.fail_over_leader()
    }

    /// Fault: the leading master restarts: subscriptions drop, frameworks are forgotten
    /// (they resubscribe with their ids), agents register again.
    pub fn restart_master(&self) {
        self.inner.restart_master()
    }

    /// Fault: break every subscription stream (abruptly, or in the middle of a record).
    pub fn cut_streams(&self, mid_record: bool) {
        self.inner.cut_streams(mid_record)
    }

    /// Fault: send no heartbeats for `d`.
    pub fn stall_heartbeats(&self, d: Duration) {
        self.inner.stall_heartbeats(d)
    }

    /// Fault: answer the scheduler endpoint with 503 for `d`.
    pub fn unavailable_for(&self, d: Duration) {
        self.inner.unavailable_for(d)
    }

    /// Fault: agent `index` dies: its processes are killed and the master declares it
    /// lost (tasks LOST/UNREACHABLE, offers rescinded, FAILURE). False if no such agent.
    pub fn lose_agent(&self, index: usize) -> bool {
        self.inner.lose_agent(index)
    }

    /// Fault: SIGKILL an executor (or a command task's process). False if none runs it.
    pub fn crash_executor(&self, framework_id: &str, executor_id: &str) -> bool {
        self.inner.crash_executor(framework_id, executor_id)
    }

    /// Fault: rescind an offer (the oldest one when `offer_id` is `None`).
    pub fn rescind_offer(&self, offer_id: Option<&str>) -> bool {
        self.inner.rescind_offer(offer_id)
    }

    /// Applies a fault by name, as `POST /devcluster/faults/<name>?arg=...` does:
    /// `fail-over-leader`, `restart-master`, `cut-streams`, `cut-streams-mid-record`,
    /// `stall-heartbeats` (arg: seconds), `unavailable` (arg: seconds), `lose-agent`
    /// (arg: index), `crash-executor` (arg: `framework_id/executor_id`), `rescind-offer`
    /// (arg: offer id, default the oldest).
    pub fn fault(&self, name: &str, arg: Option<&str>) -> std::result::Result<String, String> {
        crate::faults::apply_fault(&*self.inner, name, arg)
    }

    /// Serves the bytes a client sends on one connection to master `index` (or, with
    /// `agent`, to agent `index`) without a socket, through the same request reading,
    /// routing, call handling and response framing as the HTTP server, and returns what the
    /// server answers; `None` if there is no such server (or the agent was lost). For
    /// fuzzing: a streaming response gives what is already queued and then counts as a
    /// departed client.
    pub fn serve_bytes(&self, agent: bool, index: usize, input: &[u8]) -> Option<Vec<u8>> {
        if agent {
            let a = self.inner.agents.get(index)?;
            a.serve_bytes(input)
        } else {
            self.servers.get(index).map(|s| s.serve_bytes(input))
        }
    }

    /// The recorded conversation, as `GET /devcluster/timeline` answers it, read in
    /// process (no HTTP, so no credentials either: for tests and tools that hold the
    /// cluster). Without a framework id: the index (`{"frameworks": [...], "faults":
    /// [...]}`); with one: that framework's newest `limit` entries with their full
    /// messages (`{"framework_id", "name", "dropped", "entries"}`), `None` if the
    /// timeline has no such framework.
    pub fn timeline(&self, framework_id: Option<&str>, limit: usize) -> Option<serde_json::Value> {
        let timeline = &self.shared.timeline;
        match framework_id {
            None => Some(timeline.index_json()),
            Some(id) => timeline.entries_json(id, None, limit, false),
        }
    }

    /// The ids of frameworks the leading master knows.
    pub fn framework_ids(&self) -> Vec<String> {
        self.shared
            .leader()
            .map(|i| self.inner.masters[i].framework_ids())
            .unwrap_or_default()
    }

    /// Offer-to-ACCEPT latency as the masters measured it (for benchmarks): the time from
    /// sending an offer to the ACCEPT that used it, with counts of ACCEPTs and tasks.
    pub fn offer_stats(&self) -> crate::OfferStats {
        self.shared.stats.summary()
    }

    /// Forgets the measurements behind [`Cluster::offer_stats`].
    pub fn reset_offer_stats(&self) {
        self.shared.stats.reset()
    }

    /// Stops everything: servers, threads, and every process the agents started.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Leave ZooKeeper first, so no tool finds a master that is going away.
        lock(&self.inner.zk).clear();
        for a in &self.inner.agents {
            a.stop();
        }
        for s in self.servers.drain(..) {
            s.shutdown();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if self.remove_work_dir {
            let _ = std::fs::remove_dir_all(&self.work_dir);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A temporary work dir that a failed [`Cluster::start`] removes (when `Some`).
struct TempWorkDir(Option<std::path::PathBuf>);

impl Drop for TempWorkDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
