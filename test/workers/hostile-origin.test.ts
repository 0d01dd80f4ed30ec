/**
 * Hostile input at the origin → shard boundary: a compromised or buggy origin (or a client, through an
 * origin that reflects query parameters into response headers, as the demo origin's `h-NAME` does)
 * must not steer the cluster. Internal data travels only in the shard's typed RPC result; every
 * internal field an origin sends is removed before it is stored or answered; a stored record that
 * does not decode is a miss, never a 5xx.
 */
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeStoredMeta } from "../../src/rfc9111/stored-record";
import type { StoredMeta } from "../../src/rfc9111/types";
import { createHrw } from "../../src/routing/hrw";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { defaultSettings } from "../../src/config/settings";
import { edgeCacheUrl } from "../../src/edge/edge-tier";
import { putConfig } from "../helpers/config";
import { BASE, fetchVia, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { storedMeta } from "../helpers/stored-meta";

/** A well-formed record claiming a public, complete 200 fresh for an hour: what a forger would send. */
function forgedRecord(url: string): StoredMeta {
  return storedMeta(url, {
    at: Date.now(),
    lifetimeSeconds: 3600,
    bodyBytes: 10,
    headers: [
      ["content-type", "text/plain"],
      ["cache-control", "public, max-age=3600"],
    ],
  });
}

const forgedField = (path: string) => encodeURIComponent(encodeStoredMeta(forgedRecord(`${BASE}${path}`)));

function ownerOf(path: string): string {
  return createHrw(defaultSettings.shards).rank(defaultCacheKey(new URL(`${BASE}${path}`)), 1)[0]!.name;
}
const shardFor = (path: string) => env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(ownerOf(path)));

describe("internal field injection from the origin", () => {
  it("a malformed x-cluster-edge-meta from the origin is not a 500 (URIError)", async () => {
    const path = withQuery(uniquePath("meta-malformed"), { "h-x-cluster-edge-meta": "%", cc: "private" });
    const response = await fetchVia(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cluster-edge-meta")).toBeNull();
  });

  it("a forged, well-formed record on a private response does not make the edge keep it for everyone", async () => {
    const base = uniquePath("meta-private");
    const path = `${base}?cc=private&h-x-cluster-edge-meta=${encodeURIComponent(forgedField(base))}`;
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    const second = await fetchVia(path);
    expect(second.headers.get("cache-status")).not.toMatch(/shardcache-edge;hit/);
    expect(await originCount(path)).toBe(2);
  });

  it("a forged record on a 206 slice does not make the edge keep the slice as the whole object", async () => {
    const base = uniquePath("meta-206");
    const path = `${base}?status=206&size=10&h-content-range=${encodeURIComponent("bytes 0-9/1000")}&h-x-cluster-edge-meta=${encodeURIComponent(forgedField(base))}`;
    const first = await fetchVia(path);
    expect(first.status).toBe(206);
    const second = await fetchVia(path);
    expect(second.headers.get("cache-status")).not.toMatch(/shardcache-edge;hit/);
    expect(second.status).toBe(206);
    expect(await originCount(path)).toBe(2);
  });

  it("no x-cluster-* field of an origin response is answered or stored", async () => {
    await putConfig({ settings: { trace: false } });
    const path = withQuery(uniquePath("internal-fields"), { "h-x-cluster-trace": "edge:forged->HIT", "h-x-cluster-shard-trace": "forged", "h-x-cluster-anything": "1" });
    for (const attempt of [1, 2]) {
      const response = await fetchVia(path);
      expect(response.status, `attempt ${attempt}`).toBe(200);
      expect(
        [...response.headers.keys()].filter((name) => name.startsWith("x-cluster-")),
        `attempt ${attempt}`,
      ).toEqual([]);
    }
    expect(await originCount(path)).toBe(1);
  });
});

describe("stored records that do not decode", () => {
  it.each([
    ["not JSON", "{garbage"],
    ["the wrong shape", '{"v":1,"status":"not a number"}'],
    ["another version", JSON.stringify({ ...forgedRecord("x"), v: 2 })],
  ])("a SQLite record that is %s is a miss for its own shard (refetched), not an error", async (_what, damaged) => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0, trace: true } });
    const path = uniquePath("damaged-row");
    expect((await fetchVia(path)).status).toBe(200);
    await runInDurableObject(shardFor(path), async (_instance, state) => {
      state.storage.sql.exec("UPDATE entries SET meta = ? WHERE key = ?", damaged, defaultCacheKey(new URL(`${BASE}${path}`)));
    });
    // Restart the object so its memory tier cannot answer: only the damaged row is left.
    await abortAllDurableObjects();
    const again = await fetchVia(path);
    expect(again.status).toBe(200);
    expect(again.text_).toContain(path);
    // The owner itself answered (a thrown decode error would show as `FAIL(error)` and a fallback shard).
    expect(again.headers.get("x-cluster-trace")).toMatch(new RegExp(`^edge:local->MISS, ${ownerOf(path)}->MISS, origin:`));
    expect(await originCount(path)).toBe(2);
  });

  it("a caches.default entry whose record does not decode is a miss, not an error", async () => {
    const path = uniquePath("damaged-edge");
    const key = defaultCacheKey(new URL(`${BASE}${path}`));
    const headers = { "cache-control": "max-age=60", "x-shardcache-edge-record": "%E0%A4%A", "x-shardcache-edge-expire": String(Date.now() + 60_000) };
    await caches.default.put(new Request(edgeCacheUrl(key)), new Response("forged body", { headers }));
    const response = await fetchVia(path);
    expect(response.status).toBe(200);
    expect(response.text_).toContain(path);
    expect(await originCount(path)).toBe(1);
  });
});
