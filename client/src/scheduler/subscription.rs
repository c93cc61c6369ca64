//! SUBSCRIBE, and the reader thread that turns the event stream into
//! [`Event`]s on a channel.
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

/// Events read ahead of the driver. A small bound pushes back on the master
/// (through TCP) if the scheduler is slow, instead of buffering without end.
const EVENT_QUEUE: usize = 64;

/// A live subscription: where it is, its stream id, and its events.
pub(crate) struct Subscription {
    /// The master that accepted the SUBSCRIBE (calls go there too).
    pub endpoint: Endpoint,
    /// The `Mesos-Stream-Id` every other call must carry.
    pub stream_id: String,
    /// Decoded events; an `Err` is the last item before the stream ends
    /// broken; disconnection without one means the master closed the stream.
    pub events: Receiver<Result<Event>>,
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

/// The reader thread: one RecordIO record at a time, decoded into an Event.
///
/// A record that does not decode is logged and skipped (the framing is
/// intact, so the next record is fine; reconnecting would not help). Broken
/// framing or a failed read ends the stream with an error.
fn read_events<R: Read>(
    mut reader: Decoder<R>,
    content_type: ContentType,
    events: Sender<Result<Event>>,
) {
    loop {
        let record = match reader.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => {
                log::debug!("the master closed the event stream");
                return;
            }
            Err(err) => {
                // The driver may be gone already; then nobody needs to know.
                let _ = events.send(Err(Error::Protocol(err)));
                return;
            }
        };
        match content_type.decode::<Event>(&record) {
            Ok(event) => {
                if events.send(Ok(event)).is_err() {
                    // The driver gave up on this subscription.
                    return;
                }
            }
            Err(err) => log::warn!("skipping an event that does not decode: {err}"),
        }
    }
}
