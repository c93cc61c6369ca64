//! The call pipeline: two threads, each with its own keep-alive connection
//! to the master, that send the calls queued to them in order, many at a
//! time (HTTP/1.1 pipelining), so that the thread running the callbacks
//! does not wait a round trip per call.
//!
//! Why: the driver used to send each call as its own request and wait for its
//! `202` on the thread that runs the callbacks. A task costs three
//! ACKNOWLEDGEs and a share of an ACCEPT, so 10,000 tasks meant tens of
//! thousands of round trips in a row, and every OFFERS event waited behind
//! them. Now a call is put on a bounded queue; a thread takes everything
//! queued (up to [`MAX_BATCH`] requests), writes it in one go, reads the
//! answers in order, and repeats.
//!
//! The two lanes (see the module docs of [`crate::scheduler`] for the
//! contract this keeps):
//!
//! * **`mesos-acks`**: acknowledgements ([`Reply::Report`]: the caller
//!   returns once the call is queued; a failure goes to the driver on the
//!   `failures` channel, tagged with its subscription), then TEARDOWN, which
//!   waits behind them ([`Reply::Wait`]).
//! * **`mesos-calls`**: every other call, in the order made. The answers to
//!   offers (ACCEPT, DECLINE) are sent in the background
//!   ([`Reply::Background`]): the caller returns once queued, and a failure
//!   goes to the driver on the `refused` channel with what the call was
//!   about, for [`Scheduler::call_failed`](super::Scheduler::call_failed).
//!   The caller of any other call waits for its answer ([`Reply::Wait`]),
//!   which comes after those of the calls queued before it: a KILL made
//!   after a LAUNCH reaches the master after it. Offers go stale and
//!   offer→ACCEPT latency is what a cluster measures, so an ACCEPT does not
//!   wait behind a thousand acknowledgements on their connection. (Session
//!   4's driver also held acknowledgements back while an ACCEPT was on the
//!   wire, because its caller waited for the answer; with ACCEPT sent in
//!   the background that only slowed the stream down: `bench/README.md`.)
//!
//! A [`Msg::Flush`] is a wait without a request. Calls of a subscription that
//! is no longer live are not sent (the master would refuse the old
//! `Mesos-Stream-Id`); after a TEARDOWN the master accepted, nothing more is
//! sent at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::call;

use super::background::FailedCall;
use crate::error::{Error, Result};
use crate::masters::Endpoint;
use crate::transport::{CallConnection, CallRequest, Response, Transport};

/// The most requests written in one batch (and so the most unanswered
/// requests on a connection). Small enough that the answers of a batch fit
/// in the socket buffers while we are still writing it.
pub(crate) const MAX_BATCH: usize = 64;

/// How many calls the `mesos-calls` lane holds before a caller waits
/// (backpressure): at most this many, plus a batch on the wire. An ACCEPT
/// of 40 tasks is about 25 KB of JSON, so the queue holds at most ~400 KB
/// (a request's body is freed once written).
pub(crate) const CALLS_QUEUE: usize = 16;

/// The most requests of the `mesos-calls` lane written in one batch. The
/// master handles an ACCEPT in a fraction of a millisecond; more than this
/// many in flight would only move the queue into the socket.
pub(crate) const CALLS_BATCH: usize = 16;

/// Failed acknowledgements kept for the driver; more than that in one go
/// are only logged (the first one already ends the subscription).
const FAILURE_QUEUE: usize = 16;

/// Failed background calls (ACCEPT, DECLINE) kept for
/// [`Scheduler::call_failed`](super::Scheduler::call_failed). The driver
/// takes them between events; beyond this many not yet taken, a failure is
/// logged (error) but not kept.
pub(crate) const REFUSED_QUEUE: usize = 1024;

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
    /// An acknowledgement: does not wait; a failure goes to the driver.
    Report,
    /// An answer to offers: does not wait; a failure goes to the driver with
    /// what the call was about (the error field is filled in then).
    Background(Box<FailedCall>),
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

/// A call that failed without anyone waiting for it.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The subscription it was sent on.
    pub generation: u64,
    /// What went wrong: [`Error::Http`] (a refusal) or [`Error::Transport`].
    pub error: Error,
}

/// A background call that failed, for the driver.
#[derive(Debug)]
pub(crate) struct Refused {
    /// The subscription it was made in.
    pub generation: u64,
    /// The call and its error.
    pub call: FailedCall,
}

/// Whether a failed call means the subscription is over for this driver: a
/// `403` (the master no longer has this stream: it was cut, or its reader
/// fell too far behind), a `307` (no longer the leader), a 5xx, or a broken
/// connection (the call's fate is unknown). Any other 4xx is a refusal the
/// master would repeat; it ends nothing.
pub(crate) fn ends_subscription(error: &Error) -> bool {
    match error {
        Error::Http { status: 403, .. } => true,
        Error::Http { status, .. } => !(400..=499).contains(status),
        _ => true,
    }
}

/// What the handle and the two threads all see.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The generation of the live subscription; 0 while there is none.
    pub live: AtomicU64,
    /// Set once a TEARDOWN was accepted: nothing is sent after it.
    pub torn_down: AtomicBool,
}

/// The queues into the two threads and what comes back from them.
pub(crate) struct Pipeline {
    /// Acknowledgements, TEARDOWN and flushes, in order (bounded by
    /// `max_queued_calls`).
    pub acks: Sender<Msg>,
    /// Every other call and flushes, in order (bounded by [`CALLS_QUEUE`]).
    pub calls: Sender<Msg>,
    /// Failed acknowledgements.
    pub failures: Receiver<Failure>,
    /// Failed background calls.
    pub refused: Receiver<Refused>,
    pub state: Arc<State>,
}

impl Pipeline {
    /// Starts the `mesos-acks` and `mesos-calls` threads; they end when the
    /// `Pipeline` is dropped. `capacity` bounds the acknowledgement queue: a
    /// caller blocks while it is full (backpressure).
    pub fn start(
        transport: Arc<Transport>,
        content_type: ContentType,
        capacity: usize,
    ) -> Result<Pipeline> {
        let (acks, ack_items) = bounded(capacity.max(1));
        let (calls, call_items) = bounded(CALLS_QUEUE);
        let (report, failures) = bounded(FAILURE_QUEUE);
        let (refuse, refused) = bounded(REFUSED_QUEUE);
        let state = Arc::new(State::default());
        let worker = |max_batch: usize| Worker {
            max_batch,
            transport: transport.clone(),
            content_type,
            state: state.clone(),
            report: report.clone(),
            refuse: refuse.clone(),
            connection: None,
            failed: 0,
        };
        for (name, mut worker, items) in [
            ("mesos-acks", worker(MAX_BATCH), ack_items),
            ("mesos-calls", worker(CALLS_BATCH), call_items),
        ] {
            thread::Builder::new()
                .name(name.into())
                .spawn(move || worker.run(&items))
                .map_err(Error::Io)?;
        }
        Ok(Pipeline {
            acks,
            calls,
            failures,
            refused,
            state,
        })
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
    /// The most requests this lane writes in one batch ([`MAX_BATCH`] for
    /// acknowledgements, [`CALLS_BATCH`] for the other calls).
    max_batch: usize,
    transport: Arc<Transport>,
    content_type: ContentType,
    state: Arc<State>,
    report: Sender<Failure>,
    refuse: Sender<Refused>,
    connection: Option<Open>,
    /// The subscription a call of this lane failed in last, in a way that
    /// ends it (0: none): its other queued calls that nobody waits for are
    /// dropped, not sent.
    failed: u64,
}

impl Worker {
    /// Takes whatever is queued into batches; ends when the queue is closed
    /// (the handle is gone).
    fn run(&mut self, items: &Receiver<Msg>) {
        let mut batch: Vec<Pending> = Vec::with_capacity(self.max_batch);
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
                if kind == call::Type::Teardown || batch.len() >= self.max_batch {
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
        // acknowledged once the driver has re-subscribed; offers made before
        // are void).
        let live = self.state.live.load(Ordering::SeqCst);
        let torn_down = self.state.torn_down.load(Ordering::SeqCst);
        let mut sendable = Vec::with_capacity(batch.len());
        for pending in batch.drain(..) {
            let unwaited = !matches!(pending.reply, Reply::Wait(_));
            if torn_down {
                log::debug!(
                    "{} not sent: the framework was torn down",
                    pending.kind.as_str_name()
                );
                self.answer(pending, Err(Error::Stopped), false);
            } else if pending.target.generation != live
                || (pending.target.generation == self.failed && unwaited)
            {
                // A failure that ends the subscription ends it for the calls
                // queued behind too: the driver re-subscribes, and they need
                // not wait on a master that just failed.
                log::debug!(
                    "{} not sent: its subscription is gone",
                    pending.kind.as_str_name()
                );
                self.answer(pending, Err(Error::NotSubscribed), false);
            } else {
                sendable.push(pending);
            }
        }
        if sendable.is_empty() {
            return;
        }
        let results = self.exchange(&mut sendable);
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
            if let Err(error) = &result
                && !matches!(pending.reply, Reply::Wait(_))
                && ends_subscription(error)
            {
                self.failed = pending.target.generation;
            }
            self.answer(pending, result, true);
        }
    }

    /// Gives `result` to whoever waits for it, or reports a failure of a call
    /// nobody waits for to the driver: an acknowledgement only if it was
    /// `sent` (one dropped on purpose is re-sent by the master's agent after
    /// the next subscription), a background call unless dropped after a
    /// TEARDOWN (its offers are void either way, but the scheduler must hear
    /// that its tasks were not launched).
    fn answer(&self, pending: Pending, result: Result<()>, sent: bool) {
        let Err(error) = result else {
            if let Reply::Wait(tx) = pending.reply {
                let _ = tx.send(Ok(()));
            }
            return;
        };
        let kind = pending.kind.as_str_name();
        let generation = pending.target.generation;
        match pending.reply {
            // The caller may have gone (its thread ended); nothing to tell then.
            Reply::Wait(tx) => {
                let _ = tx.send(Err(error));
            }
            Reply::Report if !sent => {}
            Reply::Report => {
                log::warn!("{kind} failed: {error}");
                let failure = Failure { generation, error };
                if let Err(TrySendError::Full(failure)) = self.report.try_send(failure) {
                    // The driver already has failures of this kind to act on.
                    log::debug!("failure not queued (queue full): {}", failure.error);
                }
            }
            Reply::Background(_) if matches!(error, Error::Stopped) => {}
            Reply::Background(mut call) => {
                if sent {
                    log::warn!("{kind} failed: {error}");
                }
                call.error = error;
                let refused = Refused {
                    generation,
                    call: *call,
                };
                if let Err(TrySendError::Full(refused)) = self.refuse.try_send(refused) {
                    log::error!(
                        "{kind} failed ({}), and {REFUSED_QUEUE} failed calls are already \
                         waiting for Scheduler::call_failed: not reported",
                        refused.call.error
                    );
                }
            }
        }
    }

    /// Writes the requests (all to one master) and reads one answer each.
    fn exchange(&mut self, batch: &mut [Pending]) -> Vec<Result<Response>> {
        let target = batch[0].target.clone();
        let endpoint = &target.endpoint;
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
        // Written: the bodies are not needed while we wait for the answers.
        drop(requests);
        drop(headers);
        for pending in batch.iter_mut() {
            pending.body = Vec::new();
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
