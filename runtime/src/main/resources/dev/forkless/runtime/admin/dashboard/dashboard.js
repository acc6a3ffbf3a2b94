// The Forkless dashboard: polls the admin API every second and draws one small requests/s chart per
// copy. The token for reload/scale/restart is asked for (or taken from #token=... in the URL, which is
// never sent to the server) and kept in this tab's sessionStorage only.
"use strict";

const POLL_MS = 1000;
const POINTS = 300; // five minutes at one poll a second
const LOG_LINES = 30; // lines shown per copy
const LOG_EVERY = 2; // polls between two reads of the logs
const series = new Map(); // copy id -> { last: {t, requests}, rates: [], cpu: [], memory: [] }
let token = sessionStorage.getItem("forkless-token") || "";

const $ = (id) => document.getElementById(id);

function takeTokenFromFragment() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (match) {
    token = decodeURIComponent(match[1]);
    sessionStorage.setItem("forkless-token", token);
    window.history.replaceState(null, "", location.pathname);
  }
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "muted";
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i === 0 ? 0 : 1) + " " + units[i];
}

function rate(w, now) {
  let h = series.get(w.id);
  if (!h) {
    h = { last: null, rates: [], cpu: [], memory: [] };
    series.set(w.id, h);
  }
  if (h.last && now > h.last.t) {
    const r = Math.max(0, (w.requests - h.last.requests) * 1000 / (now - h.last.t));
    h.rates.push(r);
    h.cpu.push(cpuValue(w));
    h.memory.push(memoryValue(w));
    for (const a of [h.rates, h.cpu, h.memory]) if (a.length > POINTS) a.shift();
  }
  h.last = { t: now, requests: w.requests };
  return h;
}

// An isolate's share of the JVM's CPU (percent), or a process's CPU time (seconds, charted as its rate).
function cpuValue(w) {
  return w.cpuShare !== null && w.cpuShare !== undefined ? w.cpuShare * 100 : (w.cpuMs === null ? 0 : w.cpuMs / 1000);
}

// The heap an isolate's objects keep (an estimate), or a process's resident memory: never mixed in one figure.
function memoryValue(w) {
  return w.keptHeapBytes !== null && w.keptHeapBytes !== undefined ? w.keptHeapBytes : (w.memoryBytes || 0);
}

function cpuText(w) {
  if (w.cpuShare !== null && w.cpuShare !== undefined) return (w.cpuShare * 100).toFixed(0) + "% of jvm";
  return w.cpuMs === null || w.cpuMs === undefined ? "–" : (w.cpuMs / 1000).toFixed(1) + "s";
}

function memoryText(w) {
  if (w.allocatedBytesPerSecond !== null && w.allocatedBytesPerSecond !== undefined) {
    const kept = w.keptHeapBytes !== null && w.keptHeapBytes !== undefined ? "kept ~" + bytes(w.keptHeapBytes) + " · " : "";
    return kept + "alloc " + bytes(w.allocatedBytesPerSecond) + "/s · " + w.classes + " classes";
  }
  return w.memoryBytes === null || w.memoryBytes === undefined ? "–" : bytes(w.memoryBytes) + " rss";
}

function chart(td) {
  const canvas = document.createElement("canvas");
  canvas.width = 150;
  canvas.height = 28;
  td.append(canvas, document.createElement("span"));
}

function draw(canvas, rates) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, hgt = canvas.height;
  ctx.clearRect(0, 0, w, hgt);
  if (rates.length < 2) return;
  const max = Math.max(1, ...rates);
  ctx.strokeStyle = "#2f6fdd";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  rates.forEach((r, i) => {
    const x = (i + POINTS - rates.length) * (w - 1) / (POINTS - 1); // newest at the right
    const y = hgt - 1 - r * (hgt - 3) / max;
    i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y);
  });
  ctx.stroke();
}

const COLUMNS = ["id", "slot", "mode", "pid", "state", "uptime", "restarts", "requests", "rate", "conns", "cpu",
  "memory", "exit", "actions"];

// A table row with one cell per column, each cell's class its column's name.
function newRow(columns) {
  const tr = document.createElement("tr");
  for (const c of columns) {
    const td = document.createElement("td");
    td.className = c;
    tr.appendChild(td);
  }
  return tr;
}

// One row per copy, kept across redraws (only its text changes), so a click is never lost to a redraw.
function rowFor(w) {
  const body = document.querySelector("#workers tbody");
  const key = w.id + "/" + w.slot + "/" + (w.app || ""); // ids are unique, an errored slot's "-" is not
  let tr = body.querySelector('tr[data-id="' + CSS.escape(key) + '"]');
  if (tr) return tr;
  tr = newRow(COLUMNS);
  tr.dataset.id = key;
  for (const c of ["rate", "cpu", "memory"]) chart(tr.querySelector("." + c));
  if (w.id !== "-") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "restart";
    b.textContent = "Restart";
    b.addEventListener("click", () => act("/api/workers/" + encodeURIComponent(w.id) + "/restart",
      "restart of copy " + w.id));
    tr.querySelector(".actions").appendChild(b);
  }
  return tr;
}

function set(tr, column, text, numeric) {
  const td = tr.querySelector("." + column);
  if (td.textContent !== String(text)) td.textContent = text;
  if (numeric) td.classList.add("num");
}

function render(workers) {
  const now = Date.now();
  const rows = [];
  const seen = new Set();
  const severalApps = new Set(workers.map((w) => w.app)).size > 1; // a runtime of several apps: name each copy's
  for (const w of workers) {
    seen.add(w.id);
    const h = w.id === "-" ? { rates: [] } : rate(w, now);
    const current = h.rates.length ? h.rates[h.rates.length - 1] : 0;
    const tr = rowFor(w);
    set(tr, "id", severalApps ? w.app + ":" + w.id : w.id);
    set(tr, "slot", w.slot);
    set(tr, "mode", w.mode);
    set(tr, "pid", w.pid || "–", true);
    set(tr, "state", w.state);
    tr.querySelector(".state").className = "state state-" + w.state;
    set(tr, "uptime", duration(w.uptimeMs), true);
    set(tr, "restarts", w.restarts, true);
    set(tr, "requests", w.requests, true);
    tr.querySelector(".rate span").textContent = " " + current.toFixed(1);
    tr.querySelector(".cpu span").textContent = " " + cpuText(w);
    tr.querySelector(".memory span").textContent = " " + memoryText(w);
    set(tr, "conns", w.activeConnections, true);
    tr.querySelector(".cpu").classList.add("num");
    tr.querySelector(".memory").classList.add("num");
    set(tr, "exit", w.lastExit || "");
    tr.querySelector(".exit").title = w.lastExit || "";
    const button = tr.querySelector("button.restart");
    if (button) button.hidden = !(w.state === "ready" || w.state === "standby");
    draw(tr.querySelector(".rate canvas"), h.rates);
    if (h.cpu) draw(tr.querySelector(".cpu canvas"), h.cpu);
    if (h.memory) draw(tr.querySelector(".memory canvas"), h.memory);
    rows.push(tr);
  }
  for (const id of series.keys()) if (!seen.has(id)) series.delete(id);
  const body = document.querySelector("#workers tbody");
  const current = Array.from(body.children);
  if (current.length !== rows.length || current.some((tr, i) => tr !== rows[i])) body.replaceChildren(...rows);
  const serving = workers.filter((w) => w.slot !== "-" && !w.slot.startsWith("s")).length;
  const copies = $("copies");
  if (document.activeElement !== copies && !copies.dataset.touched) copies.value = serving;
}

// A runtime of several apps: one row per app (GET /api/app?app=NAME), with its own reload, scale, stop and
// start (start only for an app that was stopped or whose copies all errored: `running` false).
const APP_COLUMNS = ["name", "state", "mode", "copies", "addresses", "reloads", "restarts", "actions"];
function appRow(name) {
  const body = document.querySelector("#apps tbody");
  let tr = body.querySelector('tr[data-app="' + CSS.escape(name) + '"]');
  if (tr) return tr;
  tr = newRow(APP_COLUMNS);
  tr.dataset.app = name;
  const q = "?app=" + encodeURIComponent(name);
  const actions = tr.querySelector(".actions");
  const button = (cls, text, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    actions.appendChild(b);
    return b;
  };
  button("reload", "Reload", () => act("/api/reload" + q, "reload of " + name));
  const n = document.createElement("input");
  n.type = "number";
  n.min = "1";
  n.max = "1024";
  n.step = "1";
  n.className = "copies";
  n.setAttribute("aria-label", "copies of " + name);
  n.addEventListener("input", () => (n.dataset.touched = "1"));
  actions.appendChild(n);
  button("scale", "Scale", () => {
    n.dataset.touched = "";
    act("/api/scale" + q + "&n=" + encodeURIComponent(n.value), "scale of " + name + " to " + n.value);
  });
  button("stop", "Stop", () => act("/api/stop" + q, "stop of " + name));
  button("start", "Start", () => act("/api/start" + q, "start of " + name));
  body.appendChild(tr);
  return tr;
}

function renderApps(apps) {
  $("apps-section").hidden = apps.length < 2;
  $("scale-all").hidden = apps.length > 1; // a scale names its app: each row has its own
  if (apps.length < 2) return;
  const rows = [];
  for (const a of apps) {
    const tr = appRow(a.name);
    const serving = a.workers.filter((w) => w.slot !== "-" && !w.slot.startsWith("s") && w.state === "ready").length;
    set(tr, "name", a.name);
    set(tr, "state", a.running ? "running" : "stopped");
    tr.querySelector(".state").className = "state state-" + (a.running ? "running" : "stopped");
    set(tr, "mode", a.mode);
    set(tr, "copies", serving + " / " + a.copies, true);
    set(tr, "addresses", a.addresses.join(", "));
    set(tr, "reloads", a.reloads, true);
    set(tr, "restarts", a.restarts, true);
    tr.querySelector("button.start").hidden = a.running;
    tr.querySelector("button.stop").hidden = !a.running;
    tr.querySelector("button.reload").hidden = !a.running;
    tr.querySelector("button.scale").hidden = !a.running;
    const n = tr.querySelector("input.copies");
    n.hidden = !a.running;
    if (document.activeElement !== n && !n.dataset.touched) n.value = a.copies;
    rows.push(tr);
  }
  const body = document.querySelector("#apps tbody");
  const current = Array.from(body.children);
  if (current.length !== rows.length || current.some((tr, i) => tr !== rows[i])) body.replaceChildren(...rows);
}

// Reads need the token too unless the page is served on loopback as localhost or 127.0.0.1.
function readHeaders() {
  return token ? { Authorization: "Bearer " + token } : {};
}

async function poll() {
  try {
    const read = (path) => fetch(path, { headers: readHeaders() });
    const [workersResponse, runtimeResponse, ready, eventsResponse] = await Promise.all([
      read("/api/workers"), read("/api/runtime"), read("/health/ready"), read("/api/events"),
    ]);
    if (workersResponse.status === 401) {
      $("runtime").textContent = "enter the token to see the copies";
      return;
    }
    const workers = await workersResponse.json();
    const runtime = await runtimeResponse.json();
    render(workers);
    const names = Array.isArray(runtime.apps) ? runtime.apps : [];
    if (names.length > 1) {
      const apps = await Promise.all(names.map((name) =>
        read("/api/app?app=" + encodeURIComponent(name)).then((r) => (r.ok ? r.json() : null)).catch(() => null)));
      renderApps(apps.filter((a) => a !== null));
    } else {
      renderApps([]);
    }
    if (eventsResponse.ok) timeline(await eventsResponse.json());
    if (polls++ % LOG_EVERY === 0) await logs(workers, read);
    $("runtime").textContent = "pid " + runtime.pid + " · " + runtime.addresses.join(", ")
      + " · memory " + bytes(runtime.residentMemoryBytes) + " · heap " + bytes(runtime.heapUsedBytes)
      + " · up " + duration(runtime.uptimeMs);
    $("health").textContent = ready.ok ? "ready" : "not ready";
    $("health").className = "badge " + (ready.ok ? "up" : "down");
  } catch (e) {
    $("runtime").textContent = "runtime unreachable";
    $("health").textContent = "down";
    $("health").className = "badge down";
  }
}

// The tail of each copy's output: one panel per copy, its text set as text (never as HTML).
let polls = 0;
async function logs(workers, read) {
  const copies = workers.filter((w) => w.id !== "-");
  const tails = await Promise.all(copies.map((w) =>
    read("/api/workers/" + encodeURIComponent(w.id) + "/log?lines=" + LOG_LINES)
      .then((r) => (r.ok ? r.json() : null)).catch(() => null)));
  const panels = copies.map((w, i) => logPanel(w, tails[i]));
  const ids = new Set(copies.map((w) => w.id));
  for (const id of Array.from(logPanels.keys())) if (!ids.has(id)) logPanels.delete(id);
  const box = $("logs");
  const current = Array.from(box.children);
  if (current.length !== panels.length || current.some((p, i) => p !== panels[i])) box.replaceChildren(...panels);
}

const logPanels = new Map(); // copy id -> panel
function logPanel(w, lines) {
  let panel = logPanels.get(w.id);
  if (!panel) {
    panel = document.createElement("div");
    panel.className = "log";
    panel.dataset.copy = w.id;
    panel.append(document.createElement("h3"), document.createElement("pre"));
    logPanels.set(w.id, panel);
  }
  const title = "copy " + w.id + " · slot " + w.slot + " · " + w.state;
  if (panel.firstChild.textContent !== title) panel.firstChild.textContent = title;
  if (lines === null) return panel;
  const pre = panel.querySelector("pre");
  const key = lines.length ? lines[lines.length - 1].timeMs + ":" + lines.length + ":" + lines[lines.length - 1].text : "";
  if (pre.dataset.key === key) return panel;
  pre.dataset.key = key;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.replaceChildren(...lines.map((l) => {
    const span = document.createElement("span");
    span.className = l.stream;
    span.textContent = l.text + "\n";
    span.title = new Date(l.timeMs).toLocaleTimeString() + " " + l.stream;
    return span;
  }));
  if (atBottom) pre.scrollTop = pre.scrollHeight;
  return panel;
}

// The event timeline, newest first: starts, crashes, drains, reloads, memory restarts.
let lastEvent = -1;
function timeline(events) {
  const newest = events.length ? events[events.length - 1].timeMs * 1000 + events.length : -1;
  if (newest === lastEvent) return;
  lastEvent = newest;
  const items = events.slice().reverse().map((e) => {
    const li = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = new Date(e.timeMs).toLocaleTimeString();
    const text = document.createElement("span");
    text.textContent = " " + e.line.replace(/^forkless /, "");
    if (/event=(crashed|exited|hung|errored|memory-restart|oom-restart|cpu-leak)/.test(e.line)) li.className = "bad";
    li.append(time, text);
    return li;
  });
  $("events").replaceChildren(...items);
}

async function act(path, what) {
  if (!token) {
    say("Enter the token (from the token file the runtime printed) to " + what + ".", true);
    $("token").focus();
    return;
  }
  const buttons = document.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  say(what + "…");
  try {
    const r = await fetch(path, { method: "POST", headers: { Authorization: "Bearer " + token } });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) {
      say("The token was refused: " + what + " did not happen.", true);
    } else if (!r.ok && r.status !== 202) {
      say(what + " failed: " + (body.error || body.reason || r.status), true);
    } else {
      say(what + (body.ok === false ? " failed: " + body.reason : " done") + ".", body.ok === false);
    }
  } catch (e) {
    say(what + " failed: " + e, true);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    $("copies").dataset.touched = "";
    poll();
  }
}

$("save-token").addEventListener("click", () => {
  token = $("token").value.trim();
  sessionStorage.setItem("forkless-token", token);
  $("token").value = "";
  say(token ? "Token set for this tab." : "Token cleared.");
});
$("copies").addEventListener("input", () => ($("copies").dataset.touched = "1"));
$("reload").addEventListener("click", () => act("/api/reload", "reload"));
$("scale").addEventListener("click", () => {
  const n = $("copies").value;
  act("/api/scale?n=" + encodeURIComponent(n), "scale to " + n);
});

takeTokenFromFragment();
if (token) say("Token set for this tab.");
poll();
setInterval(poll, POLL_MS);
