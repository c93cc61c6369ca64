//! The allocator: offers built from agents' free resources, shared among frameworks.
//!
//! Mesos uses weighted DRF; here the framework with the smallest share of the cluster's
//! cpus (used + offered) goes first, ties broken round-robin. As in Mesos, one offer holds
//! everything free on one agent for one role, and only "allocatable" remainders
//! (>= 0.01 cpus or >= 32 MB mem) are offered.

use std::time::{Duration, Instant};

use mesos_proto::v1::framework_info::capability::Type as Cap;
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{Address, AgentId, ExecutorId, FrameworkId, Offer, OfferId, Url, resource};

use super::{Master, MasterState, OfferEntry, event_of};
use crate::resources::Resources;

/// The refusal filters of one (framework, role, agent): one part per DECLINE (or unused
/// part of an ACCEPT), each with its own resources and expiry, as Mesos keeps them. An
/// offer is hidden when one part holds all of it. (Merging the parts into one sum would
/// hide an agent whose tasks have ended once a few remainders add up to its total.)
pub(crate) struct Filter {
    /// When the last part expires.
    pub until: Instant,
    parts: Vec<(Instant, Resources)>,
}

impl Filter {
    /// Whether a current part holds all of `free`.
    fn hides(&self, free: &Resources, now: Instant) -> bool {
        self.parts
            .iter()
            .any(|(until, r)| *until > now && r.contains(free))
    }
}

/// Mesos' cap on `refuse_seconds` (one year).
const MAX_REFUSE_SECONDS: f64 = 31_536_000.0;

impl Master {
    /// One allocation pass over all agents.
    pub(crate) fn allocate(&self, st: &mut MasterState) {
        let now = Instant::now();
        st.filters.retain(|_, f| {
            f.parts.retain(|(until, _)| *until > now);
            f.until > now
        });
        let total_cpus: f64 = st
            .agents
            .values()
            .map(|a| a.total.scalar("cpus"))
            .sum::<f64>()
            .max(1.0);
        let agent_ids: Vec<String> = st.agents.keys().cloned().collect();
        if agent_ids.is_empty() {
            return;
        }
        let start = st.round_robin % agent_ids.len();
        st.round_robin = st.round_robin.wrapping_add(1);
        let mut batches: std::collections::BTreeMap<String, Vec<Offer>> = Default::default();
        for i in 0..agent_ids.len() {
            let agent_id = &agent_ids[(start + i) % agent_ids.len()];
            let free = {
                let a = &st.agents[agent_id];
                a.total.minus(&a.used).minus(&a.offered)
            };
            if !free.allocatable() {
                continue;
            }
            // Candidates: connected, unsuppressed (framework, role) pairs without a filter
            // hiding these resources.
            let mut best: Option<(f64, u64, String, String)> = None;
            for fw in st.frameworks.values() {
                if fw.sub.is_none() {
                    continue;
                }
                let share = (fw.used.scalar("cpus") + fw.offered.scalar("cpus")) / total_cpus;
                for role in fw.roles() {
                    if fw.suppressed.contains(&role) {
                        continue;
                    }
                    let key = (fw.id.clone(), role.clone(), agent_id.clone());
                    if st.filters.get(&key).is_some_and(|f| f.hides(&free, now)) {
                        continue;
                    }
                    let rank = fw.seq.wrapping_sub(st.round_robin as u64);
                    let better = match &best {
                        None => true,
                        Some((s, r, _, _)) => {
                            share < *s - 1e-9 || ((share - *s).abs() <= 1e-9 && rank < *r)
                        }
                    };
                    if better {
                        best = Some((share, rank, fw.id.clone(), role.clone()));
                    }
                }
            }
            let Some((_, _, fw_id, role)) = best else {
                continue;
            };
            let offer = self.make_offer(st, agent_id, &fw_id, &role, free, now);
            batches.entry(fw_id).or_default().push(offer);
        }
        for (fw_id, offers) in batches {
            // Keep records well below the 4 MiB clients accept.
            for chunk in offers.chunks(200) {
                let mut e = event_of(event::Type::Offers);
                e.offers = Some(event::Offers {
                    offers: chunk.to_vec(),
                });
                self.send(st, &fw_id, &e);
            }
        }
    }

    fn make_offer(
        &self,
        st: &mut MasterState,
        agent_id: &str,
        fw_id: &str,
        role: &str,
        free: Resources,
        now: Instant,
    ) -> Offer {
        let id = format!("{}-O{}", self.id, st.next_offer);
        st.next_offer += 1;
        let fw = st
            .frameworks
            .get_mut(fw_id)
            .expect("candidate framework exists");
        let multi_role = fw.has_capability(Cap::MultiRole);
        let alloc = multi_role.then_some(role);
        // §7.1: the framework's capability picks how (un)reservation is written.
        let format = if fw.has_capability(Cap::ReservationRefinement) {
            crate::resources::ResourceFormat::PostRefinement
        } else {
            crate::resources::ResourceFormat::PreRefinement
        };
        let agent = st.agents.get_mut(agent_id).expect("agent exists");
        let executor_ids: Vec<ExecutorId> = fw
            .executors
            .keys()
            .filter(|(a, _)| a == agent_id)
            .map(|(_, e)| ExecutorId { value: e.clone() })
            .collect();
        let port = agent.info.port.unwrap_or(5051);
        let offer = Offer {
            id: OfferId { value: id.clone() },
            framework_id: FrameworkId {
                value: fw_id.to_string(),
            },
            agent_id: AgentId {
                value: agent_id.to_string(),
            },
            hostname: agent.info.hostname.clone(),
            url: Some(Url {
                scheme: "http".to_string(),
                address: Address {
                    hostname: Some(agent.info.hostname.clone()),
                    ip: Some(self.cfg.ip.to_string()),
                    port,
                },
                path: Some("/slave(1)".to_string()),
                ..Default::default()
            }),
            resources: free.to_protos(alloc, format),
            attributes: agent.info.attributes.clone(),
            executor_ids,
            allocation_info: alloc.map(|r| resource::AllocationInfo {
                role: Some(r.to_string()),
            }),
            ..Default::default()
        };
        agent.offered = agent.offered.plus(&free);
        fw.offered = fw.offered.plus(&free);
        fw.offers.insert(id.clone());
        st.offers.insert(
            id,
            OfferEntry {
                offer: offer.clone(),
                framework_id: fw_id.to_string(),
                agent_id: agent_id.to_string(),
                role: role.to_string(),
                resources: free,
                created: now,
            },
        );
        offer
    }

    /// Removes an offer and returns its resources to the pool (no event, no filter).
    pub(crate) fn remove_offer(&self, st: &mut MasterState, offer_id: &str) -> Option<OfferEntry> {
        let o = st.offers.remove(offer_id)?;
        if let Some(a) = st.agents.get_mut(&o.agent_id) {
            a.offered = a.offered.minus(&o.resources);
        }
        if let Some(fw) = st.frameworks.get_mut(&o.framework_id) {
            fw.offered = fw.offered.minus(&o.resources);
            fw.offers.remove(offer_id);
        }
        st.allocate_now = true;
        Some(o)
    }

    /// Withdraws an offer with a RESCIND event.
    pub(crate) fn rescind_offer(&self, st: &mut MasterState, offer_id: &str) {
        if let Some(o) = self.remove_offer(st, offer_id) {
            let mut e = event_of(event::Type::Rescind);
            e.rescind = Some(event::Rescind {
                offer_id: OfferId {
                    value: offer_id.to_string(),
                },
            });
            self.send(st, &o.framework_id, &e);
        }
    }

    /// Installs a refusal filter for `refuse_seconds` (default 5 s, 0 = none).
    pub(crate) fn install_filter(
        &self,
        st: &mut MasterState,
        fw_id: &str,
        role: &str,
        agent_id: &str,
        resources: Resources,
        refuse_seconds: Option<f64>,
    ) {
        let secs = match refuse_seconds {
            Some(s) if s.is_finite() && s >= 0.0 => s.min(MAX_REFUSE_SECONDS),
            _ => 5.0,
        };
        if secs == 0.0 || resources.is_empty() {
            return;
        }
        // A filter lasts at least one allocation interval, as in Mesos.
        let d = Duration::from_secs_f64(secs).max(self.cfg.allocation_interval);
        let key = (fw_id.to_string(), role.to_string(), agent_id.to_string());
        let until = Instant::now() + d;
        let entry = st.filters.entry(key).or_insert(super::Filter {
            until,
            parts: Vec::new(),
        });
        entry.until = entry.until.max(until);
        // The same resources refused again: extend that part instead of adding one.
        match entry.parts.iter_mut().find(|(_, r)| *r == resources) {
            Some(part) => part.0 = part.0.max(until),
            None => entry.parts.push((until, resources)),
        }
    }
}
