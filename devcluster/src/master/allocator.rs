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

/// Whether `total - used - offered` is allocatable, from the scalars alone and without
/// allocating: the same arithmetic as [`Resources::minus`] on scalars (each step stops at
/// zero) and the same bounds as [`Resources::allocatable`] (0.01 cpus, 32 MB), in the
/// thousandths that `Resources` keeps.
fn may_be_allocatable(total: &Resources, used: &Resources, offered: &Resources) -> bool {
    let free = |name: &str| {
        let milli = |r: &Resources| (r.scalar(name) * 1000.0).round() as i64;
        ((milli(total) - milli(used)).max(0) - milli(offered)).max(0)
    };
    free("cpus") >= 10 || free("mem") >= 32_000
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
        let n = st.agents.len();
        if n == 0 {
            return;
        }
        let start = st.round_robin % n;
        st.round_robin = st.round_robin.wrapping_add(1);
        // The agents with something to offer, in this pass's order (round robin from
        // `start`). Looked at on their scalars first: under load nearly every agent is
        // busy, and building each one's free resources (two subtractions of resource
        // lists, a dozen allocations) under the master's lock for nothing cost more than
        // the rest of the pass. An offer changes only its own agent's resources, so the
        // list stays right while offers are made.
        let mut agent_ids: Vec<(usize, String)> = (st.agents.iter().enumerate())
            .filter(|(_, (_, a))| may_be_allocatable(&a.total, &a.used, &a.offered))
            .map(|(pos, (id, _))| ((pos + n - start) % n, id.clone()))
            .collect();
        agent_ids.sort_unstable_by_key(|(order, _)| *order);
        let mut batches: std::collections::BTreeMap<String, Vec<Offer>> = Default::default();
        for (_, agent_id) in &agent_ids {
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
        agent.offered.add_all(&free);
        fw.offered.add_all(&free);
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
            a.offered.subtract(&o.resources);
        }
        if let Some(fw) = st.frameworks.get_mut(&o.framework_id) {
            fw.offered.subtract(&o.resources);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocator's quick check agrees with computing the free resources, including at
    /// the bounds (0.01 cpus, 32 MB), when more is used than the total, and without one of
    /// the scalars (fails if the check skipped an agent with something to offer).
    #[test]
    fn the_quick_check_agrees_with_the_free_resources() {
        let r = |text: &str| Resources::parse(text).unwrap();
        let totals = [
            "cpus:4;mem:4096;disk:1000;ports:[31000-32000]",
            "cpus:0.5",
            "mem:64",
        ];
        let amounts = [
            "",
            "cpus:0.01",
            "cpus:0.009",
            "cpus:0.1;mem:32",
            "cpus:3.99;mem:4064",
            "cpus:3.991",
            "cpus:4;mem:4096",
            "cpus:5;mem:5000",
            "mem:4063.999",
            "cpus:0.49;mem:31.999",
        ];
        let mut checked = 0;
        for total in totals {
            for used in amounts {
                for offered in amounts {
                    let (t, u, o) = (r(total), r(used), r(offered));
                    let exact = t.minus(&u).minus(&o).allocatable();
                    assert_eq!(
                        may_be_allocatable(&t, &u, &o),
                        exact,
                        "total {total}, used {used}, offered {offered}"
                    );
                    checked += usize::from(exact);
                }
            }
        }
        // Both answers occur.
        assert!(checked > 0 && checked < totals.len() * amounts.len() * amounts.len());
    }
}
