/**
 * Counters through the real worker on workerd: every client request counted once at the edge
 * (edge hits included), each request a shard saw counted once by its outcome, in SQLite, and the
 * same figures in /stats and /metrics (parsed by a real Prometheus text-format parser).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { ShardCounters } from "../../durable/shard-counters";
import { admin } from "../helpers/admin";
import { advanceTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { uniquePath } from "../helpers/origin";
import { primaryShardOf, untilIdle } from "../helpers/shards";

const BASE = "http://cache.test";
type Stats = {
  cluster: { requests: number; edge: Record<string, number>; shard: Record<string, number>; hits: number; cacheable: number; hitRatio: number | null; originFetches: number; bytesServed: number };
  shards: { shard: string; requests: Record<string, number> }[];
};
const stats = async () => (await admin("GET", "/stats")).body as Stats;
const get = async (url: string, init?: RequestInit) => {
  const response = await SELF.fetch(url, init);
  await response.arrayBuffer();
  return response;
};
const delta = (after: Record<string, number>, before: Record<string, number>) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

describe("request counters", () => {
  it("count every request once at the edge, edge hits included, and each shard request once by outcome", async () => {
    const before = await stats();
    const paths = Array.from({ length: 5 }, (_, i) => `${uniquePath(`count-${i}`)}?size=100`);
    // 5 URLs × 8 requests, one at a time: per URL one shard miss, then edge hits.
    for (let round = 0; round < 8; round++) for (const path of paths) await get(`${BASE}${path}`);
    await get(`${BASE}${uniquePath("count-post")}`, { method: "POST", body: "x" });
    await get(`${BASE}${uniquePath("count-nostore")}?cc=no-store`);
    const after = await stats();

    const edge = delta(after.cluster.edge, before.cluster.edge);
    const shard = delta(after.cluster.shard, before.cluster.shard);
    expect(after.cluster.requests - before.cluster.requests).toBe(42);
    expect(sum(edge)).toBe(42);
    expect(edge).toMatchObject({ hit: 35, miss: 6, pass: 1 });
    // Every edge miss reached exactly one shard: 5 stored misses and one not-storable pass.
    expect(shard).toMatchObject({ miss: 5, pass: 1, hit: 0 });
    expect(sum(shard)).toBe(edge.miss);
    expect(after.cluster.hits - before.cluster.hits).toBe(35);
    expect(after.cluster.bytesServed - before.cluster.bytesServed).toBeGreaterThanOrEqual(40 * 100);
    expect(after.cluster.hitRatio).not.toBeNull();
  });

  it("count a shard hit when the edge tier has no copy, and no request for a background revalidation", async () => {
    const before = await stats();
    const path = `${uniquePath("swr")}?cc=${encodeURIComponent("public, max-age=1, stale-while-revalidate=60")}`;
    await get(`${BASE}${path}`);
    await advanceTime(1_100);
    // Stale at both tiers: the shard answers stale and revalidates in the background (not a request).
    await get(`${BASE}${path}`);
    // Once the revalidation's origin fetch is closed it has been answered: had it counted as a request, it would have been by now.
    await untilIdle(primaryShardOf(path));
    const after = await stats();
    expect(delta(after.cluster.edge, before.cluster.edge)).toMatchObject({ miss: 2 });
    const shard = delta(after.cluster.shard, before.cluster.shard);
    expect(shard).toMatchObject({ miss: 1, stale: 1 });
    expect(sum(shard)).toBe(2);
  });

  it("keep a shard's counters in its SQLite storage: a new counter object over the same storage reads them", async () => {
    const path = `${uniquePath("persist")}?size=10`;
    await get(`${BASE}${path}`);
    const { shards } = await stats();
    const busy = shards.find((s) => (s.requests.miss ?? 0) > 0)!;
    const stub = env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(busy.shard));
    const reread = await runInDurableObject(stub, (_instance, state) => new ShardCounters(state.storage.sql, Date.now).totals());
    expect(reread.requests.miss).toBe(busy.requests.miss);
    expect(reread.requests.miss).toBeGreaterThan(0);
  });

  it("drop garbage rows at the collector and keep the good ones", async () => {
    const collector = env.METRICS_COLLECTOR.get(env.METRICS_COLLECTOR.idFromName("garbage-test"));
    const good = { minute: 1000, rule: "r", outcome: "hit", requests: 2, bytes: 10 };
    const taken = await collector.add([good, { ...good, outcome: "bogus" }, { ...good, requests: -1 }, { ...good, requests: 1.5 }, null, "x", { ...good, rule: "x".repeat(201) }]);
    expect(taken).toBe(1);
    const read = await collector.read(999);
    expect(read.totals).toEqual([{ rule: "r", outcome: "hit", requests: 2, bytes: 10 }]);
    expect(read.minutes).toEqual([{ minute: 1000, outcome: "hit", requests: 2, bytes: 10 }]);
  });
});

describe("GET /metrics", () => {
  it("is the Prometheus text format, behind the admin token, with the same request counts as /stats", async () => {
    expect((await SELF.fetch(`${BASE}/_shardcache/metrics`)).status).toBe(401);
    const path = `${uniquePath("metrics")}?size=10`;
    for (let i = 0; i < 3; i++) await get(`${BASE}${path}`);
    const { response, body } = await admin("GET", "/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheusTextFormat(body as string);
    const family = (name: string) => families.find((f) => f.name === name);
    const requests = family("shardcache_requests_total")!;
    expect(requests.type).toBe("COUNTER");
    const tierSum = (tier: string) => requests.metrics.filter((m) => m.labels?.tier === tier).reduce((s, m) => s + Number(m.value), 0);
    const after = await stats();
    // Admin requests are not client requests: neither the scrape nor this read moves the counts.
    expect(tierSum("edge")).toBe(after.cluster.requests);
    expect(tierSum("shard")).toBe(sum(after.cluster.shard));
    expect(Number(requests.metrics.find((m) => m.labels?.tier === "edge" && m.labels.outcome === "hit")!.value)).toBe(after.cluster.edge.hit);
    for (const name of ["shardcache_origin_fetches_total", "shardcache_coalesced_total", "shardcache_objects", "shardcache_stored_bytes", "shardcache_shard_up", "shardcache_bytes_served_total", "shardcache_config_info"]) {
      expect(family(name), name).toBeDefined();
    }
    expect(family("shardcache_shard_up")!.metrics).toHaveLength(16);
  });
});

describe("access log", () => {
  it("writes one JSON line per request when settings.accessLog is on, with both tiers' outcomes", async () => {
    await putConfig({ settings: { accessLog: true } });
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    try {
      const path = `${uniquePath("logged")}?size=64`;
      await get(`${BASE}${path}`);
      await get(`${BASE}${path}`);
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => String(e.path).startsWith(path.split("?")[0]!));
      expect(entries).toHaveLength(2);
      expect(entries[0]).toMatchObject({ method: "GET", host: "cache.test", path, status: 200, edge: "miss", shard: "miss", shardName: expect.stringMatching(/^shard-\d+$/), origin: expect.stringMatching(/^127\.0\.0\.1:\d+$/), bytes: 64 });
      expect(entries[1]).toMatchObject({ edge: "hit", shard: null, shardName: null, origin: null, bytes: 64 });
      expect(typeof entries[0]!.ttfbMs).toBe("number");
      expect(Number.isNaN(Date.parse(String(entries[0]!.time)))).toBe(false);
    } finally {
      console.log = original;
    }
  });

  it("writes nothing by default", async () => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    try {
      await get(`${BASE}${uniquePath("unlogged")}?size=8`);
    } finally {
      console.log = original;
    }
    expect(lines.filter((l) => l.includes("unlogged"))).toEqual([]);
  });
});
