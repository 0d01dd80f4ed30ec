/**
 * Edge single-flight on workerd: concurrent misses for one key in one isolate make one shard call
 * (counted by the shard itself), followers share it, and every way the leader can fail or share
 * nothing sends the followers to their own calls, in bounded time.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { defaultSettings } from "../../src/config/settings";
import { putConfig } from "../helpers/config";
import { originCount, uniquePath } from "../helpers/origin";
import { primaryShardOf as primaryOf, shardStub } from "../helpers/shards";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";

/** Calls the primary shard of `path` received while `work` ran. */
async function shardCallsDuring(path: string, work: () => Promise<unknown>): Promise<number> {
  const shard = shardStub(primaryOf(path));
  const before = (await shard.stats()).calls;
  await work();
  return (await shard.stats()).calls - before;
}

async function herd(path: string, n: number, init?: RequestInit): Promise<{ statuses: number[]; bodies: string[]; cacheStatus: string[] }> {
  const responses = await Promise.all(Array.from({ length: n }, () => SELF.fetch(`${BASE}${path}`, init)));
  const bodies = await Promise.all(responses.map((r) => r.text()));
  return { statuses: responses.map((r) => r.status), bodies, cacheStatus: responses.map((r) => r.headers.get("cache-status") ?? "") };
}

describe("edge single-flight", () => {
  afterEach(async () => {
    for (const name of defaultSettings.shards.map((s) => s.name)) await shardStub(name).setFault({ mode: "none" });
  });

  it("turns 200 concurrent cold requests into 1 shard call and 1 origin fetch", async () => {
    const path = `${uniquePath("sf-herd")}?delay=300&size=5000`;
    let result!: Awaited<ReturnType<typeof herd>>;
    const calls = await shardCallsDuring(path, async () => (result = await herd(path, 200)));
    expect(calls).toBe(1);
    expect(await originCount(path)).toBe(1);
    expect(result.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(result.bodies).size).toBe(1);
    expect(result.bodies[0]!.length).toBe(5000);
    expect(result.cacheStatus.filter((cs) => /shardcache-edge;fwd=uri-miss;collapsed/.test(cs))).toHaveLength(199);
    // The shard's own member reaches the followers too.
    expect(result.cacheStatus.every((cs) => /shardcache-shard;fwd=uri-miss/.test(cs))).toBe(true);
  });

  it("answers each follower for its own request: a Range follower gets its 206 from the shared copy", async () => {
    const path = `${uniquePath("sf-range")}?delay=200&size=1000`;
    const calls = await shardCallsDuring(path, async () => {
      // The full GET leads (a Range leader's 206 is no shareable copy); the Range request follows it.
      const leader = SELF.fetch(`${BASE}${path}`);
      // Its shard call is open once the origin has the request (which answers 200 ms later).
      expect(await eventually(async () => (await originCount(path)) === 1)).toBe(true);
      const [full, ranged] = await Promise.all([leader, SELF.fetch(`${BASE}${path}`, { headers: { range: "bytes=0-9" } })]);
      expect(full.status).toBe(200);
      expect(ranged.status).toBe(206);
      expect((await ranged.text()).length).toBe(10);
      expect((await full.text()).length).toBe(1000);
    });
    expect(calls).toBe(1);
  });

  it("releases the followers of a leader whose shard answer cannot be shared (an origin error) to their own calls", async () => {
    const path = `${uniquePath("sf-error")}?delay=200&status=500&cc=no-store`;
    let result!: Awaited<ReturnType<typeof herd>>;
    const calls = await shardCallsDuring(path, async () => (result = await herd(path, 10)));
    expect(result.statuses.every((s) => s === 500)).toBe(true);
    expect(calls).toBe(10);
  });

  it("releases followers of a leader whose shard hangs after collapseTimeoutMs: no client waits forever", async () => {
    // shardFailuresToSkip at its maximum: five timeouts would otherwise mark the hung shard unhealthy in this
    // isolate for shardSkipSeconds, and a later test whose path hashes to the same shard would skip it (flaky).
    await putConfig({ settings: { shardTimeoutMs: 1000, collapseTimeoutMs: 200, fallback: 0, shardFailuresToSkip: 100 } });
    const path = uniquePath("sf-hang");
    await shardStub(primaryOf(path)).setFault({ mode: "hang" });
    const started = Date.now();
    let result!: Awaited<ReturnType<typeof herd>>;
    const calls = await shardCallsDuring(path, async () => (result = await herd(path, 5)));
    // Leader: 1 s shard timeout, then the origin directly. Followers: released at 200 ms, then their own call and timeout.
    expect(result.statuses.every((s) => s === 200)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(calls).toBe(5);
    expect(result.cacheStatus.every((cs) => /detail=shards-unavailable/.test(cs))).toBe(true);
  });

  it("gives every follower its own call when the body is larger than maxObjectBytes", async () => {
    await putConfig({ settings: { maxObjectBytes: 1000 } });
    const path = `${uniquePath("sf-big")}?delay=200&size=5000`;
    let result!: Awaited<ReturnType<typeof herd>>;
    const calls = await shardCallsDuring(path, async () => (result = await herd(path, 5)));
    expect(result.bodies.every((b) => b.length === 5000)).toBe(true);
    expect(calls).toBe(5);
  });

  it("never lets a request with its own cache directives follow another's call", async () => {
    const path = `${uniquePath("sf-nocache")}?delay=200`;
    const calls = await shardCallsDuring(path, () => herd(path, 4, { headers: { "cache-control": "no-cache" } }));
    expect(calls).toBe(4);
  });

  it("never shares a response that was not stored (private)", async () => {
    const path = `${uniquePath("sf-private")}?delay=200&cc=private`;
    const result = await herd(path, 5);
    expect(new Set(result.bodies).size).toBe(5);
    expect(await originCount(path)).toBe(5);
  });
});
