/**
 * Shard faults on workerd (issue #11 finding 5): after N consecutive failures or timeouts the edge
 * skips a shard for M seconds (SKIP(unhealthy) in the trace, one event per state change, counters
 * in /health), so a hung primary costs one timeout per period, not one per request. A shard that
 * answers for a broken origin is NOT failing.
 */
import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { defaultSettings } from "../../src/config/settings";
import { createHrw } from "../../src/routing/hrw";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { admin } from "../helpers/admin";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { BASE, withQuery } from "../helpers/http";
import { uniquePath } from "../helpers/origin";

const hrw = createHrw(defaultSettings.shards);
const primaryOf = (path: string) => hrw.rank(defaultCacheKey(new URL(`${BASE}${path}`)), 1)[0]!.name;
const stub = (name: string) => env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(name));

/** A fresh path whose primary shard is `shard`. */
function pathOn(shard: string, name: string, query: Record<string, string> = {}): string {
  for (;;) {
    const path = withQuery(uniquePath(name), query);
    if (primaryOf(path) === shard) return path;
  }
}

async function shardEvents(shard: string): Promise<string[]> {
  const events = await env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ limit: 1000 });
  return events.filter((e) => e.section === `shards/${shard}`).map((e) => e.tag);
}

const EVENT_POLL = { timeout: 5_000, interval: 50 };

const faulted: string[] = [];
afterEach(async () => {
  for (const name of faulted.splice(0)) await stub(name).setFault({ mode: "none" });
});

async function timed(path: string): Promise<{ trace: string; status: number }> {
  const response = await SELF.fetch(`${BASE}${path}`);
  await response.arrayBuffer();
  return { trace: response.headers.get("x-cluster-trace") ?? "", status: response.status };
}

describe("shard health at the edge", () => {
  it("a hung primary is skipped after N timeouts, then probed once per period; each state change is one event", async () => {
    // The shard that takes over fetches the origin with shardTimeoutMs − 1 s (at least 100 ms): at 400 the
    // origin had 100 ms, and a loaded CI run answered 504 once. 1.5 s leaves it 500 ms, and the two hung calls cost 3 s.
    await putConfig({ settings: { trace: true, shardTimeoutMs: 1_500, shardFailuresToSkip: 2, shardSkipSeconds: 2 } });
    const shard = "shard-11";
    await stub(shard).setFault({ mode: "hang" });
    faulted.push(shard);
    const results = [];
    for (let i = 0; i < 2; i++) results.push(await timed(pathOn(shard, "hung")));
    // The shard counts each call as it arrives, hung or not: the skipped requests must not add one.
    const callsWhenSkipped = (await stub(shard).stats()).calls;
    for (let i = 0; i < 4; i++) results.push(await timed(pathOn(shard, "hung")));
    for (const r of results) expect(r.status).toBe(200);
    expect(results.slice(0, 2).map((r) => r.trace)).toEqual([expect.stringContaining(`${shard}->FAIL(timeout)`), expect.stringContaining(`${shard}->FAIL(timeout)`)]);
    for (const r of results.slice(2)) expect(r.trace).toContain(`${shard}->SKIP(unhealthy)`);
    // Nobody waits for the hung shard while it is skipped: none of them was sent to it (not "faster than its timeout", which a loaded machine can miss).
    expect((await stub(shard).stats()).calls).toBe(callsWhenSkipped);
    expect((await admin("GET", "/health")).body.shardHealth[shard]).toMatchObject({ state: "unhealthy", timeouts: 2, skips: 4 });
    // Events are raised in the background (waitUntil): poll for them, bounded.
    await expect.poll(() => shardEvents(shard), EVENT_POLL).toEqual(["shardfail"]);

    // The shard recovers; after the skip period ONE request probes it and it is healthy again.
    await stub(shard).setFault({ mode: "none" });
    await advanceTime(2100);
    const probe = await timed(pathOn(shard, "hung"));
    expect(probe.trace).not.toContain("SKIP");
    expect(probe.trace).toContain(`${shard}->MISS`);
    await expect.poll(() => shardEvents(shard), EVENT_POLL).toEqual(["shardfail", "shardok"]);
  });

  it("a throwing primary is skipped too, and the next shard answers", async () => {
    await putConfig({ settings: { trace: true, shardFailuresToSkip: 2, shardSkipSeconds: 30 } });
    const shard = "shard-5";
    await stub(shard).setFault({ mode: "throw" });
    faulted.push(shard);
    const traces = [];
    for (let i = 0; i < 4; i++) traces.push((await timed(pathOn(shard, "throws"))).trace);
    expect(traces.slice(0, 2).every((t) => t.includes(`${shard}->FAIL(error)`))).toBe(true);
    expect(traces.slice(2).every((t) => t.includes(`${shard}->SKIP(unhealthy)`) && /->MISS, origin:/.test(t))).toBe(true);
  });

  it("a shard answering 502 for an origin that sent garbage is not failing", async () => {
    await putConfig({ settings: { trace: true, shardFailuresToSkip: 2 } });
    const shard = "shard-7";
    for (let i = 0; i < 4; i++) {
      const r = await timed(pathOn(shard, "garbage", { status: "999" }));
      expect(r.status).toBe(502);
      expect(r.trace).not.toMatch(/FAIL|SKIP/);
    }
    expect((await admin("GET", "/health")).body.shardHealth[shard]).toMatchObject({ state: "healthy", consecutiveFailures: 0, errors: 0 });
  });
});
