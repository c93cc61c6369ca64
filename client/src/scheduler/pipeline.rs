//! The call pipeline: acknowledgements queued to one thread that sends them
//! in order, many at a time; other calls sent at once by their caller.
//!
//! Why: the driver used to send each call as its own request and wait for the
//! `202` on the thread that runs the callbacks. A task costs three
//! ACKNOWLEDGEs, so 10,000 tasks meant 30,000 round trips in a row, and every
//! OFFERS event waited behind them. Now a call is put on a bounded queue; a
//! thread takes everything queued (up to [`MAX_BATCH`] requests), writes it in
//! one go on its keep-alive connection, reads the answers in order, and
//! repeats.
//!
//! Two kinds of items (see the module docs of [`crate::scheduler`] for the
//! contract this keeps):
//!
//! * **fire and forget** ([`Reply::Report`]): acknowledgements. The caller
//!   returns as soon as the call is queued; a failure is sent to the driver
//!   on the `failures` channel, tagged with the subscription it belonged to.
//! * **wait**: every other call. The caller sends it on a second keep-alive
//!   connection and reads the answer itself ([`Pipeline::call_now`]), so it
//!   gets the master's status as before. An ACCEPT must not wait behind a
//!   thousand acknowledgements, nor for the answers of a batch of them, nor
//!   for a hand-off to another thread (offers go stale, and offer→ACCEPT
//!   latency is what a cluster measures). TEARDOWN is the exception: it
//!   waits in the ordered queue ([`Reply::Wait`]), behind every
//!   acknowledgement. A [`Msg::Flush`] is a wait without a request, in the
//!   ordered queue.
//!
//! Calls of a subscription that is no longer live are not sent (the master
//! would refuse the old `Mesos-Stream-Id`); after a TEARDOWN the master
//! accepted, nothing more is sent at all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::call;

use crate::error::{Error, Result};
use crate::masters::Endpoint;
use crate::transport::{CallConnection, CallRequest, Response, Transport};

/// The most requests written in one batch (and so the most unanswered
/// requests on the connection). Small enough that the answers of a batch fit
/// in the socket buffers while we are still writing it.
pub(crate) const MAX_BATCH: usize = 64;

/// The longest the `mesos-calls` thread holds a batch back while direct
/// calls are on the wire (see [`Gate`]): it yields to them, it is not
/// starved by them.
const MAX_YIELD: Duration = Duration::from_millis(5);

/// Failures kept for the driver; more than that in one go are only logged
/// (the first one already ends the subscription).
const FAILURE_QUEUE: usize = 16;

/// Where a call goes: the live subscription when it was made.
#[derive(Debug)]
pub(crate) struct Target {
    /// The master holding the subscription.
    pub endpoint: Endpoint,
    /// Its `Mesos-Stream-Id`.
    pub stream_id: String,
    /// Which subscription (counted from 1 by the driver): calls of an older
    /// one are dropped, failures of an older one ignored.
    pub generation: u64,
}

/// How the caller learns the answer.
pub(crate) enum Reply {
    /// Blocks on this channel (capacity 1) for the result.
    Wait(Sender<Result<()>>),
    /// Does not wait; a failure goes to the driver.
    Report,
}

/// One queued item.
pub(crate) enum Msg {
    /// A call to send.
    Call {
        /// Its type.
        kind: call::Type,
        /// The encoded call (a few hundred bytes for an acknowledgement).
        body: Vec<u8>,
        /// Where it goes.
        target: Arc<Target>,
        /// Who hears the answer.
        reply: Reply,
    },
    /// Answered once everything queued before it has been answered.
    Flush(Sender<()>),
}

/// A fire-and-forget call that failed.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The subscription it was sent on.
    pub generation: u64,
    /// What went wrong: [`Error::Http`] (a refusal) or [`Error::Transport`].
    pub error: Error,
}

/// What the handle and the `mesos-calls` thread both see.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The generation of the live subscription; 0 while there is none.
    pub live: AtomicU64,
    /// Set once a TEARDOWN was accepted: nothing is sent after it.
    pub torn_down: AtomicBool,
}

/// How many direct calls are on the wire. The `mesos-calls` thread waits
/// (up to [`MAX_YIELD`]) until there are none before it writes a batch, so
/// that an ACCEPT does not share the master (its lock and the CPU) with a
/// fresh batch of acknowledgements: the ACCEPT's caller, usually the thread
/// that runs the callbacks, waits for its answer, while the
/// acknowledgements wait in their queue either way. Measured in `bench e2e`
/// (session 4): offer→ACCEPT p99 lower by about 15 %, throughput about 5 %
/// lower.
#[derive(Default)]
struct Gate {
    in_flight: Mutex<usize>,
    clear: Condvar,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `call` counted as on the wire.
    fn during<T>(&self, call: impl FnOnce() -> T) -> T {
        *self.lock() += 1;
        let result = call();
        let mut in_flight = self.lock();
        *in_flight -= 1;
        if *in_flight == 0 {
            self.clear.notify_all();
        }
        result
    }

    /// Waits until no direct call is on the wire, or `MAX_YIELD` passed.
    fn yield_to_direct_calls(&self) {
        let in_flight = self.lock();
        let _ = self
            .clear
            .wait_timeout_while(in_flight, MAX_YIELD, |n| *n > 0);
    }
}

/// The queues into the `mesos-calls` thread and what comes back from it.
pub(crate) struct Pipeline {
    /// Acknowledgements, TEARDOWN and flushes, in order (bounded by
    /// `max_queued_calls`).
    pub queue: Sender<Msg>,
    /// The connection for calls whose caller waits for the answer: the
    /// caller sends on it and reads the answer itself, so these calls
    /// overtake queued acknowledgements and cost no hand-off to a thread.
    direct: Mutex<Worker>,
    /// Direct calls on the wire, which the `mesos-calls` thread yields to.
    gate: Arc<Gate>,
    pub failures: Receiver<Failure>,
    pub state: Arc<State>,
}

impl Pipeline {
    /// Starts the `mesos-calls` thread; it ends when the `Pipeline` is
    /// dropped. `capacity` bounds the queue: a caller blocks while it
    /// is full (backpressure).
    pub fn start(
        transport: Arc<Transport>,
        content_type: ContentType,
        capacity: usize,
    ) -> Result<Pipeline> {
        let (queue, items) = bounded(capacity.max(1));
        let (report, failures) = bounded(FAILURE_QUEUE);
        let state = Arc::new(State::default());
        let gate = Arc::new(Gate::default());
        let worker = |report: &Sender<Failure>, gate: Option<Arc<Gate>>| Worker {
            gate,
            transport: transport.clone(),
            content_type,
            state: state.clone(),
            report: report.clone(),
            connection: None,
            failed: 0,
        };
        let mut ordered = worker(&report, Some(gate.clone()));
        thread::Builder::new()
            .name("mesos-calls".into())
            .spawn(move || ordered.run(&items))
            .map_err(Error::Io)?;
        let direct = Mutex::new(worker(&report, None));
        Ok(Pipeline {
            queue,
            direct,
            gate,
            failures,
            state,
        })
    }

    /// Sends one call on the direct connection and returns the master's
    /// answer (callers from several threads take turns).
    pub fn call_now(&self, kind: call::Type, body: Vec<u8>, target: Arc<Target>) -> Result<()> {
        let (tx, rx) = bounded(1);
        let mut batch = vec![Pending {
            kind,
            target,
            body,
            reply: Reply::Wait(tx),
        }];
        let mut direct = self
            .direct
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.gate.during(|| direct.send_batch(&mut batch));
        rx.try_recv().unwrap_or(Err(Error::Stopped))
    }
}

/// The status Mesos answers a well-formed call with.
pub(crate) fn expected_status(kind: call::Type) -> u16 {
    match kind {
        call::Type::UpdateFramework => 200,
        _ => 202,
    }
}

/// A prepared request of a batch.
struct Pending {
    kind: call::Type,
    target: Arc<Target>,
    body: Vec<u8>,
    reply: Reply,
}

/// The open connection and where it goes.
struct Open {
    https: bool,
    host: String,
    port: u16,
    /// `None`: https without a CA file; every call goes through ureq.
    connection: Option<CallConnection>,
}

struct Worker {
    /// The ordered worker's: direct calls it yields to before writing a
    /// batch. `None` for the direct worker.
    gate: Option<Arc<Gate>>,
    transport: Arc<Transport>,
    content_type: ContentType,
    state: Arc<State>,
    report: Sender<Failure>,
    connection: Option<Open>,
    /// The subscription whose acknowledgement failed last (0: none): its
    /// other queued acknowledgements are dropped, not sent.
    failed: u64,
}

impl Worker {
    /// Takes whatever is queued into batches; ends when the queue is closed
    /// (the handle is gone).
    fn run(&mut self, items: &Receiver<Msg>) {
        let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
        while let Ok(first) = items.recv() {
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                self.take(msg, &mut batch);
                next = items.try_recv().ok();
            }
            self.send_batch(&mut batch);
        }
    }

    /// Adds one item to the batch, sending the batch first or after as needed.
    fn take(&mut self, msg: Msg, batch: &mut Vec<Pending>) {
        match msg {
            Msg::Flush(done) => {
                self.send_batch(batch);
                let _ = done.send(());
            }
            Msg::Call {
                kind,
                body,
                target,
                reply,
            } => {
                // A batch goes to one master; a TEARDOWN ends it, so nothing
                // queued after it is written before its answer.
                if batch
                    .last()
                    .is_some_and(|p| !same_master(&p.target.endpoint, &target.endpoint))
                {
                    self.send_batch(batch);
                }
                batch.push(Pending {
                    kind,
                    target,
                    body,
                    reply,
                });
                if kind == call::Type::Teardown || batch.len() >= MAX_BATCH {
                    self.send_batch(batch);
                }
            }
        }
    }

    /// Sends `batch` (emptying it) and hands out the answers.
    fn send_batch(&mut self, batch: &mut Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        // Drop what must not be sent: after an accepted TEARDOWN, or for a
        // subscription that is gone (the master re-sends what was not
        // acknowledged once the driver has re-subscribed).
        let live = self.state.live.load(Ordering::SeqCst);
        let torn_down = self.state.torn_down.load(Ordering::SeqCst);
        let mut sendable = Vec::with_capacity(batch.len());
        for pending in batch.drain(..) {
            if torn_down {
                log::debug!(
                    "{} not sent: the framework was torn down",
                    pending.kind.as_str_name()
                );
                answer(&self.report, pending, Err(Error::Stopped), false);
            } else if pending.target.generation != live
                || (pending.target.generation == self.failed
                    && matches!(pending.reply, Reply::Report))
            {
                // A failed acknowledgement ends its subscription (the driver
                // re-subscribes); the rest of that subscription's need not
                // wait on a master that just failed.
                log::debug!(
                    "{} not sent: its subscription is gone",
                    pending.kind.as_str_name()
                );
                answer(&self.report, pending, Err(Error::NotSubscribed), false);
            } else {
                sendable.push(pending);
            }
        }
        if sendable.is_empty() {
            return;
        }
        if let Some(gate) = &self.gate {
            gate.yield_to_direct_calls();
        }
        let results = self.exchange(&sendable);
        for (pending, result) in sendable.into_iter().zip(results) {
            let result = result.and_then(|response| {
                let expected = expected_status(pending.kind);
                log::debug!("{} -> {}", pending.kind.as_str_name(), response.status);
                if response.status == expected {
                    Ok(())
                } else {
                    Err(Error::Http {
                        status: response.status,
                        body: response.text(),
                    })
                }
            });
            if pending.kind == call::Type::Teardown && result.is_ok() {
                self.state.torn_down.store(true, Ordering::SeqCst);
            }
            if result.is_err() && matches!(pending.reply, Reply::Report) {
                self.failed = pending.target.generation;
            }
            answer(&self.report, pending, result, true);
        }
    }

    /// Writes the requests (all to one master) and reads one answer each.
    fn exchange(&mut self, batch: &[Pending]) -> Vec<Result<Response>> {
        let endpoint = &batch[0].target.endpoint;
        let mime = self.content_type.mime();
        if let Err(err) = self.ensure_connection(endpoint) {
            return batch.iter().map(|_| Err(copy_error(&err))).collect();
        }
        let open = self.connection.as_mut().expect("connected above");
        let Some(connection) = open.connection.as_mut() else {
            // https without a CA file: ureq, one call at a time.
            let url = endpoint.url();
            return batch
                .iter()
                .map(|p| {
                    self.transport.post(
                        &url,
                        mime,
                        &[("Mesos-Stream-Id", &p.target.stream_id)],
                        &p.body,
                    )
                })
                .collect();
        };
        let headers: Vec<[(&str, &str); 1]> = batch
            .iter()
            .map(|p| [("Mesos-Stream-Id", p.target.stream_id.as_str())])
            .collect();
        let requests: Vec<CallRequest<'_>> = batch
            .iter()
            .zip(&headers)
            .map(|(p, headers)| CallRequest {
                path: &endpoint.path,
                content_type: mime,
                headers,
                body: &p.body,
            })
            .collect();
        let mut results = Vec::with_capacity(batch.len());
        let mut broken = None;
        if let Err(err) = connection.send(&requests) {
            broken = Some(err);
        }
        for _ in 0..batch.len() {
            if let Some(err) = &broken {
                results.push(Err(copy_error(err)));
                continue;
            }
            match connection.receive() {
                Ok((response, keep_alive)) => {
                    results.push(Ok(response));
                    if !keep_alive {
                        broken = Some(Error::Transport(format!(
                            "{endpoint}: the master closed the call connection"
                        )));
                    }
                }
                Err(err) => {
                    results.push(Err(copy_error(&err)));
                    broken = Some(err);
                }
            }
        }
        if broken.is_some() {
            // Answers still due would be mixed up with the next batch's.
            self.connection = None;
        }
        results
    }

    /// Opens a connection to `endpoint` unless one is open and usable.
    fn ensure_connection(&mut self, endpoint: &Endpoint) -> Result<()> {
        let reusable = self.connection.as_ref().is_some_and(|open| {
            open.https == endpoint.https
                && open.host == endpoint.host
                && open.port == endpoint.port
                && open.connection.as_ref().is_none_or(|c| !c.is_closed())
        });
        if !reusable {
            self.connection = None;
            let connection =
                self.transport
                    .connect_calls(endpoint.https, &endpoint.host, endpoint.port)?;
            self.connection = Some(Open {
                https: endpoint.https,
                host: endpoint.host.clone(),
                port: endpoint.port,
                connection,
            });
        }
        Ok(())
    }
}

fn same_master(a: &Endpoint, b: &Endpoint) -> bool {
    a.https == b.https && a.host == b.host && a.port == b.port && a.path == b.path
}

/// Gives `result` to whoever waits for it, or reports a failure of a
/// fire-and-forget call that was sent (`sent`) to the driver.
fn answer(report: &Sender<Failure>, pending: Pending, result: Result<()>, sent: bool) {
    match pending.reply {
        // The caller may have gone (its thread ended); nothing to tell then.
        Reply::Wait(tx) => {
            let _ = tx.send(result);
        }
        Reply::Report => {
            let Err(error) = result else { return };
            if !sent {
                return; // dropped on purpose, see `send_batch`
            }
            log::warn!("{} failed: {error}", pending.kind.as_str_name());
            let failure = Failure {
                generation: pending.target.generation,
                error,
            };
            if let Err(TrySendError::Full(failure)) = report.try_send(failure) {
                // The driver already has failures of this kind to act on.
                log::debug!("failure not queued (queue full): {}", failure.error);
            }
        }
    }
}

/// The same error again, for every call of a batch that failed as a whole.
fn copy_error(err: &Error) -> Error {
    match err {
        Error::Http { status, body } => Error::Http {
            status: *status,
            body: body.clone(),
        },
        Error::NotSubscribed => Error::NotSubscribed,
        Error::Stopped => Error::Stopped,
        Error::Config(msg) => Error::Config(msg.clone()),
        Error::Transport(msg) => Error::Transport(msg.clone()),
        other => Error::Transport(other.to_string()),
    }
}
