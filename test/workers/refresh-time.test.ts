/**
 * Refresh time and refresh-ahead on workerd, through the worker: a stale object answers at once while
 * one background request refreshes it, at most once per refresh time; never for a response that
 * forbids stale; off by default. "At once" is shown by order, not by a time bound a loaded machine can
 * miss: the answer arrives while the origin holds every request for the path unanswered. A client that
 * waits for the origin shows by the origin's 300 ms delay.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime, holdingTime } from "../helpers/clock";
import { fetchVia, isHit } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { primaryShardOf, untilIdle } from "../helpers/shards";
import { untilFresh, whileOriginHolds } from "../helpers/wait";

const BASE = "http://cache.test";
const ORIGIN_DELAY_MS = 300;

async function timed(path: string): Promise<{ response: Response; ms: number }> {
  const started = Date.now();
  const response = await SELF.fetch(`${BASE}${path}`);
  await response.arrayBuffer();
  return { response, ms: Date.now() - started };
}

const withCc = (cc: string) => `?cc=${encodeURIComponent(cc)}`;
const delayedWithCc = (cc: string) => `?delay=${ORIGIN_DELAY_MS}&cc=${encodeURIComponent(cc)}`;

describe("refresh time", () => {
  it("serves a stale object at once while one request refreshes it, and refreshes at most once per refresh time", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10, verbose: true } });
    const prefix = uniquePath("refresh");
    const path = `${prefix}${withCc("public, max-age=1")}`;
    const owner = primaryShardOf(path);
    // Held: the refreshed copy lives 1 s and its Date has whole seconds, so on a running clock a loaded
    // machine could find it stale again before looking. Only advanceTime moves it here.
    await holdingTime(async () => {
      await fetchVia(path);
      await advanceTime(1100); // stale now
      const [stale] = await whileOriginHolds(prefix, [path]);
      expect(stale!.headers.get("cache-status")).toMatch(/shardcache-shard;hit;fwd=stale;ttl=-?\d+;detail=refresh-time/);
      expect(stale!.headers.get("x-cache-info")).toBe("cached; stale, within refresh time (one request refreshes it)");
      await untilIdle(owner); // the background refresh has been answered and stored
      expect(await untilFresh(path)).toBe(true);
      expect(await originCount(path)).toBe(2);
      // Stale again a second later: still answered at once, and no second refresh within the refresh time.
      await advanceTime(1100);
      const again = await whileOriginHolds(
        prefix,
        Array.from({ length: 5 }, () => path),
      );
      expect(again.every(isHit)).toBe(true);
      // A refresh would have opened its origin fetch before the shard answered: once none is open, the origin has seen all there is.
      await untilIdle(owner);
      expect(await originCount(path)).toBe(2);
    });
  });

  it("never applies to a must-revalidate response: the client waits for the origin", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10, verbose: true } });
    const path = `${uniquePath("refresh-mr")}${delayedWithCc("public, max-age=1, must-revalidate")}`;
    await timed(path);
    await advanceTime(1100);
    const stale = await timed(path);
    expect(stale.ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).not.toMatch(/refresh-time/);
    expect(await originCount(path)).toBe(2);
  });

  it("never applies to an s-maxage response", async () => {
    await putConfig({ settings: { refreshTimeSeconds: 10 } });
    const path = `${uniquePath("refresh-smaxage")}${delayedWithCc("public, s-maxage=1")}`;
    await timed(path);
    await advanceTime(1100);
    expect((await timed(path)).ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
  });

  it("is off by default: a stale object makes the client wait", async () => {
    const path = `${uniquePath("refresh-off")}${delayedWithCc("public, max-age=1")}`;
    await timed(path);
    await advanceTime(1100);
    const stale = await timed(path);
    expect(stale.ms).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS);
    expect(stale.response.headers.get("cache-status")).toMatch(/shardcache-shard;fwd=stale/);
  });

  it("comes from a rule's refreshTime too", async () => {
    const prefix = uniquePath("refresh-rule");
    await putConfig({ rules: [{ name: "refreshed", match: { path: `${prefix}/**` }, actions: { refreshTime: 10 } }] });
    const path = `${prefix}/x${withCc("public, max-age=1")}`;
    await fetchVia(path);
    await advanceTime(1100);
    const [stale] = await whileOriginHolds(prefix, [path]);
    expect(stale!.headers.get("cache-status")).toMatch(/detail=refresh-time/);
    await untilIdle(primaryShardOf(path)); // its refresh, so it does not outlive the test
  });
});

describe("refresh-ahead", () => {
  it("revalidates a fresh object requested in the last part of its lifetime, in the background", async () => {
    await putConfig({ settings: { refreshAheadRatio: 0.5, verbose: true } });
    const prefix = uniquePath("ahead");
    const path = `${prefix}${withCc("public, max-age=4")}&etag=v1`;
    const owner = primaryShardOf(path);
    // Held, so the ages below are the clock's moves plus Date's whole-second rounding (under 1 s), however loaded the machine.
    await holdingTime(async () => {
      await fetchVia(path);
      await advanceTime(2500); // in the last half of the lifetime; the edge copy ended where that half began
      const [late] = await whileOriginHolds(prefix, [path]);
      expect(late!.headers.get("cache-status")).toMatch(/shardcache-shard;hit;ttl=\d+;detail=refresh-ahead/);
      // The background revalidation landed: the stored copy's age starts again (it was 2 s or more).
      await untilIdle(owner);
      const stored = await fetchVia(path, { headers: { "cache-control": "only-if-cached" } });
      expect(Number(stored.headers.get("age"))).toBeLessThan(2);
      expect(await originCount(path)).toBe(2);
      // Past the first copy's lifetime (4.1 s since it was stored) the refreshed copy is still fresh: nobody waits.
      await advanceTime(1600);
      const [after] = await whileOriginHolds(prefix, [path]);
      expect(isHit(after!)).toBe(true);
      await untilIdle(owner); // a second refresh-ahead it may have started, so it does not outlive the test
    });
  });
});
