/**
 * RFC 9211 end to end: Cache-Status lists one member per cache, the one nearest the origin first —
 * the shard's member first, the edge's member last — with hit / fwd / fwd-status / ttl / stored /
 * collapsed parameters that agree with what each tier did.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { cacheStatus, fetchVia, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { SELF } from "cloudflare:test";
import { BASE } from "../helpers/http";

describe("RFC 9211: Cache-Status", () => {
  it("miss: shard member first (fwd=uri-miss, fwd-status, ttl, stored), edge member last (fwd=uri-miss, stored)", async () => {
    const path = withQuery(uniquePath("cs-miss"), { cc: "max-age=60" });
    const response = await fetchVia(path);
    const list = cacheStatus(response);
    expect(list.map((m) => m.cache)).toEqual(["shardcache-shard", "shardcache-edge"]);
    expect(list[0]!.params).toMatchObject({ fwd: "uri-miss", "fwd-status": 200, stored: true });
    expect(list[0]!.params.ttl).toBeGreaterThanOrEqual(59);
    expect(list[0]!.params.hit).toBeUndefined();
    expect(list[1]!.params).toMatchObject({ fwd: "uri-miss", stored: true });
    expect(response.headers.get("cache-status")).toMatch(/^shardcache-shard;fwd=uri-miss;fwd-status=200;ttl=\d+;stored, shardcache-edge;fwd=uri-miss;stored$/);
  });

  it("edge hit: a single edge member with hit and ttl", async () => {
    const path = withQuery(uniquePath("cs-edge-hit"), { cc: "max-age=60" });
    await fetchVia(path);
    const response = await fetchVia(path);
    const list = cacheStatus(response);
    expect(list.map((m) => m.cache)).toEqual(["shardcache-edge"]);
    expect(list[0]!.params.hit).toBe(true);
    expect(list[0]!.params.ttl).toBeGreaterThan(0);
    expect(list[0]!.params.fwd).toBeUndefined();
  });

  it("shard hit behind an edge miss: shard member hit, edge member fwd", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("cs-shard-hit"), { cc: "max-age=60" });
    await fetchVia(path);
    const response = await fetchVia(path);
    const [shard, edge] = cacheStatus(response);
    expect(shard).toMatchObject({ cache: "shardcache-shard", params: { hit: true } });
    expect(Number(shard!.params.ttl)).toBeGreaterThan(50);
    expect(edge!.cache).toBe("shardcache-edge");
    expect(edge!.params.hit).toBeUndefined();
    expect(edge!.params.fwd).toBe("uri-miss");
  });

  it("collapsed: concurrent misses name the one origin fetch they shared", async () => {
    const path = withQuery(uniquePath("cs-collapsed"), { cc: "max-age=60", delay: "300" });
    const responses = await Promise.all(Array.from({ length: 5 }, () => SELF.fetch(`${BASE}${path}`)));
    await Promise.all(responses.map((r) => r.text()));
    // One isolate: the edge's single-flight collapses the four followers onto the leader's shard call,
    // so every client names the same shard member (the one origin fetch) and the followers' edge member says collapsed.
    const lists = responses.map((r) => cacheStatus(r));
    const edgeMembers = lists.map((list) => list.find((m) => m.cache === "shardcache-edge")!);
    expect(edgeMembers.filter((m) => m.params.collapsed === true)).toHaveLength(4);
    expect(lists.every((list) => list[0]!.cache === "shardcache-shard" && list[0]!.params["fwd-status"] === 200 && list[0]!.params.collapsed === undefined)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("collapsed in the shard: concurrent misses that may not follow at the edge wait on the shard's one origin fetch", async () => {
    const path = withQuery(uniquePath("cs-collapsed-shard"), { cc: "max-age=60", delay: "300" });
    // A request with its own Cache-Control makes its own shard call; the shard coalesces them.
    const responses = await Promise.all(Array.from({ length: 5 }, () => SELF.fetch(`${BASE}${path}`, { headers: { "cache-control": "max-stale=0" } })));
    await Promise.all(responses.map((r) => r.text()));
    const shardMembers = responses.map((r) => cacheStatus(r)[0]!);
    expect(shardMembers.filter((m) => m.params.collapsed === true)).toHaveLength(4);
    expect(shardMembers.filter((m) => m.params["fwd-status"] === 200 && m.params.collapsed === undefined)).toHaveLength(1);
    expect(await originCount(path)).toBe(1);
  });

  it("unsafe method: fwd=method with the origin's status, edge member only", async () => {
    const path = uniquePath("cs-method");
    const response = await fetchVia(path, { method: "POST", body: "x" });
    const list = cacheStatus(response);
    expect(list.map((m) => m.cache)).toEqual(["shardcache-edge"]);
    expect(list[0]!.params).toMatchObject({ fwd: "method", "fwd-status": 200, stored: false });
  });

  it("bypass by rule: fwd=bypass", async () => {
    const path = uniquePath("cs-bypass");
    await putConfig({ rules: [{ match: { path }, actions: { pass: true } }] });
    const response = await fetchVia(path);
    expect(cacheStatus(response)[0]!.params).toMatchObject({ fwd: "bypass", stored: false });
  });

  it("is a valid structured list even when several hops append to an upstream Cache-Status", async () => {
    const path = withQuery(uniquePath("cs-upstream"), { cc: "max-age=60", "h-Cache-Status": "origin-cache;hit" });
    const response = await fetchVia(path);
    expect(cacheStatus(response).map((m) => m.cache)).toEqual(["origin-cache", "shardcache-shard", "shardcache-edge"]);
  });
});
