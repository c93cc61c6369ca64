//! [`ExecutorHandle`]: what executor callbacks (and task threads) use to talk
//! to the agent, and the bookkeeping that makes status updates reliable.
//!
//! Reliable delivery (fact sheet §3.4) works like this: every UPDATE carries
//! a fresh uuid; the agent answers with an ACKNOWLEDGED event for that uuid
//! once it has taken the update over. Until then the update is ours to keep,
//! and so is the TaskInfo of every task none of whose updates has been
//! acknowledged yet: if the connection breaks, the next SUBSCRIBE carries
//! both lists, so nothing is lost across an agent restart. The handle keeps
//! these lists, because updates are sent from wherever the handle is, often
//! a task's own thread, not only from the driver loop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use mesos_proto::v1::executor::{Call, call};
use mesos_proto::v1::{
    ExecutorId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
};

use super::connection::Connection;
use super::env::ExecutorEnv;
use crate::error::{Error, Result};

/// A cheap, cloneable, thread-safe handle to the executor's agent.
///
/// Every [`Executor`](super::Executor) callback gets one; clone it into the
/// threads that run your tasks so they can report progress themselves.
/// Calls go straight to the agent over HTTP from the calling thread.
#[derive(Clone)]
pub struct ExecutorHandle {
    inner: Arc<Inner>,
}

struct Inner {
    env: ExecutorEnv,
    connection: Connection,
    state: Mutex<Books>,
    /// Wakes the driver loop (see [`ExecutorHandle::stop`]).
    stop: Sender<()>,
}

/// What must survive a reconnection, and what shutdown needs to know.
#[derive(Default)]
struct Books {
    /// Updates sent but not yet ACKNOWLEDGED, oldest first.
    unacked_updates: Vec<call::Update>,
    /// Launched tasks none of whose updates has been acknowledged, by id.
    unacked_tasks: BTreeMap<String, TaskInfo>,
    /// Launched tasks with no terminal update sent yet, by id.
    live_tasks: BTreeMap<String, TaskId>,
}

impl ExecutorHandle {
    pub(crate) fn new(env: ExecutorEnv, connection: Connection, stop: Sender<()>) -> Self {
        ExecutorHandle {
            inner: Arc::new(Inner {
                env,
                connection,
                state: Mutex::new(Books::default()),
                stop,
            }),
        }
    }

    /// Sends a status update for `task_id` and returns its uuid.
    ///
    /// `message` is the human-readable text schedulers log (empty = none).
    /// The update gets a fresh random uuid, `source = SOURCE_EXECUTOR`, this
    /// executor's id and the current time, as the agent requires.
    ///
    /// # Errors
    ///
    /// The call failed. The update is kept and sent again when the driver
    /// subscribes again, unless the agent refused it as invalid (HTTP 400
    /// or 415), in which case it is dropped.
    pub fn update(&self, task_id: &TaskId, state: TaskState, message: &str) -> Result<Vec<u8>> {
        self.send_status(status(task_id, state, message))
    }

    /// Like [`update`](Self::update), with a `data` payload for the
    /// scheduler (it arrives as `TaskStatus.data`).
    ///
    /// # Errors
    ///
    /// As [`update`](Self::update).
    pub fn update_with_data(
        &self,
        task_id: &TaskId,
        state: TaskState,
        message: &str,
        data: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let mut status = status(task_id, state, message);
        status.data = Some(data);
        self.send_status(status)
    }

    /// Sends a status you built yourself (to set `reason`, `labels`,
    /// `healthy`, ...). Fills in what the agent requires when unset: `uuid`
    /// (fresh v4), `timestamp` (now) and `executor_id`; `source` is always
    /// set to `SOURCE_EXECUTOR`, the only value the agent accepts.
    ///
    /// # Errors
    ///
    /// As [`update`](Self::update).
    pub fn send_status(&self, mut status: TaskStatus) -> Result<Vec<u8>> {
        let uuid = status
            .uuid
            .get_or_insert_with(mesos_proto::uuid::new_v4)
            .clone();
        status.set_source(task_status::Source::SourceExecutor);
        status
            .executor_id
            .get_or_insert_with(|| self.inner.env.executor_id.clone());
        status.timestamp.get_or_insert_with(now);
        let terminal = status.state().is_terminal();
        let task_key = status.task_id.value.clone();
        let update = call::Update { status };

        // Book it *before* sending: the ACKNOWLEDGED event may arrive on the
        // driver thread before `call` returns here.
        {
            let mut books = self.books();
            books.unacked_updates.push(update.clone());
            if terminal {
                books.live_tasks.remove(&task_key);
            }
        }
        let mut call = self.envelope(call::Type::Update);
        call.update = Some(update);
        match self.inner.connection.call(&call) {
            Ok(()) => Ok(uuid),
            Err(err) => {
                if let Error::Http {
                    status: 400 | 415, ..
                } = err
                {
                    // Resending a refused update would make every future
                    // SUBSCRIBE fail too.
                    self.books()
                        .unacked_updates
                        .retain(|u| u.status.uuid.as_deref() != Some(&uuid[..]));
                }
                Err(err)
            }
        }
    }

    /// Sends a MESSAGE call: `data` reaches the scheduler as a MESSAGE event.
    /// Best effort: Mesos may drop it and never says so.
    ///
    /// # Errors
    ///
    /// The call failed (connection, or the agent answered non-2xx).
    pub fn send_message(&self, data: impl Into<Vec<u8>>) -> Result<()> {
        let mut call = self.envelope(call::Type::Message);
        call.message = Some(call::Message { data: data.into() });
        self.inner.connection.call(&call)
    }

    /// Asks the driver to finish: it waits (up to its drain timeout) until
    /// the agent has acknowledged every update, then [`run`] returns
    /// `Ok(())`. Use it when your executor is done with its work; the agent
    /// itself does not stop idle custom executors.
    ///
    /// [`run`]: super::ExecutorDriver::run
    pub fn stop(&self) {
        let _ = self.inner.stop.send(());
    }

    /// The parsed `MESOS_*` environment.
    pub fn env(&self) -> &ExecutorEnv {
        &self.inner.env
    }

    /// This executor's id (`MESOS_EXECUTOR_ID`).
    pub fn executor_id(&self) -> &ExecutorId {
        &self.inner.env.executor_id
    }

    /// The framework's id (`MESOS_FRAMEWORK_ID`).
    pub fn framework_id(&self) -> &FrameworkId {
        &self.inner.env.framework_id
    }

    /// Tasks launched on this executor for which no terminal update has been
    /// sent yet, ordered by id. The default [`shutdown`] kills these.
    ///
    /// [`shutdown`]: super::Executor::shutdown
    pub fn live_tasks(&self) -> Vec<TaskId> {
        self.books().live_tasks.values().cloned().collect()
    }

    /// The statuses sent but not yet acknowledged by the agent, oldest first.
    pub fn unacknowledged_updates(&self) -> Vec<TaskStatus> {
        let books = self.books();
        books
            .unacked_updates
            .iter()
            .map(|u| u.status.clone())
            .collect()
    }

    /// The tasks none of whose updates has been acknowledged yet.
    pub fn unacknowledged_tasks(&self) -> Vec<TaskInfo> {
        self.books().unacked_tasks.values().cloned().collect()
    }

    // ----- for the driver -----

    /// Remembers a task the agent just launched.
    pub(crate) fn record_launch(&self, task: &TaskInfo) {
        let mut books = self.books();
        let key = task.task_id.value.clone();
        books.unacked_tasks.insert(key.clone(), task.clone());
        books.live_tasks.insert(key, task.task_id.clone());
    }

    /// Forgets an update (and its task's TaskInfo) once ACKNOWLEDGED.
    pub(crate) fn record_acknowledged(&self, task_id: &TaskId, uuid: &[u8]) {
        let mut books = self.books();
        books
            .unacked_updates
            .retain(|u| u.status.uuid.as_deref() != Some(uuid));
        books.unacked_tasks.remove(&task_id.value);
    }

    /// The SUBSCRIBE call, carrying everything not yet acknowledged.
    pub(crate) fn subscribe_call(&self) -> Call {
        let books = self.books();
        let mut call = self.envelope(call::Type::Subscribe);
        call.subscribe = Some(call::Subscribe {
            unacknowledged_tasks: books.unacked_tasks.values().cloned().collect(),
            unacknowledged_updates: books.unacked_updates.clone(),
        });
        call
    }

    /// True when every update sent has been acknowledged (and, if
    /// `tasks_too`, no launched task is still live).
    pub(crate) fn is_drained(&self, tasks_too: bool) -> bool {
        let books = self.books();
        books.unacked_updates.is_empty() && (!tasks_too || books.live_tasks.is_empty())
    }

    /// Sends a HEARTBEAT call (the agent answers 202 without looking).
    pub(crate) fn heartbeat(&self) -> Result<()> {
        self.inner
            .connection
            .call(&self.envelope(call::Type::Heartbeat))
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.inner.connection
    }

    fn envelope(&self, kind: call::Type) -> Call {
        let mut call = Call {
            executor_id: self.inner.env.executor_id.clone(),
            framework_id: self.inner.env.framework_id.clone(),
            ..Default::default()
        };
        call.set_type(kind);
        call
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // A callback that panicked while holding the lock leaves consistent
        // lists behind (every change is a single push/remove), so go on.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for ExecutorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorHandle")
            .field("executor_id", &self.inner.env.executor_id.value)
            .field("framework_id", &self.inner.env.framework_id.value)
            .finish_non_exhaustive()
    }
}

fn status(task_id: &TaskId, state: TaskState, message: &str) -> TaskStatus {
    let mut status = TaskStatus {
        task_id: task_id.clone(),
        message: (!message.is_empty()).then(|| message.to_string()),
        ..Default::default()
    };
    status.set_state(state);
    status
}

/// Seconds since the Unix epoch, as Mesos timestamps are.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
