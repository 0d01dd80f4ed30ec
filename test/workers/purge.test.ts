/**
 * Purge through the admin API on workerd, seen through both tiers: the first GET stores the object
 * in its shard and in the edge tier (the second GET is an edge hit); after the purge the next GET
 * must reach the origin, which only happens if the shard lost its copy AND the edge refused its own.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { fetchSettled } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";

async function get(path: string): Promise<{ status: number; text: string; cacheStatus: string }> {
  const response = await SELF.fetch(`${BASE}${path}`);
  const text = await response.text();
  return { status: response.status, text, cacheStatus: response.headers.get("cache-status") ?? "" };
}

/** GETs `path` once, with the edge copy it writes after the response (waitUntil) written, then checks the edge tier answers it. */
async function cachedInBothTiers(path: string): Promise<string> {
  const first = await fetchSettled(path);
  expect(first.headers.get("cache-status")).toMatch(/shardcache-shard;fwd=uri-miss;fwd-status=200;.*stored/);
  const again = await get(path);
  expect(again.cacheStatus).toMatch(/^shardcache-edge;hit/);
  expect(again.text).toBe(first.text_);
  return first.text_;
}

const isEdgeHit = (r: { cacheStatus: string }) => /^shardcache-edge;hit/.test(r.cacheStatus);

describe("purge by URL", () => {
  it("reaches both tiers in one round: the next GET goes to the origin", async () => {
    const path = `${uniquePath("purge-url")}?size=200`;
    const before = await cachedInBothTiers(path);
    expect(await originCount(path)).toBe(1);

    const { status, body } = await admin("POST", "/purge", { url: `${BASE}${path}` });
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.key).toBe(`${BASE}${path}`);
    expect(body.shards.purged).toBe(1);
    expect(body.edge.logged).toBe(true);
    // No CF_API_TOKEN / CF_ZONE_ID in the test bindings: the zone purge API is never called.
    expect(body.edge.zone.status).toBe("skipped");

    const after = await get(path);
    expect(isEdgeHit(after)).toBe(false);
    expect(after.cacheStatus).toMatch(/shardcache-shard;fwd=uri-miss/);
    expect(after.text).not.toBe(before);
    expect(await originCount(path)).toBe(2);
    // and it is cached again afterwards
    await cachedInBothTiers(path).catch(() => undefined);
    expect(await originCount(path)).toBe(2);
  });

  it("a URL spelled another way (%7E, a run of slashes) purges the entry a client's GET stored", async () => {
    const path = `${uniquePath("purge-spelling")}/~x`;
    await cachedInBothTiers(path);
    const { status, body } = await admin("POST", "/purge", { url: `${BASE}/${path.replace("/~x", "//%7Ex")}` });
    expect(status).toBe(200);
    expect(body.key).toBe(`${BASE}${path}`);
    expect(body.shards.purged).toBe(1);
    expect(isEdgeHit(await get(path))).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("writes a purge record to the KV purge log that every edge reads", async () => {
    const path = uniquePath("purge-log");
    await admin("POST", "/purge", { url: `${BASE}${path}` });
    const listed = await env.CONFIG.list<{ key?: string; at: number }>({ prefix: "purge:" });
    const mine = listed.keys.find((k) => k.metadata?.key === `${BASE}${path}`);
    expect(mine).toBeDefined();
    expect(mine!.expiration).toBeGreaterThan(Date.now() / 1000 + 86_400);
  });

  // (Key purges also drop this data centre's copy directly; the prefix, tag and all tests below fail if
  // the purge-log check at the edge is broken, because only it reaches copies under other keys.)
  it("drops the edge copy even when the shard no longer has one", async () => {
    const path = uniquePath("edge-only");
    await cachedInBothTiers(path);
    // Drop the shard copy behind the edge's back: the edge still serves its own copy...
    for (let i = 0; i < 16; i++) await env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(`shard-${i}`)).purge({ keys: [`${BASE}${path}`] }, false);
    expect(isEdgeHit(await get(path))).toBe(true);
    expect(await originCount(path)).toBe(1);
    // ...until a purge record names it.
    await admin("POST", "/purge", { key: `${BASE}${path}` });
    expect(isEdgeHit(await get(path))).toBe(false);
    expect(await originCount(path)).toBe(2);
  });
});

describe("purge by prefix and by tag", () => {
  it("purges every key under a prefix and nothing else", async () => {
    const dir = uniquePath("pfx");
    const inside = [`${dir}/a`, `${dir}/b/c?x=1`];
    const outside = `${dir}-sibling/a`;
    for (const path of [...inside, outside]) await cachedInBothTiers(path);

    const { status, body } = await admin("POST", "/purge", { prefix: `${BASE}${dir}/` });
    expect(status).toBe(200);
    expect(body.shards.purged).toBe(2);
    for (const path of inside) {
      expect(isEdgeHit(await get(path)), path).toBe(false);
      expect(await originCount(path)).toBe(2);
    }
    expect(isEdgeHit(await get(outside))).toBe(true);
    expect(await originCount(outside)).toBe(1);
  });

  it("purges by Cache-Tag and Surrogate-Key, leaving other tags alone", async () => {
    const tag = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
    const byCacheTag = `${uniquePath("tag-a")}?h-cache-tag=${tag},other-${tag}`;
    const bySurrogateKey = `${uniquePath("tag-b")}?h-surrogate-key=x-${tag}%20${tag}`;
    const untouched = `${uniquePath("tag-c")}?h-cache-tag=other-${tag}`;
    for (const path of [byCacheTag, bySurrogateKey, untouched]) await cachedInBothTiers(path);

    const { body } = await admin("POST", "/purge", { tag });
    expect(body.shards.purged).toBe(2);
    for (const path of [byCacheTag, bySurrogateKey]) {
      expect(isEdgeHit(await get(path)), path).toBe(false);
      expect(await originCount(path)).toBe(2);
    }
    expect(isEdgeHit(await get(untouched))).toBe(true);
    expect(await originCount(untouched)).toBe(1);
  });
});

describe("soft purge", () => {
  it("marks the entry stale: the next GET revalidates with If-None-Match and is answered by a 304", async () => {
    const path = `${uniquePath("soft")}?etag=%22v1%22&size=300`;
    const before = await cachedInBothTiers(path);

    const { status, body } = await admin("POST", "/purge", { url: `${BASE}${path}`, soft: true });
    expect(status).toBe(200);
    expect(body.soft).toBe(true);
    expect(body.shards.purged).toBe(1);

    const after = await get(path);
    expect(isEdgeHit(after)).toBe(false);
    expect(after.cacheStatus).toMatch(/shardcache-shard;fwd=stale;fwd-status=304/);
    // The body is the stored one (the origin numbers every body it sends): only a 304 came back.
    expect(after.text).toBe(before);
    expect(await originCount(path)).toBe(2);
    // Revalidated, it is fresh again.
    expect(await get(path).then((r) => r.text)).toBe(before);
    expect(await originCount(path)).toBe(2);
  });
});

describe("purge everything", () => {
  it("empties every shard and refuses every older edge copy", async () => {
    const paths = [uniquePath("all-a"), uniquePath("all-b"), `${uniquePath("all-c")}?h-cache-tag=zz`];
    for (const path of paths) await cachedInBothTiers(path);
    const { status, body } = await admin("POST", "/purge", { all: true });
    expect(status).toBe(200);
    expect(body.shards.each).toHaveLength(16);
    expect(body.shards.purged).toBeGreaterThanOrEqual(3);
    for (const path of paths) {
      expect(isEdgeHit(await get(path)), path).toBe(false);
      expect(await originCount(path)).toBe(2);
    }
    const stats = (await admin("GET", "/stats")).body as { total: { storedBytes: number } };
    // Only what was fetched after the purge is stored now.
    expect(stats.total.storedBytes).toBeLessThan(10_000);
  });
});

describe("purge request validation", () => {
  it.each([
    [{}, /exactly one/],
    [{ url: `${BASE}/a`, tag: "x" }, /exactly one.*url, tag/],
    [{ url: "not a url" }, /http/],
    [{ prefix: "/images/" }, /scheme/],
    [{ all: false }, /true/],
    [{ tag: "x", soft: "yes" }, /boolean/],
    [{ tags: "x" }, /unknown key|Unrecognized/i],
  ])("refuses %j with 400", async (request, message) => {
    const { status, body } = await admin("POST", "/purge", request);
    expect(status).toBe(400);
    expect(body.errors.map((e: { message: string; path: string }) => `${e.path}: ${e.message}`).join("\n")).toMatch(message);
  });
});
