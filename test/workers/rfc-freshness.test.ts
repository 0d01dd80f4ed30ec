/**
 * RFC 9111 §4.2 end to end: freshness lifetime from max-age, s-maxage (wins for a shared cache),
 * Expires, heuristics from Last-Modified; RFC 9213 targeted fields (Shardcache-Cache-Control >
 * CDN-Cache-Control > Cache-Control); and Age (§4.2.3, §5.1) on every tier, growing with time.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { fetchVia, httpDate, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

describe("RFC 9111 §4.2.1: freshness lifetime", () => {
  it("max-age: fresh hits until it runs out, then the origin again", async () => {
    const path = withQuery(uniquePath("max-age"), { cc: "max-age=1" });
    const first = await fetchVia(path);
    expect(members(first).shard?.params).toMatchObject({ stored: true });
    await advanceTime(1200);
    const stale = await fetchVia(path);
    expect(isHit(stale)).toBe(false);
    expect(members(stale).shard?.params.fwd).toBe("stale");
    expect(await originCount(path)).toBe(2);
  });

  it("max-age: ttl in Cache-Status is the remaining freshness", async () => {
    const path = withQuery(uniquePath("max-age-ttl"), { cc: "max-age=100" });
    const first = await fetchVia(path);
    expect(Number(members(first).shard?.params.ttl)).toBeGreaterThanOrEqual(98);
    const hit = await fetchVia(path);
    expect(members(hit).edge?.params.hit).toBe(true);
    expect(Number(members(hit).edge?.params.ttl)).toBeLessThanOrEqual(60); // the edge cap (edgeTtlCapSeconds)
    expect(await originCount(path)).toBe(1);
  });

  it("s-maxage beats max-age for a shared cache (longer)", async () => {
    const path = withQuery(uniquePath("smaxage-long"), { cc: "max-age=0, s-maxage=60" });
    const first = await fetchVia(path);
    expect(members(first).shard?.params.ttl).toBeGreaterThanOrEqual(58);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("s-maxage beats max-age for a shared cache (shorter)", async () => {
    const path = withQuery(uniquePath("smaxage-short"), { cc: "max-age=600, s-maxage=1" });
    await fetchVia(path);
    await advanceTime(1200);
    expect(isHit(await fetchVia(path))).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("Expires (without max-age) gives the lifetime; max-age beats Expires", async () => {
    const path = withQuery(uniquePath("expires"), { cc: "", "h-Expires": httpDate(120) });
    const first = await fetchVia(path);
    expect(Number(members(first).shard?.params.ttl)).toBeGreaterThan(100);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);

    const both = withQuery(uniquePath("expires-maxage"), { cc: "max-age=1", "h-Expires": httpDate(600) });
    await fetchVia(both);
    await advanceTime(1200);
    expect(isHit(await fetchVia(both))).toBe(false);
    expect(await originCount(both)).toBe(2);
  });

  it("heuristic freshness from Last-Modified (RFC 9111 §4.2.2): 10% of its age, capped at a day", async () => {
    const path = withQuery(uniquePath("heuristic"), { cc: "", lm: httpDate(-10 * 86_400) });
    const first = await fetchVia(path);
    const ttl = Number(members(first).shard?.params.ttl);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);

    const young = withQuery(uniquePath("heuristic-young"), { cc: "", lm: httpDate(-100) });
    const youngFirst = await fetchVia(young);
    expect(Number(members(youngFirst).shard?.params.ttl)).toBeLessThanOrEqual(10);
  });
});

describe("RFC 9213: targeted cache-control fields", () => {
  it("CDN-Cache-Control overrides Cache-Control (no-store there, max-age here)", async () => {
    const path = withQuery(uniquePath("cdn-cc"), { cc: "no-store", "h-CDN-Cache-Control": "max-age=60" });
    const first = await fetchVia(path);
    expect(members(first).shard?.params.stored).toBe(true);
    const second = await fetchVia(path);
    expect(isHit(second)).toBe(true);
    // Downstream caches still get the origin's Cache-Control for themselves.
    expect(second.headers.get("cache-control")).toBe("no-store");
    expect(await originCount(path)).toBe(1);
  });

  it("CDN-Cache-Control's lifetime wins over Cache-Control's", async () => {
    const path = withQuery(uniquePath("cdn-cc-short"), { cc: "max-age=600", "h-CDN-Cache-Control": "max-age=1" });
    await fetchVia(path);
    await advanceTime(1200);
    expect(isHit(await fetchVia(path))).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  for (const invalid of ["max-age=10000, &&&&&", 'max-age="10000"']) {
    it(`an invalid CDN-Cache-Control (${invalid}) is ignored: Cache-Control no-store governs (RFC 9213 §2.1)`, async () => {
      const path = withQuery(uniquePath("cdn-cc-invalid"), { cc: "no-store", "h-CDN-Cache-Control": invalid });
      const first = await fetchVia(path);
      expect(members(first).shard?.params).toMatchObject({ stored: false, detail: "response-no-store" });
      expect(isHit(await fetchVia(path))).toBe(false);
      expect(await originCount(path)).toBe(2);
    });
  }

  it("Shardcache-Cache-Control overrides CDN-Cache-Control and Cache-Control", async () => {
    const path = withQuery(uniquePath("sc-cc"), { cc: "private", "h-CDN-Cache-Control": "no-store", "h-Shardcache-Cache-Control": "max-age=60" });
    const first = await fetchVia(path);
    expect(members(first).shard?.params.stored).toBe(true);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);
  });

  it("Shardcache-Cache-Control no-store refuses even when CDN-Cache-Control allows", async () => {
    await putConfig({ settings: { verbose: true } });
    const path = withQuery(uniquePath("sc-cc-nostore"), { "h-CDN-Cache-Control": "max-age=60", "h-Shardcache-Cache-Control": "no-store" });
    const first = await fetchVia(path);
    expect(first.headers.get("x-cache-info")).toBe('not cacheable; response specified "Shardcache-Cache-Control: no-store"');
    expect(members(first).shard?.params.detail).toBe("response-no-store");
  });

  it("Shardcache-Cache-Control is consumed by this cache (not forwarded); CDN-Cache-Control is forwarded", async () => {
    // Choice (RFC 9213 §2.1): CDN-Cache-Control targets every CDN, including ones downstream of us, so it
    // is forwarded like any other field; Shardcache-Cache-Control targets this product only and is removed.
    const path = withQuery(uniquePath("targeted-fwd"), { "h-CDN-Cache-Control": "max-age=60", "h-Shardcache-Cache-Control": "max-age=30" });
    const miss = await fetchVia(path);
    const hit = await fetchVia(path);
    for (const response of [miss, hit]) {
      expect(response.headers.get("shardcache-cache-control")).toBeNull();
      expect(response.headers.get("cdn-cache-control")).toBe("max-age=60");
    }
    const passed = await fetchVia(withQuery(uniquePath("targeted-fwd-pass"), { cc: "no-store", "h-Shardcache-Cache-Control": "no-store" }));
    expect(passed.headers.get("shardcache-cache-control")).toBeNull();
  });
});

describe("RFC 9111 §4.2.3 / §5.1: Age", () => {
  it("is present on hits and keeps growing, on the edge tier and on the shard", async () => {
    const path = withQuery(uniquePath("age"), { cc: "max-age=60" });
    const first = await fetchVia(path);
    expect(Number(first.headers.get("age"))).toBe(0);
    await advanceTime(1100);
    const edgeHit = await fetchVia(path);
    expect(members(edgeHit).edge?.params.hit).toBe(true);
    expect(Number(edgeHit.headers.get("age"))).toBeGreaterThanOrEqual(1);
    await advanceTime(1100);
    const later = await fetchVia(path);
    expect(Number(later.headers.get("age"))).toBeGreaterThanOrEqual(2);
    expect(Number(later.headers.get("age"))).toBeLessThanOrEqual(4);
    expect(await originCount(path)).toBe(1);
  });

  it("on the shard too (edge tier disabled)", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("age-shard"), { cc: "max-age=60" });
    await fetchVia(path);
    await advanceTime(1100);
    const hit = await fetchVia(path);
    expect(members(hit).shard?.params.hit).toBe(true);
    expect(members(hit).edge?.params.hit).toBeUndefined();
    expect(Number(hit.headers.get("age"))).toBeGreaterThanOrEqual(1);
  });

  it("counts the Age the origin sent (corrected_initial_age), and that age uses up freshness", async () => {
    const path = withQuery(uniquePath("age-upstream"), { cc: "max-age=60", "h-Age": "30" });
    const first = await fetchVia(path);
    expect(Number(first.headers.get("age"))).toBeGreaterThanOrEqual(30);
    expect(Number(members(first).shard?.params.ttl)).toBeLessThanOrEqual(30);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(Number(hit.headers.get("age"))).toBeGreaterThanOrEqual(30);

    const old = withQuery(uniquePath("age-beyond"), { cc: "max-age=60", "h-Age": "100" });
    await fetchVia(old);
    await fetchVia(old);
    expect(await originCount(old)).toBe(2);
  });
});
