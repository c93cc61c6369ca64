//! HTTP plumbing on [ureq]: POST a body, get status, headers and body back.
//!
//! Why ureq: it is small, synchronous and needs no async runtime, which
//! matches the rest of this crate (std threads and channels). Two ureq agents
//! are kept, because the two kinds of request want different timeouts:
//!
//! * **calls** (ACCEPT, DECLINE, ...) are short: the whole request must finish
//!   within `request_timeout`. The agent keeps the connection alive between
//!   calls, as the fact sheet (§1.2) asks: calls go on their own connection,
//!   never on the subscription's.
//! * **streams** (SUBSCRIBE) stay open for hours: only connecting and the
//!   response head are bounded by `request_timeout`; after that each read may
//!   wait up to `stream_idle_timeout`. That bound lets a reader thread stuck
//!   on a dead connection notice and exit.
//!
//! What this module deliberately does *not* do:
//!
//! * follow redirects: a Mesos `307` names the leader, and the driver must
//!   learn it (to send later calls there) and keep its own scheme and path
//!   (`max_redirects(0)`);
//! * treat 4xx/5xx as errors: the driver needs the status and Mesos' plain
//!   text reason (`http_status_as_error(false)`).
//!
//! A status is returned as-is; only failures to talk at all become
//! [`Error::Transport`].

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// The largest non-streaming response body we read (Mesos' error texts and
/// 202s are tiny; this only guards against a misbehaving peer).
const MAX_BODY: u64 = 1 << 20;

/// How to reach the masters.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Upper bound for a whole call, and for connecting + the response head
    /// of a subscription.
    pub request_timeout: Duration,
    /// Upper bound for one read on a subscription stream.
    pub stream_idle_timeout: Duration,
    /// A PEM file of CA certificates to trust for `https` masters. When set,
    /// these certificates *replace* the built-in web PKI roots: a Mesos
    /// cluster with https normally has its own CA.
    pub ca_file: Option<PathBuf>,
    /// HTTP basic-auth credentials sent with every request.
    pub credentials: Option<Credentials>,
}

/// A finished, non-streaming response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB is read).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim().to_string()
    }
}

/// A response whose body is read as it arrives (the subscription stream).
pub struct StreamResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked. For a SUBSCRIBE it is the RecordIO stream.
    pub body: Box<dyn Read + Send>,
}

impl StreamResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Reads (at most 64 KiB of) the body as text: for non-200 answers, whose
    /// body is Mesos' reason.
    pub fn into_text(self) -> String {
        let mut text = String::new();
        // A broken body just gives a shorter message.
        let _ = self.body.take(64 << 10).read_to_string(&mut text);
        text.trim().to_string()
    }
}

impl fmt::Debug for StreamResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Sends requests to masters. Cheap to share behind an `Arc`; safe to use
/// from several threads at once.
pub struct Transport {
    calls: ureq::Agent,
    streams: ureq::Agent,
    /// `Basic ...`; kept out of `Debug`.
    authorization: Option<String>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the two agents. Fails if the CA file cannot be read or holds
    /// no certificate.
    pub fn new(config: &TransportConfig) -> Result<Transport> {
        let tls = match &config.ca_file {
            Some(path) => Some(load_ca(path)?),
            None => None,
        };
        let base = || {
            let builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("mesos-client/", env!("CARGO_PKG_VERSION")));
            match &tls {
                Some(tls) => builder.tls_config(tls.clone()),
                None => builder,
            }
        };
        let calls = base()
            .timeout_global(Some(config.request_timeout))
            .build()
            .new_agent();
        let streams = base()
            .timeout_connect(Some(config.request_timeout))
            .timeout_send_request(Some(config.request_timeout))
            .timeout_send_body(Some(config.request_timeout))
            .timeout_recv_response(Some(config.request_timeout))
            .timeout_per_read(Some(config.stream_idle_timeout))
            .build()
            .new_agent();
        Ok(Transport {
            calls,
            streams,
            authorization: config.credentials.as_ref().map(Credentials::authorization),
        })
    }

    /// POSTs `body` and reads the whole response.
    ///
    /// `headers` are extra request headers (e.g. `Mesos-Stream-Id`).
    pub fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let request = self.request(&self.calls, url, content_type, None, headers);
        let response = request
            .send(body)
            .map_err(|err| transport_error(url, err))?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| transport_error(url, err))?;
        Ok(Response {
            status: parts.status.as_u16(),
            headers: header_list(&parts.headers),
            body,
        })
    }

    /// POSTs `body` and returns as soon as the response head has arrived;
    /// the body is read by whoever holds the [`StreamResponse`].
    pub fn post_stream(
        &self,
        url: &str,
        content_type: &str,
        accept: &str,
        body: &[u8],
    ) -> Result<StreamResponse> {
        let request = self.request(&self.streams, url, content_type, Some(accept), &[]);
        let response = request
            .send(body)
            .map_err(|err| transport_error(url, err))?;
        let (parts, body) = response.into_parts();
        Ok(StreamResponse {
            status: parts.status.as_u16(),
            headers: header_list(&parts.headers),
            body: Box::new(body.into_reader()),
        })
    }

    fn request(
        &self,
        agent: &ureq::Agent,
        url: &str,
        content_type: &str,
        accept: Option<&str>,
        headers: &[(&str, &str)],
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let mut request = agent.post(url).header("Content-Type", content_type);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    }
}

fn header_list(headers: &ureq::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect()
}

/// ureq's errors name the failure (refused, timeout, TLS) but never request
/// headers, so the secret cannot leak through them.
fn transport_error(url: &str, err: ureq::Error) -> Error {
    Error::Transport(format!("{url}: {err}"))
}

/// Reads every certificate of a PEM file into a TLS config that trusts them.
pub(crate) fn load_ca(path: &Path) -> Result<TlsConfig> {
    let bad = |why: String| Error::Config(format!("CA file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|err| bad(err.to_string()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .map(|der| der.map(|der| Certificate::from_der(der.as_ref()).to_owned()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|err| bad(err.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block found".into()));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&certs))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ca_file: Option<PathBuf>) -> TransportConfig {
        TransportConfig {
            request_timeout: Duration::from_secs(1),
            stream_idle_timeout: Duration::from_secs(1),
            ca_file,
            credentials: Some(Credentials::new("me", "top-secret")),
        }
    }

    #[test]
    fn debug_hides_the_authorization() {
        let transport = Transport::new(&config(None)).unwrap();
        let shown = format!("{transport:?}");
        assert!(
            !shown.contains("top-secret") && !shown.contains("Basic"),
            "{shown}"
        );
    }

    #[test]
    fn ca_file_must_exist_and_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            Transport::new(&config(Some(missing))),
            Err(Error::Config(_))
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a pem file\n").unwrap();
        assert!(matches!(
            Transport::new(&config(Some(empty))),
            Err(Error::Config(_))
        ));
        // A syntactically valid block is accepted (checked on handshake).
        let ok = dir.path().join("ca.pem");
        std::fs::write(
            &ok,
            "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(Transport::new(&config(Some(ok))).is_ok());
    }

    #[test]
    fn connection_refused_is_a_transport_error() {
        // Bind then drop, so the port is (very likely) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = Transport::new(&config(None)).unwrap();
        let url = format!("http://127.0.0.1:{port}/api/v1/scheduler");
        let err = transport
            .post(&url, "application/json", &[], b"{}")
            .unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }
}
