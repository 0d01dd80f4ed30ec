/**
 * Bounded shard storage on workerd: the SQLite budget (least-recently-used eviction, counters,
 * refusals), the maximum TTL, and the alarm sweep. Each test talks to its own shard object, so
 * budgets and counters are its own.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ShardStore } from "../../durable/shard-store";
import { TOUCH_INTERVAL_MS } from "../../durable/sqlite-object-store";
import { defaultCacheKey } from "../../src/rules/cache-key";
import type { ShardRequestContext, ShardSettings } from "../../src/serve/shard-protocol";
import { shardSettings } from "../helpers/shard-settings";
import type { StoredMeta } from "../../src/rfc9111/types";
import { advanceTime } from "../helpers/clock";
import { storedMeta } from "../helpers/stored-meta";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { shardStub as shard, untilIdle } from "../helpers/shards";

const BASE = "http://cache.test";
const KiB = 1024;

const SETTINGS = shardSettings();

/** One request straight to shard `name`, body read to the end and the store write that follows it run. */
async function viaShard(name: string, path: string, settings: Partial<ShardSettings> = {}): Promise<Response> {
  const url = `${BASE}${path}`;
  const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: { ...SETTINGS, ...settings } };
  const { response } = await shard(name).handle(new Request(url), ctx);
  await response.arrayBuffer();
  await untilIdle(name);
  return response;
}

function meta(key: string, bodyBytes: number, at: number): StoredMeta {
  return storedMeta(key, { at, bodyBytes });
}

describe("storage budget", () => {
  it("evicts least recently used variants and never holds more than the budget", async () => {
    const name = `budget-${uniquePath("s")}`;
    const budget = 64 * KiB;
    const paths = Array.from({ length: 8 }, (_, i) => `${uniquePath(`lru-${i}`)}?size=${20 * KiB}`);
    for (const path of paths) {
      await viaShard(name, path, { storageBudgetBytes: budget });
      const stats = await shard(name).stats();
      expect(stats.storedBytes).toBeLessThanOrEqual(budget);
      expect(stats.storageBudgetBytes).toBe(budget);
    }
    const stats = await shard(name).stats();
    // 20 KiB bodies plus metadata: three fit in 64 KiB, so five of the eight were evicted.
    expect(stats.storageEvictions).toBe(5);
    expect(stats.storageEvictedBytes).toBeGreaterThan(5 * 20 * KiB);
    expect(stats.storedBytes).toBeGreaterThan(2 * 20 * KiB);
    // The newest is still stored; the oldest was evicted and goes back to the origin.
    expect((await viaShard(name, paths[7]!, { storageBudgetBytes: budget })).headers.get("cache-status")).toMatch(/shardcache-shard;hit/);
    expect((await viaShard(name, paths[0]!, { storageBudgetBytes: budget })).headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(await originCount(paths[0]!)).toBe(2);
  });

  it("keeps the recently used object and evicts the idle one (used_at, at its interval)", async () => {
    await runInDurableObject(shard(`lru-order-${uniquePath("s")}`), async (_instance, state) => {
      const t0 = 1_000_000;
      const store = new ShardStore(state.storage.sql, { memoryBytes: 1024 * KiB, storageBytes: 64 * KiB });
      const body = (n: number) => [new Uint8Array(n)];
      store.put("a", { meta: meta("a", 20 * KiB, t0), chunks: body(20 * KiB) }, { maxVariants: 4, now: t0 });
      store.put("b", { meta: meta("b", 20 * KiB, t0), chunks: body(20 * KiB) }, { maxVariants: 4, now: t0 + 1 });
      store.put("c", { meta: meta("c", 20 * KiB, t0), chunks: body(20 * KiB) }, { maxVariants: 4, now: t0 + 2 });
      // "a" is read again after the touch interval: it is now the most recently used.
      expect(store.variants("a", t0 + TOUCH_INTERVAL_MS + 10)).toHaveLength(1);
      store.put("d", { meta: meta("d", 20 * KiB, t0), chunks: body(20 * KiB) }, { maxVariants: 4, now: t0 + TOUCH_INTERVAL_MS + 20 });
      expect(store.variants("b", t0 + TOUCH_INTERVAL_MS + 30)).toHaveLength(0);
      expect(store.variants("a", t0 + TOUCH_INTERVAL_MS + 30)).toHaveLength(1);
      expect(store.variants("c", t0 + TOUCH_INTERVAL_MS + 30)).toHaveLength(1);
      expect(store.evictions.storageEvictions).toBe(1);
      // A smaller budget evicts at once; the accounted total matches the rows.
      store.setBudgets(0, 30 * KiB);
      expect(store.storedBytes()).toBeLessThanOrEqual(30 * KiB);
      const rows = state.storage.sql.exec<{ total: number }>("SELECT SUM(row_bytes) AS total FROM entries").one().total;
      expect(store.storedBytes()).toBe(rows);
      // A fresh store over the same database starts from the same total.
      expect(new ShardStore(state.storage.sql, { memoryBytes: 0, storageBytes: 64 * KiB }).storedBytes()).toBe(rows);
    });
  });

  it("keeps the accounted total equal to the rows after a soft purge rewrites a row's metadata", async () => {
    await runInDurableObject(shard(`soft-total-${uniquePath("s")}`), async (_instance, state) => {
      const t0 = 1_000_000;
      const store = new ShardStore(state.storage.sql, { memoryBytes: 1024 * KiB, storageBytes: 64 * KiB });
      store.put("a", { meta: meta("a", 4 * KiB, t0), chunks: [new Uint8Array(4 * KiB)] }, { maxVariants: 4, now: t0 });
      // A soft purge shortens the stored record (its freshness lifetime becomes 0), so the row shrinks.
      expect(store.purge({ keys: ["a"] }, true)).toBe(1);
      const rows = state.storage.sql.exec<{ total: number }>("SELECT SUM(row_bytes) AS total FROM entries").one().total;
      expect(store.storedBytes()).toBe(rows);
    });
  });

  it("serves but does not keep a response larger than the whole budget", async () => {
    const name = `refuse-${uniquePath("s")}`;
    const path = `${uniquePath("huge")}?size=${100 * KiB}`;
    const first = await viaShard(name, path, { storageBudgetBytes: 64 * KiB });
    expect(first.status).toBe(200);
    const stats = await shard(name).stats();
    expect(stats.storageRefusals).toBe(1);
    expect(stats.storedBytes).toBe(0);
    await viaShard(name, path, { storageBudgetBytes: 64 * KiB });
    expect(await originCount(path)).toBe(2);
  });
});

describe("maximum TTL", () => {
  it("caps the origin's max-age and a rule's forced TTL", async () => {
    const name = `max-ttl-${uniquePath("s")}`;
    const long = await viaShard(name, `${uniquePath("long")}?cc=${encodeURIComponent("public, max-age=86400")}`, { maxTtlSeconds: 30 });
    expect(long.headers.get("cache-status")).toMatch(/ttl=(29|30)(;|$)/);
    const url = `${BASE}${uniquePath("forced")}?cc=${encodeURIComponent("max-age=0")}`;
    const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: { ...SETTINGS, maxTtlSeconds: 30 }, overrides: { forcedTtlSeconds: 3600 } };
    const { response: forced } = await shard(name).handle(new Request(url), ctx);
    await forced.arrayBuffer();
    expect(forced.headers.get("cache-status")).toMatch(/ttl=(29|30)(;|$)/);
  });

  it("lets the alarm sweep an object once its capped lifetime is over", async () => {
    const name = `sweep-${uniquePath("s")}`;
    const path = `${uniquePath("swept")}?size=4000&cc=${encodeURIComponent("public, max-age=86400")}`;
    // No grace: it would keep the entry for graceSeconds past its lifetime (faults-origin.test.ts covers grace).
    // A 2 s cap, not 1 s: Date has whole seconds, so a response can arrive up to 1 s "old" (RFC 9111 §4.2.3)
    // and a 1 s lifetime could already be over at the first sweep.
    await viaShard(name, path, { maxTtlSeconds: 2, graceSeconds: 0 });
    expect((await shard(name).stats()).storedBytes).toBeGreaterThan(4000);
    expect(await runDurableObjectAlarm(shard(name))).toBe(true);
    expect((await shard(name).stats()).storedBytes).toBeGreaterThan(4000); // still usable: not swept
    await advanceTime(2100); // past the capped lifetime, on the shard's clock
    expect(await runDurableObjectAlarm(shard(name))).toBe(true); // the first run scheduled the next sweep
    expect((await shard(name).stats()).storedBytes).toBe(0);
  });
});
