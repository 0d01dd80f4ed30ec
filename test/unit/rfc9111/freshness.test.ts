import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateReuse, type PolicyOverrides } from "../../../src/rfc9111";
import { isFresh, remainingFreshnessSeconds } from "../../../src/rfc9111/freshness";
import { HTTP_T0, T0, at, httpDate, req, res, stored, stored200 } from "./fixtures";

describe("freshness lifetime precedence (RFC 9111 §4.2.1)", () => {
  it.each<[string, Record<string, string>, number]>([
    ["s-maxage beats max-age", { "cache-control": "max-age=60, s-maxage=30" }, 30],
    ["s-maxage beats max-age (larger)", { "cache-control": "max-age=60, s-maxage=300" }, 300],
    ["max-age beats Expires", { "cache-control": "max-age=60", expires: httpDate(3600) }, 60],
    ["Expires − Date", { expires: httpDate(120) }, 120],
    ["Expires beats heuristic", { expires: httpDate(120), "last-modified": httpDate(-86_400 * 30) }, 120],
    ["Expires in the past with a validator → 0", { expires: httpDate(-120), etag: '"a"' }, 0],
    ["invalid Expires → 0", { expires: "tomorrow", etag: '"a"' }, 0],
    ["two Expires values → expired", { expires: `${httpDate(60)}, ${httpDate(120)}`, etag: '"a"' }, 0],
    ["heuristic: 10% of Date − Last-Modified", { "last-modified": httpDate(-1000) }, 100],
    ["heuristic is floored", { "last-modified": httpDate(-1009) }, 100],
    ["heuristic is capped", { "last-modified": httpDate(-86_400 * 365) }, 86_400],
    ["Last-Modified after Date → no heuristic", { "last-modified": httpDate(60) }, 0],
    ["ETag only → 0", { etag: '"a"' }, 0],
    ["invalid max-age is stale (0)", { "cache-control": "max-age=x", etag: '"a"' }, 0],
    ["CDN-Cache-Control beats Cache-Control s-maxage", { "cache-control": "s-maxage=600", "cdn-cache-control": "max-age=20" }, 20],
    ["Shardcache-Cache-Control beats CDN-Cache-Control", { "cdn-cache-control": "max-age=20", "shardcache-cache-control": "max-age=5" }, 5],
    ["targeted field ignores Expires (RFC 9213 §2.1)", { "cdn-cache-control": "public", expires: httpDate(600), "last-modified": httpDate(-1000) }, 100],
    ["max-age clamps at 2^31", { "cache-control": "max-age=9999999999999" }, 2 ** 31],
  ])("%s", (_name, headers, lifetime) => {
    expect(stored200(headers).freshnessLifetimeSeconds).toBe(lifetime);
  });

  it("Expires is measured from the receive time when Date is missing (§4.2.1)", () => {
    expect(stored(res(200, { expires: httpDate(120) }), { responseTime: at(20), requestTime: at(20) }).freshnessLifetimeSeconds).toBe(100);
  });

  it("uses the heuristic for a public response of a non-heuristic status (§4.2.2)", () => {
    expect(stored(res(500, { date: HTTP_T0, "cache-control": "public", "last-modified": httpDate(-500) })).freshnessLifetimeSeconds).toBe(50);
  });

  it.each<[PolicyOverrides, Record<string, string>, number]>([
    [{ forcedTtlSeconds: 300 }, { "cache-control": "max-age=60" }, 300],
    [{ forcedTtlSeconds: 300 }, { "cache-control": "max-age=0" }, 300],
    [{ forcedTtlSeconds: 12.9 }, {}, 12],
  ])("a forced TTL %j replaces the origin's lifetime", (overrides, headers, lifetime) => {
    const meta = stored200(headers, { overrides });
    expect(meta.freshnessLifetimeSeconds).toBe(lifetime);
    expect(meta.forced).toBe(true);
  });
});

describe("stale instant and fresh check", () => {
  it("staleAt = responseTime − corrected_initial_age + lifetime", () => {
    const meta = stored200({ "cache-control": "max-age=60", age: "10" }, { requestTime: at(0), responseTime: at(2) });
    // corrected_initial_age = max(apparent 2 s, 10 + 2 s delay) = 12 s
    expect(meta.staleAt).toBe(at(2) - 12_000 + 60_000);
  });

  it.each<[number, boolean, number]>([
    [0, true, 60],
    [59, true, 1],
    [59.999, true, 1],
    [60, false, 0],
    [61, false, -1],
  ])("max-age=60 at +%ss: fresh %s, ttl %i", (seconds, fresh, ttl) => {
    const meta = stored200({ "cache-control": "max-age=60" });
    expect(isFresh(meta, at(seconds))).toBe(fresh);
    expect(remainingFreshnessSeconds(meta, at(seconds))).toBe(ttl);
  });
});

describe("freshness properties", () => {
  const scenario = fc.record({
    maxAge: fc.integer({ min: 0, max: 10_000_000 }),
    age: fc.option(fc.integer({ min: 0, max: 100_000 })),
    dateOffset: fc.integer({ min: -10_000, max: 10_000 }),
    delayMillis: fc.integer({ min: 0, max: 60_000 }),
  });

  function metaFor(s: { maxAge: number; age: number | null; dateOffset: number; delayMillis: number }) {
    const headers: Record<string, string> = { date: httpDate(s.dateOffset), "cache-control": `max-age=${s.maxAge}`, etag: '"v"' };
    if (s.age !== null) headers.age = String(s.age);
    return stored(res(200, headers), { requestTime: T0, responseTime: T0 + s.delayMillis });
  }

  it("ttl never increases as now advances", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 2e9 }), fc.integer({ min: 0, max: 2e9 }), (s, a, b) => {
        const meta = metaFor(s);
        const [t1, t2] = a <= b ? [T0 + a, T0 + b] : [T0 + b, T0 + a];
        expect(remainingFreshnessSeconds(meta, t2)).toBeLessThanOrEqual(remainingFreshnessSeconds(meta, t1));
        expect(evaluateReuse(meta, req(), t2).ttlSeconds).toBeLessThanOrEqual(evaluateReuse(meta, req(), t1).ttlSeconds);
        if (!isFresh(meta, t1)) expect(isFresh(meta, t2)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("a longer max-age never gives a shorter lifetime or an earlier staleAt", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 10_000_000 }), (s, extra) => {
        const shorter = metaFor(s);
        const longer = metaFor({ ...s, maxAge: s.maxAge + extra });
        expect(longer.freshnessLifetimeSeconds).toBeGreaterThanOrEqual(shorter.freshnessLifetimeSeconds);
        expect(longer.staleAt).toBeGreaterThanOrEqual(shorter.staleAt);
      }),
      { numRuns: 500 },
    );
  });

  it("fresh ⇔ ttl ≥ 1, stale ⇔ ttl ≤ 0", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 2e10 }), (s, offset) => {
        const meta = metaFor(s);
        const now = T0 + offset;
        expect(remainingFreshnessSeconds(meta, now) >= 1).toBe(isFresh(meta, now));
      }),
      { numRuns: 500 },
    );
  });
});

describe("maximum lifetime (settings.maxTtlSeconds)", () => {
  it.each<[string, Record<string, string>, PolicyOverrides | undefined, number]>([
    ["caps a longer max-age", { "cache-control": "max-age=3600" }, undefined, 600],
    ["caps a forced TTL", { "cache-control": "max-age=0" }, { forcedTtlSeconds: 86_400 }, 600],
    ["caps the heuristic", { "last-modified": httpDate(-86_400 * 30) }, undefined, 600],
    ["leaves a shorter max-age alone", { "cache-control": "max-age=60" }, undefined, 60],
  ])("%s", (_name, headers, overrides, lifetime) => {
    const meta = stored200(headers, { limits: { maxLifetimeSeconds: 600 }, ...(overrides ? { overrides } : {}) });
    expect(meta.freshnessLifetimeSeconds).toBe(lifetime);
    expect(meta.staleAt).toBe(at(lifetime));
  });

  it("is never exceeded, whatever the response says", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 10_000_000 }), (maxAge, cap) => {
        const meta = stored200({ "cache-control": `max-age=${maxAge}`, etag: '"v"' }, { limits: { maxLifetimeSeconds: cap } });
        return meta.freshnessLifetimeSeconds <= cap && meta.staleAt - T0 <= cap * 1000;
      }),
    );
  });
});
