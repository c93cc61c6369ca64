//! SUBSCRIBE (§1.10, §2.2), disconnection and framework removal.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Call, event};
use mesos_proto::v1::{FrameworkId, TaskState, task_status};

use super::{
    Framework, Master, MasterState, Subscription, completed_push, error_event, event_of,
    master_status, now_secs, record, validate,
};
use crate::http::{BoundedSender, Response};
use crate::messages::ToAgent;
use crate::resources::Resources;

/// Completed frameworks kept for `/master/state` (Mesos `--max_completed_frameworks`: 50).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

impl Master {
    /// SUBSCRIBE after the HTTP-level checks: always a 200 stream, which carries either
    /// SUBSCRIBED (+ HEARTBEAT, then offers) or exactly one ERROR.
    pub(crate) fn subscribe(
        &self,
        c: Call,
        ct: ContentType,
        principal: Option<String>,
    ) -> Response {
        let bounds = &self.cfg.bounds;
        let (tx, rx) = BoundedSender::new(
            bounds.subscriber_queue_events,
            bounds.subscriber_queue_bytes,
        );
        let stream_id = uuid::Uuid::new_v4().to_string();
        let response =
            Response::stream(200, ct.mime(), rx).with_header("Mesos-Stream-Id", &stream_id);
        let refuse = |msg: &str| {
            let _ = tx.send_chunk(record(ct, &error_event(msg)));
            // Dropping `tx` ends the stream with the chunked terminator, as Mesos does.
        };
        // Cloned (not moved) so the whole call can go into the timeline below.
        let Some(sub) = c.subscribe.clone() else {
            refuse("Expecting 'subscribe' to be present");
            return response;
        };
        let mut info = sub.framework_info;
        if let Err(e) = validate::validate_framework(&info, &sub.suppressed_roles) {
            refuse(&e);
            return response;
        }
        if let (Some(p), Some(fp)) = (&principal, &info.principal)
            && p != fp
        {
            refuse(&format!(
                "Framework principal '{fp}' does not match authenticated principal '{p}'"
            ));
            return response;
        }
        if info.principal.is_none() {
            info.principal = principal;
        }
        let mut st = self.lock();
        let now = Instant::now();
        let id = match info.id.as_ref().map(|i| i.value.clone()) {
            Some(id) if st.removed_ids.contains(&id) => {
                refuse("Framework has been removed");
                return response;
            }
            Some(id) => id,
            None => {
                let id = format!("{}-{:04}", self.id, st.next_framework);
                st.next_framework += 1;
                id
            }
        };
        info.id = Some(FrameworkId { value: id.clone() });
        if let Some(fw) = st.frameworks.get(&id)
            && fw.info.principal != info.principal
        {
            // Refused: nothing of this call reaches the framework's records (its name on
            // the page would otherwise change to the caller's).
            refuse("Changing framework's principal is not allowed.");
            return response;
        }
        self.shared.timeline.call(&id, &c);
        // Failover of a connected framework: ERROR on the old stream, which then ends.
        let old_offers: Vec<String> = match st.frameworks.get_mut(&id) {
            Some(fw) => {
                if let Some(old) = fw.sub.take() {
                    let err = error_event("Framework failed over");
                    self.shared.timeline.event(&id, &err);
                    let _ = old.tx.send_chunk(record(old.content_type, &err));
                }
                fw.offers.iter().cloned().collect()
            }
            None => Vec::new(),
        };
        for offer_id in old_offers {
            self.remove_offer(&mut st, &offer_id);
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        let interval = self.cfg.heartbeat_interval;
        let fw = st
            .frameworks
            .entry(id.clone())
            .or_insert_with(|| Framework {
                id: id.clone(),
                info: std::sync::Arc::new(info.clone()),
                sub: None,
                suppressed: BTreeSet::new(),
                tasks: BTreeMap::new(),
                completed_tasks: VecDeque::new(),
                offers: BTreeSet::new(),
                executors: BTreeMap::new(),
                used: Resources::new(),
                offered: Resources::new(),
                registered_time: now_secs(),
                reregistered_time: None,
                unregistered_time: None,
                failover_deadline: None,
                next_heartbeat: now,
                seq,
            });
        if fw.info.id.is_some() && fw.registered_time < now_secs() - 0.001 {
            fw.reregistered_time = Some(now_secs());
        }
        // `user` and `checkpoint` cannot change on re-subscription (silently kept).
        info.user = fw.info.user.clone();
        info.checkpoint = fw.info.checkpoint;
        fw.info = std::sync::Arc::new(info);
        fw.suppressed = sub.suppressed_roles.into_iter().collect();
        fw.failover_deadline = None;
        fw.unregistered_time = None;
        let mut subscribed = event_of(event::Type::Subscribed);
        subscribed.subscribed = Some(event::Subscribed {
            framework_id: FrameworkId { value: id.clone() },
            heartbeat_interval_seconds: Some(interval.as_secs_f64()),
            master_info: Some(self.info.clone()),
        });
        let heartbeat = event_of(event::Type::Heartbeat);
        self.shared.timeline.event(&id, &subscribed);
        self.shared.timeline.event(&id, &heartbeat);
        let _ = tx.send_chunk(record(ct, &subscribed));
        let _ = tx.send_chunk(record(ct, &heartbeat));
        fw.next_heartbeat = now + interval;
        fw.sub = Some(Subscription {
            tx,
            stream_id,
            content_type: ct,
        });
        // Ask agents to resend pending updates now that someone is listening.
        for a in st.agents.values() {
            let _ = a.tx.send(ToAgent::ResendUpdates {
                framework_id: id.clone(),
            });
        }
        st.allocate_now = true;
        drop(st);
        response
    }

    /// The subscription stream broke: inactive, offers gone, failover timer started.
    pub(crate) fn disconnect(&self, st: &mut MasterState, id: &str) {
        let Some(fw) = st.frameworks.get_mut(id) else {
            return;
        };
        if fw.sub.take().is_none() {
            return;
        }
        let timeout = fw.info.failover_timeout().clamp(0.0, 1e9);
        fw.failover_deadline = Some(Instant::now() + Duration::from_secs_f64(timeout));
        fw.unregistered_time = Some(now_secs());
        let offers: Vec<String> = fw.offers.iter().cloned().collect();
        for offer_id in offers {
            self.remove_offer(st, &offer_id);
        }
        if timeout == 0.0 {
            self.remove_framework(st, id);
        }
    }

    /// Removes a framework for good (TEARDOWN, failover timeout): its tasks are killed,
    /// it moves to the completed list and its id can never subscribe again.
    pub(crate) fn remove_framework(&self, st: &mut MasterState, id: &str) {
        let Some(mut fw) = st.frameworks.remove(id) else {
            return;
        };
        // Ending the stream with the terminator (TEARDOWN), if still open.
        fw.sub = None;
        let offers: Vec<String> = fw.offers.iter().cloned().collect();
        st.frameworks.insert(id.to_string(), fw);
        for offer_id in offers {
            self.remove_offer(st, &offer_id);
        }
        let Some(mut fw) = st.frameworks.remove(id) else {
            return;
        };
        for a in st.agents.values() {
            let _ = a.tx.send(ToAgent::ShutdownFramework {
                framework_id: id.to_string(),
            });
        }
        let tasks = std::mem::take(&mut fw.tasks);
        for (_, mut t) in tasks {
            if !t.released {
                if let Some(agent) = st.agents.get_mut(&*t.agent_id) {
                    agent.used = agent.used.minus(&t.resources);
                }
                t.released = true;
            }
            if !t.state.is_terminal() {
                t.state = TaskState::TaskKilled;
                let s = master_status(
                    &t.info.task_id.value,
                    TaskState::TaskKilled,
                    task_status::Reason::ReasonFrameworkRemoved,
                    "Framework removed",
                    Some(&t.agent_id),
                );
                t.statuses.push(std::sync::Arc::new(s));
            }
            completed_push(
                &mut fw,
                t,
                self.cfg.bounds.max_completed_tasks_per_framework,
            );
        }
        for ((agent_id, _), (_, res)) in std::mem::take(&mut fw.executors) {
            if let Some(agent) = st.agents.get_mut(&agent_id) {
                agent.used = agent.used.minus(&res);
            }
        }
        fw.used = Resources::new();
        fw.unregistered_time = Some(now_secs());
        st.filters.retain(|(f, _, _), _| f != id);
        st.removed_ids.insert(id.to_string());
        st.completed_frameworks.push_back(fw);
        while st.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
            st.completed_frameworks.pop_front();
        }
        st.allocate_now = true;
    }

    /// TEARDOWN: as removal, after the 202.
    pub(crate) fn teardown(&self, id: &str) {
        let mut st = self.lock();
        self.remove_framework(&mut st, id);
    }
}
