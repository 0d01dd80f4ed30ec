/**
 * The shardcache dashboard (served by the worker at <adminPrefix>/ui, bundled by scripts/build-ui.ts).
 * Every value shown comes from the admin API and is put into the page as text (textContent, never
 * HTML), so nothing from the config, events or origins can inject markup; the page's CSP allows only
 * its own script and style.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const API = document.querySelector('meta[name="shardcache-api"]').getAttribute("content");
const TOKEN_KEY = "shardcache-admin-token";
const REFRESH_MS = 5000;
const COLORS = { hit: "#16a34a", stale: "#7c3aed", miss: "#f59e0b", coalesced: "#0ea5e9", revalidated: "#14b8a6", pass: "#94a3b8", origin: "#2563eb", refused: "#e11d48", error: "#dc2626" };

const $ = (id) => document.getElementById(id);

/** Builds an element; children are nodes or strings (strings become text nodes, never markup). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en") : "–");
const fmtPct = (r, digits = 1) => (r === null || r === undefined || !Number.isFinite(r) ? "–" : `${(r * 100).toFixed(digits)} %`);
function fmtBytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
function fmtAgo(at) {
  if (!at) return "never";
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}
const fmtTime = (at) => new Date(at).toLocaleTimeString("en-GB", { hour12: false });

async function api(path, init = {}) {
  const response = await fetch(`${API}${path}`, { ...init, headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ""}`, ...(init.body ? { "content-type": "application/json" } : {}) } });
  if (response.status === 401) {
    signOut("That token was refused.");
    throw new Error("unauthorized");
  }
  const type = response.headers.get("content-type") ?? "";
  const body = type.includes("json") ? await response.json() : await response.text();
  return { ok: response.ok, status: response.status, body };
}

// ---- login ----

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  stopRefresh();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  $("login-error").textContent = "";
  const response = await fetch(`${API}/health`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
  if (response === null || !response.ok) {
    $("login-error").textContent = response === null ? "The worker cannot be reached." : response.status === 503 ? "The admin API is disabled (no ADMIN_TOKEN on the worker)." : "That token was refused.";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token").value = "";
  start();
});
$("logout").addEventListener("click", () => signOut());

// ---- charts ----

let ratioChart = null;
let originChart = null;

function chartOptions(el, series, axes) {
  return {
    width: Math.max(280, el.clientWidth),
    height: 220,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, pct: { range: [0, 100] } },
    series: [{}, ...series],
    axes: [{ stroke: "#64748b", grid: { stroke: "#eef1f5" }, ticks: { stroke: "#e2e8f0" } }, ...axes],
  };
}

function ensureCharts() {
  if (ratioChart !== null) return;
  const ratioEl = $("chart-ratio");
  ratioChart = new uPlot(
    chartOptions(
      ratioEl,
      [
        { label: "Hit ratio", scale: "pct", stroke: COLORS.hit, width: 2, fill: "rgba(22,163,74,0.08)", spanGaps: true, points: { show: true, size: 5 }, value: (_u, v) => (v === null ? "–" : `${v.toFixed(1)} %`) },
        { label: "Requests/s", scale: "rps", stroke: "#334155", width: 1.5, value: (_u, v) => (v === null ? "–" : v.toFixed(1)) },
      ],
      [
        { scale: "pct", stroke: COLORS.hit, values: (_u, ticks) => ticks.map((t) => `${t} %`), grid: { stroke: "#eef1f5" } },
        { scale: "rps", side: 1, stroke: "#334155", grid: { show: false } },
      ],
    ),
    [[], [], []],
    ratioEl,
  );
  const originEl = $("chart-origin");
  originChart = new uPlot(
    chartOptions(
      originEl,
      [
        { label: "Requests", stroke: "#334155", width: 1.5, fill: "rgba(51,65,85,0.06)" },
        { label: "Origin fetches", stroke: COLORS.origin, width: 2, fill: "rgba(37,99,235,0.10)" },
      ],
      [{ stroke: "#64748b", grid: { stroke: "#eef1f5" } }],
    ),
    [[], [], []],
    originEl,
  );
  window.addEventListener("resize", () => {
    ratioChart.setSize({ width: Math.max(280, $("chart-ratio").clientWidth), height: 220 });
    originChart.setSize({ width: Math.max(280, $("chart-origin").clientWidth), height: 220 });
  });
}

/** The charts start shortly before the first minute with traffic (at least 15 minutes shown), so a young cluster is not a flat line. */
const MIN_WINDOW_MINUTES = 15;

function renderSeries(series) {
  ensureCharts();
  const first = series.points.findIndex((p) => p.requests > 0);
  const start = first < 0 ? series.points.length - MIN_WINDOW_MINUTES : Math.min(first - 2, series.points.length - MIN_WINDOW_MINUTES);
  const points = series.points.slice(Math.max(0, start));
  const xs = points.map((p) => p.minute * 60);
  ratioChart.setData([xs, points.map((p) => (p.hitRatio === null ? null : p.hitRatio * 100)), points.map((p) => p.requests / 60)]);
  originChart.setData([xs, points.map((p) => p.requests), points.map((p) => p.originFetches)]);
}

// ---- panels ----

function replace(id, ...nodes) {
  $(id).replaceChildren(...nodes);
}

function stackedBar(title, counts, total) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const bar = el(
    "div",
    { class: "stack" },
    entries.map(([outcome, n]) => el("span", { class: "seg", title: `${outcome}: ${fmtInt(n)}`, style: { width: `${(100 * n) / Math.max(1, total)}%`, background: COLORS[outcome] ?? "#cbd5e1" } })),
  );
  const legend = el(
    "div",
    { class: "legend" },
    Object.entries(counts).map(([outcome, n]) => el("span", { class: n > 0 ? "" : "zero" }, el("i", { style: { background: COLORS[outcome] ?? "#cbd5e1" } }), `${outcome} `, el("b", {}, fmtInt(n)))),
  );
  return el("div", { class: "tier" }, el("div", { class: "tier-head" }, el("span", {}, title), el("span", { class: "muted" }, `${fmtInt(total)} requests`)), total > 0 ? bar : el("div", { class: "stack empty" }), legend);
}

/** Recent (time, request count) samples: the request rate is measured over up to the last minute of refreshes. */
const samples = [];
const RATE_WINDOW_MS = 60_000;

function renderStats(stats) {
  const c = stats.cluster;
  $("kpi-hit-ratio").textContent = fmtPct(c.hitRatio);
  $("kpi-hit-sub").textContent = `${fmtInt(c.hits)} hits of ${fmtInt(c.cacheable)} cacheable · edge ${fmtInt(c.edge.hit)} · shard ${fmtInt(c.shard.hit + c.shard.stale)}`;
  $("kpi-requests").textContent = fmtInt(c.requests);
  $("kpi-requests-sub").textContent = `${fmtBytes(c.bytesServed)} served`;
  $("kpi-origin").textContent = fmtInt(c.originFetches);
  $("kpi-origin-sub").textContent = c.requests > 0 ? `${fmtPct(c.originFetches / c.requests)} of requests` : "";
  $("kpi-stored").textContent = fmtInt(stats.total.objects);
  $("kpi-stored-sub").textContent = `objects · ${fmtBytes(stats.total.storedBytes)}`;
  const now = performance.now();
  samples.push({ requests: c.requests, at: now });
  while (samples.length > 2 && now - samples[1].at >= RATE_WINDOW_MS) samples.shift();
  const oldest = samples[0];
  if (now - oldest.at >= 2000) {
    const rate = ((c.requests - oldest.requests) * 1000) / (now - oldest.at);
    $("kpi-rate").textContent = `${rate.toFixed(rate < 10 ? 1 : 0)}/s`;
    $("kpi-rate-sub").textContent = `over the last ${Math.round((now - oldest.at) / 1000)} s`;
  } else {
    $("kpi-rate-sub").textContent = "measuring…";
  }

  const shardTotal = Object.values(c.shard).reduce((a, b) => a + b, 0);
  replace("outcomes", stackedBar("Edge tier", c.edge, c.requests), stackedBar("Shard tier", c.shard, shardTotal));

  const answered = stats.shards.map((s) => ({ shard: s.shard, error: s.error, requests: s.requests ? Object.values(s.requests).reduce((a, b) => a + b, 0) : 0, objects: s.objects ?? 0 }));
  const max = Math.max(1, ...answered.map((s) => s.requests));
  replace(
    "shards",
    ...answered.map((s) =>
      el(
        "div",
        { class: "bar-row" },
        el("span", { class: "bar-label" }, s.shard),
        el("span", { class: "bar-track" }, el("span", { class: s.error ? "bar-fill down" : "bar-fill", style: { width: `${s.error ? 100 : (100 * s.requests) / max}%` } })),
        el("span", { class: "bar-value" }, s.error ? "unavailable" : fmtInt(s.requests)),
      ),
    ),
  );
}

function table(headers, rows, empty) {
  if (rows.length === 0) return el("p", { class: "muted empty-note" }, empty);
  return el(
    "table",
    {},
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headers.map((h) => el("th", {}, h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((cells) =>
        el(
          "tr",
          {},
          cells.map((cell) => el("td", {}, cell)),
        ),
      ),
    ),
  );
}

const badge = (text, kind) => el("span", { class: `badge ${kind}` }, text);

function renderPools(pools) {
  const rows = [];
  for (const pool of pools.pools) {
    for (const node of pool.nodes) {
      const health = node.healthy === null ? badge("unknown", "neutral") : node.healthy ? badge("healthy", "ok") : badge("down", "bad");
      rows.push([
        el("span", {}, el("b", {}, pool.name), el("br"), el("span", { class: "muted small" }, node.url)),
        el("span", {}, health, " ", node.state === "active" ? "" : badge(node.state, "neutral")),
        el("span", { class: "small" }, node.reason ?? ""),
        el("span", { class: "small muted" }, fmtAgo(node.lastProbeAt)),
      ]);
    }
  }
  replace("pools", table(["pool / node", "health", "reason", "last probe"], rows, "No origin pools configured: misses go to the origin URL."));
}

function renderRates(rates) {
  const slmRows = Object.entries(rates.slmClasses ?? {}).map(([name, s]) => [
    el("b", {}, name),
    badge(s.state, s.state === "ok" ? "ok" : s.state === "warning" ? "warn" : "bad"),
    s.percent === null ? "–" : `${s.percent.toFixed(1)} %`,
    fmtInt(s.samples),
  ]);
  replace("slm", table(["class", "state", "within target", "samples"], slmRows, "No SLM classes configured."));
  const rateRows = Object.entries(rates.rateClasses ?? {}).map(([name, r]) => [
    el("b", {}, name),
    [r.effectiveLimits.perSecond ? `${fmtInt(r.effectiveLimits.perSecond)}/s` : "", r.effectiveLimits.perMinute ? `${fmtInt(r.effectiveLimits.perMinute)}/min` : ""].filter(Boolean).join(" · "),
    `${fmtInt(r.perMinute)} /min`,
    r.factor < 1 ? badge(`× ${r.factor.toFixed(2)}`, "warn") : badge(r.mode, "neutral"),
  ]);
  replace("rates", table(["class", "limit", "admitted", "mode"], rateRows, "No rate classes configured."));
}

const LEVEL_KIND = { EMERGENCY: "bad", ALERT: "bad", CRITICAL: "bad", SERIOUS: "bad", WARNING: "warn", INFO: "neutral" };

function renderEvents(events) {
  const list = [...events.events].sort((a, b) => b.time - a.time).slice(0, 12);
  if (list.length === 0) return replace("events", el("p", { class: "muted empty-note" }, "No events yet."));
  replace("events", ...list.map((e) => el("div", { class: "event" }, el("span", { class: "event-time" }, fmtTime(e.time)), badge(e.level, LEVEL_KIND[e.level] ?? "neutral"), el("span", { class: "event-text" }, e.text))));
}

function renderConfig(health, config) {
  $("config-badge").textContent = `config ${health.configVersion} · ${health.configSource}`;
  const doc = config.config ?? {};
  const rules = Array.isArray(doc.rules) ? doc.rules : [];
  const facts = el(
    "dl",
    { class: "facts" },
    el("dt", {}, "Source"),
    el("dd", {}, config.source === "kv" ? "Workers KV (key config)" : "built-in defaults"),
    el("dt", {}, "Version"),
    el("dd", {}, el("code", {}, String(config.version ?? health.configVersion))),
    el("dt", {}, "Shards"),
    el("dd", {}, fmtInt(health.shards)),
    el("dt", {}, "Rules"),
    el("dd", {}, rules.length === 0 ? "none" : rules.map((r) => r.name ?? "(unnamed)").join(", ")),
  );
  const details = el("details", {}, el("summary", {}, "Show the document"), el("pre", {}, JSON.stringify(doc, null, 2)));
  replace("config", facts, details);
}

// ---- purge ----

$("purge-kind").addEventListener("change", () => {
  const kind = $("purge-kind").value;
  $("purge-value").disabled = kind === "all";
  $("purge-value").placeholder = { url: "http://127.0.0.1:8787/hello", prefix: "http://127.0.0.1:8787/static/", tag: "static", key: "cache key", all: "" }[kind];
});

$("purge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const kind = $("purge-kind").value;
  const value = $("purge-value").value.trim();
  const result = $("purge-result");
  if (kind !== "all" && value === "") {
    result.className = "result bad";
    result.textContent = "Say what to purge.";
    return;
  }
  const body = { [kind]: kind === "all" ? true : value, ...($("purge-soft").checked ? { soft: true } : {}) };
  result.className = "result";
  result.textContent = "Purging…";
  try {
    const reply = await api("/purge", { method: "POST", body: JSON.stringify(body) });
    if (reply.status === 400) {
      result.className = "result bad";
      result.textContent = (reply.body.errors ?? []).map((e) => `${e.path}: ${e.message}`).join("; ") || "Refused.";
      return;
    }
    const purged = reply.body.shards?.purged ?? 0;
    result.className = reply.ok ? "result ok" : "result bad";
    result.textContent = `${reply.ok ? "Purged" : "Incomplete purge"}: ${fmtInt(purged)} stored variant(s) ${body.soft ? "marked stale" : "deleted"}; edge tier ${reply.body.edge?.logged ? "told" : "NOT told"}.`;
    refresh();
  } catch (error) {
    result.className = "result bad";
    result.textContent = `Purge failed: ${error.message}`;
  }
});

// ---- refresh loop ----

let timer = null;
let lastOk = 0;

function stopRefresh() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

async function refresh() {
  try {
    const [stats, series, health, pools, rates, events, config] = await Promise.all([api("/stats"), api("/series?minutes=60"), api("/health"), api("/pools"), api("/rates"), api("/events?limit=12"), api("/config")]);
    renderStats(stats.body);
    renderSeries(series.body);
    renderConfig(health.body, config.body);
    if (pools.ok) renderPools(pools.body);
    renderRates(rates.body);
    renderEvents(events.body);
    lastOk = Date.now();
    $("live").className = "live ok";
    $("live-text").textContent = `live · updated ${fmtTime(lastOk)}`;
  } catch (error) {
    if (error.message === "unauthorized") return;
    $("live").className = "live bad";
    $("live-text").textContent = `cannot reach the worker (${error.message})`;
  }
}

function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  stopRefresh();
  void refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

if (sessionStorage.getItem(TOKEN_KEY)) start();
else signOut();
