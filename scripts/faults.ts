/**
 * `npm run faults`: the fault suite (issue #11). Runs the whole cache on workerd (Miniflare, state
 * persisted in a temp dir) in front of the demo origin, injects every fault below one after another,
 * and checks that clients are still served and nothing is lost:
 *
 *   KV: config invalid, config missing, a malformed purge record
 *   shards: the primary throws, the primary hangs
 *   origin: dead, resets before answering, resets mid-body, stalls mid-body, hangs before headers,
 *           5xx with a stale copy, 5xx without one, a cacheable 5xx over a stale copy, status 999
 *   runtime: killed and restarted mid-load (objects and config must come back byte-identical)
 *
 * Prints one line per fault, then `N faults injected, N survived, 0 lost` (exit 1 otherwise).
 * Loopback only, bounded in time (well under 3 minutes), stops by itself.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin";
import { bundleShardcache, startRuntime, type Bundle, type Runtime } from "./lib/runtime";
import { defaultSettings } from "../src/config/settings";
import { createHrw } from "../src/routing/hrw";
import { defaultCacheKey } from "../src/rules/cache-key";

const ADMIN_TOKEN = "faults-admin-token-0123456789abcdef0123";
const WORKER = "faults";
/** Small timeouts so every fault resolves in about a second. */
const CONFIG = {
  settings: { trace: true, verbose: true, shardTimeoutMs: 1500, originBodyIdleMs: 500, shardFailuresToSkip: 2, shardSkipSeconds: 30, graceSeconds: 30 },
  rules: [{ name: "private-pass", match: { path: "/private/*" }, actions: { pass: true } }],
};

type Outcome = { survived: boolean; lost: number; detail: string };
type Reply = { status: number; body: string | null; headers: Headers; ms: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let runtime: Runtime;
let origin: DemoOrigin;
let originPort = 0;

const base = () => runtime.url(WORKER);

/** Every request names the same host, so cache keys survive the restarted runtime's new port. */
const HOST = "cache.faults";

/**
 * One request through the cache (node:http, so the Host field is ours to set). `body` is null when
 * the body ended in an error (or no response came at all: status 0), never a clean short end.
 */
function get(path: string, timeoutMs = 15_000): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (status: number, body: string | null, headers: Headers) => resolve({ status, body, headers, ms: Date.now() - started });
    const req = httpRequest(`${base()}${path}`, { headers: { host: HOST }, timeout: timeoutMs, agent: false }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(res.statusCode ?? 0, res.complete ? Buffer.concat(chunks).toString("utf8") : null, headers));
      res.on("aborted", () => done(res.statusCode ?? 0, null, headers));
      res.on("error", () => done(res.statusCode ?? 0, null, headers));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => done(0, null, new Headers()));
    req.end();
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base()}/_shardcache${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: await response.json() };
}

async function failOrigin(prefix: string, mode: string): Promise<void> {
  await (await fetch(`${origin.url}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" })).arrayBuffer();
}

const originCount = (pathAndQuery: string) => origin.stats().requests[pathAndQuery] ?? 0;
const kv = () => runtime.mf.getKVNamespace("CONFIG", WORKER);
const shardDetail = (r: Reply) => /shardcache-shard;[^,]*detail=([\w-]+)/.exec(r.headers.get("cache-status") ?? "")?.[1] ?? null;
let serial = 0;
const fresh = (name: string) => `/f/${name}-${Date.now().toString(36)}-${++serial}`;

async function shardStub(name: string) {
  const ns = await runtime.mf.getDurableObjectNamespace("CACHE_SHARD", WORKER);
  return ns.get(ns.idFromName(name)) as unknown as { setFault(fault: { mode: "none" | "throw" | "hang" }): Promise<void> };
}

async function start(bundle: Bundle, persistRoot: string, config: unknown): Promise<void> {
  runtime = await startRuntime(bundle, origin.url, [{ name: WORKER, config }], { persistRoot, bindings: { CONFIG_MEMO_MS: "0", ADMIN_TOKEN } });
}

/** Checks that the config's pass rule still holds (so the cluster runs on the good document). */
async function rulesHold(): Promise<boolean> {
  const r = await get(`/private/rule-${++serial}`);
  return r.status === 200 && /shardcache-edge;fwd=bypass/.test(r.headers.get("cache-status") ?? "");
}

// ---------------------------------------------------------------------------------------------
// The faults. Grace faults share one stale copy each, stored up front and left to go stale once.

const staleCopies = new Map<string, { path: string; body: string }>();
const GRACE_FAULTS = ["origin dead", "origin resets before answering", "origin hangs before headers", "origin 5xx with a stale copy", "cacheable 5xx over a stale copy"];

async function storeStaleCopies(): Promise<void> {
  for (const name of GRACE_FAULTS) {
    const path = `${fresh(name.replace(/\W+/g, "-"))}?cc=${encodeURIComponent("public, max-age=1")}`;
    const first = await get(path);
    if (first.status !== 200 || first.body === null) throw new Error(`could not store a copy for "${name}": ${first.status}`);
    staleCopies.set(name, { path, body: first.body });
  }
  await sleep(2_200);
}

/** A stale copy must answer (grace), byte-identical, while the origin fails with `mode`. */
async function graceFault(name: string, mode: string, requests = 1): Promise<Outcome> {
  const copy = staleCopies.get(name)!;
  const prefix = copy.path.split("?")[0]!;
  await failOrigin(prefix, mode);
  try {
    const replies = [];
    for (let i = 0; i < requests; i++) replies.push(await get(copy.path));
    const good = replies.filter((r) => r.status === 200 && r.body === copy.body);
    return { survived: good.length === replies.length, lost: 0, detail: `${good.length}/${replies.length} answered 200 from the stale copy (${replies.map(shardDetail).join(", ")})` };
  } finally {
    await failOrigin(prefix, "off");
  }
}

async function originDead(): Promise<Outcome> {
  await origin.close();
  try {
    const copy = staleCopies.get("origin dead")!;
    const r = await get(copy.path);
    return { survived: r.status === 200 && r.body === copy.body, lost: 0, detail: `${r.status} from the stale copy while the origin's port is closed (${shardDetail(r)})` };
  } finally {
    origin = await startDemoOrigin(originPort);
  }
}

/** The body must end in an error (not a clean short end), and must not have been stored. */
async function bodyFault(mode: "reset-body" | "stall"): Promise<Outcome> {
  const path = fresh(mode);
  await failOrigin(path, mode);
  const broken = await get(path);
  await failOrigin(path, "off");
  const next = await get(path);
  const refetched = originCount(path) === 2;
  const survived = broken.body === null && next.status === 200 && next.body !== null && /^demo origin: /.test(next.body) && refetched;
  return {
    survived,
    lost: 0,
    detail: `client body ${broken.body === null ? "ended in an error" : `ended cleanly (${broken.body.length} bytes, ${broken.headers.get("content-length") === null ? "chunked" : `of ${broken.headers.get("content-length")}`})`} after ${broken.ms} ms; next request ${next.status}, ${refetched ? "refetched (nothing truncated was stored)" : "NOT refetched"}`,
  };
}

async function origin5xxNoCopy(): Promise<Outcome> {
  const path = fresh("5xx-no-copy");
  await failOrigin(path, "503");
  try {
    const r = await get(path);
    return { survived: r.status === 503 && r.body !== null && /origin failing on purpose/.test(r.body), lost: 0, detail: `the origin's own ${r.status} reached the client` };
  } finally {
    await failOrigin(path, "off");
  }
}

async function status999(): Promise<Outcome> {
  const path = `${fresh("status")}?status=999`;
  const r = await get(path);
  const fetches = originCount(path);
  return { survived: r.status === 502 && fetches === 1 && !/FAIL/.test(r.headers.get("x-cluster-trace") ?? ""), lost: 0, detail: `${r.status} "${(r.body ?? "").trim()}" after ${fetches} origin fetch(es)` };
}

const hrw = createHrw(defaultSettings.shards);
/** A fresh path whose primary shard (HRW over the default 16 shards) is `shard`. */
function pathOn(shard: string, name: string): string {
  for (;;) {
    const path = fresh(name);
    if (hrw.rank(defaultCacheKey(new URL(`http://${HOST}${path}`)), 1)[0]!.name === shard) return path;
  }
}

async function shardFault(mode: "throw" | "hang", shard: string): Promise<Outcome> {
  const stub = await shardStub(shard);
  await stub.setFault({ mode });
  try {
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) replies.push(await get(pathOn(shard, `shard-${mode}`)));
    const ok = replies.filter((r) => r.status === 200 && r.body !== null).length;
    const waited = replies.filter((r) => r.ms >= 1_400).length;
    const skipped = replies.filter((r) => (r.headers.get("x-cluster-trace") ?? "").includes(`${shard}->SKIP(unhealthy)`)).length;
    const survived = ok === 5 && skipped === 5 - CONFIG.settings.shardFailuresToSkip && (mode === "throw" || waited <= CONFIG.settings.shardFailuresToSkip);
    return { survived, lost: 0, detail: `${ok}/5 answered 200 via the next shard; ${skipped} skipped ${shard} as unhealthy; ${waited} waited for the shard timeout` };
  } finally {
    await stub.setFault({ mode: "none" });
  }
}

async function kvFault(kind: "invalid" | "missing"): Promise<Outcome> {
  const store = await kv();
  const good = await store.get("config");
  if (kind === "invalid") await store.put("config", '{"settings": {"primaries": "many"');
  else await store.delete("config");
  try {
    const health = (await admin("GET", "/health")).json;
    const held = await rulesHold();
    return { survived: held && health.configSource === "last-good", lost: held ? 0 : 1, detail: `configSource ${health.configSource}, pass rule ${held ? "still applies" : "LOST"}` };
  } finally {
    if (good !== null) await store.put("config", good);
  }
}

async function malformedPurgeRecord(): Promise<Outcome> {
  const store = await kv();
  await store.put(`purge:0000000000000:garbage`, "{not json");
  const path = `${fresh("purge")}?h-cache-tag=faults-tag`;
  await get(path);
  const hit = await get(path);
  const purged = await admin("POST", "/purge", { tag: "faults-tag" });
  const after = await get(path);
  const edgeHitAfter = /shardcache-edge;hit/.test(after.headers.get("cache-status") ?? "");
  await store.delete(`purge:0000000000000:garbage`);
  const survived = purged.status === 200 && after.status === 200 && !edgeHitAfter && /shardcache-edge;hit/.test(hit.headers.get("cache-status") ?? "");
  return { survived, lost: 0, detail: `purge ${purged.status}; the tag-purged copy was ${edgeHitAfter ? "SERVED from the edge" : "refused"} with a malformed record in the log` };
}

/** Kills the runtime while requests are in flight, restarts it on the same storage, and compares everything. */
async function killAndRestart(bundle: Bundle, persistRoot: string): Promise<Outcome> {
  const objects: { path: string; body: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const path = `${fresh("kill")}?size=${1000 + i * 37}&cc=${encodeURIComponent("public, max-age=600")}`;
    const r = await get(path);
    if (r.status === 200 && r.body !== null) objects.push({ path, body: r.body });
  }
  const configBefore = await (await kv()).get("config");
  await sleep(300); // let the stores of the last bodies finish
  // Half the load reads stored objects, half misses whose origin answers after 300 ms: in flight at the kill.
  const load = Promise.all(Array.from({ length: 60 }, (_, i) => get(i % 2 === 0 ? objects[i % objects.length]!.path : `${fresh("kill-load")}?delay=300`, 5_000)));
  await sleep(150);
  await runtime.dispose();
  const settled = await load;
  await start(bundle, persistRoot, null);
  const configAfter = await (await kv()).get("config");
  let lost = configAfter === configBefore ? 0 : 1;
  for (const object of objects) {
    const before = originCount(object.path);
    const r = await get(object.path);
    if (r.status !== 200 || r.body !== object.body || originCount(object.path) !== before) lost += 1;
  }
  const inFlight = settled.filter((r) => r.status === 0 || r.body === null).length;
  return {
    survived: lost === 0,
    lost,
    detail: `${inFlight} of 60 in-flight requests cut by the kill; after restart config ${configAfter === configBefore ? "identical" : "DIFFERENT"}, ${objects.length - (lost - (configAfter === configBefore ? 0 : 1))}/${objects.length} objects byte-identical from cache`,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  origin = await startDemoOrigin(0);
  originPort = origin.port;
  const persistRoot = await mkdtemp(join(tmpdir(), "shardcache-faults-"));
  const bundle = await bundleShardcache();
  const results: { name: string; outcome: Outcome }[] = [];
  try {
    await start(bundle, persistRoot, null);
    const put = await admin("PUT", "/config", CONFIG);
    if (put.status !== 200) throw new Error(`config refused: ${JSON.stringify(put.json)}`);
    await storeStaleCopies();
    const faults: [string, () => Promise<Outcome>][] = [
      ["KV: config invalid", () => kvFault("invalid")],
      ["KV: config missing", () => kvFault("missing")],
      ["KV: malformed purge record", malformedPurgeRecord],
      ["origin dead", originDead],
      ["origin resets before answering", () => graceFault("origin resets before answering", "reset")],
      ["origin hangs before headers", () => graceFault("origin hangs before headers", "hang")],
      ["origin 5xx with a stale copy", () => graceFault("origin 5xx with a stale copy", "503")],
      ["cacheable 5xx over a stale copy", () => graceFault("cacheable 5xx over a stale copy", "500", 3)],
      ["origin 5xx without a stale copy", origin5xxNoCopy],
      ["origin resets mid-body", () => bodyFault("reset-body")],
      ["origin stalls mid-body", () => bodyFault("stall")],
      ["origin status 999", status999],
      // After the grace faults: a skipped shard's stale copies are out of reach until it is probed again.
      ["shard throws", () => shardFault("throw", "shard-3")],
      ["shard hangs", () => shardFault("hang", "shard-12")],
      ["runtime killed and restarted mid-load", () => killAndRestart(bundle, persistRoot)],
    ];
    for (const [name, run] of faults) {
      let outcome: Outcome;
      try {
        outcome = await run();
      } catch (error) {
        outcome = { survived: false, lost: 0, detail: `the check itself failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      results.push({ name, outcome });
      console.log(`${outcome.survived ? "  survived" : "  FAILED  "}  ${name}: ${outcome.detail}`);
    }
  } finally {
    await runtime?.dispose().catch(() => {});
    await bundle.dispose();
    await origin.close();
    await rm(persistRoot, { recursive: true, force: true });
  }
  const survived = results.filter((r) => r.outcome.survived).length;
  const lost = results.reduce((sum, r) => sum + r.outcome.lost, 0);
  const failed = results.filter((r) => !r.outcome.survived).map((r) => r.name);
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)${failed.length > 0 ? ` failed: ${failed.join("; ")}` : ""}`);
  console.log(`${results.length} faults injected, ${survived} survived, ${lost} lost`);
  process.exitCode = failed.length === 0 && lost === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
