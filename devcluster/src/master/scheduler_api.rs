//! `POST /api/v1/scheduler`: the checks of §1.7 in the order the master applies them.

use mesos_proto::ContentType;
use mesos_proto::v1::scheduler::{Call, call};

use super::Master;
use super::validate;
use crate::http::{Request, Response};

/// Picks the event encoding from `Accept` (§1.3): JSON whenever acceptable, else
/// protobuf, else `None` (406).
pub(crate) fn negotiate(accept: Option<&str>) -> Option<ContentType> {
    let Some(accept) = accept else {
        return Some(ContentType::Json);
    };
    let acceptable = |mime: &str| {
        let (t, _) = mime.split_once('/').unwrap_or((mime, ""));
        accept.split(',').any(|entry| {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q_zero = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f64>().is_ok_and(|v| v <= 0.0))
            });
            !q_zero && (range == "*/*" || range == mime || range == format!("{t}/*"))
        })
    };
    if acceptable("application/json") {
        Some(ContentType::Json)
    } else if acceptable("application/x-protobuf") {
        Some(ContentType::Protobuf)
    } else {
        None
    }
}

/// Decodes a call body with Mesos' error texts.
pub(crate) fn decode_call<T>(ct: ContentType, body: &[u8], what: &str) -> Result<T, String>
where
    T: prost::Message + prost::Name + Default + 'static,
{
    match ct {
        ContentType::Protobuf => ct
            .decode(body)
            .map_err(|_| format!("Failed to parse body into {what} protobuf")),
        // One pass from text to message; the same answers (and error texts)
        // as serde_json::from_slice + an object check + json::from_value.
        ContentType::Json => mesos_proto::json::from_slice_by_step(body).map_err(|refusal| {
            use mesos_proto::json::Refusal;
            match refusal {
                Refusal::Malformed(e) => format!("Failed to parse body into JSON: {e}"),
                Refusal::NotAnObject => {
                    format!("Failed to convert JSON into {what} protobuf: Expecting a JSON object")
                }
                Refusal::Convert(e) => {
                    format!("Failed to convert JSON into {what} protobuf: {e}")
                }
            }
        }),
    }
}

/// The 405 answer Mesos gives for a method other than POST.
pub(crate) fn method_not_allowed(method: &str) -> Response {
    Response::text(
        405,
        format!("405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."),
    )
    .with_header("Allow", "POST")
}

/// `Location` for a follower: the leader's address plus the routed path and query.
pub(crate) fn redirect_location(master: &Master, routed_path: &str, query: &str) -> Option<String> {
    let leader = master.shared.leader_addr()?;
    let mut loc = format!("//{}:{}{}", master.cfg.hostname, leader.port(), routed_path);
    if !query.is_empty() {
        loc.push('?');
        loc.push_str(query);
    }
    Some(loc)
}

/// Handles one request to the scheduler endpoint. `routed_path` is the path after alias
/// routing (`/master/api/v1/scheduler...`).
pub(crate) fn handle(master: &Master, req: &Request, routed_path: &str) -> Response {
    // 0: authentication.
    let mut principal = None;
    if let Some(creds) = &master.cfg.credentials {
        match req.basic_auth() {
            Some((p, s)) if creds.check(&p, &s) => principal = Some(p),
            _ => return crate::http::unauthorized("mesos-master-scheduler"),
        }
    }
    // 2: leadership (and the injected "unavailable" fault).
    if master.shared.unavailable() {
        return Response::text(503, "Service unavailable (devcluster fault injection)");
    }
    if !master.is_leader() {
        return match redirect_location(master, routed_path, &req.query) {
            Some(loc) => Response::empty(307).with_header("Location", &loc),
            None => Response::text(503, "No leader elected"),
        };
    }
    // 4-8: method, content type, body.
    if req.method != "POST" {
        return method_not_allowed(&req.method);
    }
    let Some(ct_header) = req.header("Content-Type") else {
        return Response::text(400, "Expecting 'Content-Type' to be present");
    };
    let Some(ct) = ContentType::from_mime(ct_header) else {
        return Response::text(
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        );
    };
    let c: Call = match decode_call(ct, &req.body, "Call") {
        Ok(c) => c,
        Err(e) => return Response::text(400, e),
    };
    // 9: call validation.
    if let Err(e) = validate::validate_call(&c, principal.as_deref()) {
        return Response::text(400, format!("Failed to validate scheduler::Call: {e}"));
    }
    let kind = call::Type::try_from(c.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
    // 10: Accept, which only the calls that answer with a body look at (negotiating it
    // for every acknowledgement would cost more than the acknowledgement).
    let answers_with_body = matches!(
        kind,
        call::Type::Subscribe | call::Type::ReconcileOperations
    );
    let accept = if answers_with_body {
        negotiate(req.header("Accept"))
    } else {
        None
    };
    if answers_with_body && accept.is_none() {
        return Response::text(
            406,
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        );
    }
    let accept = accept.unwrap_or(ContentType::Json);
    if kind == call::Type::Subscribe {
        // 11-12.
        if req.header("Mesos-Stream-Id").is_some() {
            return Response::text(
                400,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        return master.subscribe(c, accept, principal);
    }
    // 13-18: framework, principal, connection, stream id.
    let fw_id = c
        .framework_id
        .as_ref()
        .map(|f| f.value.clone())
        .unwrap_or_default();
    {
        let st = master.lock();
        let Some(fw) = st.frameworks.get(&fw_id) else {
            return Response::text(400, "Framework cannot be found");
        };
        if let (Some(p), Some(fp)) = (&principal, &fw.info.principal)
            && p != fp
        {
            return Response::text(
                400,
                format!(
                    "Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
                ),
            );
        }
        let Some(sub) = &fw.sub else {
            return Response::text(403, "Framework is not subscribed");
        };
        match req.header("Mesos-Stream-Id") {
            None => {
                return Response::text(
                    400,
                    "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
                );
            }
            Some(s) if s != sub.stream_id => {
                return Response::text(
                    400,
                    format!(
                        "The stream ID '{s}' included in this request didn't match the stream ID currently associated with framework ID {fw_id}"
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if kind == call::Type::Unknown {
        return Response::text(501, "Received an unexpected call of type UNKNOWN");
    }
    // The live page's timeline: the call as accepted (a copy of its bytes, or of their
    // first `timeline_max_message_bytes`; rendered only if viewed).
    if ct == ContentType::Protobuf {
        master.shared.timeline.call_encoded(&fw_id, &c, &req.body);
    } else {
        master.shared.timeline.call(&fw_id, &c);
    }
    master.call(&fw_id, c, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_json() {
        assert_eq!(negotiate(None), Some(ContentType::Json));
        assert_eq!(negotiate(Some("*/*")), Some(ContentType::Json));
        assert_eq!(
            negotiate(Some("application/x-protobuf, application/json")),
            Some(ContentType::Json)
        );
        assert_eq!(
            negotiate(Some("application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(negotiate(Some("foo")), None);
        assert_eq!(negotiate(Some("application/recordio")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
        assert_eq!(negotiate(Some("application/*")), Some(ContentType::Json));
    }
}
