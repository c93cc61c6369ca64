//! SUBSCRIBE, and the reader thread that turns the event stream into
//! batches of [`Event`]s on a channel.
//!
//! Why a thread: reading the stream blocks until the master sends something,
//! which may be 15 s (a heartbeat) or never (a dead network). Putting the
//! blocking read on its own thread leaves the driver's loop free to wait on
//! several things at once with `select!`: the next event, the heartbeat
//! deadline and a stop request.
//!
//! The reader owns the response body. It ends, dropping its end of the
//! channel, when the stream ends; the driver sees the channel disconnect.
//! Broken framing is sent as an error first. If the driver gives up on a
//! subscription (heartbeat timeout) the reader notices when its next send
//! fails, or when a read times out, and exits, closing the connection.

use std::io::Read;
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};
use mesos_proto::ContentType;
use mesos_proto::recordio::Decoder;
use mesos_proto::v1::scheduler::{Call, Event};

use crate::error::{Error, Result};
use crate::masters::{Endpoint, Masters};
use crate::transport::Transport;

/// How many `307`s in a row we follow before giving up on this attempt: a
/// redirect loop between confused masters must not spin forever.
const MAX_REDIRECTS: usize = 5;

/// Batches read ahead of the driver. A small bound pushes back on the master
/// (through TCP) if the scheduler is slow, instead of buffering without end:
/// at most `EVENT_QUEUE * EVENT_BATCH` decoded events wait for the driver,
/// plus the batch being filled.
const EVENT_QUEUE: usize = 4;

/// The most events handed to the driver at once.
///
/// Why batches: with one event per channel message, a reader blocked on a
/// full channel was woken for every event the driver took, and a driver that
/// had emptied the channel for every event the reader put in; on a busy
/// machine each wakeup waits for a core, and the events waited with it (a
/// 10,000-task run spent more time in these hand-offs than in decoding). A
/// batch never waits for more events: the reader hands over what it has as
/// soon as the next record is not already buffered whole.
const EVENT_BATCH: usize = 32;

/// A live subscription: where it is, its stream id, and its events.
pub(crate) struct Subscription {
    /// The master that accepted the SUBSCRIBE (calls go there too).
    pub endpoint: Endpoint,
    /// The `Mesos-Stream-Id` every other call must carry.
    pub stream_id: String,
    /// Decoded events in batches, in the order of the stream (never empty);
    /// an `Err` is the last item before the stream ends broken;
    /// disconnection without one means the master closed the stream.
    pub events: Receiver<Result<Vec<Event>>>,
}

/// Sends SUBSCRIBE to the current master, following `307`s, and starts the
/// reader thread once a master answers `200`.
///
/// On a connection failure, `503` or other 5xx, the current master is marked
/// failed (so the next attempt tries the next one) and the error returned.
/// A 4xx is returned as is: the request itself is wrong (bad credentials,
/// invalid framework info), so it would fail on every master.
pub(crate) fn subscribe(
    transport: &Transport,
    masters: &mut Masters,
    content_type: ContentType,
    call: &Call,
    max_record_size: usize,
) -> Result<Subscription> {
    let body = content_type.encode(call);
    let mime = content_type.mime();
    // With zk:// masters: the leader ZooKeeper names now.
    masters.refresh()?;
    for _ in 0..=MAX_REDIRECTS {
        let endpoint = masters.current().clone();
        log::info!("subscribing at {endpoint}");
        let response = match transport.post_stream(&endpoint.url(), mime, mime, &body) {
            Ok(response) => response,
            Err(err) => {
                masters.failed();
                return Err(err);
            }
        };
        match response.status {
            200 => {}
            307 => {
                let location = response.header("location").map(str::to_string);
                let Some(location) = location else {
                    masters.failed();
                    return Err(Error::Redirect(format!(
                        "307 from {endpoint} without Location"
                    )));
                };
                if let Err(err) = masters.redirected(&location) {
                    masters.failed();
                    return Err(err);
                }
                log::info!("{endpoint} is not the leader; redirected to {location}");
                continue;
            }
            status => {
                if status >= 500 {
                    masters.failed();
                }
                let body = response.into_text();
                return Err(Error::Http { status, body });
            }
        }
        // 200: the stream is ours. A 200 can still carry a single ERROR event
        // (framework-level refusal); the driver handles that like any ERROR.
        let Some(stream_id) = response.header("mesos-stream-id").map(str::to_string) else {
            masters.failed();
            return Err(Error::Http {
                status: 200,
                body: "SUBSCRIBE response without a Mesos-Stream-Id header".into(),
            });
        };
        if let Some(got) = response.header("content-type")
            && got != mime
        {
            masters.failed();
            return Err(Error::Http {
                status: 200,
                body: format!("SUBSCRIBE response is {got}, expected {mime}"),
            });
        }
        let (tx, events) = bounded(EVENT_QUEUE);
        let reader = Decoder::new(response.body).with_max_record_size(max_record_size);
        thread::Builder::new()
            .name("mesos-subscription".into())
            .spawn(move || read_events(reader, content_type, tx))
            .map_err(Error::Io)?;
        return Ok(Subscription {
            endpoint,
            stream_id,
            events,
        });
    }
    masters.failed();
    Err(Error::Redirect(format!(
        "more than {MAX_REDIRECTS} redirects in a row"
    )))
}

/// The reader thread: one RecordIO record at a time, decoded into an Event,
/// handed on in batches (see [`EVENT_BATCH`]).
///
/// A record that does not decode is logged and skipped (the framing is
/// intact, so the next record is fine; reconnecting would not help). Broken
/// framing or a failed read ends the stream with an error, after the events
/// read before it.
fn read_events<R: Read>(
    mut reader: Decoder<R>,
    content_type: ContentType,
    events: Sender<Result<Vec<Event>>>,
) {
    let mut batch = Vec::with_capacity(EVENT_BATCH);
    loop {
        // Hand over what we have before anything that may block on the
        // socket: an event never waits for the ones behind it.
        if !batch.is_empty() && (batch.len() >= EVENT_BATCH || !reader.has_buffered_record()) {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(EVENT_BATCH));
            if events.send(Ok(full)).is_err() {
                // The driver gave up on this subscription.
                return;
            }
        }
        let record = match reader.next_record() {
            Ok(Some(record)) => record,
            end => {
                // The batch is empty here (it was handed over before the
                // read that ended the stream); kept for the events' sake.
                if !batch.is_empty() && events.send(Ok(batch)).is_err() {
                    return;
                }
                match end {
                    Err(err) => {
                        // The driver may be gone already; then nobody needs
                        // to know.
                        let _ = events.send(Err(Error::Protocol(err)));
                    }
                    _ => log::debug!("the master closed the event stream"),
                }
                return;
            }
        };
        match content_type.decode::<Event>(&record) {
            Ok(event) => batch.push(event),
            Err(err) => log::warn!("skipping an event that does not decode: {err}"),
        }
    }
}
