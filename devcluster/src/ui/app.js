// The devcluster live page. Once a second it polls:
//   GET /devcluster/state                  the leading master's /master/state (+ which master leads)
//   GET /devcluster/timeline               which frameworks have a timeline
//   GET /devcluster/timeline?framework_id=F&since=SEQ&brief=1   new calls and events of one framework
// and, when an entry is clicked, GET /devcluster/timeline?framework_id=F&seq=N (the entry in full).
// Fault buttons POST /devcluster/faults/<name>?arg=... . Everything is built with textContent,
// never innerHTML, so nothing a framework sends can inject markup.
"use strict";

const POLL_MS = 1000;
const MAX_TIMELINE_ROWS = 3000; // the DOM stays small however long the run
const MAX_TASK_ROWS = 300;      // benchmarks run 10,000 tasks; show the newest

const view = { framework: null, lastSeq: null, selected: null };

const $ = (id) => document.getElementById(id);

// A DOM element with text or child nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return r.json();
}

const short = (id) => (id && id.length > 14 ? "\u2026" + id.slice(-12) : id || "");
const num = (x) => (Math.round((x || 0) * 100) / 100).toString();
const clock = (secs) => {
  const d = new Date(secs * 1000);
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
};
// Resources in one short line: cpus, mem (MB), disk (MB).
const resText = (r) => `${num(r.cpus)} cpu \u00b7 ${num(r.mem)} M \u00b7 ${num(r.disk)} M`;

function fillTable(id, rows) {
  const body = $(id).tBodies[0];
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const cols = $(id).tHead.rows[0].cells.length;
    body.append(el("tr", {}, el("td", { colspan: cols, class: "muted" }, "none")));
  }
}

function renderState(s) {
  const dc = s.devcluster || {};
  $("leader").textContent = `leader: master ${dc.leader_index} of ${dc.masters} (${s.pid || ""})`;
  // Agents: registered ones from the master, lost ones from devcluster's own list.
  const registered = new Map((s.slaves || []).map((a) => [a.id, a]));
  const pick = $("agent-index");
  const chosen = pick.value;
  pick.replaceChildren(...(dc.agents || []).map((a, i) =>
    el("option", { value: i }, `#${i} ${short(a.id)}${a.lost ? " (lost)" : ""}`)));
  if (chosen) pick.value = chosen;
  fillTable("agents", (dc.agents || []).map((d, i) => {
    const a = registered.get(d.id);
    if (!a) {
      return el("tr", {}, el("td", { class: "id", title: d.id }, `#${i} ${short(d.id)}`),
        el("td", { colspan: 6, class: `state ${d.lost ? "lost" : ""}` }, d.lost ? "lost" : "not registered"));
    }
    const t = a.resources, u = a.used_resources, o = a.offered_resources;
    const free = { cpus: t.cpus - u.cpus - o.cpus, mem: t.mem - u.mem - o.mem, disk: t.disk - u.disk - o.disk };
    return el("tr", { "data-agent": a.id },
      el("td", { class: "id", title: a.id }, `#${i} ${short(a.id)}`),
      el("td", {}, `${a.hostname}:${a.port}`),
      el("td", {}, `${num(u.cpus)} / ${num(t.cpus)}`),
      el("td", {}, `${num(u.mem)} / ${num(t.mem)}`),
      el("td", {}, `${num(u.disk)} / ${num(t.disk)}`),
      el("td", {}, resText(o)),
      el("td", {}, resText(free)));
  }));

  const all = [...(s.frameworks || []).map((f) => [f, f.active ? "active" : "disconnected"]),
    ...(s.completed_frameworks || []).map((f) => [f, "removed"])];
  fillTable("frameworks", all.map(([f, st]) => el("tr", { "data-framework": f.id },
    el("td", { class: "id", title: f.id }, short(f.id)),
    el("td", {}, f.name),
    el("td", { class: `state ${st}` }, st),
    el("td", {}, `${(f.tasks || []).length} live, ${(f.completed_tasks || []).length} done`),
    el("td", {}, resText(f.used_resources || {})))));

  const offers = (s.frameworks || []).flatMap((f) => f.offers || []);
  fillTable("offers", offers.map((o) => el("tr", {},
    el("td", { class: "id", title: o.id }, short(o.id)),
    el("td", { class: "id", title: o.framework_id }, short(o.framework_id)),
    el("td", { class: "id", title: o.slave_id }, short(o.slave_id)),
    el("td", {}, resText(o.resources)))));

  const tasks = all.flatMap(([f]) => [...(f.tasks || []), ...(f.completed_tasks || [])]);
  const last = (t) => ((t.statuses || []).at(-1) || {}).timestamp || 0;
  tasks.sort((a, b) => last(b) - last(a));
  $("task-count").textContent = tasks.length > MAX_TASK_ROWS
    ? `(newest ${MAX_TASK_ROWS} of ${tasks.length})` : `(${tasks.length})`;
  fillTable("tasks", tasks.slice(0, MAX_TASK_ROWS).map((t) => {
    const hist = el("span", { class: "history" });
    (t.statuses || []).forEach((st, i) => {
      if (i > 0) hist.append(" \u2192 ");
      hist.append(el("span", { class: `state ${st.state}`, title: clock(st.timestamp) },
        st.state.replace("TASK_", "")));
    });
    const q = (file) => "/devcluster/sandbox?" + new URLSearchParams({
      agent_id: t.slave_id, framework_id: t.framework_id, task_id: t.id, file });
    return el("tr", { "data-task": t.id },
      el("td", { class: "id", title: t.id }, t.id),
      el("td", { class: "id", title: t.framework_id }, short(t.framework_id)),
      el("td", { class: "id", title: t.slave_id }, short(t.slave_id)),
      el("td", { class: `state ${t.state}` }, t.state),
      el("td", {}, hist),
      el("td", {}, el("a", { href: q("stdout"), target: "_blank" }, "stdout"), " ",
        el("a", { href: q("stderr"), target: "_blank" }, "stderr")));
  }));
}

function renderPicker(index) {
  const pick = $("framework-pick");
  const fws = index.frameworks || [];
  if (!view.framework && fws.length) {
    // Start with the framework that spoke last.
    view.framework = fws.reduce((a, b) => (b.last_seq > a.last_seq ? b : a)).id;
  }
  pick.replaceChildren(...fws.map((f) =>
    el("option", { value: f.id }, `${f.name || "(unnamed)"} \u2014 ${short(f.id)}`)));
  if (view.framework) pick.value = view.framework;
  const q = new URLSearchParams({ framework_id: view.framework || "" });
  $("timeline-json").href = "/devcluster/timeline?" + q;
  $("timeline-download").href = "/devcluster/timeline.ndjson?" + q;
}

function timelineRow(e) {
  const arrow = { call: "\u2192 call", event: "\u2190 event", fault: "\u26a1 fault",
    to_agent: "\u2192 agent", from_agent: "agent \u2192", executor_call: "exec \u2192", executor_event: "\u2192 exec" }[e.direction];
  const li = el("li", { "data-seq": e.seq, "data-type": e.type, "data-direction": e.direction, class: e.direction },
    el("span", { class: "time" }, clock(e.time)),
    el("span", { class: `dir ${e.direction}` }, arrow),
    el("span", { class: "type" }, e.type),
    el("span", { class: "summary", title: e.summary }, e.summary));
  li.addEventListener("click", () => showEntry(e.seq, li));
  return li;
}

async function refreshTimeline() {
  if (!view.framework) return;
  const q = new URLSearchParams({ framework_id: view.framework, brief: "1", limit: "1000" });
  if (view.lastSeq !== null) q.set("since", view.lastSeq);
  const t = await getJSON("/devcluster/timeline?" + q);
  const list = $("timeline");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
  for (const e of t.entries) {
    list.append(timelineRow(e));
    view.lastSeq = e.seq;
  }
  while (list.children.length > MAX_TIMELINE_ROWS) list.firstChild.remove();
  if (atBottom && t.entries.length) list.scrollTop = list.scrollHeight;
}

async function showEntry(seq, li) {
  document.querySelectorAll("#timeline li.selected").forEach((x) => x.classList.remove("selected"));
  li.classList.add("selected");
  view.selected = seq;
  const q = new URLSearchParams({ framework_id: view.framework, seq });
  try {
    $("detail").textContent = JSON.stringify(await getJSON("/devcluster/timeline?" + q), null, 2);
    $("detail").classList.remove("muted");
  } catch (err) {
    $("detail").textContent = `Could not load entry ${seq}: ${err.message}`;
  }
}

async function refresh() {
  const status = $("status");
  try {
    renderState(await getJSON("/devcluster/state"));
    renderPicker(await getJSON("/devcluster/timeline"));
    await refreshTimeline();
    status.textContent = "updated " + new Date().toTimeString().slice(0, 8);
    status.className = "status muted";
  } catch (err) {
    // A failover leaves the cluster briefly without a leader: say so and keep polling.
    status.textContent = "waiting: " + err.message;
    status.className = "status error";
  }
}

async function injectFault(button) {
  const name = button.dataset.fault;
  const argFrom = button.dataset.argFrom;
  const q = argFrom ? "?" + new URLSearchParams({ arg: $(argFrom).value }) : "";
  $("fault-result").textContent = `injecting ${name}\u2026`;
  try {
    const r = await fetch(`/devcluster/faults/${name}${q}`, { method: "POST" });
    $("fault-result").textContent = `${r.status}: ${await r.text()}`;
  } catch (err) {
    $("fault-result").textContent = `${name} failed: ${err.message}`;
  }
  refresh();
}

document.querySelectorAll("button[data-fault]").forEach((b) =>
  b.addEventListener("click", () => injectFault(b)));
$("framework-pick").addEventListener("change", (ev) => {
  view.framework = ev.target.value;
  view.lastSeq = null;
  $("timeline").replaceChildren();
  refresh();
});
$("hide-heartbeats").addEventListener("change", (ev) =>
  $("timeline").classList.toggle("hide-heartbeats", ev.target.checked));

// setTimeout after each round (not setInterval): slow answers never pile up.
(async function loop() {
  await refresh();
  setTimeout(loop, POLL_MS);
})();
