import { describe, expect, it } from "vitest";
import { CLASS_WIDE, MISSING, contextKey, fnv1a32, limiterObjectName } from "../../../src/rates/context";
import { emptyLimiterState, tryAcquire, type LimiterState } from "../../../src/rates/limiter";
import type { RateContext } from "../../../src/config/rates";

const req = (path: string, headers: Record<string, string> = {}, clientIp: string | null = "192.0.2.1") => ({
  url: new URL(`https://example.com${path}?q=1`),
  headers: new Headers(headers),
  clientIp,
});
const cls = (context?: RateContext) => ({ context });

describe("contextKey", () => {
  it("keys by client IP, path (without query), header or cookie value", () => {
    expect(contextKey(cls("ip"), req("/a"))).toBe("192.0.2.1");
    expect(contextKey(cls("path"), req("/a/b"))).toBe("/a/b");
    expect(contextKey(cls({ header: "X-Api-Key" }), req("/", { "x-api-key": "k1" }))).toBe("k1");
    expect(contextKey(cls({ cookie: "session" }), req("/", { cookie: "theme=dark; session=abc=def; x=1" }))).toBe("abc=def");
  });

  it("a class without a context is one limit", () => {
    expect(contextKey(cls(), req("/a"))).toBe(CLASS_WIDE);
    expect(contextKey(cls(), req("/b", {}, "198.51.100.7"))).toBe(CLASS_WIDE);
  });

  it("a missing value maps to '-'", () => {
    expect(contextKey(cls("ip"), req("/", {}, null))).toBe(MISSING);
    expect(contextKey(cls({ header: "x-api-key" }), req("/"))).toBe(MISSING);
    expect(contextKey(cls({ cookie: "session" }), req("/", { cookie: "sessionx=1; other=2" }))).toBe(MISSING);
    expect(contextKey(cls({ cookie: "session" }), req("/", { cookie: "session=" }))).toBe(MISSING);
  });

  it("replaces very long values by a bounded hash, stable and distinct", () => {
    const a = contextKey(cls({ header: "x-k" }), req("/", { "x-k": "a".repeat(5000) }));
    const b = contextKey(cls({ header: "x-k" }), req("/", { "x-k": "a".repeat(4999) + "b" }));
    expect(a.length).toBeLessThan(64);
    expect(a).not.toBe(b);
    expect(contextKey(cls({ header: "x-k" }), req("/", { "x-k": "a".repeat(5000) }))).toBe(a);
  });

  it("contexts are independent limits", () => {
    const limiters = new Map<string, LimiterState>();
    const admit = (ip: string, now: number): boolean => {
      const key = contextKey(cls("ip"), req("/", {}, ip));
      const r = tryAcquire(limiters.get(key) ?? emptyLimiterState, now, 1, { perSecond: 2 });
      limiters.set(key, r.state);
      return r.granted === 1;
    };
    expect([admit("10.0.0.1", 0), admit("10.0.0.1", 1), admit("10.0.0.1", 2)]).toEqual([true, true, false]);
    expect([admit("10.0.0.2", 3), admit("10.0.0.2", 4)]).toEqual([true, true]);
  });
});

describe("limiterObjectName", () => {
  it("is stable: the same class and context always name the same object", () => {
    expect(limiterObjectName("api", "192.0.2.1", 8)).toBe(limiterObjectName("api", "192.0.2.1", 8));
    // Pinned values: a change of hash would move every context to another object mid-window.
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(limiterObjectName("api", "*", 8)).toMatch(/^rate:api:[0-7]$/);
  });

  it("stays within spread and uses all of it, for IP-like keys too", () => {
    for (const spread of [1, 3, 8]) {
      const seen = new Map<string, number>();
      for (let i = 0; i < 4000; i++) {
        const name = limiterObjectName("api", `10.${(i >> 8) & 255}.${i & 255}.${i % 7}`, spread);
        seen.set(name, (seen.get(name) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(Array.from({ length: spread }, (_, i) => `rate:api:${i}`).sort());
      for (const count of seen.values()) expect(count).toBeGreaterThan((4000 / spread) * 0.8);
    }
  });

  it("spreads keys that differ only in high bits of a character (raw FNV modulo a power of two would not)", () => {
    const keys = Array.from({ length: 16 }, (_, i) => `key-${String.fromCharCode(0x21 + 8 * i)}`);
    expect(new Set(keys.map((k) => limiterObjectName("api", k, 8))).size).toBeGreaterThanOrEqual(5);
  });

  it("separates classes", () => {
    expect(limiterObjectName("api", "x", 4).startsWith("rate:api:")).toBe(true);
    expect(limiterObjectName("web", "x", 4).startsWith("rate:web:")).toBe(true);
  });
});
