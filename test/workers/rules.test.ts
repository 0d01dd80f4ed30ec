/**
 * Cache rules end to end on workerd: each match type selects the request it should, and each action
 * changes what the edge and the shard do (forced TTL, response header edits before the cacheability
 * test, edge TTL, tags for purge, serve-stale windows, skip sharding, continue-merging).
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { originCount, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";

async function twice(path: string, init?: RequestInit): Promise<[Response, Response]> {
  const first = await SELF.fetch(`${BASE}${path}`, init);
  await first.arrayBuffer();
  const second = await SELF.fetch(`${BASE}${path}`, init);
  await second.arrayBuffer();
  return [first, second];
}

/** A rule that passes requests matching `match` under `prefix`; the rest are cached as usual. */
async function passWhen(prefix: string, match: Record<string, unknown>): Promise<void> {
  await putConfig({ rules: [{ name: "p", match: { path: `${prefix}/**`, ...match }, actions: { pass: true } }] });
}

describe("match types", () => {
  /** [name, match, a matching request (path suffix, init), a request under the same prefix that must not match]. */
  it.each<[string, Record<string, unknown>, [string, RequestInit], [string, RequestInit] | null]>([
    ["host", { host: "cache.test" }, ["/a", {}], null],
    ["method", { method: "GET" }, ["/a", {}], ["/b", { method: "HEAD" }]],
    ["query present", { query: { nocache: true } }, ["/a?nocache=1", {}], ["/b", {}]],
    ["header value", { headers: { "x-mode": "live" } }, ["/a", { headers: { "x-mode": "live" } }], ["/b", { headers: { "x-mode": "stored" } }]],
    ["cookie present", { cookies: { session: true } }, ["/a", { headers: { cookie: "session=1" } }], ["/b", { headers: { cookie: "other=1" } }]],
    ["client IP (CIDR)", { clientIp: "198.51.100.0/24" }, ["/a", { headers: { "cf-connecting-ip": "198.51.100.7" } }], ["/b", { headers: { "cf-connecting-ip": "203.0.113.7" } }]],
  ])("%s: matching requests pass, others are cached", async (_name, match, [matchingPath, matchingInit], other) => {
    const prefix = uniquePath("match");
    await passWhen(prefix, match);
    const [passed] = await twice(`${prefix}${matchingPath}`, matchingInit);
    expect(passed.headers.get("cache-status")).toMatch(/shardcache-edge;fwd=bypass/);
    expect(await originCount(`${prefix}${matchingPath}`)).toBe(2);
    if (other === null) return;
    await twice(`${prefix}${other[0]}`, other[1]);
    expect(await originCount(`${prefix}${other[0]}`)).toBe(1);
  });

  it("host: another host is not matched", async () => {
    const prefix = uniquePath("host");
    await passWhen(prefix, { host: "other.test" });
    await twice(`${prefix}/a`);
    expect(await originCount(`${prefix}/a`)).toBe(1);
  });

  it("path regex; a country rule does not match when the platform reports no country", async () => {
    const prefix = uniquePath("regex");
    await putConfig({
      rules: [
        { match: { path: { regex: `^${prefix}/api/v[0-9]+/` } }, actions: { pass: true } },
        { match: { country: "NL" }, actions: { pass: true } },
      ],
    });
    await twice(`${prefix}/api/v2/x`);
    await twice(`${prefix}/api/vx/x`);
    expect(await originCount(`${prefix}/api/v2/x`)).toBe(2);
    expect(await originCount(`${prefix}/api/vx/x`)).toBe(1);
  });
});

describe("actions", () => {
  it("ttl forces caching of a response without freshness (its lifetime replaces the origin's)", async () => {
    const prefix = uniquePath("forced");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { ttl: 60 } }] });
    const [, second] = await twice(`${prefix}/a?cc=max-age%3D0`);
    expect(second.headers.get("cache-status")).toMatch(/hit/);
    expect(await originCount(`${prefix}/a?cc=max-age%3D0`)).toBe(1);
  });

  it("ttl with ignoreNoStore (dangerous, explicit) stores a response the origin marked no-store", async () => {
    const prefix = uniquePath("forced-no-store");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { ttl: 60, ignoreNoStore: true } }] });
    const [, second] = await twice(`${prefix}/a?cc=no-store`);
    expect(second.headers.get("cache-status")).toMatch(/hit/);
    expect(await originCount(`${prefix}/a?cc=no-store`)).toBe(1);
  });

  it("response header edits apply before the cacheability test, both ways", async () => {
    const prefix = uniquePath("edits");
    await putConfig({
      rules: [
        { match: { path: `${prefix}/make-cacheable/**` }, actions: { setResponseHeaders: { "cache-control": "public, max-age=60" }, removeResponseHeaders: ["x-drop"] } },
        { match: { path: `${prefix}/make-private/**` }, actions: { setResponseHeaders: { "cache-control": "private" } } },
      ],
    });
    const [cachedFirst, cachedSecond] = await twice(`${prefix}/make-cacheable/a?cc=no-store&h-X-Drop=1`);
    expect(cachedFirst.headers.get("x-drop")).toBeNull();
    expect(cachedSecond.headers.get("cache-control")).toBe("public, max-age=60");
    expect(await originCount(`${prefix}/make-cacheable/a?cc=no-store&h-X-Drop=1`)).toBe(1);
    await twice(`${prefix}/make-private/a`);
    expect(await originCount(`${prefix}/make-private/a`)).toBe(2);
  });

  it("edgeTtl bounds how long the edge keeps a copy (0: every hit comes from the shard)", async () => {
    const prefix = uniquePath("edgettl");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { edgeTtl: 0 } }] });
    const [, second] = await twice(`${prefix}/a`);
    expect(second.headers.get("cache-status")).toMatch(/^shardcache-shard;hit/);
    expect(await originCount(`${prefix}/a`)).toBe(1);
  });

  it("tags from a rule are purgeable like Cache-Tag", async () => {
    const prefix = uniquePath("tags");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { tags: ["campaign"] } }] });
    await twice(`${prefix}/a`);
    const purge = await SELF.fetch(`${BASE}/_shardcache/purge`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` }, body: JSON.stringify({ tag: "campaign" }) });
    expect(purge.status).toBe(200);
    await twice(`${prefix}/a`);
    expect(await originCount(`${prefix}/a`)).toBe(2);
  });

  it("staleIfError serves a stale copy when the origin fails, though the response set no window", async () => {
    const prefix = uniquePath("sie");
    await putConfig({ settings: { verbose: true }, rules: [{ match: { path: `${prefix}/**` }, actions: { staleIfError: 60 } }] });
    const path = `${prefix}/a?cc=max-age%3D1`;
    const fresh = await SELF.fetch(`${BASE}${path}`);
    const body = await fresh.text();
    await advanceTime(1300);
    await fetch(`${env.TEST_ORIGIN_URL}/__fail?mode=503&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
    try {
      const stale = await SELF.fetch(`${BASE}${path}`);
      expect(stale.status).toBe(200);
      expect(await stale.text()).toBe(body);
      expect(stale.headers.get("x-cache-info")).toBe("cached; stale, origin failed");
    } finally {
      await fetch(`${env.TEST_ORIGIN_URL}/__fail?mode=off&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
    }
  });

  it("skipSharding fetches at the edge, and continue merges later rules' actions", async () => {
    const prefix = uniquePath("skip");
    await putConfig({
      settings: { trace: true },
      rules: [
        { name: "tagged", match: { path: `${prefix}/**` }, actions: { tags: ["t"] }, continue: true },
        { name: "direct", match: { path: `${prefix}/**` }, actions: { skipSharding: true } },
      ],
    });
    const response = await SELF.fetch(`${BASE}${prefix}/a`);
    await response.arrayBuffer();
    expect(response.headers.get("x-cluster-trace")).toMatch(/^edge:local->MISS, origin:/);
    expect(response.headers.get("cache-status")).toMatch(/detail=skip-sharding/);
  });
});
