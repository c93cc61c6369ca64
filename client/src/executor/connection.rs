//! HTTP to the agent: one POST per call, and the long-lived SUBSCRIBE stream
//! read on its own thread.
//!
//! The executor side needs much less than the scheduler side: the agent is
//! always at one known `ip:port`, never redirects, has no stream ids and
//! speaks plain HTTP. So this talks to ureq directly instead of going
//! through the scheduler's transport.

use std::io::Read;
use std::thread;
use std::time::Duration;

use crossbeam_channel::Sender;
use mesos_proto::ContentType;
use mesos_proto::recordio;
use mesos_proto::v1::executor::{Call, Event};

use crate::error::{Error, Result};

/// What the reader thread passes to the driver loop.
#[derive(Debug)]
pub(crate) enum StreamItem {
    /// One decoded event, in stream order.
    Event(Box<Event>),
    /// The stream is over (EOF, broken connection, broken framing); the text
    /// says why, for the log.
    Closed(String),
}

/// Everything needed to make calls to one agent.
#[derive(Clone)]
pub(crate) struct Connection {
    agent: ureq::Agent,
    url: String,
    content_type: ContentType,
    /// `Authorization` header value (`Bearer <token>`), if any.
    authorization: Option<String>,
    request_timeout: Duration,
}

impl Connection {
    /// A connection to `url` (`http://ip:port/api/v1/executor`, or `https://`
    /// trusting the certificates in `ca_file`, if given, instead of the
    /// system's roots).
    ///
    /// # Errors
    ///
    /// The CA file cannot be read or holds no certificate.
    pub(crate) fn new(
        url: String,
        content_type: ContentType,
        token: Option<&str>,
        request_timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Connection> {
        let builder = ureq::Agent::config_builder()
            // We look at every status ourselves: a 503 means "retry", a 400
            // carries the agent's reason in the body.
            .http_status_as_error(false)
            // The agent never redirects; a 3xx would be a misconfiguration.
            .max_redirects(0)
            .timeout_connect(Some(request_timeout));
        let builder = match ca_file {
            Some(path) => builder.tls_config(crate::transport::load_ca(path)?),
            None => builder,
        };
        let agent: ureq::Agent = builder.build().into();
        Ok(Connection {
            agent,
            url,
            content_type,
            authorization: token.map(|t| format!("Bearer {t}")),
            request_timeout,
        })
    }

    /// Sends a non-SUBSCRIBE call; Ok when the agent answers 2xx (202).
    pub(crate) fn call(&self, call: &Call) -> Result<()> {
        let body = self.content_type.encode(call);
        let mut request = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(self.request_timeout))
            .build()
            .header("Content-Type", self.content_type.mime())
            .header("Accept", self.content_type.mime());
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let mut response = request.send(&body[..]).map_err(transport)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(Error::Http {
            status,
            body: read_error_body(response.body_mut()),
        })
    }

    /// Sends SUBSCRIBE and, on `200 OK`, starts a thread that reads the event
    /// stream and sends every event (then one `Closed`) to `events`.
    ///
    /// The thread ends when the stream ends or when `events` is dropped and
    /// the next event arrives. It cannot be interrupted while it waits for
    /// the agent, which is harmless: the executor process exits soon after
    /// the driver returns, and the agent closes streams it no longer needs.
    pub(crate) fn subscribe(&self, call: &Call, events: Sender<StreamItem>) -> Result<()> {
        let body = self.content_type.encode(call);
        let mut request = self
            .agent
            .post(&self.url)
            .config()
            // Bound the wait for the response head only: the body is an
            // endless stream (heartbeats come every 30 minutes).
            .timeout_recv_response(Some(self.request_timeout))
            .build()
            .header("Content-Type", self.content_type.mime())
            .header("Accept", self.content_type.mime());
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let mut response = request.send(&body[..]).map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::Http {
                status,
                body: read_error_body(response.body_mut()),
            });
        }
        // Mesos answers with the message type (not application/recordio).
        // Anything else means we would misread every record.
        if let Some(mime) = response.headers().get("Content-Type") {
            let mime = mime.to_str().unwrap_or("");
            if ContentType::from_mime(mime) != Some(self.content_type) {
                return Err(Error::Subscription(format!(
                    "agent answered SUBSCRIBE with Content-Type {mime:?}, expected {}",
                    self.content_type.mime()
                )));
            }
        }
        let reader = response.into_body().into_reader();
        let content_type = self.content_type;
        thread::Builder::new()
            .name("mesos-executor-events".into())
            .spawn(move || read_events(reader, content_type, events))
            .map_err(Error::Io)?;
        Ok(())
    }
}

/// The reader thread: RecordIO records -> events -> channel.
fn read_events(reader: impl Read, content_type: ContentType, events: Sender<StreamItem>) {
    let mut decoder = recordio::Decoder::new(reader);
    let why = loop {
        match decoder.next_record() {
            Ok(Some(record)) => match content_type.decode::<Event>(&record) {
                Ok(event) => {
                    if events.send(StreamItem::Event(Box::new(event))).is_err() {
                        return; // the driver moved on; nobody is listening
                    }
                }
                // One bad record does not make the stream useless: skip it,
                // as clients must skip event types they do not know.
                Err(err) => log::warn!("skipping an event that does not decode: {err}"),
            },
            Ok(None) => break "the agent closed the event stream".to_string(),
            Err(err) => break format!("the event stream broke: {err}"),
        }
    };
    let _ = events.send(StreamItem::Closed(why));
}

/// Whether a failed SUBSCRIBE is worth retrying: the agent is unreachable,
/// still starting (404 before its routes exist) or recovering (503).
pub(crate) fn is_retryable(err: &Error) -> bool {
    matches!(
        err,
        Error::Transport(_) | Error::Http { status: 404, .. } | Error::Http { status: 503, .. }
    )
}

fn transport(err: ureq::Error) -> Error {
    Error::Transport(err.to_string())
}

/// The agent's plain-text reason, capped so a broken peer cannot make us
/// buffer an endless body.
fn read_error_body(body: &mut ureq::Body) -> String {
    body.with_config()
        .limit(64 * 1024)
        .lossy_utf8(true)
        .read_to_string()
        .unwrap_or_default()
        .trim()
        .to_string()
}
