// The live page's sequence view: the conversation of every framework drawn as a sequence
// diagram, one lane per party (each framework, the leading master, each agent followed by
// its executors), an arrow per call, event and agent-executor message, faults drawn on the
// lanes they struck, heartbeats folded unless asked for. Master-agent messages
// (RunTaskMessage, StatusUpdateMessage, ...) are drawn without their "Message" suffix. The same rules as the SVG that
// devcluster renders (src/diagram/model.rs); keep the two in step.
//
// Data: once a second GET /devcluster/timeline (which frameworks spoke since), then for
// each framework with news GET /devcluster/timeline?framework_id=F&since=SEQ&brief=1; a
// click fetches the entry in full (&seq=N). One poll fetches at most about MAX_KEPT
// messages (shared among the frameworks with news). At most MAX_KEPT messages stay in the page
// (older ones are paged out: the log download and /devcluster/diagram.json have them),
// and only the rows in sight are in the DOM, so 10,000 messages scroll smoothly.
// Everything is built with textContent, never innerHTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const MAX_KEPT = 10000;
  const FETCH_LIMIT = 5000; // the recorder keeps 5000 entries per framework
  const ROW_H = 24;
  const HEAD_H = 50;
  const LANE_W = 220;
  const GUTTER = 74;
  const OVERSCAN = 8;
  const CHAR_W = 6.6; // monospace at 11px
  const SAME_FAULT_SECS = 0.25; // one fault is recorded in every framework's timeline
  const SVG_NS = "http://www.w3.org/2000/svg";
  const COLORS = {
    call: "#1f5fbf", event: "#1b7a3d", executor_call: "#7a3db8",
    executor_event: "#a15c00", to_agent: "#5a5a5e", from_agent: "#0f7c86", fault: "#b3261e",
  };
  const LANE_FILL = { framework: "#e8f0fc", master: "#f2f2f0", agent: "#fbf1e3", executor: "#f3ecfb" };

  const state = {
    entries: [],          // brief entries, by seq, each with .fw (its framework)
    pagedOut: 0,          // entries dropped from the page (oldest first)
    seen: new Map(),      // framework id -> last seq fetched
    names: new Map(),     // framework id -> name
    showHeartbeats: false,
    follow: true,
    lanes: [],            // {kind, key, id, short, note}
    rows: [],             // {type: "msg"|"hb"|"fault", ...}
    selected: null,       // "fw/seq" of the clicked row
    scheduled: false,
  };

  const $ = (id) => document.getElementById(id);
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fit = (s, n) => (s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + "\u2026");
  const shortId = (id) => (id.length > 18 ? "\u2026" + id.slice(-16) : id);
  const laneX = (i) => GUTTER + LANE_W * i + LANE_W / 2;
  // An arrow's label: the summary without what a reader finds on a click (uuids, the
  // update's source) and without a leading "task ", so that task and state fit.
  const compact = (s) => (s || "").replace(/^task /, "").replace(/ uuid [0-9a-f-]+/, "").replace(/ from SOURCE_[A-Z_]+/, "");

  // ---- model: lanes and rows (the rules of src/diagram/model.rs) ----

  function faultArg(e) {
    const m = /^[^ ]+ \((.*)\): /.exec(e.summary || "");
    return m ? m[1] : null;
  }

  function faultLaneKeys(e, fw, lanes) {
    const name = e.fault || (e.summary || "").split(/[ :]/)[0];
    switch (name) {
      case "cut-streams":
      case "cut-streams-mid-record": {
        const keys = lanes.filter((l) => l.kind === "framework").map((l) => l.key);
        if (!keys.length) keys.push("framework/" + fw);
        return [...keys, "master"];
      }
      case "lose-agent": {
        const i = faultArg(e) ?? "0";
        const a = lanes.find((l) => l.kind === "agent" && l.id.endsWith("-S" + i));
        return [a ? a.key : "agent/agent #" + i];
      }
      case "crash-executor": {
        const arg = faultArg(e) || "";
        const [f, x] = arg.includes("/") ? arg.split("/", 2) : [fw, arg];
        const l = lanes.find((l) => l.kind === "executor" && l.fw === f && l.id === x);
        return [l ? l.key : "master"];
      }
      default:
        return ["master"];
    }
  }

  function rebuild() {
    // Lanes in order of first appearance, then sorted: frameworks, master, agents each
    // followed by its executors.
    const byKey = new Map();
    const add = (kind, key, extra) => {
      if (!byKey.has(key)) byKey.set(key, { kind, key, first: byKey.size, ...extra });
      return byKey.get(key);
    };
    for (const e of state.entries) {
      if (e.direction === "call" || e.direction === "event") {
        add("framework", "framework/" + e.fw, { id: e.fw });
        add("master", "master", { id: "master" });
      } else if (e.direction === "executor_call" || e.direction === "executor_event") {
        add("agent", "agent/" + e.agent_id, { id: e.agent_id });
        add("executor", `executor/${e.fw}/${e.agent_id}/${e.executor_id}`,
          { id: e.executor_id, fw: e.fw, agent: "agent/" + e.agent_id });
      } else if (e.direction === "to_agent" || e.direction === "from_agent") {
        add("master", "master", { id: "master" });
        add("agent", "agent/" + e.agent_id, { id: e.agent_id });
      }
    }
    let lanes = [...byKey.values()];
    for (const e of state.entries) {
      if (e.direction !== "fault") continue;
      for (const key of faultLaneKeys(e, e.fw, lanes)) {
        const [kind, ...rest] = key.split("/");
        add(kind, key, { id: rest.join("/") || "master" });
      }
      lanes = [...byKey.values()];
    }
    const rank = (l) => {
      if (l.kind === "framework") return [0, l.first, 0, 0];
      if (l.kind === "master") return [1, 0, 0, 0];
      if (l.kind === "agent") return [2, l.first, 0, 0];
      const a = byKey.get(l.agent);
      return [2, a ? a.first : 1e9, 1, l.first];
    };
    lanes.sort((a, b) => {
      const ra = rank(a), rb = rank(b);
      for (let i = 0; i < 4; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
      return 0;
    });
    const count = {};
    for (const l of lanes) {
      count[l.kind] = (count[l.kind] || 0) + 1;
      l.short = l.kind === "master" ? "M" : { framework: "F", agent: "A", executor: "E" }[l.kind] + count[l.kind];
    }
    const index = new Map(lanes.map((l, i) => [l.key, i]));
    for (const l of lanes) {
      if (l.kind === "framework") l.note = state.names.get(l.id) || "";
      if (l.kind === "executor") l.note = "on " + ((lanes[index.get(l.agent)] || {}).short || "?");
    }

    const rows = [];
    let lastFault = null;
    for (const e of state.entries) {
      if (e.direction === "fault") {
        // Same name and argument (the outcome may differ: an entry fetched while the fault
        // was being applied says so) and close in time: the same fault.
        const head = (e.summary || "").split(": ")[0];
        if (lastFault && lastFault.head === head && Math.abs(e.time - lastFault.time) < SAME_FAULT_SECS) continue;
        const struck = faultLaneKeys(e, e.fw, lanes).map((k) => index.get(k)).filter((i) => i !== undefined);
        lastFault = { type: "fault", e, lo: Math.min(...struck), hi: Math.max(...struck), head, time: e.time };
        rows.push(lastFault);
        continue;
      }
      let from, to;
      if (e.direction === "call" || e.direction === "event") {
        const f = index.get("framework/" + e.fw), m = index.get("master");
        [from, to] = e.direction === "call" ? [f, m] : [m, f];
      } else if (e.direction === "to_agent" || e.direction === "from_agent") {
        const m = index.get("master"), a = index.get("agent/" + e.agent_id);
        [from, to] = e.direction === "to_agent" ? [m, a] : [a, m];
      } else {
        const a = index.get("agent/" + e.agent_id);
        const x = index.get(`executor/${e.fw}/${e.agent_id}/${e.executor_id}`);
        [from, to] = e.direction === "executor_call" ? [x, a] : [a, x];
      }
      if (e.type === "HEARTBEAT" && !state.showHeartbeats) {
        const last = rows[rows.length - 1];
        if (last && last.type === "hb") {
          last.count += 1;
          last.lo = Math.min(last.lo, from, to);
          last.hi = Math.max(last.hi, from, to);
        } else {
          rows.push({ type: "hb", count: 1, lo: Math.min(from, to), hi: Math.max(from, to), time: e.time });
        }
        continue;
      }
      rows.push({ type: "msg", e, from, to });
    }
    state.lanes = lanes;
    state.rows = rows;
  }

  // ---- drawing: the header, and only the rows in sight ----

  function drawHeader(width) {
    const head = $("seq-head");
    head.setAttribute("width", width);
    head.setAttribute("height", HEAD_H);
    const children = [svg("rect", { width: "100%", height: "100%", fill: "#ffffff" })];
    state.lanes.forEach((l, i) => {
      const cx = laneX(i);
      const g = svg("g", { class: "lane", "data-party": l.kind, "data-id": l.id });
      g.append(svg("title", {}, `${l.kind} ${l.id}`));
      g.append(svg("rect", { x: cx - LANE_W / 2 + 8, y: 6, width: LANE_W - 16, height: 40, rx: 5, fill: LANE_FILL[l.kind], stroke: "#9a9a96" }));
      g.append(svg("text", { x: cx, y: 22, "text-anchor": "middle", class: "lane-title" }, `${l.short} ${l.kind}`));
      let sub = l.kind === "master" ? "leading" : shortId(l.id);
      if (l.kind === "framework" && l.note) sub = `${l.note} ${shortId(l.id)}`;
      if (l.kind === "executor") sub = `${shortId(l.id)} ${l.note}`;
      g.append(svg("text", { x: cx, y: 39, "text-anchor": "middle", class: "lane-sub" }, fit(sub, 25)));
      children.push(g);
    });
    head.replaceChildren(...children);
  }

  function rowKey(r) {
    return r.e ? `${r.e.fw}/${r.e.seq}` : null;
  }

  function drawRow(r, y) {
    const g = svg("g", {});
    const time = r.e ? r.e.time : r.time;
    const t0 = state.entries.length ? state.entries[0].time : time;
    g.append(svg("text", { x: GUTTER - 6, y: y + 17, "text-anchor": "end", class: "seq-time" }, "+" + (time - t0).toFixed(3) + "s"));
    if (r.type === "msg") {
      const e = r.e, x1 = laneX(r.from), x2 = laneX(r.to);
      const c = COLORS[e.direction];
      g.setAttribute("class", "msg" + (rowKey(r) === state.selected ? " selected" : ""));
      for (const [k, v] of Object.entries({ "data-seq": e.seq, "data-type": e.type, "data-direction": e.direction, "data-fw": e.fw })) g.setAttribute(k, v);
      g.append(svg("title", {}, `#${e.seq} ${e.type} ${e.summary || ""}`));
      g.append(svg("rect", { x: Math.min(x1, x2), y: y + 2, width: Math.abs(x2 - x1), height: ROW_H - 2, class: "hit" }));
      g.append(svg("line", { x1, y1: y + 17, x2, y2: y + 17, stroke: c, "stroke-width": 1.5, "marker-end": `url(#seq-head-${e.direction})` }));
      const chars = Math.max(8, Math.floor((Math.abs(x2 - x1) - 20) / CHAR_W));
      const said = compact(e.summary);
      // Master-agent messages are named "...Message"; the arrow says so already.
      const name = e.type.replace(/Message$/, "");
      const label = fit(name + (said ? " " + said : ""), chars);
      const text = svg("text", { x: (x1 + x2) / 2, y: y + 12, "text-anchor": "middle", fill: c });
      text.append(svg("tspan", { "font-weight": "bold" }, label.slice(0, name.length)));
      text.append(document.createTextNode(label.slice(name.length)));
      g.append(text);
    } else if (r.type === "hb") {
      g.setAttribute("class", "heartbeats");
      g.setAttribute("data-count", r.count);
      g.append(svg("title", {}, `${r.count} heartbeat(s), folded: click to show them`));
      const x1 = laneX(r.lo), x2 = laneX(r.hi);
      g.append(svg("rect", { x: x1, y: y + 2, width: Math.max(x2 - x1, 20), height: ROW_H - 2, class: "hit" }));
      g.append(svg("line", { x1, y1: y + 17, x2, y2: y + 17, stroke: "#a0a0a4", "stroke-dasharray": "2 3" }));
      g.append(svg("text", { x: (x1 + x2) / 2, y: y + 12, "text-anchor": "middle", class: "seq-hb" },
        r.count === 1 ? "HEARTBEAT" : `HEARTBEAT \u00d7${r.count}`));
    } else {
      const e = r.e;
      const x1 = laneX(r.lo) - LANE_W * 0.4, x2 = laneX(r.hi) + LANE_W * 0.4;
      g.setAttribute("class", "fault" + (rowKey(r) === state.selected ? " selected" : ""));
      g.setAttribute("data-fault", e.fault || "");
      g.setAttribute("data-seq", e.seq);
      g.setAttribute("data-fw", e.fw);
      g.append(svg("title", {}, `#${e.seq} fault: ${e.summary}`));
      g.append(svg("rect", { x: x1, y: y + 3, width: x2 - x1, height: ROW_H - 5, rx: 4, fill: "#fdeceb", stroke: COLORS.fault }));
      const [head, rest] = (e.summary || "").split(/: (.*)/s);
      const label = rest && rest.startsWith("rejected") ? `${head} \u2014 rejected` : head;
      g.append(svg("text", { x: x1 + 6, y: y + 16, fill: COLORS.fault, "font-weight": "bold" },
        "\u26a1 " + fit(label, Math.floor((x2 - x1 - 24) / CHAR_W))));
    }
    return g;
  }

  function draw() {
    state.scheduled = false;
    const box = $("sequence");
    const width = GUTTER + LANE_W * Math.max(1, state.lanes.length) + 10;
    const body = $("seq-body");
    body.style.height = `${state.rows.length * ROW_H + 8}px`;
    body.style.width = `${width}px`;
    const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(state.rows.length, Math.ceil((box.scrollTop + box.clientHeight) / ROW_H) + OVERSCAN);
    const rowsSvg = $("seq-rows");
    rowsSvg.setAttribute("width", width);
    rowsSvg.setAttribute("height", (last - first) * ROW_H + 8);
    rowsSvg.style.top = `${first * ROW_H}px`;
    const children = [$("seq-defs")];
    state.lanes.forEach((l, i) => children.push(svg("line", {
      x1: laneX(i), y1: 0, x2: laneX(i), y2: (last - first) * ROW_H + 8, class: "lifeline" })));
    for (let i = first; i < last; i++) {
      const g = drawRow(state.rows[i], (i - first) * ROW_H);
      g.setAttribute("data-row", i);
      children.push(g);
    }
    rowsSvg.replaceChildren(...children);
    const shown = state.entries.length;
    $("seq-count").textContent = `${shown} message(s)` +
      (state.pagedOut ? `, ${state.pagedOut} older paged out` : "") +
      ` \u00b7 ${state.lanes.length} lane(s)`;
    $("seq-empty").hidden = state.rows.length > 0;
  }

  function schedule() {
    if (!state.scheduled) {
      state.scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function refreshAll() {
    rebuild();
    drawHeader(GUTTER + LANE_W * Math.max(1, state.lanes.length) + 10);
    draw();
    if (state.follow) $("sequence").scrollTop = $("sequence").scrollHeight;
  }

  // Adds entries (each with .fw), keeping seq order and at most MAX_KEPT.
  function add(fresh) {
    if (!fresh.length) return;
    const sorted = state.entries.length === 0 || fresh.every((e) => e.seq > state.entries[state.entries.length - 1].seq);
    for (const e of fresh) state.entries.push(e); // not push(...fresh): no argument limit
    if (!sorted) state.entries.sort((a, b) => a.seq - b.seq);
    else if (fresh.length > 1) {
      const tail = state.entries.splice(state.entries.length - fresh.length);
      tail.sort((a, b) => a.seq - b.seq);
      state.entries.push(...tail);
    }
    const over = state.entries.length - MAX_KEPT;
    if (over > 0) {
      state.entries.splice(0, over);
      state.pagedOut += over;
    }
    refreshAll();
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
    return r.json();
  }

  async function poll() {
    const index = await getJSON("/devcluster/timeline");
    const fresh = [];
    let renamed = false;
    let skipped = 0;
    // The page keeps MAX_KEPT messages: share that among the frameworks with news, so
    // that one poll never fetches more than the page would keep.
    const busy = (index.frameworks || []).filter((f) => !(state.seen.get(f.id) >= f.last_seq)).length;
    const limit = Math.min(FETCH_LIMIT, Math.max(200, Math.floor(MAX_KEPT / Math.max(1, busy))));
    for (const f of index.frameworks || []) {
      if (f.name && state.names.get(f.id) !== f.name) {
        state.names.set(f.id, f.name);
        renamed = true;
      }
      const last = state.seen.get(f.id);
      if (last !== undefined && f.last_seq <= last) continue;
      const q = new URLSearchParams({ framework_id: f.id, brief: "1", limit });
      if (last !== undefined) q.set("since", last);
      let t;
      try {
        t = await getJSON("/devcluster/timeline?" + q);
      } catch (err) {
        continue; // forgotten by the recorder meanwhile
      }
      for (const e of t.entries) {
        e.fw = f.id;
        fresh.push(e);
      }
      // On the first fetch the index says how many the recorder holds: the rest are
      // counted as paged out.
      if (last === undefined) skipped += Math.max(0, (f.entries || 0) - t.entries.length);
      state.seen.set(f.id, t.entries.length ? t.entries[t.entries.length - 1].seq : f.last_seq);
    }
    fresh.sort((a, b) => a.seq - b.seq);
    state.pagedOut += skipped;
    if (fresh.length) add(fresh);
    else if (renamed) refreshAll();
  }

  async function showDetail(g) {
    const fw = g.dataset.fw, seq = g.dataset.seq;
    state.selected = `${fw}/${seq}`;
    document.querySelectorAll("#seq-rows g.selected").forEach((x) => x.classList.remove("selected"));
    g.classList.add("selected");
    const detail = $("seq-detail");
    try {
      const e = await getJSON("/devcluster/timeline?" + new URLSearchParams({ framework_id: fw, seq }));
      const where = e.executor_id ? ` (agent ${e.agent_id}, executor ${e.executor_id})`
        : e.agent_id ? ` (agent ${e.agent_id})` : "";
      detail.textContent = `#${e.seq} ${e.direction} ${e.type}${where}\n${e.summary}\n\n` +
        JSON.stringify(e.message ?? e, null, 2);
      detail.classList.remove("muted");
    } catch (err) {
      detail.textContent = `Could not load entry ${seq}: ${err.message} (paged out of the recorder?)`;
    }
  }

  function setup() {
    const box = $("sequence");
    box.addEventListener("scroll", () => {
      state.follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 2 * ROW_H;
      $("seq-follow").checked = state.follow;
      schedule();
    });
    $("seq-follow").addEventListener("change", (ev) => {
      state.follow = ev.target.checked;
      if (state.follow) box.scrollTop = box.scrollHeight;
    });
    $("seq-heartbeats").addEventListener("change", (ev) => {
      state.showHeartbeats = ev.target.checked;
      refreshAll();
    });
    // A click is a press and a release on the same row. Rows are redrawn (new elements)
    // as messages arrive, so a "click" event would be lost when a redraw falls between
    // the two; the row's index identifies it across redraws.
    const rowOf = (ev) => ev.target.closest("g.msg, g.fault, g.heartbeats");
    let pressed = null;
    $("seq-rows").addEventListener("pointerdown", (ev) => {
      const g = rowOf(ev);
      pressed = ev.button === 0 && g ? g.dataset.row : null;
    });
    $("seq-rows").addEventListener("pointerup", (ev) => {
      const g = rowOf(ev);
      const same = g && pressed !== null && g.dataset.row === pressed;
      pressed = null;
      if (!same) return;
      if (g.classList.contains("heartbeats")) {
        $("seq-heartbeats").checked = true;
        state.showHeartbeats = true;
        refreshAll();
      } else {
        showDetail(g);
      }
    });
    // One arrowhead per colour, kept in the rows' SVG.
    const defs = svg("defs", { id: "seq-defs" });
    for (const [dir, c] of Object.entries(COLORS)) {
      const m = svg("marker", { id: `seq-head-${dir}`, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto" });
      m.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: c }));
      defs.append(m);
    }
    $("seq-rows").append(defs);
    refreshAll();
    (async function loop() {
      try {
        await poll();
      } catch (err) {
        // The page's status line reports connection trouble; keep polling.
      }
      setTimeout(loop, POLL_MS);
    })();
  }

  // For the browser test and the curious: the model and a way to feed it entries.
  window.devclusterSequence = { state, add, refreshAll };
  setup();
})();
