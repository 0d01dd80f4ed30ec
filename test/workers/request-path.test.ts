/**
 * The request path end to end on workerd: edge worker → HRW → CacheShard DO → demo origin, with real
 * Durable Objects, KV and Cache. Every test uses its own paths, so origin counts are its own.
 */
import { abortAllDurableObjects, env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { defaultSettings } from "../../src/config/settings";
import { putConfig } from "../helpers/config";
import { originCount, uniquePath } from "../helpers/origin";
import { shardSettings } from "../helpers/shard-settings";
import { fetchSettled } from "../helpers/http";
import { shardOrder, shardStub, untilIdle } from "../helpers/shards";

const BASE = "http://cache.test";

async function get(path: string, init?: RequestInit): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

describe("edge → shard → origin", () => {
  it("serves the second GET from the edge tier after one origin request", async () => {
    const path = `${uniquePath("a")}?size=2048`;
    const first = await get(path);
    expect(first.status).toBe(200);
    expect((await first.arrayBuffer()).byteLength).toBe(2048);
    expect(first.headers.get("cache-status")).toMatch(/shardcache-shard;fwd=uri-miss/);

    const second = await get(path);
    expect(second.status).toBe(200);
    expect((await second.arrayBuffer()).byteLength).toBe(2048);
    expect(second.headers.get("cache-status")).toMatch(/^shardcache-edge;hit/);
    expect(Number(second.headers.get("age"))).toBeGreaterThanOrEqual(0);
    expect(await originCount(path)).toBe(1);
  });

  it("answers from caches.default when an object is too big for the in-isolate memory tier", async () => {
    // Objects over 1/8 of the edge memory budget are kept in caches.default only.
    await putConfig({ settings: { edgeMemoryBudgetBytes: 8_000 } });
    const path = `${uniquePath("cache-api")}?size=4096`;
    await fetchSettled(path); // the edge copy is written in the background
    const second = await get(path);
    expect((await second.arrayBuffer()).byteLength).toBe(4096);
    expect(second.headers.get("cache-status")).toMatch(/^shardcache-edge;hit/);
    expect(await originCount(path)).toBe(1);
  });

  it("coalesces 100 concurrent cold GETs into one origin request with identical bodies", async () => {
    // The origin answers after 1 s, so all 100 requests reach the shard while its one fetch is open even on a
    // loaded machine (with 300 ms, late arrivals were hits from the stored copy: still one fetch, but not "collapsed").
    const path = `${uniquePath("herd")}?delay=1000`;
    const responses = await Promise.all(Array.from({ length: 100 }, () => get(path)));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(bodies).size).toBe(1);
    expect(await originCount(path)).toBe(1);
    const collapsed = responses.filter((r) => /collapsed/.test(r.headers.get("cache-status") ?? ""));
    expect(collapsed.length).toBe(99);
  });

  it("passes uncacheable responses through, never sharing one client's response with another", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = `${uniquePath("private")}?cc=private&delay=100`;
    const responses = await Promise.all(Array.from({ length: 10 }, () => get(path)));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(10);
    expect(await originCount(path)).toBe(10);
    const first = responses[0]!;
    expect(first.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(first.headers.get("cache-control")).toBe("private");
    expect(responses.map((r) => r.headers.get("x-cache-info"))).toContain('not cacheable; response specified "Cache-Control: private"');
  });

  it("streams bodies larger than the maximum object size through without storing them", async () => {
    await putConfig({ settings: { maxObjectBytes: 1000 } });
    const path = `${uniquePath("big")}?size=50000&chunks=5&chunkDelay=150`;
    const started = Date.now();
    const response = await get(path);
    const reader = response.body!.getReader();
    const firstChunk = await reader.read();
    const firstChunkAfterMs = Date.now() - started;
    let total = firstChunk.value?.byteLength ?? 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
    const allAfterMs = Date.now() - started;
    expect(total).toBe(50000);
    // The origin spends ~600 ms between its first and last chunk; a buffering cache would deliver nothing until the end.
    expect(allAfterMs - firstChunkAfterMs).toBeGreaterThan(300);
    const again = await get(path);
    expect((await again.arrayBuffer()).byteLength).toBe(50000);
    expect(await originCount(path)).toBe(2);
  });

  it("streams a storable body to the client while it is being stored", async () => {
    const path = `${uniquePath("slow-stored")}?size=30000&chunks=4&chunkDelay=150`;
    const started = Date.now();
    const response = await get(path);
    const reader = response.body!.getReader();
    await reader.read();
    const firstChunkAfterMs = Date.now() - started;
    while (!(await reader.read()).done);
    expect(Date.now() - started - firstChunkAfterMs).toBeGreaterThan(250);
    const again = await get(path);
    expect((await again.arrayBuffer()).byteLength).toBe(30000);
    expect(await originCount(path)).toBe(1);
  });
});

describe("shard persistence", () => {
  it("keeps its objects across a Durable Object restart", async () => {
    const path = `${uniquePath("persist")}?size=3000000`;
    const url = `${BASE}${path}`;
    const ctx = {
      key: defaultCacheKey(new URL(url)),
      shard: "persist-test-shard",
      origin: env.TEST_ORIGIN_URL,
      settings: shardSettings({ maxObjectBytes: 10_000_000, verbose: false }),
    };
    const { response: first } = await shardStub("persist-test-shard").handle(new Request(url), ctx);
    const firstBody = await first.arrayBuffer();
    expect(firstBody.byteLength).toBe(3_000_000);
    // Let the store write finish, then throw the object away: only SQLite storage survives.
    await untilIdle("persist-test-shard");
    await abortAllDurableObjects();
    const { response: second } = await shardStub("persist-test-shard").handle(new Request(url), ctx);
    const secondBody = await second.arrayBuffer();
    expect(second.headers.get("cache-status")).toMatch(/shardcache-shard;hit/);
    // The origin numbers each response it sends at the start of the body: same number, same stored response.
    const head = (body: ArrayBuffer) => new TextDecoder().decode(body.slice(0, 80));
    expect(secondBody.byteLength).toBe(firstBody.byteLength);
    expect(head(secondBody)).toBe(head(firstBody));
    expect(await originCount(path)).toBe(1);
  });
});

describe("shard failure", () => {
  afterEach(async () => {
    for (const name of defaultSettings.shards.map((s) => s.name)) await shardStub(name).setFault({ mode: "none" });
  });

  it("falls back to the next shard in HRW order when the primary throws", async () => {
    await putConfig({ settings: { trace: true } });
    const path = uniquePath("fallback");
    const [primary, next] = shardOrder(path, 2);
    await shardStub(primary!).setFault({ mode: "throw" });
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cluster-trace")).toBe(`edge:local->MISS, ${primary}->FAIL(error), ${next}->MISS, origin:127.0.0.1:${new URL(env.TEST_ORIGIN_URL).port}`);
    expect(await originCount(path)).toBe(1);
  });

  it("falls back when the primary does not answer in time", async () => {
    await putConfig({ settings: { trace: true, shardTimeoutMs: 500 } });
    const path = uniquePath("hang");
    const [primary, next] = shardOrder(path, 2);
    await shardStub(primary!).setFault({ mode: "hang" });
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cluster-trace")).toContain(`${primary}->FAIL(timeout), ${next}->MISS`);
  });

  it("goes to the origin directly when every shard it may try fails", async () => {
    await putConfig({ settings: { trace: true, fallback: 2 } });
    const path = uniquePath("all-down");
    const tried = shardOrder(path, 3);
    for (const name of tried) await shardStub(name).setFault({ mode: "throw" });
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(path);
    expect(response.headers.get("cache-status")).toMatch(/detail=shards-unavailable/);
    expect(response.headers.get("x-cluster-trace")).toMatch(new RegExp(`${tried.map((n) => `${n}->FAIL\\(error\\)`).join(", ")}, origin:`));
  });
});

describe("headers and methods", () => {
  it("strips client-supplied X-Cluster-* headers and hop-by-hop fields, forwarding everything else", async () => {
    const response = await get(`/__echo${uniquePath("hdr")}`, {
      headers: { "x-cluster-edge-meta": "forged", "x-cluster-trace": "forged", "x-custom": "kept", connection: "x-hop", "x-hop": "dropped", "cache-control": 'max-age=5, community="x"' },
    });
    const echoed = (await response.json()) as { headers: Record<string, string> };
    expect(Object.keys(echoed.headers).filter((h) => h.startsWith("x-cluster-"))).toEqual([]);
    expect(echoed.headers["x-custom"]).toBe("kept");
    expect(echoed.headers["x-hop"]).toBeUndefined();
  });

  it("passes POST bodies through and invalidates the stored URL", async () => {
    const path = uniquePath("post");
    await (await get(path)).text();
    await (await get(path)).text();
    expect(await originCount(path)).toBe(1);
    const posted = await fetchSettled(path, { method: "POST", body: "payload" }); // and its invalidation ran
    expect(posted.headers.get("cache-status")).toMatch(/fwd=method/);
    await (await get(path)).text();
    expect(await originCount(path)).toBe(3);

    const echo = await get(`/__echo${path}`, { method: "PUT", body: "the body" });
    expect(await echo.json()).toMatchObject({ method: "PUT", body: "the body" });
  });

  it("names every hop in X-Cluster-Trace when trace is on", async () => {
    await putConfig({ settings: { trace: true } });
    const path = uniquePath("trace");
    const [primary] = shardOrder(path, 1);
    const miss = await get(path);
    await miss.text();
    expect(miss.headers.get("x-cluster-trace")).toMatch(new RegExp(`^edge:local->MISS, ${primary}->MISS, origin:127\\.0\\.0\\.1:\\d+$`));
    const hit = await get(path);
    expect(hit.headers.get("x-cluster-trace")).toBe("edge:local->HIT");
  });
});
