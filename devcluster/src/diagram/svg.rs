//! The SVG renderer: a standalone picture (no script, no external font or style sheet),
//! so a code host shows it as an image. Every arrow carries a `<title>` (its summary, as
//! a tooltip) and `data-` attributes naming its entry.

use std::fmt::Write as _;

use super::model::{PartyKind, Sequence, Step};
use super::{Direction, Timeline};

/// How to draw.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Times (seconds since the first entry) in the left margin.
    pub times: bool,
    /// Ids: shortened under the lane names, in full in the summaries and tooltips.
    /// Without them (arrows then say what [`crate::diagram::Sequence::to_text`] says:
    /// task ids shortened to `T1`, ...) and without times, the picture of a run stays
    /// the same from run to run.
    pub ids: bool,
    /// The most rows drawn: the newest are kept, a note says how many were left out.
    pub max_steps: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            times: true,
            ids: true,
            max_steps: 2000,
        }
    }
}

impl RenderOptions {
    /// No times and no ids: for pictures checked into a repository.
    pub fn stable() -> Self {
        RenderOptions {
            times: false,
            ids: false,
            ..RenderOptions::default()
        }
    }
}

/// The sequence diagram of a recorded timeline as an SVG document (default options).
pub fn render_svg(timeline: &Timeline) -> String {
    render_svg_with(timeline, &RenderOptions::default())
}

/// The sequence diagram of a recorded timeline as an SVG document.
pub fn render_svg_with(timeline: &Timeline, options: &RenderOptions) -> String {
    render_sequence(&Sequence::from_timeline(timeline), options)
}

const LANE_W: f64 = 220.0;
const HEADER_H: f64 = 58.0;
const ROW_H: f64 = 26.0;
/// Width of one character at the label's font size (monospace, 11px).
const CHAR_W: f64 = 6.7;
/// The longest arrow label, in characters (about the width of two lanes).
const MAX_LABEL_CHARS: usize = 60;

fn color(d: Direction) -> &'static str {
    match d {
        Direction::Call => "#1f5fbf",
        Direction::Event => "#1b7a3d",
        Direction::ExecutorCall => "#7a3db8",
        Direction::ExecutorEvent => "#a15c00",
        Direction::ToAgent => "#5a5a5e",
        Direction::FromAgent => "#0f7c86",
        Direction::Fault => "#b3261e",
    }
}

fn lane_fill(k: PartyKind) -> &'static str {
    match k {
        PartyKind::Framework => "#e8f0fc",
        PartyKind::Master => "#f2f2f0",
        PartyKind::Agent => "#fbf1e3",
        PartyKind::Executor => "#f3ecfb",
    }
}

/// Text for XML: `&`, `<`, `>`, quotes escaped; control characters dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with an ellipsis when cut.
fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('\u{2026}');
    t
}

/// The end of a long id (the part that differs between ids of one run).
fn short_id(id: &str) -> String {
    let n = id.chars().count();
    if n <= 18 {
        id.to_string()
    } else {
        let tail: String = id.chars().skip(n - 16).collect();
        format!("\u{2026}{tail}")
    }
}

/// An arrow's label: the summary without what the tooltip has (uuids, the update's
/// source) and without a leading `task `, so that task and state fit.
fn compact(summary: &str) -> String {
    let mut s = summary.strip_prefix("task ").unwrap_or(summary).to_string();
    for marker in [" uuid ", " from SOURCE_"] {
        if let Some(i) = s.find(marker) {
            let end = s[i + marker.len()..]
                .find(' ')
                .map_or(s.len(), |j| i + marker.len() + j);
            s.replace_range(i..end, "");
        }
    }
    s
}

/// A fault's label: its name and argument, and whether it was rejected (the outcome's
/// text is in the tooltip).
fn fault_label(summary: &str) -> String {
    match summary.split_once(": ") {
        Some((head, rest)) if rest.starts_with("rejected") => format!("{head} \u{2014} rejected"),
        Some((head, _)) => head.to_string(),
        None => summary.to_string(),
    }
}

/// A framework's short name (`F1`) for pictures without ids.
fn framework_short(seq: &Sequence, id: &str) -> String {
    seq.parties
        .iter()
        .find(|p| p.kind == PartyKind::Framework && p.id == id)
        .map_or_else(String::new, |p| p.short.clone())
}

/// The `data-seq` attribute naming an arrow's entry; none in a picture without ids (the
/// numbers differ from run to run).
fn seq_attr(o: &RenderOptions, seq: u64) -> String {
    if o.ids {
        format!(" data-seq=\"{seq}\"")
    } else {
        String::new()
    }
}

/// The entry's number at the start of a tooltip (`#12 `), in a picture with ids.
fn seq_title(o: &RenderOptions, seq: u64) -> String {
    if o.ids {
        format!("#{seq} ")
    } else {
        String::new()
    }
}

/// Draws a sequence (see [`render_svg`]).
pub fn render_sequence(seq: &Sequence, o: &RenderOptions) -> String {
    let gutter = if o.times { 70.0 } else { 14.0 };
    let lanes = seq.parties.len().max(1);
    let skipped = seq.steps.len().saturating_sub(o.max_steps);
    let steps = &seq.steps[skipped..];
    let notes = usize::from(skipped > 0 || seq.dropped > 0);
    let rows = steps.len() + notes;
    let width = gutter + LANE_W * lanes as f64 + 10.0;
    let top = HEADER_H + 14.0;
    let height = top + ROW_H * (rows.max(1) as f64) + 16.0;
    let x = |i: usize| gutter + LANE_W * i as f64 + LANE_W / 2.0;

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">"##
    );
    s.push_str("<title>devcluster: sequence of messages</title>");
    s.push_str("<defs>");
    for d in [
        Direction::Call,
        Direction::Event,
        Direction::ExecutorCall,
        Direction::ExecutorEvent,
        Direction::ToAgent,
        Direction::FromAgent,
    ] {
        let _ = write!(
            s,
            r#"<marker id="head-{}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
            d.as_str(),
            color(d)
        );
    }
    s.push_str("</defs>");
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // Lanes: a header box and a dashed lifeline each.
    for (i, p) in seq.parties.iter().enumerate() {
        let cx = x(i);
        let _ = write!(
            s,
            r##"<g class="lane" data-party="{kind}" data-id="{id}"><rect x="{bx:.1}" y="8" width="{bw:.1}" height="42" rx="5" fill="{fill}" stroke="#9a9a96"/><text x="{cx:.1}" y="25" text-anchor="middle" font-weight="bold" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">{title}</text>"##,
            kind = p.kind.as_str(),
            id = esc(if o.ids { &p.id } else { &p.short }),
            bx = cx - LANE_W / 2.0 + 8.0,
            bw = LANE_W - 16.0,
            fill = lane_fill(p.kind),
            title = esc(&format!("{} {}", p.short, p.kind.as_str())),
        );
        let sub = match p.kind {
            PartyKind::Framework if !p.note.is_empty() => {
                if o.ids {
                    format!("{} {}", p.note, short_id(&p.id))
                } else {
                    p.note.clone()
                }
            }
            PartyKind::Executor => {
                let on = format!("on {}", p.note);
                if o.ids {
                    format!("{} {on}", short_id(&p.id))
                } else {
                    on
                }
            }
            PartyKind::Master => "leading".to_string(),
            _ if o.ids => short_id(&p.id),
            _ => String::new(),
        };
        let tooltip = if o.ids {
            format!("{} {}", p.kind.as_str(), p.id)
        } else {
            format!("{} {}", p.kind.as_str(), p.short)
        };
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="42" text-anchor="middle" fill="#555555">{}</text><title>{}</title></g>"##,
            esc(&fit(&sub, 24)),
            esc(&tooltip),
        );
        let _ = write!(
            s,
            r##"<line x1="{cx:.1}" y1="50" x2="{cx:.1}" y2="{:.1}" stroke="#b8b8b4" stroke-dasharray="4 4"/>"##,
            height - 8.0
        );
    }
    if seq.parties.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{gutter}" y="30" fill="#6b6b70">No messages recorded yet.</text>"##
        );
    }

    let mut row = 0usize;
    let y_of = |row: usize| top + ROW_H * row as f64;
    if notes > 0 {
        let mut text = String::new();
        if seq.dropped > 0 {
            let _ = write!(
                text,
                "{} older entries dropped by the recorder. ",
                seq.dropped
            );
        }
        if skipped > 0 {
            let _ = write!(text, "{skipped} earlier rows not drawn.");
        }
        let _ = write!(
            s,
            r##"<text x="{gutter}" y="{:.1}" fill="#6b6b70" font-style="italic">{}</text>"##,
            y_of(0) + 15.0,
            esc(text.trim())
        );
        row += 1;
    }

    for step in steps {
        let y = y_of(row);
        row += 1;
        if o.times {
            let t = match step {
                Step::Message(a) => a.time,
                Step::Heartbeats { time, .. } => *time,
                Step::Fault(f) => f.time,
            };
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#8a8a8e" font-size="10">+{:.3}s</text>"##,
                gutter - 6.0,
                y + 19.0,
                (t - seq.start_time).max(0.0)
            );
        }
        match step {
            Step::Message(a) => {
                let (x1, x2) = (x(a.from), x(a.to));
                let c = color(a.direction);
                // One arrow per row: its label may run past the arrow's ends (a halo keeps
                // it legible over the lifelines), up to the picture's edges.
                let mid = (x1 + x2) / 2.0;
                let room = 2.0 * (mid - 4.0).min(width - mid - 4.0);
                let label_chars = ((room / CHAR_W) as usize).clamp(8, MAX_LABEL_CHARS);
                let said = if o.ids {
                    compact(&a.summary)
                } else {
                    a.detail.clone()
                };
                let rest = if said.is_empty() {
                    String::new()
                } else {
                    format!(" {said}")
                };
                let fw_name = if o.ids {
                    a.framework_id.clone()
                } else {
                    framework_short(seq, &a.framework_id)
                };
                // Master-agent messages are named `...Message`; the arrow says so already.
                let full = a.kind.strip_suffix("Message").unwrap_or(&a.kind);
                // Too long: the name gives way first (`StatusUpdate… T1 TASK_RUNNING`),
                // the task and state are what tells one arrow from the next.
                let room = label_chars.saturating_sub(rest.chars().count());
                let name = if full.chars().count() + rest.chars().count() > label_chars && room >= 8
                {
                    fit(full, room)
                } else {
                    full.to_string()
                };
                let label = fit(&format!("{name}{rest}"), label_chars);
                let cut = label
                    .char_indices()
                    .nth(name.chars().count())
                    .map_or(label.len(), |(i, _)| i);
                let (kind_part, rest_part) = label.split_at(cut);
                let _ = write!(
                    s,
                    r##"<g class="msg"{seq} data-type="{kind}" data-direction="{dir}" data-framework="{fw}"><title>{title}</title><line x1="{x1:.1}" y1="{ly:.1}" x2="{x2:.1}" y2="{ly:.1}" stroke="{c}" stroke-width="1.5" marker-end="url(#head-{dir})"/><text x="{mx:.1}" y="{ty:.1}" text-anchor="middle" fill="{c}" stroke="#ffffff" stroke-width="3" paint-order="stroke"><tspan font-weight="bold">{k}</tspan>{r}</text></g>"##,
                    seq = seq_attr(o, a.seq),
                    kind = esc(&a.kind),
                    dir = a.direction.as_str(),
                    fw = esc(&fw_name),
                    title = esc(&format!(
                        "{}{} {}",
                        seq_title(o, a.seq),
                        a.kind,
                        if o.ids { &a.summary } else { &a.detail }
                    )),
                    ly = y + 19.0,
                    mx = (x1 + x2) / 2.0,
                    ty = y + 14.0,
                    k = esc(kind_part),
                    r = esc(rest_part),
                );
            }
            Step::Heartbeats { count, lanes, .. } => {
                let lo = lanes.first().copied().unwrap_or(0);
                let hi = lanes.last().copied().unwrap_or(0);
                let (x1, x2) = (x(lo), x(hi));
                let label = if *count == 1 {
                    "HEARTBEAT".to_string()
                } else {
                    format!("HEARTBEAT \u{d7}{count}")
                };
                let _ = write!(
                    s,
                    r##"<g class="heartbeats" data-count="{count}"><line x1="{x1:.1}" y1="{ly:.1}" x2="{x2:.1}" y2="{ly:.1}" stroke="#a0a0a4" stroke-dasharray="2 3"/><text x="{mx:.1}" y="{ty:.1}" text-anchor="middle" fill="#8a8a8e" font-style="italic">{label}</text></g>"##,
                    ly = y + 19.0,
                    mx = (x1 + x2) / 2.0,
                    ty = y + 14.0,
                );
            }
            Step::Fault(f) => {
                let lo = f.lanes.first().copied().unwrap_or(0);
                let hi = f.lanes.last().copied().unwrap_or(0);
                let (x1, x2) = (x(lo) - LANE_W * 0.4, x(hi) + LANE_W * 0.4);
                let (said, fw_name) = if o.ids {
                    (fault_label(&f.summary), f.framework_id.clone())
                } else {
                    (f.name.clone(), framework_short(seq, &f.framework_id))
                };
                let _ = write!(
                    s,
                    r##"<g class="fault"{seq} data-fault="{name}" data-framework="{fw}"><title>{title}</title><rect x="{x1:.1}" y="{ry:.1}" width="{w:.1}" height="20" rx="4" fill="#fdeceb" stroke="#b3261e"/><text x="{tx:.1}" y="{ty:.1}" fill="#b3261e" font-weight="bold">&#9889; {label}</text></g>"##,
                    seq = seq_attr(o, f.seq),
                    name = esc(&f.name),
                    fw = esc(&fw_name),
                    title = esc(&format!(
                        "{}fault: {}",
                        seq_title(o, f.seq),
                        if o.ids { &f.summary } else { &said }
                    )),
                    ry = y + 4.0,
                    w = x2 - x1,
                    tx = x1 + 6.0,
                    ty = y + 18.0,
                    label = esc(&fit(&said, ((x2 - x1 - 24.0) / CHAR_W) as usize)),
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
