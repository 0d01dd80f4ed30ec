/**
 * Refresh time and refresh-ahead on workerd, through the worker: a stale object answers at once while
 * one background request refreshes it, at most once per refresh time; never for a response that
 * forbids stale; off by default. The origin waits 300 ms, so a client that waited on it shows.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { fetchVia } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { eventually, untilFresh } from "../helpers/wait";

const BASE = "http://cache.test";
const ORIGIN_DELAY_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(path: string): Promise<{ response: Response; ms: number }> {
  const started = Date.now();
  const response = await SELF.fetch(`${BASE}${path}`);
  await response.arrayBuffer();
  return { response, ms: Date.now() - started };
}

const maxAge = (cc: string) => `?delay=${ORIGIN_DELAY_MS}&cc=${encodeURIComponent(cc)}`;

describe("refresh time", () => {
  it("serves a stale object at once while one request refreshes it, and refreshes at most once per refresh time", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10, verbose: true } });
    const path = `${uniquePath("refresh")}${maxAge("public, max-age=1")}`;
    await timed(path);
    await advanceTime(1100); // stale now
    const stale = await timed(path);
    expect(stale.ms).toBeLessThan(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).toMatch(/shardcache-shard;hit;fwd=stale;ttl=-?\d+;detail=refresh-time/);
    expect(stale.response.headers.get("x-cache-info")).toBe("cached; stale, within refresh time (one request refreshes it)");
    expect(await untilFresh(path)).toBe(true); // the background refresh landed
    expect(await originCount(path)).toBe(2);
    // Stale again a second later: still answered at once, and no second refresh within the refresh time.
    await advanceTime(1100);
    const again = await Promise.all(Array.from({ length: 5 }, () => timed(path)));
    expect(again.every((r) => r.ms < ORIGIN_DELAY_MS)).toBe(true);
    // Nothing to wait for but a refresh that must not happen: one origin delay is when it would have arrived.
    await sleep(ORIGIN_DELAY_MS + 100);
    expect(await originCount(path)).toBe(2);
  });

  it("never applies to a must-revalidate response: the client waits for the origin", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10, verbose: true } });
    const path = `${uniquePath("refresh-mr")}${maxAge("public, max-age=1, must-revalidate")}`;
    await timed(path);
    await advanceTime(1100);
    const stale = await timed(path);
    expect(stale.ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).not.toMatch(/refresh-time/);
    expect(await originCount(path)).toBe(2);
  });

  it("never applies to an s-maxage response", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10 } });
    const path = `${uniquePath("refresh-smaxage")}${maxAge("public, s-maxage=1")}`;
    await timed(path);
    await advanceTime(1100);
    expect((await timed(path)).ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
  });

  it("is off by default: a stale object makes the client wait", async () => {
    const path = `${uniquePath("refresh-off")}${maxAge("public, max-age=1")}`;
    await timed(path);
    await advanceTime(1100);
    const stale = await timed(path);
    expect(stale.ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).toMatch(/shardcache-shard;fwd=stale/);
  });

  it("comes from a rule's refreshTime too", async () => {
    const prefix = uniquePath("refresh-rule");
    await putConfig({ rules: [{ name: "refreshed", match: { path: `${prefix}/**` }, actions: { refreshTime: 10 } }] });
    const path = `${prefix}/x${maxAge("public, max-age=1")}`;
    await timed(path);
    await advanceTime(1100);
    const stale = await timed(path);
    expect(stale.ms).toBeLessThan(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).toMatch(/detail=refresh-time/);
  });
});

describe("refresh-ahead", () => {
  it("revalidates a fresh object requested in the last part of its lifetime, in the background", async () => {
    await putConfig({ settings: { refreshAheadRatio: 0.5, verbose: true } });
    const path = `${uniquePath("ahead")}${maxAge("public, max-age=4")}&etag=v1`;
    await timed(path);
    await advanceTime(2500); // in the last half of the lifetime (Date has whole seconds); the edge copy ended where that half began
    const late = await timed(path);
    expect(late.ms).toBeLessThan(ORIGIN_DELAY_MS);
    expect(late.response.headers.get("cache-status")).toMatch(/shardcache-shard;hit;ttl=\d+;detail=refresh-ahead/);
    // The background revalidation landed: the stored copy's age starts again (it was 2 s or more).
    const ageNow = async () => Number((await fetchVia(path, { headers: { "cache-control": "only-if-cached" } })).headers.get("age"));
    expect(await eventually(async () => (await ageNow()) < 2)).toBe(true);
    expect(await originCount(path)).toBe(2);
    // After the first copy's expiry the refreshed copy is still fresh: nobody waits.
    await advanceTime(1200);
    expect((await timed(path)).ms).toBeLessThan(ORIGIN_DELAY_MS);
  });
});
