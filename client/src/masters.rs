//! Where the masters are: parsing a master list, following a leader's
//! `Location`, and choosing the next master to try.
//!
//! A Mesos cluster usually runs three or five masters, one of which leads.
//! A scheduler is given some or all of them, e.g. `m1:5050,m2:5050,m3:5050`.
//! It subscribes to the first; a master that is not the leader answers `307`
//! with the leader's address in `Location`, one with no leader answers `503`,
//! and one that is down does not answer at all (fact sheet §1.7, §1.8).
//!
//! Accepted forms in a list, separated by commas and mixable:
//! `host:port`, `host` (port 5050), `http://host:port`, `https://host:port`,
//! `[::1]:5050`. A URL may carry a path (for a master behind a proxy); without
//! one the scheduler API path `/api/v1/scheduler` is used.
//!
//! A `Location` from a real master is protocol-relative and carries the
//! *routed* path: `//leader:5050/master/api/v1/scheduler`. Like pymesos and
//! mesos-go, we take only `host:port` from it and keep our own scheme (so an
//! https scheduler stays on https) and our own path; an absolute `Location`
//! (`https://leader:5050/...`) also sets the scheme.
//!
//! Instead of a list, [`Masters::from_spec`] also takes a ZooKeeper URL,
//! `zk://zk1:2181,zk2:2181/mesos` (feature `zk`): then the one master to talk
//! to is the leader registered in ZooKeeper, kept up to date by a
//! `zk::LeaderDetector`; [`Masters::refresh`] picks up its latest answer and
//! [`Masters::changes`] tells when there is one.

use std::fmt;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::error::{Error, Result};

/// The path of the v1 scheduler API on a master.
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";

/// The port Mesos masters listen on unless told otherwise.
pub const DEFAULT_PORT: u16 = 5050;

/// One master's scheduler endpoint: scheme, host, port and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for `https`.
    pub https: bool,
    /// Host name or IP address; an IPv6 address keeps its brackets (`[::1]`).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Request path, starting with `/`.
    pub path: String,
}

impl Endpoint {
    /// Parses one master: `host`, `host:port`, `http://host:port[/path]`,
    /// `https://...`.
    pub fn parse(text: &str) -> Result<Endpoint> {
        let text = text.trim();
        let bad = |why: &str| Error::Config(format!("bad master address {text:?}: {why}"));
        let (https, rest) = match split_scheme(text) {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "http" => (false, rest),
                "https" => (true, rest),
                "zk" if cfg!(feature = "zk") => {
                    return Err(bad(
                        "a zk:// URL must be the whole master spec, not part of a list",
                    ));
                }
                "zk" => {
                    return Err(bad(
                        "zk:// needs mesos-client built with the feature \"zk\"",
                    ));
                }
                _ => return Err(bad("the scheme must be http or https")),
            },
            None => (false, text),
        };
        let (authority, path) = split_authority(rest);
        let (host, port) = parse_authority(authority).map_err(|why| bad(&why))?;
        let path = match path {
            "" | "/" => SCHEDULER_PATH.to_string(),
            p => p.to_string(),
        };
        Ok(Endpoint {
            https,
            host,
            port,
            path,
        })
    }

    /// The endpoint a `307` points at: the `host:port` of `location`, our
    /// scheme unless `location` has one, and always our path.
    pub fn follow(&self, location: &str) -> Result<Endpoint> {
        let location = location.trim();
        let bad = |why: &str| Error::Redirect(format!("bad Location {location:?}: {why}"));
        let (https, rest) = if let Some((scheme, rest)) = split_scheme(location) {
            match scheme.to_ascii_lowercase().as_str() {
                "http" => (false, rest),
                "https" => (true, rest),
                _ => return Err(bad("the scheme must be http or https")),
            }
        } else if let Some(rest) = location.strip_prefix("//") {
            (self.https, rest)
        } else if location.starts_with('/') {
            // Only a path: same master. (The redirect limit stops a loop.)
            return Ok(self.clone());
        } else {
            // `host:port/path` without `//`: not what Mesos sends, but clear.
            (self.https, location)
        };
        let (authority, _their_path) = split_authority(rest);
        let (host, port) = parse_authority(authority).map_err(|why| bad(&why))?;
        Ok(Endpoint {
            https,
            host,
            port,
            path: self.path.clone(),
        })
    }

    /// The full URL, e.g. `http://127.0.0.1:5050/api/v1/scheduler`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}{}", self.host, self.port, self.path)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// `("https", "host:5050/x")` from `"https://host:5050/x"`; `None` without `://`.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let plain = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    plain.then_some((scheme, rest))
}

/// `("host:5050", "/path")`; the path is empty when there is none. A query or
/// fragment ends the authority too (and is dropped: we never need them).
fn split_authority(rest: &str) -> (&str, &str) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let path = &rest[end..];
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    (&rest[..end], path)
}

/// `host[:port]` or `[v6]:port`, port defaulting to 5050.
fn parse_authority(authority: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = if let Some(after) = authority.strip_prefix('[') {
        let (inside, tail) = after
            .split_once(']')
            .ok_or("an IPv6 address lacks its closing ']'")?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':').ok_or("junk after ']'")?),
        };
        (format!("[{inside}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("no host".into());
    }
    if host.contains(['@', ' ', ':']) && !host.starts_with('[') {
        return Err("the host contains '@', ':' or a space".into());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("bad port {p:?}"))?,
    };
    Ok((host, port))
}

/// The masters a scheduler knows, and which one to try next.
///
/// [`Masters::current`] is the master to talk to: the leader named by the last
/// redirect if there is one, otherwise the list entry in turn. After a
/// failure ([`Masters::failed`]) the driver forgets that leader (leadership may
/// have moved) or moves on to the next list entry, wrapping around, so a
/// change of leader is found again by asking the list.
#[derive(Debug, Clone)]
pub struct Masters {
    list: Vec<Endpoint>,
    index: usize,
    leader: Option<Endpoint>,
    /// For a `zk://` spec: the source of `list`'s one entry.
    #[cfg(feature = "zk")]
    zk: Option<crate::zk::LeaderDetector>,
}

impl Masters {
    /// Parses a comma-separated master list (see the [module docs](self)).
    pub fn parse(list: &str) -> Result<Masters> {
        let list = list
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Endpoint::parse)
            .collect::<Result<Vec<_>>>()?;
        if list.is_empty() {
            return Err(Error::Config("the master list is empty".into()));
        }
        Ok(Masters {
            list,
            index: 0,
            leader: None,
            #[cfg(feature = "zk")]
            zk: None,
        })
    }

    /// A master list ([`Masters::parse`]) or a `zk://` URL. For the latter
    /// (feature `zk`) ZooKeeper is watched from now on, with sessions of
    /// `zk_timeout`, and this waits up to `zk_timeout` for it to name a
    /// leader: without one there is nobody to talk to yet.
    pub fn from_spec(spec: &str, zk_timeout: Duration) -> Result<Masters> {
        #[cfg(feature = "zk")]
        if crate::zk::ZkUrl::is_zk(spec) {
            let url = crate::zk::ZkUrl::parse(spec)?;
            return Masters::from_zk(
                crate::zk::LeaderDetector::start(url, zk_timeout)?,
                zk_timeout,
            );
        }
        let _ = zk_timeout;
        if spec.trim() == "local" {
            // `local` is resolved to a started cluster's address before this point
            // (`local::resolve_master`); reaching here means the program cannot do that.
            return Err(Error::Config(
                "`--master local` needs an embedded cluster: this program was built without \
                 mesos-client's feature `local`; give a master's host:port instead"
                    .into(),
            ));
        }
        Masters::parse(spec)
    }

    /// Masters found by `detector`, once it names a leader (waiting up to
    /// `wait`).
    #[cfg(feature = "zk")]
    pub fn from_zk(detector: crate::zk::LeaderDetector, wait: Duration) -> Result<Masters> {
        let leader = match detector.wait(wait) {
            crate::zk::Detection::Leader(leader) => leader,
            other => {
                return Err(Error::Transport(format!(
                    "no leading master in ZooKeeper at {} after {wait:?}: {other:?}",
                    detector.url()
                )));
            }
        };
        log::info!("ZooKeeper at {} names {leader} as leader", detector.url());
        Ok(Masters {
            list: vec![leader],
            index: 0,
            leader: None,
            zk: Some(detector),
        })
    }

    /// Takes in the latest leader detection before an attempt: for a
    /// `zk://` spec the leader ZooKeeper names now (a redirect learned from
    /// an older leader is dropped when it changes); an error if ZooKeeper
    /// names none. Nothing to do for a list.
    pub fn refresh(&mut self) -> Result<()> {
        #[cfg(feature = "zk")]
        if let Some(detector) = &self.zk {
            let leader = match detector.detection() {
                crate::zk::Detection::Leader(leader) => leader,
                other => {
                    return Err(Error::Transport(format!(
                        "no leading master in ZooKeeper at {}: {other:?}",
                        detector.url()
                    )));
                }
            };
            if self.list[0] != leader {
                log::info!("ZooKeeper names a new leader: {leader}");
                self.list[0] = leader;
                self.leader = None;
            }
        }
        Ok(())
    }

    /// Receives `()` when the leader detection may have changed; then call
    /// [`Masters::refresh`]. Never receives for a list of masters.
    pub fn changes(&self) -> Receiver<()> {
        #[cfg(feature = "zk")]
        if let Some(detector) = &self.zk {
            return detector.changes();
        }
        crossbeam_channel::never()
    }

    /// The masters as given (for a `zk://` spec: the leader last taken in
    /// by [`Masters::refresh`]).
    pub fn list(&self) -> &[Endpoint] {
        &self.list
    }

    /// The master to try now.
    pub fn current(&self) -> &Endpoint {
        self.leader.as_ref().unwrap_or(&self.list[self.index])
    }

    /// Records a `307`: from now on [`Masters::current`] is the master named
    /// by `location` (resolved against the current one).
    pub fn redirected(&mut self, location: &str) -> Result<&Endpoint> {
        let leader = self.current().follow(location)?;
        Ok(self.leader.insert(leader))
    }

    /// Records that the current master failed (no answer, `503`, stream lost).
    pub fn failed(&mut self) {
        if self.leader.take().is_none() {
            self.index = (self.index + 1) % self.list.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(https: bool, host: &str, port: u16, path: &str) -> Endpoint {
        Endpoint {
            https,
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn parses_every_accepted_form() {
        let masters = Masters::parse(
            "h1:5051, http://h2:5052,https://h3:5053/,h4,[::1]:5055,HTTP://h6/mesos",
        )
        .unwrap();
        assert_eq!(
            masters.list(),
            [
                ep(false, "h1", 5051, SCHEDULER_PATH),
                ep(false, "h2", 5052, SCHEDULER_PATH),
                ep(true, "h3", 5053, SCHEDULER_PATH),
                ep(false, "h4", 5050, SCHEDULER_PATH),
                ep(false, "[::1]", 5055, SCHEDULER_PATH),
                ep(false, "h6", 5050, "/mesos"),
            ]
        );
        assert_eq!(masters.list()[2].url(), "https://h3:5053/api/v1/scheduler");
    }

    #[test]
    fn rejects_bad_lists() {
        for bad in [
            "",
            " , ",
            "zk://zk1:2181/mesos",
            "ftp://h:1",
            "h:notaport",
            "h:0",
            "h:70000",
            ":5050",
            "[::1",
            "a b:5050",
        ] {
            assert!(Masters::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn location_without_scheme_keeps_our_scheme_and_path() {
        let here = ep(true, "m1", 5050, SCHEDULER_PATH);
        let there = here
            .follow("//leader:5052/master/api/v1/scheduler")
            .unwrap();
        assert_eq!(there, ep(true, "leader", 5052, SCHEDULER_PATH));
        let there = here.follow("leader:5052/master/api/v1/scheduler").unwrap();
        assert_eq!(there, ep(true, "leader", 5052, SCHEDULER_PATH));
    }

    #[test]
    fn absolute_location_sets_the_scheme() {
        let here = ep(false, "m1", 5050, SCHEDULER_PATH);
        let there = here
            .follow("https://10.0.0.2:6060/master/api/v1/scheduler?x=1")
            .unwrap();
        assert_eq!(there, ep(true, "10.0.0.2", 6060, SCHEDULER_PATH));
        let there = here.follow("//leader").unwrap();
        assert_eq!(there, ep(false, "leader", 5050, SCHEDULER_PATH));
    }

    #[test]
    fn path_only_location_stays_here_and_bad_ones_fail() {
        let here = ep(false, "m1", 5050, SCHEDULER_PATH);
        assert_eq!(here.follow("/master/api/v1/scheduler").unwrap(), here);
        for bad in ["", "//", "//:5050/x", "gopher://h:1/", "//h:port/"] {
            assert!(
                matches!(here.follow(bad), Err(Error::Redirect(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn rotation_and_leader() {
        let mut masters = Masters::parse("a:1,b:2,c:3").unwrap();
        assert_eq!(masters.current().host, "a");
        masters.failed();
        assert_eq!(masters.current().host, "b");
        masters
            .redirected("//leader:9/master/api/v1/scheduler")
            .unwrap();
        assert_eq!(masters.current().host, "leader");
        // The leader fails: ask the list entry that pointed us there again.
        masters.failed();
        assert_eq!(masters.current().host, "b");
        masters.failed();
        masters.failed();
        assert_eq!(masters.current().host, "a", "wraps around");
    }
}
