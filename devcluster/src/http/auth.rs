//! HTTP Basic authentication, as the Mesos master's `basic` authenticator does it for
//! `--authenticate_http_frameworks`: credentials come from a file, a request carries
//! `Authorization: Basic base64(principal:secret)`, and a failure is answered `401` with a
//! `WWW-Authenticate` challenge. Secrets are never logged or printed (`Debug` hides them).

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Response;

/// Principals and their secrets, loaded from a Mesos credentials file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    entries: Vec<(String, String)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let principals: Vec<&str> = self.entries.iter().map(|(p, _)| p.as_str()).collect();
        f.debug_struct("Credentials")
            .field("principals", &principals)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads and parses a credentials file (see [`Credentials::parse`] for the formats).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Credentials, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("Failed to read credentials file '{}': {e}", path.display()))?;
        Credentials::parse(&text)
            .map_err(|e| format!("Invalid credentials file '{}': {e}", path.display()))
    }

    /// Parses either Mesos credentials format:
    /// - JSON: `{"credentials": [{"principal": "p", "secret": "s"}, ...]}`;
    /// - text: one `principal secret` pair per line, separated by whitespace; blank lines
    ///   and lines starting with `#` are ignored.
    ///
    /// Errors name the offending entry or line, never a secret.
    pub fn parse(text: &str) -> Result<Credentials, String> {
        if text.trim_start().starts_with('{') {
            parse_json(text)
        } else {
            parse_text(text)
        }
    }

    /// The principals, in file order.
    pub fn principals(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(p, _)| p.as_str())
    }

    /// Whether there are no credentials at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `principal` is known and `secret` is its secret. The secrets are compared in
    /// constant time, so response timing does not reveal how much of a guess was right.
    pub fn check(&self, principal: &str, secret: &str) -> bool {
        self.entries
            .iter()
            .filter(|(p, _)| p == principal)
            .fold(false, |ok, (_, s)| {
                ok | constant_time_eq(s.as_bytes(), secret.as_bytes())
            })
    }
}

fn parse_json(text: &str) -> Result<Credentials, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let list = value
        .get("credentials")
        .and_then(|c| c.as_array())
        .ok_or("expected an object with a 'credentials' array")?;
    let mut entries = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(|v| v.as_str());
        let principal = field("principal")
            .ok_or_else(|| format!("credential #{i} has no string 'principal'"))?;
        // Mesos' Credential.secret is optional; a principal without one can never match.
        let secret = match item.get("secret") {
            None => String::new(),
            Some(s) => s
                .as_str()
                .ok_or_else(|| format!("credential '{principal}' has a non-string 'secret'"))?
                .to_string(),
        };
        entries.push((principal.to_string(), secret));
    }
    Ok(Credentials { entries })
}

fn parse_text(text: &str) -> Result<Credentials, String> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(principal), Some(secret), None) => {
                entries.push((principal.to_string(), secret.to_string()));
            }
            _ => {
                return Err(format!("line {} is not a 'principal secret' pair", n + 1));
            }
        }
    }
    Ok(Credentials { entries })
}

/// Compares two byte strings in time that depends only on their lengths, not on where they
/// differ. A secret with the same length as the guess is needed for `true`.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let longest = a.len().max(b.len());
    for i in 0..longest {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// Decodes an `Authorization` header value of the form `Basic base64(principal:secret)`.
/// The scheme name is case-insensitive; the secret may contain `:` (the first one splits).
pub(crate) fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (principal, secret) = text.split_once(':')?;
    Some((principal.to_string(), secret.to_string()))
}

/// The `401` answer to a request without valid credentials, shaped like Mesos':
/// `WWW-Authenticate: Basic realm="<realm>"` and the body `401 Unauthorized.`.
/// The scheduler endpoint uses the realm `mesos-master-scheduler`.
pub fn unauthorized(realm: &str) -> Response {
    Response::text(401, "401 Unauthorized.")
        .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\""))
}

/// With `credentials`, the `401` answer for a request that does not carry valid ones
/// (`None` when it does, or when there are no credentials). `realm` names what is
/// protected, as Mesos' realms do (`mesos-master-readwrite`, `mesos-agent-readonly`, ...).
pub fn require(
    credentials: Option<&Credentials>,
    request: &super::Request,
    realm: &str,
) -> Option<Response> {
    let creds = credentials?;
    match request.basic_auth() {
        Some((p, s)) if creds.check(&p, &s) => None,
        _ => Some(unauthorized(realm)),
    }
}
