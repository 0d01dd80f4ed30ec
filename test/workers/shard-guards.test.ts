/**
 * Shard behaviours that once had no test (issue #12: with each one broken the suite still passed): a
 * rule's response header edits before the cacheability test, the per-key variant cap, the purge that
 * voids a response still on its way from the origin, and hit-for-pass. Each test talks to its own
 * shard object and its own origin paths, so stored state and origin counts are its own.
 */
import { describe, expect, it } from "vitest";
import { defaultCacheKey } from "../../src/rules/cache-key";
import type { ShardRequestContext, ShardSettings } from "../../src/serve/shard-protocol";
import { shardSettings } from "../helpers/shard-settings";
import { advanceTime } from "../helpers/clock";
import { failOrigin, withQuery } from "../helpers/http";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { shardStub as shard, untilIdle } from "../helpers/shards";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";

const SETTINGS = shardSettings();

type Extra = { settings?: Partial<ShardSettings>; headers?: Record<string, string>; context?: Partial<ShardRequestContext> };

/** The shard's answer with its body read to the end, once the store write that follows the body has run. */
async function viaShard(name: string, path: string, extra: Extra = {}): Promise<{ response: Response; cacheStatus: string }> {
  const url = `${BASE}${path}`;
  const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: { ...SETTINGS, ...extra.settings }, ...extra.context };
  const { response } = await shard(name).handle(new Request(url, { headers: extra.headers ?? {} }), ctx);
  await response.arrayBuffer();
  await untilIdle(name);
  return { response, cacheStatus: response.headers.get("cache-status") ?? "" };
}

describe("rule response header edits", () => {
  it("apply before the cacheability test: a private response made public is stored, a removed header is gone", async () => {
    const name = `edits-${uniquePath("s")}`;
    const path = `${uniquePath("edited")}?cc=private&h-x-powered-by=php`;
    const context = { responseHeaders: { remove: ["cache-control", "x-powered-by"], set: { "cache-control": "public, max-age=60" } } };
    const first = await viaShard(name, path, { context });
    expect(first.cacheStatus).toMatch(/shardcache-shard;fwd=uri-miss;fwd-status=200;ttl=\d+;stored$/);
    expect(first.response.headers.get("cache-control")).toBe("public, max-age=60");
    expect(first.response.headers.has("x-powered-by")).toBe(false);
    const second = await viaShard(name, path, { context });
    expect(second.cacheStatus).toMatch(/shardcache-shard;hit/);
    expect(second.response.headers.has("x-powered-by")).toBe(false);
    expect(await originCount(path)).toBe(1);
    // Without the edits the same origin response is private: not stored.
    const plainPath = `${uniquePath("unedited")}?cc=private`;
    await viaShard(name, plainPath);
    await viaShard(name, plainPath);
    expect(await originCount(plainPath)).toBe(2);
  });
});

describe("variant cap", () => {
  it("keeps at most maxVariants variants per key, dropping the oldest stored", async () => {
    const name = `variants-${uniquePath("s")}`;
    const path = `${uniquePath("varied")}?vary=x-v`;
    const settings = { maxVariants: 2 };
    for (const v of ["a", "b", "c"]) expect((await viaShard(name, path, { settings, headers: { "x-v": v } })).cacheStatus).toMatch(/;stored$/);
    expect(await originCount(path)).toBe(3);
    // "b" and "c" are the two kept; "a", stored first, was dropped and goes back to the origin.
    expect((await viaShard(name, path, { settings, headers: { "x-v": "c" } })).cacheStatus).toMatch(/shardcache-shard;hit/);
    expect((await viaShard(name, path, { settings, headers: { "x-v": "b" } })).cacheStatus).toMatch(/shardcache-shard;hit/);
    expect((await viaShard(name, path, { settings, headers: { "x-v": "a" } })).cacheStatus).toMatch(/fwd=vary-miss/);
    expect(await originCount(path)).toBe(4);
  });
});

describe("purge during an origin fetch", () => {
  it("serves the response that left before the purge but does not store it", async () => {
    const name = `purge-flight-${uniquePath("s")}`;
    const path = `${uniquePath("in-flight")}?delay=400&cc=${encodeURIComponent("public, max-age=600")}`;
    const pending = viaShard(name, path);
    // The origin request has arrived; its answer comes 400 ms later.
    expect(await eventually(async () => (await originCount(path)) === 1)).toBe(true);
    await shard(name).purge({ all: true }, false);
    const first = await pending;
    expect(first.response.status).toBe(200);
    const second = await viaShard(name, path);
    expect(second.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await originCount(path)).toBe(2);
    // Control: without a purge the same response is stored and the next request is a hit.
    const third = await viaShard(name, path);
    expect(third.cacheStatus).toMatch(/shardcache-shard;hit/);
    expect(await originCount(path)).toBe(2);
  });
});

describe("hit-for-pass", () => {
  it("after a response that was not storable, concurrent requests for the key go to the origin without coalescing", async () => {
    const name = `hfp-${uniquePath("s")}`;
    const path = `${uniquePath("uncacheable")}?delay=200&cc=no-store`;
    expect((await viaShard(name, path)).cacheStatus).toMatch(/detail=response-no-store/);
    const [a, b] = await Promise.all([viaShard(name, path), viaShard(name, path)]);
    // Coalesced, one of them would have waited for the other's answer and then been released (collapse-released).
    expect(a.cacheStatus).toMatch(/detail=hit-for-pass/);
    expect(b.cacheStatus).toMatch(/detail=hit-for-pass/);
    expect(await originCount(path)).toBe(3);
  });
});

describe("collapsed waiters", () => {
  // Their X-Cache-Info once read "cached" while their Cache-Status member said hit=false.
  it("say they joined a fetch in flight, in Cache-Status and X-Cache-Info alike", async () => {
    const name = `collapse-${uniquePath("s")}`;
    const path = `${uniquePath("joined")}?delay=300`;
    const [a, b] = await Promise.all([viaShard(name, path), viaShard(name, path)]);
    const waiter = /collapsed/.test(a.cacheStatus) ? a : b;
    expect(waiter.cacheStatus).toMatch(/^shardcache-shard;fwd=uri-miss;stored;collapsed$/);
    expect(waiter.response.headers.get("x-cache-info")).toBe("caching; joined the origin fetch already in flight");
    expect(await originCount(path)).toBe(1);
  });

  it("of a revalidation say the 304 was another request's", async () => {
    const name = `collapse-304-${uniquePath("s")}`;
    const path = `${uniquePath("joined-304")}?delay=300&etag=%22v1%22&cc=${encodeURIComponent("public, max-age=0")}`;
    await viaShard(name, path);
    const [a, b] = await Promise.all([viaShard(name, path), viaShard(name, path)]);
    const waiter = /collapsed/.test(a.cacheStatus) ? a : b;
    const leader = waiter === a ? b : a;
    expect(leader.cacheStatus).toMatch(/^shardcache-shard;fwd=stale;fwd-status=304;detail=revalidated$/);
    expect(waiter.cacheStatus).toMatch(/^shardcache-shard;fwd=stale;fwd-status=304;collapsed$/);
    expect(waiter.response.headers.get("x-cache-info")).toBe("cached; revalidated with origin (304) by the request already in flight");
    expect(await originCount(path)).toBe(2);
  });
});

describe("the edge copy", () => {
  it("is offered for a fresh GET, never for a stale copy served because the origin failed", async () => {
    const name = `edge-copy-${uniquePath("s")}`;
    const prefix = `${uniquePath("sie-copy")}/obj`;
    const url = `${BASE}${withQuery(prefix, { cc: "max-age=1, stale-if-error=60" })}`;
    const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: SETTINGS };
    const ask = async () => {
      const result = await shard(name).handle(new Request(url), ctx);
      await result.response.arrayBuffer();
      return result;
    };
    expect((await ask()).edgeCopy).toBeDefined();
    await untilIdle(name); // the store write follows the body
    expect((await ask()).edgeCopy).toBeDefined();
    await advanceTime(1300);
    await failOrigin(prefix, "503");
    try {
      const stale = await ask();
      expect(stale.member).toMatchObject({ hit: true, detail: "stale-if-error" });
      expect(stale.edgeCopy).toBeUndefined();
    } finally {
      await failOrigin(prefix, "off");
    }
  });
});

describe("a HEAD miss", () => {
  it("is fetched, decided and stored as the GET it stands for, and answered without a body", async () => {
    const name = `head-${uniquePath("s")}`;
    const url = `${BASE}${uniquePath("head-miss")}`;
    const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: SETTINGS };
    const head = await shard(name).handle(new Request(url, { method: "HEAD" }), ctx);
    expect(head.response.headers.get("cache-status")).toMatch(/^shardcache-shard;fwd=uri-miss;fwd-status=200;ttl=\d+;stored$/);
    expect(await head.response.text()).toBe("");
    await untilIdle(name); // the store write follows the body
    const get = await shard(name).handle(new Request(url), ctx);
    expect(get.response.headers.get("cache-status")).toMatch(/^shardcache-shard;hit/);
    expect((await get.response.text()).length).toBeGreaterThan(0);
  });
});
