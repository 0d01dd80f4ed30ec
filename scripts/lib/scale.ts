/**
 * The cache-engine-at-scale workloads (issue 13), shared by `npm run bench` and `npm run simulate`:
 * shard calls counted by the shards themselves (their `stats().calls`, or for a baseline build that
 * predates the counter, the sum of its outcome counters), steady load on one hot object across its
 * expiries, and a Zipf run whose stored bytes are sampled against the per-shard storage budget.
 * Every workload is bounded in count and time, on loopback only.
 */
import type { DemoOrigin } from "../demo-origin";
import { get, keepAliveAgent, openLoop } from "./load";
import type { Runtime } from "./runtime";
import { percentileSorted, prng, sleep, zipfSampler } from "./stats";

type ShardStatsLike = { calls?: number; hits: number; misses: number; coalesced: number; passes: number; storedBytes: number; objects?: number; storageEvictions?: number };
type ShardStub = { stats(): Promise<ShardStatsLike> };

/** The last commit before edge single-flight: the "today" the issue compares with. */
export const BASELINE_REF = "012f378";

export const SHARD_NAMES = Array.from({ length: 16 }, (_, i) => `shard-${i}`);

/** Every shard's stats, read through the Durable Object namespace that `owner` (a worker name) holds. */
export async function shardStats(runtime: Runtime, owner: string): Promise<ShardStatsLike[]> {
  const ns = await runtime.mf.getDurableObjectNamespace("CACHE_SHARD", owner);
  return Promise.all(SHARD_NAMES.map((name) => (ns.get(ns.idFromName(name)) as unknown as ShardStub).stats()));
}

/** Calls the shards received: their own counter, or (a build without it) every outcome a call ends in. */
export function totalCalls(stats: readonly ShardStatsLike[]): number {
  return stats.reduce((sum, s) => sum + (s.calls ?? s.hits + s.misses + s.coalesced + s.passes), 0);
}

export function originFetches(origin: DemoOrigin, prefix: string): number {
  return Object.entries(origin.stats().requests).reduce((sum, [path, n]) => (path.startsWith(prefix) ? sum + n : sum), 0);
}

/** Shard calls made while `work` ran. */
export async function shardCallsDuring(runtime: Runtime, owner: string, work: () => Promise<void>): Promise<number> {
  const before = totalCalls(await shardStats(runtime, owner));
  await work();
  await sleep(200);
  return totalCalls(await shardStats(runtime, owner)) - before;
}

/** How one answer of the steady run came about, from its Cache-Status members (RFC 9211). */
export type SteadyAnswer = "edge-hit" | "shard-hit" | "shard-stale" | "edge-follower" | "waited-on-origin" | "other";

/**
 * Classifies one response's Cache-Status. A request WAITED ON THE ORIGIN when some member says the
 * origin was asked for it (`fwd-status`, either tier), or the shard member says `collapsed` (it
 * waited on another request's origin fetch inside the shard). An edge member's `collapsed` alone is
 * an edge single-flight follower: it waited on the leader's SHARD CALL, and on the origin only if the
 * shard member it shares says so. Counting every `collapsed` as a wait (the first version of this
 * bench) counted followers of shard hits, which is what made 1/1000 and 118/1000 "waits" under load.
 */
export function classifyAnswer(cacheStatus: string): SteadyAnswer {
  const members = cacheStatus
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  const shard = members.find((m) => m.startsWith("shardcache-shard;") || m === "shardcache-shard");
  const edge = members.find((m) => m.startsWith("shardcache-edge;") || m === "shardcache-edge");
  const params = (m: string | undefined) => (m === undefined ? [] : m.split(";").map((p) => p.trim()));
  if (members.some((m) => params(m).some((p) => p.startsWith("fwd-status=")))) return "waited-on-origin";
  if (params(shard).includes("collapsed")) return "waited-on-origin";
  if (shard === undefined) return params(edge).includes("hit") ? "edge-hit" : "other";
  if (params(edge).includes("collapsed")) return "edge-follower";
  if (params(shard).includes("hit")) return params(shard).includes("fwd=stale") ? "shard-stale" : "shard-hit";
  return "other";
}

export interface SteadyResult {
  requests: number;
  errors: number;
  /** Requests that waited on the origin (classifyAnswer); a background refresh delays no one. */
  waitedOnOrigin: number;
  /** Every answer by how it came about. */
  answers: Record<SteadyAnswer, number>;
  /** Requests slower than the origin's delay (a cross-check on a loaded machine, not the measure). */
  slowerThanOrigin: number;
  originFetches: number;
  expiries: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of the answers that did not wait on the origin (hits at either tier, stale, followers): "hit level". */
  p99NotWaitedMs: number;
  /** p99 of the edge-tier hits alone, in the same run. */
  p99EdgeHitMs: number;
  /** Scheduled times (ms from the start) of the answers that waited, to line them up with expiries. */
  waitedAtMs: number[];
}

/** Open-loop load on ONE object (stored first) with max-age=`maxAgeS` and an origin delay, for `durationMs`. */
export async function steadyHotObject(origin: DemoOrigin, url: string, prefix: string, opts: { rate: number; durationMs: number; maxAgeS: number; originDelayMs: number }): Promise<SteadyResult> {
  const agent = keepAliveAgent(1);
  await get(url, agent);
  agent.destroy();
  const run = await openLoop({ rate: opts.rate, durationMs: opts.durationMs, maxInFlight: 128, next: () => ({ url, tag: 0 }) });
  await sleep(opts.originDelayMs + 200);
  const ok = run.samples.filter((s) => s.status === 200);
  const answers: Record<SteadyAnswer, number> = { "edge-hit": 0, "shard-hit": 0, "shard-stale": 0, "edge-follower": 0, "waited-on-origin": 0, other: 0 };
  const classified = ok.map((s) => ({ s, kind: classifyAnswer(String(s.headers?.["cache-status"] ?? "")) }));
  for (const { kind } of classified) answers[kind]++;
  const p99Of = (xs: readonly number[]) => percentileSorted(Float64Array.from(xs).sort(), 99);
  const waited = classified.filter((c) => c.kind === "waited-on-origin");
  return {
    requests: run.samples.length,
    errors: run.samples.length - ok.length,
    waitedOnOrigin: waited.length,
    answers,
    slowerThanOrigin: ok.filter((s) => s.latencyMs >= opts.originDelayMs).length,
    originFetches: originFetches(origin, prefix) - 1, // the fetch that stored it before the run
    expiries: Math.floor(opts.durationMs / (opts.maxAgeS * 1000)),
    p50Ms: percentileSorted(Float64Array.from(ok.map((s) => s.latencyMs)).sort(), 50),
    p99Ms: p99Of(ok.map((s) => s.latencyMs)),
    p99NotWaitedMs: p99Of(classified.filter((c) => c.kind !== "waited-on-origin").map((c) => c.s.latencyMs)),
    p99EdgeHitMs: p99Of(classified.filter((c) => c.kind === "edge-hit").map((c) => c.s.latencyMs)),
    waitedAtMs: waited.map((c) => Math.round(c.s.scheduledMs)),
  };
}

export interface BudgetedZipfResult {
  sent: number;
  errors: number;
  /** Requests not sent because 256 were outstanding (the runtime fell behind). */
  dropped: number;
  hitRatio: number;
  /** Distinct objects the run asked for (its working set, in objects). */
  distinctObjects: number;
  /** Highest accounted bytes any one shard held at any sample. */
  maxShardStoredBytes: number;
  /** At the end of the run: every shard's accounted bytes and objects. */
  finalStoredBytes: number[];
  finalObjects: number[];
  storageEvictions: number;
  samples: number;
}

/** Zipf(s=1) over `objects` for `durationMs`, sampling every shard's stored bytes every 250 ms. */
export async function budgetedZipf(runtime: Runtime, worker: string, owner: string, opts: { objects: number; rate: number; durationMs: number; maxAgeS: number }): Promise<BudgetedZipfResult> {
  const sample = zipfSampler(opts.objects, 1, prng(11));
  const prefix = `/zipf-budget-${worker}-${Date.now().toString(36)}/`;
  const query = `?cc=${encodeURIComponent(`public, max-age=${opts.maxAgeS}`)}&size=2048`;
  let maxStored = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const stats = await shardStats(runtime, owner);
        maxStored = Math.max(maxStored, ...stats.map((s) => s.storedBytes));
        samples++;
      } catch {
        // a sample the loaded runtime could not answer: the next one counts
      }
      await sleep(250);
    }
  })();
  const run = await openLoop({
    rate: opts.rate,
    durationMs: opts.durationMs,
    maxInFlight: 256,
    next: () => {
      const tag = sample();
      return { url: `${runtime.url(worker)}${prefix}${tag}${query}`, tag };
    },
  });
  sampling = false;
  await sampler;
  const final = await shardStats(runtime, owner);
  maxStored = Math.max(maxStored, ...final.map((s) => s.storedBytes));
  const ok = run.samples.filter((s) => s.status === 200);
  const hits = ok.filter((s) => /shardcache-(edge|shard);hit/.test(String(s.headers?.["cache-status"] ?? ""))).length;
  return {
    sent: run.samples.length,
    errors: run.samples.length - ok.length,
    dropped: run.dropped,
    hitRatio: ok.length === 0 ? 0 : hits / ok.length,
    distinctObjects: new Set(run.samples.map((s) => s.tag)).size,
    maxShardStoredBytes: maxStored,
    finalStoredBytes: final.map((s) => s.storedBytes),
    finalObjects: final.map((s) => s.objects ?? 0),
    storageEvictions: final.reduce((sum, s) => sum + (s.storageEvictions ?? 0), 0),
    samples,
  };
}
