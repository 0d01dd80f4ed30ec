/**
 * `npm run bench` (`-- --quick` for a ~1-minute smoke run): shardcache on workerd through the
 * Miniflare API (no `wrangler dev` proxy), next to a bare constant-body worker on the same runtime
 * and the same kind of listener, measured in the same run; nginx and Varnish in front of the same
 * demo origin where installed. Writes bench/results/<timestamp>.json and prints markdown tables.
 *
 * Phases (each bounded in time and count, loopback only):
 *   (a) edge-tier hit throughput vs the bare worker (also with a rate-class check on the hit path, and
 *       without the edge tier's request counting, EDGE_COUNTING=off, to measure what counting costs)
 *   (b) shard-tier hit (edgeTtlCapSeconds: 0) vs the bare worker
 *   (c) thundering herd: 200 concurrent cold requests, origin delay 300 ms → origin fetches
 *   (d) Zipf(s=1) over 10,000 objects, max-age=2, fixed request rate → hit ratio, origin fetches per object per window
 *   (e) micro: HRW ns/key, rule evaluation µs, edge counting ns/request      (f) nginx / Varnish: the same hit and herd workloads
 *   (g) the engine at scale (scripts/lib/scale.ts): shard calls of the herd, beside the same herd on a
 *       baseline build (`--baseline=REF`, default: the commit before edge single-flight); steady load on
 *       one hot object across its expiries with and without refreshTimeSeconds; Zipf with a per-shard
 *       storage budget smaller than the working set, beside an unbounded run
 * Per-request CPU inside the worker is not observable from here and is not reported.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runHrwBench } from "./bench-hrw";
import { runRulesBench } from "./bench-rules";
import { runCountingBench } from "./bench-counting";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin";
import { burst, get, isHit, keepAliveAgent, openLoop, throughput, wrkAvailable, type ThroughputResult } from "./lib/load";
import { nginxAvailable, startNginx, startVarnish, varnishAvailable, type ProxyServer } from "./lib/proxies";
import { BARE_WORKER_SCRIPT, bundleShardcache, REPO_ROOT, sourceRefFromArgs, startRuntime, workerdVersion, type Runtime } from "./lib/runtime";
import { BASELINE_REF, budgetedZipf, originFetches, shardCallsDuring, steadyHotObject } from "./lib/scale";
import { fmt, machineInfo, machineLine, markdownTable, median, percentileSorted, prng, zipfSampler } from "./lib/stats";

const quick = process.argv.includes("--quick");
/** The build the herd's shard calls are compared with: before edge single-flight. */
const baselineRef = process.argv.find((a) => a.startsWith("--baseline="))?.slice("--baseline=".length) ?? BASELINE_REF;
const skipProxies = process.argv.includes("--no-proxies");
/** `--source=HEAD` (any git ref) measures that commit instead of the working tree. */
const sourceRef = sourceRefFromArgs(process.argv);

const plan = quick
  ? {
      repeats: 1,
      runMs: 2_000,
      connections: 32,
      herd: 200,
      herdDelayMs: 300,
      zipfObjects: 10_000,
      zipfRate: 200,
      zipfMs: 6_000,
      maxAgeS: 2,
      hrwKeys: 20_000,
      hrwRepeats: 3,
      hrwBalanceKeys: 100_000,
      rulesIterations: 5_000,
      rulesRepeats: 3,
      steadyRate: 100,
      steadyMs: 10_000,
      steadyDelayMs: 150,
      refreshTimeS: 4,
      budgetZipfMs: 6_000,
      budgetBytes: 64 * 1024,
    }
  : {
      repeats: 3,
      runMs: 5_000,
      connections: 32,
      herd: 200,
      herdDelayMs: 300,
      zipfObjects: 10_000,
      zipfRate: 200,
      zipfMs: 20_000,
      maxAgeS: 2,
      hrwKeys: 100_000,
      hrwRepeats: 5,
      hrwBalanceKeys: 1_000_000,
      rulesIterations: 20_000,
      rulesRepeats: 5,
      steadyRate: 100,
      steadyMs: 20_000,
      steadyDelayMs: 150,
      refreshTimeS: 4,
      budgetZipfMs: 15_000,
      budgetBytes: 64 * 1024,
    };

/** Acceptance goals (issue 7). HRW and rule budgets: no written number exists; these are the ones this benchmark holds them to. */
export const GOALS = { countingCost: 0.05, edgeHitRatio: 0.9, shardHitRatio: 0.6, herdFetches: 1, zipfFetchesPerWindow: 1, hrwNsAt64: 1_000, hrwNsAt256: 4_000, rulesP50MicrosAt1000: 20 };

const t0 = performance.now();
const elapsed = () => {
  const s = Math.round((performance.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};
const progress = (text: string) => console.error(`[${elapsed()}] ${text}`);

interface ThroughputSummary {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  runs: ThroughputResult[];
}

function summarise(name: string, runs: ThroughputResult[]): ThroughputSummary {
  return { name, rps: median(runs.map((r) => r.rps)), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)), errors: runs.reduce((a, r) => a + r.errors, 0), runs };
}

/** Interleaves the targets (A, B, C, A, B, C, …) so drift in the machine hits all of them alike. */
async function interleaved(targets: readonly { name: string; url: string }[]): Promise<ThroughputSummary[]> {
  const runs = new Map<string, ThroughputResult[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < plan.repeats; r++) {
    for (const t of targets) {
      const result = await throughput(t.url, plan.runMs, plan.connections);
      runs.get(t.name)!.push(result);
      progress(`  run ${r + 1}/${plan.repeats} ${t.name}: ${fmt.int(result.rps)} req/s, p50 ${fmt.ms(result.p50Ms)}, p99 ${fmt.ms(result.p99Ms)}${result.errors ? `, ${result.errors} errors` : ""}`);
    }
  }
  return targets.map((t) => summarise(t.name, runs.get(t.name)!));
}

/** Sends a few requests and checks the last one's Cache-Status matches `expect`. */
async function warm(url: string, expect: RegExp, what: string): Promise<string> {
  const agent = keepAliveAgent(1);
  let status = "";
  for (let i = 0; i < 5; i++) {
    const reply = await get(url, agent);
    status = String(reply.headers["cache-status"] ?? reply.headers["x-cache-status"] ?? reply.headers["x-varnish"] ?? "");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  agent.destroy();
  if (!expect.test(status)) throw new Error(`${what}: expected Cache-Status matching ${expect}, got "${status}"`);
  return status;
}

async function herd(origin: DemoOrigin, baseUrl: string, tag: string) {
  const path = `/herd-${tag}-${Date.now()}`;
  const result = await burst(`${baseUrl}${path}?delay=${plan.herdDelayMs}`, plan.herd);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const ok = result.statuses.get(200) ?? 0;
  return { requests: plan.herd, ok, failed: plan.herd - ok, originFetches: originFetches(origin, path), wallMs: Math.round(result.maxLatencyMs) };
}

async function zipf(origin: DemoOrigin, baseUrl: string) {
  const run = Date.now().toString(36);
  const objects = plan.zipfObjects;
  const windowMs = plan.maxAgeS * 1000;
  const sample = zipfSampler(objects, 1, prng(7));
  const prefix = `/zipf-${run}/`;
  const query = `?cc=${encodeURIComponent(`public, max-age=${plan.maxAgeS}`)}`;
  const result = await openLoop({
    rate: plan.zipfRate,
    durationMs: plan.zipfMs,
    maxInFlight: 256,
    next: () => {
      const tag = sample();
      return { url: `${baseUrl}${prefix}${tag}${query}`, tag };
    },
  });
  const answered = result.samples.filter((s) => s.status === 200);
  const hits = answered.filter((s) => isHit(s.headers?.["cache-status"])).length;
  const edgeHits = answered.filter((s) => /shardcache-edge;\s*hit/.test(String(s.headers?.["cache-status"] ?? ""))).length;
  // (object, max-age window) pairs that saw requests: the most origin fetches an ideal cache needs is one per pair.
  const pairs = new Set(result.samples.map((s) => `${s.tag}:${Math.floor(s.scheduledMs / windowMs)}`));
  // Leader fetches as the client saw them (the shard's member carries fwd-status and no `collapsed`), per pair.
  const leaderPerPair = new Map<string, number>();
  for (const s of answered) {
    const cs = String(s.headers?.["cache-status"] ?? "");
    const shardMember = /shardcache-shard;[^,]*/.exec(cs)?.[0] ?? "";
    if (/fwd-status=/.test(shardMember) && !/collapsed/.test(shardMember)) {
      const key = `${s.tag}:${Math.floor(s.scheduledMs / windowMs)}`;
      leaderPerPair.set(key, (leaderPerPair.get(key) ?? 0) + 1);
    }
  }
  // An ideal shared cache with an exact clock: one fetch per object, then fresh for max-age.
  const byObject = new Map<number, number[]>();
  for (const s of result.samples) (byObject.get(s.tag) ?? byObject.set(s.tag, []).get(s.tag)!).push(s.scheduledMs);
  let ideal = 0;
  for (const times of byObject.values()) {
    times.sort((a, b) => a - b);
    let freshUntil = -Infinity;
    for (const t of times) if (t >= freshUntil) ideal++, (freshUntil = t + windowMs);
  }
  const fetches = originFetches(origin, prefix);
  const latencies = Float64Array.from(answered.map((s) => s.latencyMs)).sort();
  const perPair = [...leaderPerPair.values()];
  return {
    objects,
    s: 1,
    maxAgeSeconds: plan.maxAgeS,
    rate: plan.zipfRate,
    durationMs: plan.zipfMs,
    sent: result.samples.length,
    dropped: result.dropped,
    errors: result.errors,
    hitRatio: hits / answered.length,
    edgeHitRatio: edgeHits / answered.length,
    distinctObjects: byObject.size,
    objectWindows: pairs.size,
    originFetches: fetches,
    fetchesPerObjectPerWindow: fetches / pairs.size,
    idealFetches: ideal,
    fetchesOverIdeal: fetches / ideal,
    maxFetchesInOneObjectWindow: perPair.length === 0 ? 0 : Math.max(...perPair),
    objectWindowsWithMoreThanOneFetch: perPair.filter((n) => n > 1).length,
    p50Ms: percentileSorted(latencies, 50),
    p99Ms: percentileSorted(latencies, 99),
  };
}

async function proxyPhase(origin: DemoOrigin, start: (originUrl: string) => Promise<ProxyServer>) {
  const server = await start(origin.url);
  try {
    progress(`${server.name} (pid ${server.pid}): warming the hit object`);
    // nginx: X-Cache-Status HIT; Varnish: X-Varnish carries two transaction ids on a hit.
    await warm(`${server.cacheUrl}/hot-${server.name}`, /HIT|^\d+ \d+$/, `${server.name} hit`);
    const [ref, hit] = await interleaved([
      { name: `${server.name} reference (constant body)`, url: server.referenceUrl },
      { name: `${server.name} cache hit`, url: `${server.cacheUrl}/hot-${server.name}` },
    ]);
    progress(`${server.name}: herd of ${plan.herd}`);
    const herdResult = await herd(origin, server.cacheUrl, server.name);
    return { name: server.name, reference: ref!, hit: hit!, ratio: hit!.rps / ref!.rps, herd: herdResult };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const machine = machineInfo(await workerdVersion());
  progress(`machine: ${machineLine(machine)}`);
  progress(
    `${quick ? "quick" : "full"} run: ${plan.repeats} × ${plan.runMs / 1000} s per throughput figure, load by ${wrkAvailable() ? `wrk -t2 -c${plan.connections}` : `the Node closed loop (${plan.connections} connections; wrk not installed)`}`,
  );
  const origin = await startDemoOrigin(0);
  const bundle = await bundleShardcache(sourceRef);
  progress(`bundled src/index.ts from ${sourceRef === null ? "the working tree" : `git ${sourceRef} (${gitRev(sourceRef)})`}`);
  let runtime: Runtime | null = null;
  try {
    progress("starting workerd (Miniflare API): shardcache, shardcache with edgeTtlCapSeconds 0, bare worker");
    runtime = await startRuntime(bundle, origin.url, [
      { name: "shardcache", config: null },
      { name: "shardcache-shard-tier", config: { settings: { edgeTtlCapSeconds: 0 } }, doOwner: "shardcache" },
      // A rate class generous enough never to refuse: what is measured is the cost of the check itself.
      { name: "shardcache-rated", config: { rateClasses: { bench: { perSecond: 1_000_000 } }, rules: [{ match: { path: "/hot-rated" }, actions: { rateClass: { name: "bench" } } }] }, doOwner: "shardcache" },
      // The same edge hit with request counting switched off: the difference is what counting costs.
      { name: "shardcache-uncounted", config: null, doOwner: "shardcache", vars: { EDGE_COUNTING: "off" } },
      { name: "bare", script: BARE_WORKER_SCRIPT },
      { name: "steady-plain", config: null, doOwner: "shardcache" },
      { name: "steady-refresh", config: { settings: { refreshTimeSeconds: plan.refreshTimeS } }, doOwner: "shardcache" },
      // Own Durable Object namespaces, so each one's stored bytes are its own; edge tier off so the shards answer.
      { name: "zipf-unbounded", config: { settings: { edgeTtlCapSeconds: 0 } } },
      { name: "zipf-budget", config: { settings: { edgeTtlCapSeconds: 0, storageBudgetBytes: plan.budgetBytes } } },
    ]);
    const edgeUrl = `${runtime.url("shardcache")}/hot`;
    const shardUrl = `${runtime.url("shardcache-shard-tier")}/hot-shard`;
    await warm(edgeUrl, /shardcache-edge;hit/, "edge-tier hit");
    await warm(shardUrl, /shardcache-shard;hit/, "shard-tier hit");
    const ratedUrl = `${runtime.url("shardcache-rated")}/hot-rated`;
    await warm(ratedUrl, /shardcache-edge;hit/, "edge-tier hit with a rate class");
    const uncountedUrl = `${runtime.url("shardcache-uncounted")}/hot-uncounted`;
    await warm(uncountedUrl, /shardcache-edge;hit/, "edge-tier hit without counting");
    progress("(a)(b) hit throughput: bare worker, edge-tier hit, edge-tier hit without counting, edge-tier hit with a rate class, shard-tier hit (interleaved)");
    const [bare, edge, uncounted, rated, shard] = await interleaved([
      { name: "bare worker (constant body)", url: `${runtime.url("bare")}/` },
      { name: "shardcache edge-tier hit", url: edgeUrl },
      { name: "shardcache edge-tier hit, counting off", url: uncountedUrl },
      { name: "shardcache edge-tier hit + rate-class check", url: ratedUrl },
      { name: "shardcache shard-tier hit", url: shardUrl },
    ]);
    progress(`(c) thundering herd: ${plan.herd} concurrent requests, one cold object, origin delay ${plan.herdDelayMs} ms`);
    let herdResult!: Awaited<ReturnType<typeof herd>>;
    const herdShardCalls = await shardCallsDuring(runtime, "shardcache", async () => void (herdResult = await herd(origin, runtime!.url("shardcache"), "shardcache")));
    progress(`    origin fetches: ${herdResult.originFetches}, shard calls: ${herdShardCalls}, ok ${herdResult.ok}/${herdResult.requests}`);
    progress(`(d) Zipf s=1 over ${plan.zipfObjects.toLocaleString("en")} objects, max-age=${plan.maxAgeS}, ${plan.zipfRate} req/s for ${plan.zipfMs / 1000} s`);
    const zipfResult = await zipf(origin, runtime.url("shardcache"));
    progress(`    hit ratio ${fmt.pct(zipfResult.hitRatio)}, origin fetches ${zipfResult.originFetches} over ${zipfResult.objectWindows} object-windows`);
    const scale = await scalePhases(origin, runtime);
    await runtime.dispose();
    runtime = null;
    const baselineHerd = await baselineHerdPhase(origin);

    progress("(e) micro: HRW rank and rule evaluation");
    const hrw = runHrwBench({ keys: plan.hrwKeys, repeats: plan.hrwRepeats, balanceKeys: plan.hrwBalanceKeys, weightedShardCounts: [] });
    const rules = runRulesBench({ iterations: plan.rulesIterations, repeats: plan.rulesRepeats });
    const counting = runCountingBench({ iterations: plan.rulesIterations * 50, repeats: plan.rulesRepeats });

    const proxies: Awaited<ReturnType<typeof proxyPhase>>[] = [];
    const skipped: string[] = [];
    for (const [name, available, start] of [
      ["nginx", nginxAvailable, startNginx],
      ["varnish", varnishAvailable, startVarnish],
    ] as const) {
      if (skipProxies) skipped.push(`${name}: --no-proxies`);
      else if (!available()) skipped.push(`${name}: not installed`);
      else {
        progress(`(f) ${name} in front of the same origin`);
        try {
          proxies.push(await proxyPhase(origin, start));
        } catch (error) {
          skipped.push(`${name}: ${(error as Error).message.split("\n")[0]}`);
        }
      }
    }

    const results = {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
      source: sourceRef === null ? `working tree at ${gitRev("HEAD")} (+ uncommitted changes if any)` : `git ${sourceRef} = ${gitRev(sourceRef)}`,
      mode: quick ? "quick" : "full",
      machine,
      plan,
      goals: GOALS,
      loadGenerator: wrkAvailable() ? `wrk -t2 -c${plan.connections} --latency` : `node closed loop, ${plan.connections} connections`,
      runtime: { via: "Miniflare API, one direct loopback socket per worker (no wrangler dev proxy)", options: runtime === null ? "wrangler.toml" : "" },
      throughput: {
        bare: bare!,
        edgeHit: edge!,
        uncountedHit: uncounted!,
        ratedHit: rated!,
        shardHit: shard!,
        edgeRatio: edge!.rps / bare!.rps,
        countingCost: 1 - edge!.rps / uncounted!.rps,
        ratedRatio: rated!.rps / bare!.rps,
        shardRatio: shard!.rps / bare!.rps,
      },
      herd: { ...herdResult, shardCalls: herdShardCalls },
      baselineHerd,
      scale,
      zipf: zipfResult,
      micro: { hrw, rules, counting },
      proxies,
      skipped,
      totalSeconds: Math.round((performance.now() - t0) / 1000),
    };
    const dir = join(REPO_ROOT, "bench", "results");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${results.date.replace(/[:.]/g, "-")}${quick ? "-quick" : ""}.json`);
    await writeFile(file, JSON.stringify(results, null, 2) + "\n");
    console.log(report(results));
    progress(`results: ${file} (${results.totalSeconds} s)`);
  } finally {
    if (runtime !== null) await runtime.dispose();
    await bundle.dispose();
    await origin.close();
  }
}

type Results = {
  command: string;
  source: string;
  machine: ReturnType<typeof machineInfo>;
  loadGenerator: string;
  throughput: {
    bare: ThroughputSummary;
    edgeHit: ThroughputSummary;
    uncountedHit: ThroughputSummary;
    ratedHit: ThroughputSummary;
    shardHit: ThroughputSummary;
    edgeRatio: number;
    countingCost: number;
    ratedRatio: number;
    shardRatio: number;
  };
  herd: Awaited<ReturnType<typeof herd>> & { shardCalls: number };
  baselineHerd: Awaited<ReturnType<typeof baselineHerdPhase>>;
  scale: Awaited<ReturnType<typeof scalePhases>>;
  zipf: Awaited<ReturnType<typeof zipf>>;
  micro: { hrw: ReturnType<typeof runHrwBench>; rules: ReturnType<typeof runRulesBench>; counting: ReturnType<typeof runCountingBench> };
  proxies: Awaited<ReturnType<typeof proxyPhase>>[];
  skipped: string[];
};

/** (g) steady load across expiries, with and without refresh time; Zipf with and without a storage budget. */
async function scalePhases(origin: DemoOrigin, runtime: Runtime) {
  const steady = async (worker: string) => {
    const prefix = `/steady-${worker}-${Date.now().toString(36)}`;
    const url = `${runtime.url(worker)}${prefix}?delay=${plan.steadyDelayMs}&cc=${encodeURIComponent(`public, max-age=${plan.maxAgeS}`)}&etag=v1`;
    progress(`(g) steady load on one object (max-age=${plan.maxAgeS}, origin delay ${plan.steadyDelayMs} ms), ${plan.steadyRate} req/s × ${plan.steadyMs / 1000} s: ${worker}`);
    const result = await steadyHotObject(origin, url, prefix, { rate: plan.steadyRate, durationMs: plan.steadyMs, maxAgeS: plan.maxAgeS, originDelayMs: plan.steadyDelayMs });
    progress(`    ${result.waitedOnOrigin} of ${result.requests} waited on the origin; ${result.originFetches} origin fetches; p99 ${fmt.ms(result.p99Ms)}`);
    return result;
  };
  const steadyPlain = await steady("steady-plain");
  const steadyRefresh = await steady("steady-refresh");
  const zipfBudget = async (worker: string) => {
    progress(`(g) Zipf s=1 over ${plan.zipfObjects.toLocaleString("en")} objects of 2 KiB, max-age=60, ${plan.zipfRate} req/s × ${plan.budgetZipfMs / 1000} s: ${worker}`);
    const result = await budgetedZipf(runtime, worker, worker, { objects: plan.zipfObjects, rate: plan.zipfRate, durationMs: plan.budgetZipfMs, maxAgeS: 60 });
    progress(`    hit ratio ${fmt.pct(result.hitRatio)}, most stored bytes in one shard ${result.maxShardStoredBytes.toLocaleString("en")}, ${result.storageEvictions} evictions`);
    return result;
  };
  const zipfUnbounded = await zipfBudget("zipf-unbounded");
  const zipfBudgeted = await zipfBudget("zipf-budget");
  return { steadyPlain, steadyRefresh, zipfUnbounded, zipfBudgeted };
}

/** The herd of (c) on the baseline build, in its own runtime: the shard calls before edge single-flight. */
async function baselineHerdPhase(origin: DemoOrigin) {
  progress(`(g) the same herd on the baseline build (git ${baselineRef})`);
  let bundle: Awaited<ReturnType<typeof bundleShardcache>> | null = null;
  let baseline: Runtime | null = null;
  try {
    bundle = await bundleShardcache(baselineRef);
    baseline = await startRuntime(bundle, origin.url, [{ name: "baseline", config: null }]);
    let result!: Awaited<ReturnType<typeof herd>>;
    const shardCalls = await shardCallsDuring(baseline, "baseline", async () => void (result = await herd(origin, baseline!.url("baseline"), "baseline")));
    progress(`    origin fetches: ${result.originFetches}, shard calls: ${shardCalls}`);
    return { ref: `${baselineRef} (${gitRev(baselineRef)})`, ...result, shardCalls };
  } catch (error) {
    return { ref: baselineRef, error: (error as Error).message.split("\n")[0] };
  } finally {
    if (baseline !== null) await baseline.dispose();
    if (bundle !== null) await bundle.dispose();
  }
}

function scaleReport(r: Results): string {
  const out: string[] = [];
  const { steadyPlain: plain, steadyRefresh: refresh, zipfUnbounded: unbounded, zipfBudgeted: budgeted } = r.scale;
  const b = r.baselineHerd;
  out.push("### The cache engine at scale");
  const herdBaseline = "error" in b ? `baseline ${b.ref} did not run: ${b.error}` : `${b.shardCalls} shard calls, ${b.originFetches} origin fetch(es) (before edge single-flight, git ${b.ref})`;
  const refreshBound = Math.ceil(plan.steadyMs / 1000 / plan.refreshTimeS);
  out.push(
    markdownTable(
      ["workload", "result", "beside", "goal"],
      [
        [
          `herd: ${r.herd.requests} cold requests at one data centre`,
          `**${r.herd.shardCalls}** shard call(s), ${r.herd.originFetches} origin fetch(es), ${r.herd.ok}/${r.herd.requests} ok`,
          herdBaseline,
          `1 and 1: ${met(r.herd.shardCalls === 1 && r.herd.originFetches === 1)}`,
        ],
        [
          `steady ${plan.steadyRate} req/s × ${plan.steadyMs / 1000} s on one object, max-age=${plan.maxAgeS}, origin delay ${plan.steadyDelayMs} ms, refreshTimeSeconds ${plan.refreshTimeS}`,
          `**${refresh.waitedOnOrigin}** of ${refresh.requests} waited on the origin (${refresh.slowerThanOrigin} slower than its delay); ${refresh.originFetches} origin fetches (≤ 1 per ${plan.refreshTimeS} s: at most ${refreshBound}); p50 ${fmt.ms(refresh.p50Ms)}, p99 ${fmt.ms(refresh.p99Ms)}`,
          `without the setting: ${plain.waitedOnOrigin} of ${plain.requests} waited (${plain.slowerThanOrigin} slower than the origin's delay); ${plain.originFetches} origin fetches; p50 ${fmt.ms(plain.p50Ms)}, p99 ${fmt.ms(plain.p99Ms)}`,
          `0 waited, ≤ ${refreshBound} fetches: ${met(refresh.waitedOnOrigin === 0 && refresh.originFetches <= refreshBound && refresh.errors === 0)}`,
        ],
        [
          `Zipf s=1, ${plan.zipfObjects.toLocaleString("en")} objects × 2 KiB, ${plan.zipfRate} req/s × ${plan.budgetZipfMs / 1000} s, edge tier off, storageBudgetBytes ${plan.budgetBytes.toLocaleString("en")} per shard`,
          `hit ratio ${fmt.pct(budgeted.hitRatio)}; most stored in one shard **${budgeted.maxShardStoredBytes.toLocaleString("en")}** bytes over ${budgeted.samples} samples; ${budgeted.storageEvictions} evictions`,
          `unbounded: hit ratio ${fmt.pct(unbounded.hitRatio)}, most stored in one shard ${unbounded.maxShardStoredBytes.toLocaleString("en")} bytes`,
          `never above the budget: ${met(budgeted.maxShardStoredBytes <= plan.budgetBytes && unbounded.maxShardStoredBytes > plan.budgetBytes)}`,
        ],
      ],
    ),
  );
  return out.join("\n");
}

function gitRev(ref: string): string {
  try {
    return execFileSync("git", ["-C", REPO_ROOT, "rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

const met = (ok: boolean) => (ok ? "met" : "**missed**");

function report(r: Results): string {
  const { bare, edgeHit, uncountedHit, ratedHit, shardHit, edgeRatio, countingCost, ratedRatio, shardRatio } = r.throughput;
  const out: string[] = [];
  out.push(`Machine: ${machineLine(r.machine)}`);
  out.push(`Source: ${r.source}`);
  out.push(`Command: \`${r.command}\`; load: ${r.loadGenerator}; throughput = median of ${plan.repeats} × ${plan.runMs / 1000} s runs, interleaved.`);
  out.push("");
  out.push("### Hit throughput on workerd (Miniflare API, same listener for every worker)");
  out.push(
    markdownTable(
      ["workload", "req/s", "p50", "p99", "× bare worker", "goal"],
      [
        [bare.name, fmt.int(bare.rps), fmt.ms(bare.p50Ms), fmt.ms(bare.p99Ms), "1.00×", "reference"],
        [edgeHit.name, fmt.int(edgeHit.rps), fmt.ms(edgeHit.p50Ms), fmt.ms(edgeHit.p99Ms), fmt.ratio(edgeRatio), `≥ ${GOALS.edgeHitRatio}×: ${met(edgeRatio >= GOALS.edgeHitRatio)}`],
        [
          uncountedHit.name,
          fmt.int(uncountedHit.rps),
          fmt.ms(uncountedHit.p50Ms),
          fmt.ms(uncountedHit.p99Ms),
          fmt.ratio(uncountedHit.rps / bare.rps),
          `cost of counting: ${fmt.pct(countingCost)} of the edge hit's throughput (≤ ${fmt.pct(GOALS.countingCost)}: ${met(countingCost <= GOALS.countingCost)})`,
        ],
        [ratedHit.name, fmt.int(ratedHit.rps), fmt.ms(ratedHit.p50Ms), fmt.ms(ratedHit.p99Ms), fmt.ratio(ratedRatio), `overhead of the check: ${fmt.ratio(ratedHit.rps / edgeHit.rps)} of the plain edge hit`],
        [shardHit.name, fmt.int(shardHit.rps), fmt.ms(shardHit.p50Ms), fmt.ms(shardHit.p99Ms), fmt.ratio(shardRatio), `≥ ${GOALS.shardHitRatio}×: ${met(shardRatio >= GOALS.shardHitRatio)}`],
      ],
    ),
  );
  out.push("");
  const perHitNs = 1e9 / edgeHit.rps;
  out.push(
    `Counting on the edge hit path: ${fmt.pct(countingCost)} of the edge hit's throughput end to end (counting off vs on, same run; noise of the machine included); ` +
      `in isolation ${r.micro.counting.nsPerCount.toFixed(0)} ns per request (\`scripts/bench-counting.ts\`), ${fmt.pct(r.micro.counting.nsPerCount / perHitNs)} of the edge hit's ${fmt.int(perHitNs / 1000)} µs per request ` +
      `(goal ≤ ${fmt.pct(GOALS.countingCost)}: ${met(r.micro.counting.nsPerCount / perHitNs <= GOALS.countingCost)}).`,
  );
  out.push("");
  out.push("### Origin fetches");
  const z = r.zipf;
  out.push(
    markdownTable(
      ["workload", "result", "goal"],
      [
        [
          `herd: ${r.herd.requests} concurrent cold requests, origin delay ${plan.herdDelayMs} ms`,
          `${r.herd.originFetches} origin fetch(es), ${r.herd.ok}/${r.herd.requests} ok, all answered in ${r.herd.wallMs} ms`,
          `${GOALS.herdFetches}: ${met(r.herd.originFetches <= GOALS.herdFetches && r.herd.failed === 0)}`,
        ],
        [
          `Zipf s=1, ${z.objects.toLocaleString("en")} objects, max-age=${z.maxAgeSeconds}, ${z.rate} req/s × ${z.durationMs / 1000} s (open loop)`,
          `hit ratio ${fmt.pct(z.hitRatio)} (edge tier ${fmt.pct(z.edgeHitRatio)}); ${z.originFetches} origin fetches over ${z.objectWindows} object-windows = ${z.fetchesPerObjectPerWindow.toFixed(3)} per object per ${z.maxAgeSeconds} s window (ideal cache: ${z.idealFetches}, ratio ${z.fetchesOverIdeal.toFixed(3)}; most in one object-window: ${z.maxFetchesInOneObjectWindow}); p50 ${fmt.ms(z.p50Ms)}, p99 ${fmt.ms(z.p99Ms)}; ${z.dropped} dropped, ${z.errors} errors`,
          `≤ ${GOALS.zipfFetchesPerWindow}: ${met(z.fetchesPerObjectPerWindow <= GOALS.zipfFetchesPerWindow)}`,
        ],
      ],
    ),
  );
  out.push("");
  out.push(scaleReport(r));
  out.push("");
  out.push("### Micro-benchmarks (Node, median of repeats)");
  const hrwRows = r.micro.hrw.rank.map((t) => {
    const goal = t.shards === 64 && t.count === 1 ? `< ${GOALS.hrwNsAt64} ns: ${met(t.nsPerKey < GOALS.hrwNsAt64)}` : t.shards === 256 && t.count === 1 ? `< ${GOALS.hrwNsAt256} ns: ${met(t.nsPerKey < GOALS.hrwNsAt256)}` : "";
    return [`HRW rank(key, ${t.count}), ${t.shards} shards`, `${t.nsPerKey.toFixed(0)} ns/key`, goal];
  });
  const b = r.micro.hrw.balance;
  const m = r.micro.hrw.movement;
  hrwRows.push([`HRW balance, ${b.shards} shards × ${b.keys.toLocaleString("en")} keys`, `max/mean ${b.maxOverMean.toFixed(3)}`, ""]);
  hrwRows.push([`HRW movement ${m.fromShards} → ${m.toShards} shards`, `${(m.fraction * 100).toFixed(2)} % moved (ideal ${(m.expected * 100).toFixed(2)} %), all to the new shard: ${m.allMovedToNewShard ? "yes" : "no"}`, ""]);
  const ruleRows = r.micro.rules.map((row) => {
    const worst = row.rules === 1000 && row.scenario.startsWith("last rule, all rules");
    return [`rules: ${row.rules}, ${row.scenario}`, `p50 ${row.p50Micros.toFixed(2)} µs, p99 ${row.p99Micros.toFixed(2)} µs`, worst ? `p50 < ${GOALS.rulesP50MicrosAt1000} µs: ${met(row.p50Micros < GOALS.rulesP50MicrosAt1000)}` : ""];
  });
  out.push(markdownTable(["benchmark", "result", "goal"], [...hrwRows, ...ruleRows]));
  if (r.proxies.length > 0) {
    out.push("");
    out.push("### nginx and Varnish in front of the same origin (each against its own constant-body reference)");
    const rows: (string | number)[][] = [];
    for (const p of r.proxies) {
      rows.push([p.reference.name, fmt.int(p.reference.rps), fmt.ms(p.reference.p50Ms), fmt.ms(p.reference.p99Ms), "1.00×", "–"]);
      rows.push([p.hit.name, fmt.int(p.hit.rps), fmt.ms(p.hit.p50Ms), fmt.ms(p.hit.p99Ms), fmt.ratio(p.ratio), `${p.herd.originFetches} origin fetch(es), ${p.herd.ok}/${p.herd.requests} ok`]);
    }
    rows.push(["shardcache edge-tier hit (from above)", fmt.int(edgeHit.rps), fmt.ms(edgeHit.p50Ms), fmt.ms(edgeHit.p99Ms), fmt.ratio(edgeRatio), `${r.herd.originFetches} origin fetch(es), ${r.herd.ok}/${r.herd.requests} ok`]);
    out.push(markdownTable(["server", "req/s", "p50", "p99", "× own reference", `herd of ${plan.herd}`], rows));
  }
  if (r.skipped.length > 0) out.push(`\nSkipped: ${r.skipped.join("; ")}`);
  out.push("\nNot measured: per-request CPU time inside the worker (not observable through Miniflare).");
  return out.join("\n");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
