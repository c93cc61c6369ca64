//! Instances that wait for a place: which offers did not suit them and why, reported at a
//! modest rate (once per instance per interval), so that a scheduler that cannot place an
//! instance says so instead of waiting in silence.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mesos_proto::v1::Offer;

use crate::manager::{Misfit, Phase};

/// The most agents a report names per instance (with their reason); the offers are counted.
const AGENTS_NAMED: usize = 3;

/// One agent whose offer did not suit an instance, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentMisfit {
    /// The agent's host name and the end of its id (`localhost/S1`).
    pub agent: String,
    /// Why its offer did not suit the instance (the latest reason).
    pub misfit: Misfit,
}

/// What one instance saw while it waited for a place, over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The instance (`worker-0`).
    pub instance: String,
    /// Offers that came and did not suit it.
    pub offers: usize,
    /// The interval the report covers.
    pub window: Duration,
    /// Up to three agents, with why their offers did not suit it.
    pub agents: Vec<AgentMisfit>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole seconds, or tenths below ten (the tests' short intervals).
        let secs = self.window.as_secs_f64();
        let secs = if secs >= 10.0 {
            format!("{secs:.0}")
        } else {
            format!("{secs:.1}")
        };
        if self.offers == 0 {
            return write!(
                f,
                "{}: not placed, and no offer in the last {secs} s (the agents' resources \
                 are in use, or none has registered)",
                self.instance
            );
        }
        write!(
            f,
            "{}: no offer suits it ({} offer(s) in the last {secs} s):",
            self.instance, self.offers
        )?;
        for (n, agent) in self.agents.iter().enumerate() {
            let sep = if n == 0 { " " } else { "; " };
            write!(f, "{sep}{}: {}", agent.agent, agent.misfit)?;
        }
        Ok(())
    }
}

/// What is being gathered for one waiting instance.
#[derive(Debug)]
struct Waiting {
    since: Instant,
    offers: usize,
    agents: Vec<(String, AgentMisfit)>,
    /// The report made at the end of the previous interval, if any.
    last: Option<Report>,
}

impl Waiting {
    fn new(now: Instant) -> Waiting {
        Waiting {
            since: now,
            offers: 0,
            agents: Vec::new(),
            last: None,
        }
    }
}

/// The waiting instances, by index (at most one entry per instance of the app).
#[derive(Debug)]
pub struct Placement {
    every: Duration,
    waiting: BTreeMap<usize, Waiting>,
}

impl Placement {
    /// Reports at most once per instance per `every`.
    pub fn new(every: Duration) -> Placement {
        Placement {
            every,
            waiting: BTreeMap::new(),
        }
    }

    /// `offer` did not suit waiting instance `i`, for `misfit`.
    pub fn misfit(&mut self, i: usize, offer: &Offer, misfit: Misfit, now: Instant) {
        let waiting = self.waiting.entry(i).or_insert_with(|| Waiting::new(now));
        waiting.offers += 1;
        let agent_id = offer.agent_id.value.clone();
        let agent = AgentMisfit {
            agent: format!("{}/{}", offer.hostname, short_id(&agent_id)),
            misfit,
        };
        let known = waiting.agents.iter().position(|(id, _)| *id == agent_id);
        match known {
            Some(n) => waiting.agents[n].1 = agent,
            None if waiting.agents.len() < AGENTS_NAMED => waiting.agents.push((agent_id, agent)),
            None => {}
        }
    }

    /// Instance `i` is placed (or no longer waits): nothing to report about it.
    pub fn placed(&mut self, i: usize) {
        self.waiting.remove(&i);
    }

    /// The reports due at `now`: one for each instance in `waiting` (index and name) that
    /// has waited a whole interval since it started waiting or was last reported. Instances
    /// no longer in `waiting` are forgotten.
    pub fn due(&mut self, waiting: &[(usize, String)], now: Instant) -> Vec<Report> {
        self.waiting
            .retain(|i, _| waiting.iter().any(|(w, _)| w == i));
        let mut reports = Vec::new();
        for (i, name) in waiting {
            let entry = self.waiting.entry(*i).or_insert_with(|| Waiting::new(now));
            if now.duration_since(entry.since) < self.every {
                continue;
            }
            let made = report(name, entry, now);
            *entry = Waiting::new(now);
            entry.last = Some(made.clone());
            reports.push(made);
        }
        reports
    }

    /// What instance `i` has seen so far in the current interval, if it waits; the
    /// previous interval's report while the current one has seen no offer yet.
    pub fn current(&self, i: usize, name: &str, now: Instant) -> Option<Report> {
        let entry = self.waiting.get(&i)?;
        match &entry.last {
            Some(last) if entry.offers == 0 => Some(last.clone()),
            _ => Some(report(name, entry, now)),
        }
    }
}

fn report(name: &str, entry: &Waiting, now: Instant) -> Report {
    Report {
        instance: name.to_string(),
        offers: entry.offers,
        window: now.duration_since(entry.since),
        agents: entry.agents.iter().map(|(_, a)| a.clone()).collect(),
    }
}

/// `S1` for `8f3c...-S1`: enough to tell a host's agents apart.
fn short_id(agent_id: &str) -> &str {
    agent_id.rsplit('-').next().unwrap_or(agent_id)
}

/// One instance that was not running when `--until-running`'s deadline passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Stuck {
    /// The instance.
    pub instance: String,
    /// Where it was.
    pub phase: Phase,
    /// For an instance that waited for a place: what it saw in the last interval.
    pub placement: Option<Report>,
}

/// `--until-running --deadline`: not every instance ran in time.
#[derive(Debug, Clone, PartialEq)]
pub struct NotRunning {
    /// The deadline.
    pub after: Duration,
    /// The instances that were not running (nor finished, nor given up).
    pub stuck: Vec<Stuck>,
}

impl std::fmt::Display for NotRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not every instance runs after {} s:",
            self.after.as_secs()
        )?;
        for stuck in &self.stuck {
            match &stuck.placement {
                Some(report) => write!(f, "\n  {report}")?,
                None => write!(f, "\n  {}: {:?}", stuck.instance, stuck.phase)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for NotRunning {}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::AgentId;

    fn offer(host: &str, agent: &str) -> Offer {
        Offer {
            hostname: host.into(),
            agent_id: AgentId {
                value: agent.into(),
            },
            ..Default::default()
        }
    }

    #[test]
    fn once_per_interval_naming_a_few_agents() {
        let start = Instant::now();
        let every = Duration::from_secs(30);
        let mut placement = Placement::new(every);
        let zone = Misfit::Attribute {
            name: "zone".into(),
            wanted: "a".into(),
            found: Some("b".into()),
        };
        let waiting = [(1, "worker-0".to_string())];
        assert!(placement.due(&waiting, start).is_empty());
        for n in 0..10 {
            let agent = format!("x-S{}", n % 5);
            placement.misfit(1, &offer("h", &agent), zone.clone(), start);
        }
        let half = start + every / 2;
        assert!(placement.due(&waiting, half).is_empty(), "not yet");
        let reports = placement.due(&waiting, start + every);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].offers, 10);
        assert_eq!(reports[0].agents.len(), AGENTS_NAMED, "bounded");
        assert_eq!(
            reports[0].to_string(),
            "worker-0: no offer suits it (10 offer(s) in the last 30 s): \
             h/S0: zone=a wanted, the agent has zone=b; h/S1: zone=a wanted, the agent has \
             zone=b; h/S2: zone=a wanted, the agent has zone=b"
        );
        // The next interval starts empty, and until it sees an offer the last report stands.
        assert!(placement.due(&waiting, start + every).is_empty());
        let current = placement.current(1, "worker-0", start + every).unwrap();
        assert_eq!(current.offers, 10);
        // A placed instance is forgotten.
        let later = placement.due(&waiting, start + every * 2);
        assert_eq!(later[0].offers, 0);
        assert!(later[0].to_string().contains("no offer in the last 30 s"));
        placement.placed(1);
        assert!(placement.current(1, "worker-0", start).is_none());
    }
}
