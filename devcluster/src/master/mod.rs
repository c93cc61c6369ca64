//! A Mesos master: framework registry, offers, tasks and the scheduler API.
//!
//! All master state sits behind one mutex ([`MasterState`]). HTTP handlers (one thread per
//! connection) lock it for the few microseconds a call takes; the master's own thread
//! ([`Master::run`]) handles agent messages and timers (heartbeats, allocation batches,
//! failover timeouts, offer timeouts). Events go to schedulers through the crossbeam
//! channel behind each subscription's streaming response.
//!
//! Layout: `scheduler_api.rs` (the HTTP endpoint and its checks), `validate.rs` (call and
//! framework validation), `subscription.rs` (SUBSCRIBE, disconnection, removal), `calls.rs`
//! (the other calls), `allocator.rs` (offers and filters), `accept.rs` (ACCEPT),
//! `tasks.rs` (status updates, agents, reconciliation), `state_json.rs` (read-only endpoints).

mod accept;
mod allocator;
mod calls;
mod events;
mod faults;
pub(crate) mod scheduler_api;
pub(crate) mod state_json;
mod subscription;
mod tasks;
mod validate;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Event, event};
use mesos_proto::v1::{
    AgentInfo, FrameworkInfo, MasterInfo, Offer, TaskInfo, TaskState, TaskStatus, master_info,
};

use crate::cluster::Shared;
use crate::config::ClusterConfig;
use crate::http::{BoundedSender, SendRefused, StreamItem};
use crate::messages::{ToAgent, ToMaster};
use crate::resources::Resources;

pub(crate) use allocator::Filter;
pub(crate) use events::{error_event, event_of, legacy_ip, master_status, now_secs, record};
use events::{protobuf_record, update_record};
pub(crate) use validate::has_capability;

/// One open subscription stream.
pub(crate) struct Subscription {
    /// The stream's queue, bounded by `subscriber_queue_events`/`_bytes`.
    pub tx: BoundedSender,
    pub stream_id: String,
    pub content_type: ContentType,
}

/// A framework known to the master.
pub(crate) struct Framework {
    pub id: String,
    /// Shared with every RunTask sent for this framework (replaced, not changed in place,
    /// when the framework changes).
    pub info: Arc<FrameworkInfo>,
    pub sub: Option<Subscription>,
    pub suppressed: BTreeSet<String>,
    pub tasks: BTreeMap<String, TaskEntry>,
    pub completed_tasks: VecDeque<TaskEntry>,
    pub offers: BTreeSet<String>,
    /// Custom executors: (agent id, executor id) -> resources.
    pub executors: BTreeMap<(String, String), (mesos_proto::v1::ExecutorInfo, Resources)>,
    pub used: Resources,
    pub offered: Resources,
    pub registered_time: f64,
    pub reregistered_time: Option<f64>,
    pub unregistered_time: Option<f64>,
    pub failover_deadline: Option<Instant>,
    pub next_heartbeat: Instant,
    /// Order of subscription, used to break ties in the allocator.
    pub seq: u64,
}

impl Framework {
    /// The roles this framework subscribes to (`role` or `roles` by capability).
    pub fn roles(&self) -> Vec<String> {
        if validate::is_multi_role(&self.info) {
            self.info.roles.clone()
        } else {
            vec![self.info.role.clone().unwrap_or_else(|| "*".to_string())]
        }
    }

    pub fn has_capability(&self, cap: mesos_proto::v1::framework_info::capability::Type) -> bool {
        validate::has_capability(&self.info, cap)
    }
}

/// The master's view of one task.
#[derive(Clone)]
pub(crate) struct TaskEntry {
    /// Behind a pointer: a TaskInfo is about 2.7 KB, and entries are moved whenever the
    /// task map inserts or removes (a B-tree shifts its neighbours) and into the completed
    /// list. Shared with the agent's record of the task (the RunTask carries it).
    pub info: Arc<TaskInfo>,
    /// The ids and role are shared by every task of one ACCEPT (one allocation each per
    /// ACCEPT, not per task).
    pub framework_id: Arc<str>,
    pub agent_id: Arc<str>,
    pub role: Arc<str>,
    pub state: TaskState,
    /// Shared with the agent's message (see [`ToMaster::StatusUpdate`]).
    pub statuses: Vec<Arc<TaskStatus>>,
    /// The last status forwarded to the scheduler (what reconciliation reports).
    pub last_forwarded: Option<Arc<TaskStatus>>,
    pub resources: Resources,
    pub released: bool,
    /// The executor id for custom-executor tasks (command tasks have none in the master).
    pub executor_id: Option<String>,
}

/// An agent registered with this master.
pub(crate) struct AgentEntry {
    pub id: String,
    pub info: AgentInfo,
    pub tx: Sender<ToAgent>,
    pub total: Resources,
    pub used: Resources,
    pub offered: Resources,
    pub registered_time: f64,
}

/// An outstanding offer.
pub(crate) struct OfferEntry {
    pub offer: Offer,
    pub framework_id: String,
    pub agent_id: String,
    pub role: String,
    pub resources: Resources,
    pub created: Instant,
}

/// Everything a master knows, behind one lock.
pub(crate) struct MasterState {
    pub frameworks: BTreeMap<String, Framework>,
    pub completed_frameworks: VecDeque<Framework>,
    pub removed_ids: BTreeSet<String>,
    pub agents: BTreeMap<String, AgentEntry>,
    /// Agents removed after being lost: id -> (time they became unreachable, info).
    pub unreachable_agents: BTreeMap<String, (f64, AgentInfo)>,
    pub offers: BTreeMap<String, OfferEntry>,
    pub filters: HashMap<(String, String, String), Filter>,
    pub next_framework: u64,
    pub next_offer: u64,
    pub next_seq: u64,
    pub allocation_due: Instant,
    pub allocate_now: bool,
    pub round_robin: usize,
    pub start_time: f64,
    pub elected_time: Option<f64>,
}

/// One master.
pub(crate) struct Master {
    pub index: usize,
    pub id: String,
    pub info: MasterInfo,
    pub cfg: Arc<ClusterConfig>,
    pub shared: Arc<Shared>,
    state: Mutex<MasterState>,
}

/// The content type of frameworks' streams as last looked up under the master's lock, for
/// encoding status updates before taking it. Only a hint (checked again under the lock),
/// forgotten after every batch of messages, and holding a few frameworks at most.
#[derive(Default)]
struct StreamHints(Vec<(String, Option<ContentType>)>);

impl StreamHints {
    /// Frameworks remembered per batch; others are looked up every time.
    const MAX: usize = 8;

    fn get(&self, framework_id: &str) -> Option<Option<ContentType>> {
        self.0
            .iter()
            .find(|(id, _)| id == framework_id)
            .map(|(_, ct)| *ct)
    }

    fn insert(&mut self, framework_id: &str, ct: Option<ContentType>) {
        if self.0.len() < Self::MAX {
            self.0.push((framework_id.to_string(), ct));
        }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

impl Master {
    /// A master (not yet serving). `port` is the port it will be reachable on.
    pub fn new(index: usize, cfg: Arc<ClusterConfig>, shared: Arc<Shared>, port: u16) -> Master {
        let id = uuid::Uuid::new_v4().to_string();
        let ip = cfg.ip.to_string();
        let mut info = MasterInfo {
            id: id.clone(),
            ip: legacy_ip(cfg.ip),
            port: u32::from(port),
            pid: Some(format!("master@{ip}:{port}")),
            hostname: Some(cfg.hostname.clone()),
            version: Some(crate::VERSION.to_string()),
            address: Some(mesos_proto::v1::Address {
                hostname: Some(cfg.hostname.clone()),
                ip: Some(ip),
                port: i32::from(port),
            }),
            ..Default::default()
        };
        for cap in [
            master_info::capability::Type::AgentUpdate,
            master_info::capability::Type::AgentDraining,
            master_info::capability::Type::QuotaV2,
        ] {
            let mut c = master_info::Capability::default();
            c.set_type(cap);
            info.capabilities.push(c);
        }
        let state = MasterState {
            frameworks: BTreeMap::new(),
            completed_frameworks: VecDeque::new(),
            removed_ids: BTreeSet::new(),
            agents: BTreeMap::new(),
            unreachable_agents: BTreeMap::new(),
            offers: BTreeMap::new(),
            filters: HashMap::new(),
            next_framework: 0,
            next_offer: 0,
            next_seq: 0,
            allocation_due: Instant::now(),
            allocate_now: false,
            round_robin: 0,
            start_time: now_secs(),
            elected_time: None,
        };
        Master {
            index,
            id,
            info,
            cfg,
            shared,
            state: Mutex::new(state),
        }
    }

    /// Locks the state; a poisoned lock (a panicked handler) is recovered, not propagated.
    pub fn lock(&self) -> MutexGuard<'_, MasterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this master leads.
    pub fn is_leader(&self) -> bool {
        self.shared.leader() == Some(self.index)
    }

    /// The master's thread: agent messages and timers, until the inbox closes or the
    /// cluster stops.
    pub fn run(self: Arc<Self>, inbox: Receiver<ToMaster>) {
        let tick = Duration::from_millis(20);
        let mut next_tick = Instant::now();
        let mut hints = StreamHints::default();
        loop {
            if self.shared.stopping() {
                break;
            }
            let wait = next_tick.saturating_duration_since(Instant::now());
            match inbox.recv_timeout(wait) {
                Ok(msg) => {
                    // Under load, handle what has queued up as one batch (bounded, so
                    // timers still run): one allocation pass for all of it, not one each.
                    hints.clear();
                    for msg in std::iter::once(msg).chain(inbox.try_iter().take(1000)) {
                        if self.is_leader() {
                            self.handle_message(msg, &mut hints);
                        }
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            if !self.is_leader() {
                continue;
            }
            // Timers every 20 ms, not after every message: each tick wakes every
            // subscription's stream thread (the liveness probe), which at thousands of
            // status updates a second cost more than the updates themselves.
            let now = Instant::now();
            if now >= next_tick {
                self.tick();
                next_tick = now + tick;
            } else {
                self.allocate_if_requested();
            }
        }
    }

    fn handle_message(&self, msg: ToMaster, hints: &mut StreamHints) {
        if let ToMaster::StatusUpdate {
            framework_id,
            status,
            latest_state,
        } = msg
        {
            // The event is encoded before the master's lock is taken: the calls that wait
            // for the lock meanwhile (three acknowledgements per task) do not wait for the
            // encoding too. Its content type is a hint, looked up under the lock once per
            // framework and batch (`send_update_encoded` checks it under the lock and
            // encodes again if the stream changed meanwhile).
            let content_type = match hints.get(&framework_id) {
                Some(ct) => ct,
                None => {
                    let ct = self
                        .lock()
                        .frameworks
                        .get(&framework_id)
                        .and_then(|f| f.sub.as_ref())
                        .map(|s| s.content_type);
                    hints.insert(&framework_id, ct);
                    ct
                }
            };
            let encoded = content_type.map(|ct| EncodedUpdate::new(ct, &status));
            let mut st = self.lock();
            self.status_update(&mut st, &framework_id, status, latest_state, encoded);
            return;
        }
        let mut st = self.lock();
        match msg {
            ToMaster::RegisterAgent { info, tx, tasks } => {
                self.register_agent(&mut st, *info, tx, tasks)
            }
            // Handled above.
            ToMaster::StatusUpdate { .. } => {}
            ToMaster::ExecutorMessage {
                framework_id,
                agent_id,
                executor_id,
                data,
            } => {
                let mut e = event_of(event::Type::Message);
                e.message = Some(event::Message {
                    agent_id: mesos_proto::v1::AgentId { value: agent_id },
                    executor_id: mesos_proto::v1::ExecutorId { value: executor_id },
                    data,
                });
                self.send(&mut st, &framework_id, &e);
            }
            ToMaster::ExecutorExited {
                framework_id,
                agent_id,
                executor_id,
                status,
                notify,
            } => self.executor_exited(
                &mut st,
                &framework_id,
                &agent_id,
                &executor_id,
                status,
                notify,
            ),
            ToMaster::AgentLost { agent_id } => self.agent_lost(&mut st, &agent_id),
        }
    }

    /// Between ticks: the allocation that freed resources asked for (`allocate_now`).
    fn allocate_if_requested(&self) {
        let mut st = self.lock();
        if st.allocate_now {
            st.allocate_now = false;
            st.allocation_due = Instant::now() + self.cfg.allocation_interval;
            self.allocate(&mut st);
        }
    }

    /// Timers: stream liveness, heartbeats, failover timeouts, offer timeouts, allocation.
    fn tick(&self) {
        let now = Instant::now();
        let mut st = self.lock();
        let stalled = self.shared.heartbeats_stalled();
        let mut gone = Vec::new();
        for (id, fw) in st.frameworks.iter_mut() {
            let Some(sub) = &fw.sub else { continue };
            // An empty chunk is never written, but sending it fails once the server has
            // dropped the receiver: the cheapest way to notice a departed subscriber.
            // Only while nothing is queued: a stream that is behind gets no probes piling up.
            let mut alive = sub.tx.queued().0 > 0 || sub.tx.send_raw(StreamItem::Chunk(Vec::new()));
            if alive && !stalled && now >= fw.next_heartbeat {
                let heartbeat = event_of(event::Type::Heartbeat);
                self.shared.timeline.event(id, &heartbeat);
                alive = match sub.tx.send_chunk(record(sub.content_type, &heartbeat)) {
                    Ok(()) => true,
                    Err(e) => {
                        behind(id, &sub.tx, e);
                        false
                    }
                };
                fw.next_heartbeat = now + self.cfg.heartbeat_interval;
            }
            if !alive {
                gone.push(id.clone());
            }
        }
        for id in gone {
            self.disconnect(&mut st, &id);
        }
        let expired: Vec<String> = st
            .frameworks
            .values()
            .filter(|f| f.sub.is_none() && f.failover_deadline.is_some_and(|d| d <= now))
            .map(|f| f.id.clone())
            .collect();
        for id in expired {
            self.remove_framework(&mut st, &id);
        }
        if let Some(timeout) = self.cfg.offer_timeout {
            let old: Vec<String> = st
                .offers
                .values()
                .filter(|o| now.duration_since(o.created) >= timeout)
                .map(|o| o.offer.id.value.clone())
                .collect();
            for id in old {
                self.rescind_offer(&mut st, &id);
            }
        }
        if st.allocate_now || now >= st.allocation_due {
            st.allocate_now = false;
            st.allocation_due = now + self.cfg.allocation_interval;
            self.allocate(&mut st);
        }
    }

    /// Sends an event to a connected framework; a failed send means the subscriber left.
    pub(crate) fn send(&self, st: &mut MasterState, framework_id: &str, event: &Event) -> bool {
        let Some(fw) = st.frameworks.get(framework_id) else {
            return false;
        };
        let Some(sub) = &fw.sub else { return false };
        // Encoded once: the protobuf bytes serve the timeline and, on a protobuf
        // stream, the record itself (framed in the same buffer).
        let chunk = match sub.content_type {
            ContentType::Protobuf => {
                let (chunk, start) = protobuf_record(event);
                self.shared
                    .timeline
                    .event_encoded(framework_id, event, &chunk[start..]);
                chunk
            }
            ContentType::Json => {
                let protobuf = prost::Message::encode_to_vec(event);
                self.shared
                    .timeline
                    .event_encoded(framework_id, event, &protobuf);
                record(ContentType::Json, event)
            }
        };
        self.queue_chunk(st, framework_id, chunk)
    }

    /// Sends an UPDATE event carrying `status` to a connected framework, as [`Master::send`]
    /// does, without copying the status into an event first: on a protobuf stream the
    /// record is encoded from the borrowed status (the JSON encoder needs the event).
    pub(crate) fn send_status(
        &self,
        st: &mut MasterState,
        framework_id: &str,
        status: &TaskStatus,
    ) -> bool {
        self.send_update_encoded(st, framework_id, status, None)
    }

    /// [`Master::send_status`] with the event already encoded (outside the lock) for the
    /// content type the framework's stream had then; encoded now if that has changed.
    pub(crate) fn send_update_encoded(
        &self,
        st: &mut MasterState,
        framework_id: &str,
        status: &TaskStatus,
        encoded: Option<EncodedUpdate>,
    ) -> bool {
        let Some(sub) = st.frameworks.get(framework_id).and_then(|f| f.sub.as_ref()) else {
            return false;
        };
        let u = match encoded {
            Some(u) if u.content_type == sub.content_type => u,
            _ => EncodedUpdate::new(sub.content_type, status),
        };
        let protobuf = u.protobuf();
        match &u.event {
            Some(e) => self
                .shared
                .timeline
                .event_encoded(framework_id, e, protobuf),
            // The timeline looks into the event only to describe one it truncates (it
            // keeps the bytes): the whole event is built for those alone.
            None if protobuf.len() > self.cfg.bounds.timeline_max_message_bytes => {
                let e = update_event(status);
                self.shared
                    .timeline
                    .event_encoded(framework_id, &e, protobuf);
            }
            None => {
                let e = event_of(event::Type::Update);
                self.shared
                    .timeline
                    .event_encoded(framework_id, &e, protobuf);
            }
        }
        self.queue_chunk(st, framework_id, u.chunk)
    }

    /// Queues one record on a framework's stream; a refused one disconnects it.
    fn queue_chunk(&self, st: &mut MasterState, framework_id: &str, chunk: Vec<u8>) -> bool {
        let Some(sub) = st.frameworks.get(framework_id).and_then(|f| f.sub.as_ref()) else {
            return false;
        };
        match sub.tx.send_chunk(chunk) {
            Ok(()) => return true,
            Err(e) => behind(framework_id, &sub.tx, e),
        }
        self.disconnect(st, framework_id);
        false
    }

    /// Sends a message to an agent (dropped if the agent is unknown).
    pub(crate) fn to_agent(&self, st: &MasterState, agent_id: &str, msg: ToAgent) {
        if let Some(a) = st.agents.get(agent_id) {
            let _ = a.tx.send(msg);
        }
    }

    /// The ids of frameworks this master knows (tests and faults).
    pub(crate) fn framework_ids(&self) -> Vec<String> {
        self.lock().frameworks.keys().cloned().collect()
    }
}

/// `Event { type: UPDATE, update: { status } }` (a copy of the status).
fn update_event(status: &TaskStatus) -> Event {
    let mut e = event_of(event::Type::Update);
    e.update = Some(event::Update {
        status: status.clone(),
    });
    e
}

/// An UPDATE event encoded for a stream of one content type: the record to queue and the
/// protobuf bytes the timeline keeps.
pub(crate) struct EncodedUpdate {
    content_type: ContentType,
    chunk: Vec<u8>,
    /// Protobuf: where the event starts in `chunk`. JSON: the event's own protobuf bytes.
    protobuf: Result<usize, Vec<u8>>,
    /// The event, when it had to be built (JSON: its encoder needs it).
    event: Option<Event>,
}

impl EncodedUpdate {
    fn new(content_type: ContentType, status: &TaskStatus) -> EncodedUpdate {
        match content_type {
            // No event around a copy of the status: the record is written from it.
            ContentType::Protobuf => {
                let (chunk, start) = update_record(status);
                EncodedUpdate {
                    content_type,
                    chunk,
                    protobuf: Ok(start),
                    event: None,
                }
            }
            ContentType::Json => {
                let e = update_event(status);
                EncodedUpdate {
                    content_type,
                    chunk: record(ContentType::Json, &e),
                    protobuf: Err(prost::Message::encode_to_vec(&e)),
                    event: Some(e),
                }
            }
        }
    }

    fn protobuf(&self) -> &[u8] {
        match &self.protobuf {
            Ok(start) => &self.chunk[*start..],
            Err(bytes) => bytes,
        }
    }
}

/// A send to a subscriber failed: if it fell behind, its stream is ended at once (what is
/// queued is dropped); either way the caller disconnects it, and it resubscribes as after
/// a cut stream.
fn behind(framework_id: &str, tx: &BoundedSender, why: SendRefused) {
    if why == SendRefused::Behind {
        let (items, bytes) = tx.queued();
        log::warn!(
            "Disconnecting framework {framework_id}: it fell behind reading its events \
             ({items} events, {bytes} bytes queued)"
        );
        tx.cancel();
    }
}

/// Moves a task to the completed list, which keeps `max` (Mesos'
/// `--max_completed_tasks_per_framework`, an option here).
/// Returns the one pushed out, if any, for the caller to free when it suits it (after
/// releasing the master's lock: a task's info and statuses are dozens of `free`s).
pub(crate) fn completed_push(fw: &mut Framework, task: TaskEntry, max: usize) -> Option<TaskEntry> {
    fw.completed_tasks.push_back(task);
    let mut out = None;
    while fw.completed_tasks.len() > max {
        out = fw.completed_tasks.pop_front();
    }
    out
}
