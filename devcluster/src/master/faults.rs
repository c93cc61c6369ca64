//! Fault injection on one master (the cluster-wide list is in `crate::faults`).

use mesos_proto::recordio;
use mesos_proto::v1::scheduler::event;

use super::{Master, event_of};
use crate::http::StreamItem;

impl Master {
    /// Fault injection / master restart: close every subscription abruptly and forget
    /// all frameworks, offers and agents' offered resources (agents re-register).
    pub(crate) fn drop_everything(&self) {
        let mut st = self.lock();
        for fw in st.frameworks.values() {
            if let Some(sub) = &fw.sub {
                sub.tx.cancel();
            }
        }
        st.frameworks.clear();
        st.completed_frameworks.clear();
        st.removed_ids.clear();
        st.offers.clear();
        st.filters.clear();
        st.agents.clear();
        st.unreachable_agents.clear();
    }

    /// Fault injection: close every subscription stream (optionally in the middle of a
    /// record); frameworks become disconnected as if the network had failed.
    pub(crate) fn cut_streams(&self, mid_record: bool) {
        let mut st = self.lock();
        let ids: Vec<String> = st.frameworks.keys().cloned().collect();
        for id in ids {
            if let Some(sub) = st.frameworks.get(&id).and_then(|f| f.sub.as_ref()) {
                let item = if mid_record {
                    let bytes = recordio::encode(
                        &sub.content_type.encode(&event_of(event::Type::Heartbeat)),
                    );
                    StreamItem::CutAfter(bytes[..bytes.len() / 2].to_vec())
                } else {
                    StreamItem::Abort
                };
                let _ = sub.tx.send_raw(item);
                self.disconnect(&mut st, &id);
            }
        }
    }

    /// Fault injection: rescind one offer (or the oldest one when `None`).
    pub(crate) fn rescind_one(&self, offer_id: Option<&str>) -> bool {
        let mut st = self.lock();
        let id = match offer_id {
            Some(id) => Some(id.to_string()),
            None => st.offers.keys().next().cloned(),
        };
        match id {
            Some(id) if st.offers.contains_key(&id) => {
                self.rescind_offer(&mut st, &id);
                true
            }
            _ => false,
        }
    }
}
