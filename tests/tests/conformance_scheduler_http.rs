//! Conformance, scheduler endpoint, HTTP layer: checklist items 1-16 of
//! `docs/mesos-v1-http-api.md` §9, checked black-box over raw HTTP/1.1.

use base64::Engine;
use e2e_tests::http::{self, open_stream};
use e2e_tests::sched::{SCHEDULER, Sched, WAIT, framework, post_json, subscribe_body};
use e2e_tests::testcluster;
use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Call, Event, call, event};
use mesos_proto::v1::{FrameworkId, FrameworkInfo};
use serde_json::json;

fn subscribe_bytes(name: &str) -> Vec<u8> {
    subscribe_body(&framework(name)).to_string().into_bytes()
}

/// Every error answer is `text/plain; charset=utf-8` with a reason and a Content-Length.
fn assert_text_error(r: &http::Response, status: u16) {
    assert_eq!(r.status(), status, "body: {}", r.text());
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.header("Content-Length"),
        Some(r.body.len().to_string().as_str())
    );
    assert!(
        r.header("Date").is_some(),
        "every response has a Date header"
    );
    assert!(!r.body.is_empty(), "an error carries a reason");
}

#[test]
fn c01_http_auth_missing_or_wrong_credentials_is_401() {
    let creds = devcluster::http::Credentials::parse("alice s3cret").expect("credentials");
    let (_c, addr) = testcluster::start_with(1, |cfg| cfg.credentials = Some(creds));
    let body = subscribe_bytes("c01");
    let r = http::post(
        &addr,
        SCHEDULER,
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(r.status(), 401, "{}", r.text());
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-scheduler\"")
    );
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:nope")
    );
    let h = [
        ("Content-Type", "application/json"),
        ("Authorization", wrong.as_str()),
    ];
    let r = http::post(&addr, SCHEDULER, &h, &body);
    assert_eq!(r.status(), 401, "{}", r.text());
    // The right credentials get through to a normal subscription.
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let s = Sched::subscribe_raw(
        &addr,
        &[("Authorization", good.as_str())],
        &subscribe_body(&framework("c01")),
    );
    assert!(!s.framework_id.is_empty());
}

#[test]
fn c02_no_content_type_is_400() {
    let (_c, addr) = testcluster::start(0);
    let r = http::post(&addr, SCHEDULER, &[], &subscribe_bytes("c02"));
    assert_text_error(&r, 400);
    assert_eq!(r.text(), "Expecting 'Content-Type' to be present");
}

#[test]
fn c03_json_object_that_is_not_a_call_is_400() {
    let (_c, addr) = testcluster::start(0);
    let r = post_json(&addr, &[], &json!({"string": "valid_json"}));
    assert_text_error(&r, 400);
    // An unknown type name is dropped (optional enum), then `type` is missing.
    let r = post_json(
        &addr,
        &[],
        &json!({"framework_id": {"value": "x"}, "type": "FOO"}),
    );
    assert_text_error(&r, 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Expecting 'type' to be present"
    );
    // The top level must be an object.
    assert_text_error(&post_json(&addr, &[], &json!(["SUBSCRIBE"])), 400);
}

#[test]
fn c04_malformed_body_is_400_in_both_encodings() {
    let (_c, addr) = testcluster::start(0);
    for ct in ["application/json", "application/x-protobuf"] {
        let r = http::post(
            &addr,
            SCHEDULER,
            &[("Content-Type", ct)],
            b"MALFORMED_CONTENT",
        );
        assert_text_error(&r, 400);
    }
    let r = http::post(
        &addr,
        SCHEDULER,
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    assert_text_error(&r, 400);
    assert!(
        r.text().starts_with("Failed to parse body into JSON"),
        "{}",
        r.text()
    );
}

#[test]
fn c05_unknown_media_type_is_415() {
    let (_c, addr) = testcluster::start(0);
    let h = [("Content-Type", "application/unknown-media-type")];
    let r = http::post(&addr, SCHEDULER, &h, &subscribe_bytes("c05"));
    assert_text_error(&r, 415);
    assert_eq!(
        r.text(),
        "Expecting 'Content-Type' of application/json or application/x-protobuf"
    );
}

#[test]
fn c06_content_type_with_parameters_is_415() {
    let (_c, addr) = testcluster::start(0);
    // The match is exact and case-sensitive.
    for ct in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "text/plain",
    ] {
        let r = http::post(
            &addr,
            SCHEDULER,
            &[("Content-Type", ct)],
            &subscribe_bytes("c06"),
        );
        assert_text_error(&r, 415);
    }
}

#[test]
fn c07_get_is_405_with_allow_post() {
    let (_c, addr) = testcluster::start(0);
    let r = http::get(&addr, SCHEDULER);
    assert_text_error(&r, 405);
    assert_eq!(r.header("Allow"), Some("POST"));
    assert_eq!(
        r.text(),
        "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'."
    );
}

#[test]
fn c08_subscribe_accept_foo_is_406() {
    let (_c, addr) = testcluster::start(0);
    for accept in ["foo", "text/html", "application/recordio"] {
        let h = [("Content-Type", "application/json"), ("Accept", accept)];
        let r = http::post(&addr, SCHEDULER, &h, &subscribe_bytes("c08"));
        assert_text_error(&r, 406);
        assert_eq!(
            r.text(),
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"
        );
    }
}

fn subscribe_content_type(addr: &str, accept: Option<&str>) -> (String, Event, Vec<u8>) {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = accept {
        h.push(("Accept", a));
    }
    let mut s = open_stream::<Event>(addr, SCHEDULER, &h, &subscribe_bytes("negotiation"))
        .unwrap_or_else(|r| panic!("{accept:?}: {} {}", r.status(), r.text()));
    let ct = s
        .head
        .header("Content-Type")
        .unwrap_or_default()
        .to_string();
    let (ev, raw) = s.next_event(WAIT);
    (ct, ev, raw)
}

#[test]
fn c09_subscribe_without_accept_is_json() {
    let (_c, addr) = testcluster::start(0);
    let (ct, ev, raw) = subscribe_content_type(&addr, None);
    assert_eq!(ct, "application/json");
    assert_eq!(ev.r#type(), event::Type::Subscribed);
    assert!(
        raw.starts_with(b"{\"type\":\"SUBSCRIBED\""),
        "{}",
        String::from_utf8_lossy(&raw)
    );
}

#[test]
fn c10_subscribe_accept_any_is_json() {
    let (_c, addr) = testcluster::start(0);
    let (ct, _, raw) = subscribe_content_type(&addr, Some("*/*"));
    assert_eq!(ct, "application/json");
    assert!(serde_json::from_slice::<serde_json::Value>(&raw).is_ok());
}

#[test]
fn c11_accept_protobuf_streams_protobuf_and_both_prefers_json() {
    let (_c, addr) = testcluster::start(1);
    let (ct, ev, raw) = subscribe_content_type(&addr, Some("application/x-protobuf"));
    assert_eq!(ct, "application/x-protobuf");
    assert_eq!(ev.r#type(), event::Type::Subscribed);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&raw).is_err(),
        "binary record"
    );
    let (ct, _, _) =
        subscribe_content_type(&addr, Some("application/x-protobuf, application/json"));
    assert_eq!(ct, "application/json");
    // JSON explicitly not acceptable (q=0): protobuf.
    let (ct, _, _) =
        subscribe_content_type(&addr, Some("application/json;q=0, application/x-protobuf"));
    assert_eq!(ct, "application/x-protobuf");
    let (ct, _, _) = subscribe_content_type(&addr, Some("application/*"));
    assert_eq!(ct, "application/json");

    // A whole protobuf client: protobuf SUBSCRIBE body, protobuf records, protobuf calls.
    let mut sub = Call::default();
    sub.set_type(call::Type::Subscribe);
    sub.subscribe = Some(call::Subscribe {
        framework_info: FrameworkInfo {
            user: "conformance".into(),
            name: "c11-pb".into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let pb = ContentType::Protobuf;
    let h = [("Content-Type", pb.mime()), ("Accept", pb.mime())];
    let stream = open_stream::<Event>(&addr, SCHEDULER, &h, &pb.encode(&sub))
        .unwrap_or_else(|r| panic!("{} {}", r.status(), r.text()));
    let mut s = Sched::from_stream(&addr, stream);
    assert_eq!(s.stream.content_type, ContentType::Protobuf);
    let offers = s.offers(WAIT);
    assert!(!offers.is_empty());
    let mut decline = Call::default();
    decline.set_type(call::Type::Decline);
    decline.framework_id = Some(FrameworkId {
        value: s.framework_id.clone(),
    });
    decline.decline = Some(call::Decline {
        offer_ids: offers.iter().map(|o| o.id.clone()).collect(),
        filters: None,
    });
    let r = s.post_pb(&decline);
    assert_eq!(r.status(), 202, "{}", r.text());
}

#[test]
fn c12_subscribe_with_stream_id_header_is_400() {
    let (_c, addr) = testcluster::start(0);
    let h = [("Mesos-Stream-Id", "eaf43be1-b9ac-4ebd-9488-5483fca0931e")];
    let r = post_json(&addr, &h, &subscribe_body(&framework("c12")));
    assert_text_error(&r, 400);
    assert_eq!(
        r.text(),
        "Subscribe calls should not include the 'Mesos-Stream-Id' header"
    );
}

#[test]
fn c13_subscribe_framework_id_mismatch_is_400() {
    let (_c, addr) = testcluster::start(0);
    let info = framework("c13");
    // Call-level id only.
    let mut body = subscribe_body(&info);
    body["framework_id"] = json!({"value": "some-id"});
    assert_text_error(&post_json(&addr, &[], &body), 400);
    // framework_info.id only.
    let mut info2 = info.clone();
    info2["id"] = json!({"value": "some-id"});
    let mut body = subscribe_body(&info2);
    body.as_object_mut().unwrap().remove("framework_id");
    assert_text_error(&post_json(&addr, &[], &body), 400);
    // Both, different.
    let mut body = subscribe_body(&info2);
    body["framework_id"] = json!({"value": "other-id"});
    assert_text_error(&post_json(&addr, &[], &body), 400);
}

#[test]
fn c14_framework_info_without_user_or_name_is_400() {
    let (_c, addr) = testcluster::start(0);
    for info in [json!({"name": "c14"}), json!({"user": "conformance"})] {
        let r = post_json(&addr, &[], &subscribe_body(&info));
        assert_text_error(&r, 400);
    }
}

#[test]
fn c15_non_leader_redirects_307_and_no_leader_is_503() {
    let (c, addr) = testcluster::start_with(0, |cfg| cfg.masters = 2);
    let urls = c.master_urls();
    let follower = urls
        .iter()
        .map(|u| http::host_port(u))
        .find(|a| *a != addr)
        .expect("2 masters");
    let r = post_json(&follower, &[], &subscribe_body(&framework("c15")));
    assert_eq!(r.status(), 307, "{}", r.text());
    let port = addr.rsplit(':').next().unwrap();
    let location = r.header("Location").expect("Location").to_string();
    assert!(location.starts_with("//"), "protocol-relative: {location}");
    assert!(
        location == format!("//localhost:{port}/master/api/v1/scheduler"),
        "{location}"
    );
    // The routed path (trailing slash kept) and the query string travel along.
    let h = [("Content-Type", "application/json")];
    let body = subscribe_bytes("c15");
    let r = http::post(&follower, "/api/v1/scheduler/?a=b", &h, &body);
    assert_eq!(r.status(), 307);
    let location = r.header("Location").unwrap_or_default();
    assert_eq!(
        location,
        format!("//localhost:{port}/master/api/v1/scheduler/?a=b")
    );
    // Read-only endpoints redirect too.
    let r = http::get(&follower, "/master/state");
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.header("Location"),
        Some(format!("//localhost:{port}/master/state").as_str())
    );
    // The leader itself answers normally.
    let s = Sched::subscribe(&addr, framework("c15"));
    drop(s);
    // While the master is unavailable (no leader), the scheduler endpoint answers 503.
    c.unavailable_for(std::time::Duration::from_secs(5));
    let r = post_json(&addr, &[], &subscribe_body(&framework("c15")));
    assert_eq!(r.status(), 503, "{}", r.text());
}

#[test]
fn c16_path_aliases_and_trailing_slash() {
    let (_c, addr) = testcluster::start(0);
    for path in [
        "/master/api/v1/scheduler",
        "/api/v1/scheduler/",
        "/master/api/v1/scheduler/",
    ] {
        let h = [("Content-Type", "application/json")];
        let mut s = open_stream::<Event>(&addr, path, &h, &subscribe_bytes("c16"))
            .unwrap_or_else(|r| panic!("{path}: {} {}", r.status(), r.text()));
        let (ev, _) = s.next_event(WAIT);
        assert_eq!(ev.r#type(), event::Type::Subscribed, "{path}");
    }
    let r = http::post(
        &addr,
        "/no/such/path",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(r.status(), 404);
    assert_eq!(r.text(), "404 Not Found.");
}

/// §1.7: the checks happen in Mesos' order, so a request failing several of them gets the
/// status of the first.
#[test]
fn c12_status_codes_follow_the_check_order() {
    let (_c, addr) = testcluster::start(0);
    // Method (405) before Content-Type (400).
    let r = http::request(&addr, "PUT", SCHEDULER, &[], Some(b"x")).expect("PUT");
    assert_eq!(r.status(), 405);
    // Unknown media type (415) whatever the body.
    let r = http::post(
        &addr,
        SCHEDULER,
        &[("Content-Type", "text/plain")],
        b"MALFORMED",
    );
    assert_eq!(r.status(), 415);
    // Call validation (400) before Accept (406).
    let h = [("Content-Type", "application/json"), ("Accept", "foo")];
    let r = http::post(&addr, SCHEDULER, &h, br#"{"type":"SUBSCRIBE"}"#);
    assert_eq!(r.status(), 400, "{}", r.text());
    // Accept (406) before the stream-id check of SUBSCRIBE (400).
    let sid = "eaf43be1-b9ac-4ebd-9488-5483fca0931e";
    let h = [
        ("Content-Type", "application/json"),
        ("Accept", "foo"),
        ("Mesos-Stream-Id", sid),
    ];
    let r = http::post(&addr, SCHEDULER, &h, &subscribe_bytes("c12-order"));
    assert_eq!(r.status(), 406, "{}", r.text());
    // Framework lookup (400 `Framework cannot be found`) before the missing stream id.
    let body = json!({"framework_id": {"value": "nope"}, "type": "RECONCILE", "reconcile": {}});
    let r = post_json(&addr, &[], &body);
    assert_eq!(
        (r.status(), r.text().as_str()),
        (400, "Framework cannot be found")
    );
}

/// §1.2: clients reuse one keep-alive connection for their calls (pymesos and mesos-go
/// do), send header names in any case, and may send a chunked request body.
#[test]
fn transport_keep_alive_header_case_and_chunked_requests() {
    use std::io::{BufReader, Write};
    let (_c, addr) = testcluster::start(0);
    let s = Sched::subscribe(&addr, framework("transport"));
    let sock = std::net::TcpStream::connect(&addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut w = sock.try_clone().unwrap();
    let mut r = BufReader::new(sock);
    let body = json!({"framework_id": {"value": s.framework_id}, "type": "RECONCILE",
                      "reconcile": {}})
    .to_string();
    for i in 0..3 {
        let req = format!(
            "POST {SCHEDULER} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             mesos-stream-id: {}\r\ncontent-length: {}\r\n\r\n{body}",
            s.stream_id,
            body.len()
        );
        w.write_all(req.as_bytes()).unwrap();
        let head = http::read_head(&mut r).unwrap_or_else(|e| panic!("call {i}: {e}"));
        assert_eq!(head.status, 202, "call {i} on the same connection");
        assert!(http::read_body(&mut r, &head).unwrap().is_empty());
    }
    // A chunked request body (Go's net/http sends one when the length is unknown).
    let sub = subscribe_bytes("transport-chunked");
    let (a, b) = sub.split_at(sub.len() / 2);
    let mut chunked = Vec::new();
    for part in [a, b] {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut sock = std::net::TcpStream::connect(&addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {SCHEDULER} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).unwrap();
    sock.write_all(&chunked).unwrap();
    let mut r = BufReader::new(sock);
    let head = http::read_head(&mut r).unwrap();
    assert_eq!(head.status, 200, "chunked SUBSCRIBE body");
}
