//! Names and data in ZooKeeper: the `zk://` URL, member znodes, and the
//! `MasterInfo` a master stores in its member.

use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::masters::{DEFAULT_PORT, Endpoint, SCHEDULER_PATH};

/// The name prefix of a master's member znode.
pub const MEMBER_PREFIX: &str = "json.info_";

/// A parsed `zk://[user:password@]host:port[,host:port...]/path` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// The ZooKeeper servers, `host:port` each (port 2181 if none was given).
    pub servers: Vec<String>,
    /// The znode under which the masters register, e.g. `/mesos`.
    pub path: String,
    /// `user:password` for ZooKeeper's `digest` authentication, if given.
    pub credentials: Option<String>,
}

impl ZkUrl {
    /// `true` if `text` is a `zk://` URL (and so not a list of masters).
    pub fn is_zk(text: &str) -> bool {
        text.trim()
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("zk://"))
    }

    /// Parses `zk://host:2181[,host:2181...]/path`.
    pub fn parse(text: &str) -> Result<ZkUrl> {
        let text = text.trim();
        let bad = |why: &str| Error::Config(format!("bad ZooKeeper URL: {why}"));
        if !ZkUrl::is_zk(text) {
            return Err(bad("it must start with zk://"));
        }
        let rest = &text[5..];
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => (Some(user.to_string()), hosts),
            None => (None, authority),
        };
        let servers = hosts
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && !s.ends_with(']') => {
                    match port.parse::<u16>() {
                        Ok(p) if p != 0 => Ok(s.to_string()),
                        _ => Err(bad(&format!("bad port in {s:?}"))),
                    }
                }
                _ => Ok(format!("{s}:2181")),
            })
            .collect::<Result<Vec<_>>>()?;
        if servers.is_empty() {
            return Err(bad("no ZooKeeper server"));
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() || path.contains("//") {
            return Err(bad("the path (e.g. /mesos) is missing or empty"));
        }
        Ok(ZkUrl {
            servers,
            path: path.to_string(),
            credentials,
        })
    }

    /// The full path of a child of [`ZkUrl::path`].
    pub fn child(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
}

impl fmt::Display for ZkUrl {
    /// The URL without credentials (safe to log).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://{}{}", self.servers.join(","), self.path)
    }
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZkUrl({self})")
    }
}

/// The sequence number of a master's member znode (`json.info_0000000003`
/// gives 3); `None` for any other child.
pub fn member_sequence(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(MEMBER_PREFIX)?;
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

/// The leading member among `children`: the lowest sequence number.
pub fn leading_member(children: &[String]) -> Option<&str> {
    children
        .iter()
        .filter_map(|name| Some((member_sequence(name)?, name.as_str())))
        .min()
        .map(|(_, name)| name)
}

/// The scheduler endpoint of a master, from its `MasterInfo` JSON.
///
/// Like Mesos' own scheduler library and pymesos we connect to
/// `address.ip`, which needs no DNS; then `address.hostname`; then the old
/// top-level fields (`ip` is an IPv4 address in network byte order read as a
/// little-endian number, `hostname`, `port`).
pub fn master_endpoint(data: &[u8]) -> Result<Endpoint> {
    let bad = |why: String| Error::Config(format!("bad MasterInfo in ZooKeeper: {why}"));
    let info: Value = serde_json::from_slice(data).map_err(|e| bad(e.to_string()))?;
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let address = info.get("address");
    let host = text(address.and_then(|a| a.get("ip")))
        .or_else(|| text(address.and_then(|a| a.get("hostname"))))
        .or_else(|| {
            let ip = info
                .get("ip")?
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())?;
            Some(std::net::Ipv4Addr::from(ip.to_le_bytes()).to_string())
        })
        .or_else(|| text(info.get("hostname")))
        .ok_or_else(|| bad("no address.ip, address.hostname, ip or hostname".into()))?;
    let port = address
        .and_then(|a| a.get("port"))
        .or_else(|| info.get("port"))
        .map_or(Some(u64::from(DEFAULT_PORT)), Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|&p| p != 0)
        .ok_or_else(|| bad("bad port".into()))?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]") // an IPv6 address
    } else {
        host
    };
    Ok(Endpoint {
        https: false,
        host,
        port,
        path: SCHEDULER_PATH.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zk_urls() {
        let url = ZkUrl::parse("zk://127.0.0.1:2181,zk2,zk3:2182/mesos/").unwrap();
        assert_eq!(url.servers, ["127.0.0.1:2181", "zk2:2181", "zk3:2182"]);
        assert_eq!(url.path, "/mesos");
        assert_eq!(url.credentials, None);
        assert_eq!(
            url.to_string(),
            "zk://127.0.0.1:2181,zk2:2181,zk3:2182/mesos"
        );
        let url = ZkUrl::parse("ZK://jo:secret@zk1:2181/a/b").unwrap();
        assert_eq!(url.credentials.as_deref(), Some("jo:secret"));
        assert_eq!(
            url.child("json.info_0000000001"),
            "/a/b/json.info_0000000001"
        );
        assert!(!format!("{url:?}").contains("secret"));
        for bad in [
            "zk://",
            "zk://h:2181",
            "zk://h:2181/",
            "zk://h:x/m",
            "h:2181/m",
            "zk://h:0/m",
        ] {
            assert!(ZkUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lowest_member_sequence_leads() {
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "info_0000000001",
            "json.info_0000000009",
            "json.info_x",
        ]
        .map(String::from)
        .into();
        assert_eq!(leading_member(&children), Some("json.info_0000000009"));
        assert_eq!(leading_member(&children[..1]), None);
        assert_eq!(member_sequence("json.info_0000000012"), Some(12));
        assert_eq!(member_sequence("json.info_"), None);
    }

    #[test]
    fn master_info_gives_the_endpoint() {
        // The shape a Mesos 1.12 master writes (keys sorted).
        let info = br#"{"address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"hostname":"localhost","id":"x","ip":16777343,"pid":"master@127.0.0.1:5050","port":5050,"version":"1.12.0"}"#;
        let endpoint = master_endpoint(info).unwrap();
        assert_eq!(endpoint.url(), "http://127.0.0.1:5050/api/v1/scheduler");
        // Older shapes: no address, only the packed ip and port.
        let endpoint = master_endpoint(br#"{"ip":16777343,"port":5051}"#).unwrap();
        assert_eq!(endpoint.url(), "http://127.0.0.1:5051/api/v1/scheduler");
        let endpoint = master_endpoint(br#"{"address":{"hostname":"m1","port":6060}}"#).unwrap();
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("m1", 6060));
        let endpoint = master_endpoint(br#"{"address":{"ip":"::1","port":5050}}"#).unwrap();
        assert_eq!(endpoint.host, "[::1]");
        for bad in [&b"{}"[..], b"not json", br#"{"hostname":"m","port":70000}"#] {
            assert!(master_endpoint(bad).is_err());
        }
    }
}
