//! `GET /devcluster/diagram.svg`, `.txt` and `.json` (on every master; routed by
//! `ui.rs`): the diagram of what the cluster recorded, for all frameworks or
//! `?framework_id=F`.

use serde_json::{Value, json};

use super::svg::RenderOptions;
use super::{Sequence, Timeline};
use crate::http::{Request, Response};

/// The newest entries per framework that go into a diagram: a picture of more rows than
/// this does not read anyway, and the answer stays a bounded size.
const MAX_ENTRIES_PER_FRAMEWORK: usize = 2000;

/// The recorded timeline as `/devcluster/diagram.json` serves it (what
/// [`Timeline::parse`] reads); `None` for an unknown framework.
fn export(tl: &crate::timeline::Timeline, framework_id: Option<&str>) -> Option<Value> {
    let ids: Vec<String> = match framework_id {
        Some(id) => vec![id.to_string()],
        None => tl.index_json()["frameworks"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut frameworks = Vec::new();
    for id in ids {
        match tl.entries_json(&id, None, MAX_ENTRIES_PER_FRAMEWORK, false) {
            Some(v) => frameworks.push(v),
            // Forgotten between the index and now (the recorder keeps a bounded number).
            None if framework_id.is_none() => {}
            None => return None,
        }
    }
    Some(json!({ "frameworks": frameworks }))
}

/// Answers the three diagram routes (`below` is one of them).
pub(crate) fn handle(tl: &crate::timeline::Timeline, req: &Request, below: &str) -> Response {
    let fw = req.query_param("framework_id");
    let Some(v) = export(tl, fw.as_deref()) else {
        return Response::text(404, "No timeline for this framework");
    };
    if below.ends_with(".json") {
        return Response::json(200, &v);
    }
    let timeline = match Timeline::from_json(&v) {
        Ok(t) => t,
        Err(e) => return Response::text(500, format!("Could not read the timeline: {e}")),
    };
    if below.ends_with(".txt") {
        let text = Sequence::from_timeline(&timeline).to_text();
        return Response::bytes(200, "text/plain; charset=utf-8", text.into_bytes());
    }
    let stable = req
        .query_param("stable")
        .is_some_and(|s| s == "1" || s == "true");
    let options = if stable {
        RenderOptions::stable()
    } else {
        RenderOptions::default()
    };
    let svg = super::render_svg_with(&timeline, &options);
    Response::bytes(200, "image/svg+xml; charset=utf-8", svg.into_bytes())
}
