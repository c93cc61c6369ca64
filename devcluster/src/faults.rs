//! Fault injection: one list of faults shared by the library API ([`crate::Cluster`]),
//! the HTTP endpoint `POST /devcluster/faults/<name>?arg=...` and the CLI subcommand.

use std::time::{Duration, Instant};

use crate::cluster::{Inner, lock};
use crate::messages::{ToAgent, ToMaster};

/// Applies a named fault (the names of `POST /devcluster/faults/<name>` and the CLI).
/// `arg` is the optional parameter: seconds, agent index, offer id, `fw/executor`.
/// The fault goes into every framework's timeline before it is applied (so that it comes
/// before what it causes), whether it applied after.
pub(crate) fn apply_fault(
    cluster_ops: &dyn FaultOps,
    name: &str,
    arg: Option<&str>,
) -> std::result::Result<String, String> {
    let record = cluster_ops.timeline().fault_begin(name, arg);
    let result = apply(cluster_ops, name, arg);
    cluster_ops.timeline().fault_done(record, &result);
    result
}

fn apply(
    cluster_ops: &dyn FaultOps,
    name: &str,
    arg: Option<&str>,
) -> std::result::Result<String, String> {
    match name {
        "fail-over-leader" => cluster_ops.fail_over_leader(),
        "restart-master" => cluster_ops.restart_master(),
        "cut-streams" => cluster_ops.cut_streams(false),
        "cut-streams-mid-record" => cluster_ops.cut_streams(true),
        "stall-heartbeats" => cluster_ops.stall_heartbeats(fault_secs(arg)?),
        "unavailable" => cluster_ops.unavailable_for(fault_secs(arg)?),
        "lose-agent" => {
            let i = match arg {
                None => 0,
                Some(a) => a
                    .parse::<usize>()
                    .map_err(|_| format!("Expecting ?arg=<agent index>, got '{}'", shorten(a)))?,
            };
            if !cluster_ops.lose_agent(i) {
                return Err(format!("No live agent {i}"));
            }
        }
        "crash-executor" => {
            let (fw, ex) = arg
                .and_then(|a| a.split_once('/'))
                .ok_or("Expecting ?arg=<framework_id>/<executor_id>")?;
            if !cluster_ops.crash_executor(fw, ex) {
                return Err("No such executor".to_string());
            }
        }
        "rescind-offer" => {
            if !cluster_ops.rescind_offer(arg) {
                return Err("No such offer".to_string());
            }
        }
        _ => return Err(format!("Unknown fault '{name}'")),
    }
    Ok(format!("Fault '{name}' injected"))
}

/// The longest a timed fault may last: long enough for any experiment, short enough
/// that a mistyped number cannot break a cluster for good.
pub(crate) const MAX_FAULT_SECS: f64 = 3600.0;

/// The seconds of a timed fault (default 10): a number from 0 to [`MAX_FAULT_SECS`].
fn fault_secs(arg: Option<&str>) -> Result<Duration, String> {
    let Some(a) = arg else {
        return Ok(Duration::from_secs(10));
    };
    match a.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=MAX_FAULT_SECS).contains(&s) => {
            Ok(Duration::from_secs_f64(s))
        }
        _ => Err(format!(
            "Expecting ?arg=<seconds> from 0 to {MAX_FAULT_SECS}, got '{}'",
            shorten(a)
        )),
    }
}

/// A client's text, cut to a length fit for an error message.
fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The fault operations, so that HTTP (which sees only a master) and the library share
/// one list.
pub(crate) trait FaultOps {
    fn fail_over_leader(&self);
    fn restart_master(&self);
    fn cut_streams(&self, mid_record: bool);
    fn stall_heartbeats(&self, d: Duration);
    fn unavailable_for(&self, d: Duration);
    fn lose_agent(&self, i: usize) -> bool;
    fn crash_executor(&self, fw: &str, ex: &str) -> bool;
    fn rescind_offer(&self, id: Option<&str>) -> bool;
    /// Where injected faults are recorded for the live page.
    fn timeline(&self) -> &crate::timeline::Timeline;
}

impl FaultOps for Inner {
    fn timeline(&self) -> &crate::timeline::Timeline {
        &self.shared.timeline
    }

    /// Fault: leadership moves to the next master. Subscriptions to the old leader break
    /// (frameworks must resubscribe to the new one); agents register with the new leader.
    /// With one master, this is a master restart.
    fn fail_over_leader(&self) {
        let old = self.shared.leader().unwrap_or(0);
        let new = (old + 1) % self.masters.len();
        *lock(&self.shared.leader) = None;
        self.masters[old].drop_everything();
        self.rejoin_zk(old);
        if new != old {
            // The new leader starts from what agents tell it, like a Mesos master
            // recovering from its registry.
            self.masters[new].drop_everything();
        }
        self.masters[new].lock().elected_time = Some(crate::master::now_secs());
        *lock(&self.shared.leader) = Some(new);
        for a in &self.agents {
            a.send(ToAgent::Reregister);
        }
    }

    /// Fault: the leading master restarts: every subscription is dropped and it forgets
    /// frameworks; agents register again (frameworks resubscribe with their ids).
    fn restart_master(&self) {
        let Some(i) = self.shared.leader() else {
            return;
        };
        *lock(&self.shared.leader) = None;
        self.masters[i].drop_everything();
        // A lone master that restarts leaves ZooKeeper and comes back; with several,
        // it keeps its place (its session would outlive a quick restart).
        if self.masters.len() == 1 {
            self.rejoin_zk(i);
        }
        *lock(&self.shared.leader) = Some(i);
        for a in &self.agents {
            a.send(ToAgent::Reregister);
        }
    }

    /// Fault: break every subscription stream (abruptly, or in the middle of a record).
    fn cut_streams(&self, mid_record: bool) {
        if let Some(i) = self.shared.leader() {
            self.masters[i].cut_streams(mid_record);
        }
    }

    /// Fault: send no heartbeats for `d`.
    fn stall_heartbeats(&self, d: Duration) {
        *lock(&self.shared.stall_until) = Some(Instant::now() + d);
    }

    /// Fault: answer the scheduler endpoint with 503 for `d`.
    fn unavailable_for(&self, d: Duration) {
        *lock(&self.shared.unavailable_until) = Some(Instant::now() + d);
    }

    /// Fault: agent `index` dies: its processes are killed and the master declares it
    /// lost (tasks LOST/UNREACHABLE, offers rescinded, FAILURE). Returns false if there is
    /// no such live agent.
    fn lose_agent(&self, index: usize) -> bool {
        let Some(a) = self.agents.get(index) else {
            return false;
        };
        if !a.lose() {
            return false;
        }
        self.shared.to_leader(ToMaster::AgentLost {
            agent_id: a.id.clone(),
        });
        true
    }

    /// Fault: SIGKILL an executor (or a command task's process). Returns false if no agent
    /// runs it.
    fn crash_executor(&self, framework_id: &str, executor_id: &str) -> bool {
        self.agents
            .iter()
            .any(|a| a.crash_executor(framework_id, executor_id))
    }

    /// Fault: rescind an offer (the oldest one when `offer_id` is `None`).
    fn rescind_offer(&self, offer_id: Option<&str>) -> bool {
        match self.shared.leader() {
            Some(i) => self.masters[i].rescind_one(offer_id),
            None => false,
        }
    }
}

impl Inner {
    /// With ZooKeeper: master `index` leaves (its member is deleted, so the next one in
    /// line leads) and registers again at the back of the line, as a restarted Mesos
    /// master does. Without ZooKeeper: nothing.
    fn rejoin_zk(&self, index: usize) {
        let Some(url) = self.masters[index].cfg.zk.clone() else {
            return;
        };
        let mut members = lock(&self.zk);
        if let Some(slot) = members.get_mut(index) {
            *slot = None;
            *slot = match crate::zk::ZkRegistrar::default()
                .register_master(&url, &self.masters[index].info)
            {
                Ok(member) => Some(member),
                Err(e) => {
                    log::warn!("master {index} could not register in ZooKeeper again: {e}");
                    None
                }
            };
        }
    }
}
