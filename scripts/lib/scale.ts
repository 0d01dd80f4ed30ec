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

type ShardStatsLike = { calls?: number; hits: number; misses: number; coalesced: number; passes: number; storedBytes: number; storageEvictions?: number };
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

export interface SteadyResult {
  requests: number;
  errors: number;
  /**
   * Requests that waited on the origin, as their Cache-Status says: a shard member with fwd-status (the
   * shard fetched or revalidated for this request) or collapsed (it waited on another's fetch). A
   * background refresh leaves neither on the response it did not delay.
   */
  waitedOnOrigin: number;
  /** Requests slower than the origin's delay (a cross-check on a loaded machine, not the measure). */
  slowerThanOrigin: number;
  originFetches: number;
  expiries: number;
  p50Ms: number;
  p99Ms: number;
}

/** Open-loop load on ONE object (stored first) with max-age=`maxAgeS` and an origin delay, for `durationMs`. */
export async function steadyHotObject(origin: DemoOrigin, url: string, prefix: string, opts: { rate: number; durationMs: number; maxAgeS: number; originDelayMs: number }): Promise<SteadyResult> {
  const agent = keepAliveAgent(1);
  await get(url, agent);
  agent.destroy();
  const run = await openLoop({ rate: opts.rate, durationMs: opts.durationMs, maxInFlight: 128, next: () => ({ url, tag: 0 }) });
  await sleep(opts.originDelayMs + 200);
  const ok = run.samples.filter((s) => s.status === 200);
  const latencies = Float64Array.from(ok.map((s) => s.latencyMs)).sort();
  return {
    requests: run.samples.length,
    errors: run.samples.length - ok.length,
    waitedOnOrigin: ok.filter((s) => /fwd-status=|collapsed/.test(String(s.headers?.["cache-status"] ?? ""))).length,
    slowerThanOrigin: ok.filter((s) => s.latencyMs >= opts.originDelayMs).length,
    originFetches: originFetches(origin, prefix) - 1, // the fetch that stored it before the run
    expiries: Math.floor(opts.durationMs / (opts.maxAgeS * 1000)),
    p50Ms: percentileSorted(latencies, 50),
    p99Ms: percentileSorted(latencies, 99),
  };
}

export interface BudgetedZipfResult {
  sent: number;
  errors: number;
  hitRatio: number;
  /** Highest accounted bytes any one shard held at any sample. */
  maxShardStoredBytes: number;
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
    hitRatio: ok.length === 0 ? 0 : hits / ok.length,
    maxShardStoredBytes: maxStored,
    storageEvictions: final.reduce((sum, s) => sum + (s.storageEvictions ?? 0), 0),
    samples,
  };
}
