//! The JSON summary of an offer that the backend receives at `POST /offer`.
//!
//! The shape is the one Dropbox's changes-mesos-scheduler sent, so a
//! backend written for it needs no change:
//!
//! ```json
//! {"attributes": {"rack": "r1"}, "executor_ids": [], "framework_id": "...",
//!  "hostname": "agent1", "id": "offer-1",
//!  "resources": {"cpus": 4.0, "disk": 10240.0, "mem": 4096.0,
//!                "ports": [{"begin": 31000, "end": 32000}]},
//!  "slave_id": "..."}
//! ```
//!
//! Attributes become `name: value`, the value being a number (scalar), a
//! string (text), a list of strings (set) or `[{begin, end}]` (ranges).

use mesos_client::resources;
use mesos_proto::v1::{Attribute, Offer, value};
use serde_json::{Value, json};

/// The summary of `offer`.
pub fn offer_summary(offer: &Offer) -> Value {
    let attributes: serde_json::Map<String, Value> = offer
        .attributes
        .iter()
        .map(|a| (a.name.clone(), attribute_value(a)))
        .collect();
    let ports: Vec<Value> = resources::ports(&offer.resources)
        .iter()
        .map(|(begin, end)| json!({"begin": begin, "end": end}))
        .collect();
    json!({
        "attributes": attributes,
        "executor_ids": offer.executor_ids.iter().map(|e| e.value.clone()).collect::<Vec<_>>(),
        "framework_id": offer.framework_id.value,
        "hostname": offer.hostname,
        "id": offer.id.value,
        "resources": {
            "cpus": resources::cpus(&offer.resources),
            "disk": resources::disk(&offer.resources),
            "mem": resources::mem(&offer.resources),
            "ports": ports,
        },
        "slave_id": offer.agent_id.value,
    })
}

fn attribute_value(attribute: &Attribute) -> Value {
    match attribute.r#type() {
        value::Type::Scalar => json!(attribute.scalar.as_ref().map_or(0.0, |s| s.value)),
        value::Type::Text => json!(attribute.text.as_ref().map_or("", |t| t.value.as_str())),
        value::Type::Set => json!(attribute.set.as_ref().map_or(vec![], |s| s.item.clone())),
        value::Type::Ranges => {
            let ranges = attribute.ranges.as_ref().map_or(vec![], |r| {
                r.range
                    .iter()
                    .map(|r| json!({"begin": r.begin, "end": r.end}))
                    .collect()
            });
            Value::Array(ranges)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_client::resources::{ranges, scalar};
    use mesos_proto::v1::{AgentId, FrameworkId, OfferId};

    #[test]
    fn summary_has_the_changes_shape() {
        let offer = Offer {
            id: OfferId { value: "o1".into() },
            framework_id: FrameworkId { value: "f1".into() },
            agent_id: AgentId { value: "a1".into() },
            hostname: "host1".into(),
            resources: vec![
                scalar("cpus", 2.0),
                scalar("mem", 512.0),
                ranges("ports", &[(31000, 31010)]),
            ],
            ..Default::default()
        };
        let summary = offer_summary(&offer);
        assert_eq!(summary["id"], "o1");
        assert_eq!(summary["slave_id"], "a1");
        assert_eq!(summary["hostname"], "host1");
        assert_eq!(summary["resources"]["cpus"], 2.0);
        assert_eq!(summary["resources"]["mem"], 512.0);
        assert_eq!(summary["resources"]["disk"], 0.0);
        assert_eq!(summary["resources"]["ports"][0]["end"], 31010);
        assert!(summary["executor_ids"].as_array().unwrap().is_empty());
    }
}
