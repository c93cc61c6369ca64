//! Conformance of the JSON decoding the master applies to calls (§5 "Decoding"): foreign
//! JSON clients rely on Mesos' leniencies and strictnesses alike.

use e2e_tests::sched::{Sched, WAIT, b64, framework, post_json};
use e2e_tests::testcluster;
use serde_json::json;

/// A subscribed framework on a one-agent cluster, with an outstanding offer's id.
fn setup(name: &str) -> (devcluster::Cluster, Sched, String) {
    let (c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework(name));
    let offer = s.offers(WAIT).remove(0);
    (c, s, offer.id.value)
}

#[test]
fn json_numbers_as_strings_null_and_unknown_keys_are_accepted() {
    let (_c, s, offer) = setup("json-lenient");
    let decline = json!({
        "offer_ids": [{"value": offer}],
        "filters": {"refuse_seconds": "3600"},   // a double given as a numeric string
        "no_such_key": {"whatever": [1, 2, 3]}   // unknown keys are ignored
    });
    let r = s.call("DECLINE", Some(("decline", decline)));
    assert_eq!(r.status(), 202, "{}", r.text());
    let r = s.call("REVIVE", Some(("revive", json!(null))));
    assert_eq!(r.status(), 202, "null means unset: {}", r.text());
    let r = s.call(
        "DECLINE",
        Some(("decline", json!({"offer_ids": [], "filters": null}))),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
    let r = s.call(
        "DECLINE",
        Some((
            "decline",
            json!({"offer_ids": [], "filters": {"refuse_seconds": "Infinity"}}),
        )),
    );
    assert_eq!(r.status(), 202, "\"Infinity\" is a double: {}", r.text());
}

#[test]
fn json_single_value_for_a_repeated_field_is_a_one_element_list() {
    let (_c, s, offer) = setup("json-repeated");
    let r = s.call(
        "DECLINE",
        Some(("decline", json!({"offer_ids": {"value": offer}}))),
    );
    assert_eq!(r.status(), 202, "{}", r.text());
    // An array for a non-repeated field is an error.
    let r = s.call(
        "DECLINE",
        Some(("decline", json!({"offer_ids": [], "filters": [{}]}))),
    );
    assert_eq!(r.status(), 400, "{}", r.text());
}

#[test]
fn json_enums_are_names_only() {
    let (_c, s, _) = setup("json-enums");
    let body = json!({"framework_id": {"value": s.framework_id}, "type": 9, "reconcile": {}});
    let r = s.post(&body);
    assert_eq!(r.status(), 400, "an enum given as a number: {}", r.text());
}

#[test]
fn json_bytes_are_standard_base64_padding_optional() {
    let (_c, s, _) = setup("json-bytes");
    let uuid = mesos_proto::uuid::new_v4();
    let padded = b64(&uuid);
    let ack = |u: &str| {
        s.call(
            "ACKNOWLEDGE",
            Some((
                "acknowledge",
                json!({"agent_id": {"value": "a"}, "task_id": {"value": "t"},
                                       "uuid": u}),
            )),
        )
    };
    assert_eq!(ack(&padded).status(), 202);
    assert_eq!(
        ack(padded.trim_end_matches('=')).status(),
        202,
        "padding is optional"
    );
    // URL-safe characters are rejected; find a uuid whose encoding has `+` or `/`.
    let url_safe = loop {
        let enc = b64(&mesos_proto::uuid::new_v4());
        if enc.contains('+') || enc.contains('/') {
            break enc.replace('+', "-").replace('/', "_");
        }
    };
    let r = ack(&url_safe);
    assert_eq!(r.status(), 400, "{}", r.text());
    assert!(
        r.text()
            .starts_with("Failed to convert JSON into Call protobuf"),
        "{}",
        r.text()
    );
}

#[test]
fn json_camel_case_keys_are_not_field_names() {
    let (_c, s, _) = setup("json-camel");
    // `frameworkId` is unknown (ignored), so the call has no framework id: 400.
    let body = json!({"frameworkId": {"value": s.framework_id}, "type": "RECONCILE",
                      "reconcile": {}});
    let r = post_json(&s.addr, &[("Mesos-Stream-Id", &s.stream_id)], &body);
    assert_eq!(r.status(), 400, "{}", r.text());
}
