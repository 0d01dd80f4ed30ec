import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cacheControlSource, effectiveCacheControl, formatCacheControl, isRequestOnlyIfCached, parseCacheControl, requestForbidsStoring } from "../../../src/rfc9111";
import type { CacheControl } from "../../../src/rfc9111";
import { requestCacheControl } from "../../../src/rfc9111/request-directives";
import { req } from "./fixtures";

type Fields = Partial<Omit<CacheControl, "directives">>;

describe("parseCacheControl: typed directives (RFC 9111 §5.2)", () => {
  it.each<[string | null, Fields]>([
    [null, { maxAge: null, noStore: false, invalid: [] }],
    ["", { maxAge: null, noCache: false }],
    ["max-age=60", { maxAge: 60 }],
    ["MAX-AGE=60", { maxAge: 60 }],
    ['max-age="60"', { maxAge: 60 }],
    ["max-age = 60", { maxAge: 60 }],
    ["s-maxage=30, max-age=60", { sMaxage: 30, maxAge: 60 }],
    ["max-age=60, max-age=10", { maxAge: 10 }],
    ["max-age=10, max-age=60", { maxAge: 10 }],
    ["max-age=abc", { maxAge: 0, invalid: ["max-age"] }],
    ["max-age=-5", { maxAge: 0, invalid: ["max-age"] }],
    ["max-age=1.5", { maxAge: 0, invalid: ["max-age"] }],
    ["max-age", { maxAge: 0, invalid: ["max-age"] }],
    ["max-age=", { maxAge: 0, invalid: ["max-age"] }],
    ["max-age=60, max-age=oops", { maxAge: 0, invalid: ["max-age"] }],
    ["s-maxage=x", { sMaxage: 0, invalid: ["s-maxage"] }],
    ["max-age=99999999999999999999", { maxAge: 2 ** 31 }],
    ["max-stale", { maxStale: Number.POSITIVE_INFINITY }],
    ["max-stale=30", { maxStale: 30 }],
    ["max-stale, max-stale=30", { maxStale: 30 }],
    ["max-stale=x", { maxStale: null, invalid: ["max-stale"] }],
    ["min-fresh=10, min-fresh=20", { minFresh: 20 }],
    ["min-fresh=x", { minFresh: null, invalid: ["min-fresh"] }],
    ["stale-while-revalidate=30, stale-if-error=600", { staleWhileRevalidate: 30, staleIfError: 600 }],
    ["stale-while-revalidate=bad", { staleWhileRevalidate: 0, invalid: ["stale-while-revalidate"] }],
    ["no-store", { noStore: true }],
    ["No-Store", { noStore: true }],
    ["no-cache", { noCache: true, noCacheFields: [] }],
    ['no-cache="Set-Cookie"', { noCache: false, noCacheFields: ["set-cookie"] }],
    ['no-cache="set-cookie, X-Foo"', { noCache: false, noCacheFields: ["set-cookie", "x-foo"] }],
    ['no-cache="a", no-cache="b", no-cache="a"', { noCacheFields: ["a", "b"] }],
    ['no-cache=""', { noCache: true, noCacheFields: [] }],
    ['no-cache="a", no-cache', { noCache: true, noCacheFields: ["a"] }],
    ["private", { private: true, privateFields: [] }],
    ['private="x-user, set-cookie"', { private: false, privateFields: ["x-user", "set-cookie"] }],
    ["private=x-user", { private: false, privateFields: ["x-user"] }],
    ["public, must-revalidate, proxy-revalidate", { public: true, mustRevalidate: true, proxyRevalidate: true }],
    ["must-understand, no-transform, only-if-cached, immutable", { mustUnderstand: true, noTransform: true, onlyIfCached: true, immutable: true }],
    ["max-age=60,,, ,public", { maxAge: 60, public: true }],
    ['max-age=60, community="UCI"', { maxAge: 60 }],
    ['foo="a, max-age=0", max-age=60', { maxAge: 60 }],
    ['foo="unterminated, max-age=0', { maxAge: null }],
    ["bad name=1, max-age=5", { maxAge: 5 }],
  ])("%j", (value, expected) => {
    expect(parseCacheControl(value)).toMatchObject(expected);
  });

  it("keeps unknown directives (and duplicates) in order, with unquoted arguments", () => {
    const cc = parseCacheControl('max-age=5, Community="U\\"CI", ext, max-age=7');
    expect(cc.directives).toEqual([
      { name: "max-age", value: "5" },
      { name: "community", value: 'U"CI' },
      { name: "ext", value: null },
      { name: "max-age", value: "7" },
    ]);
  });

  it("does not let a quoted argument's commas split directives", () => {
    expect(parseCacheControl('private="a, no-store, b"').noStore).toBe(false);
  });
});

describe("effectiveCacheControl: the field that governs this cache (RFC 9213)", () => {
  it.each<[Record<string, string>, string, number | null]>([
    [{ "cache-control": "max-age=10" }, "Cache-Control", 10],
    [{ "cache-control": "max-age=10", "cdn-cache-control": "max-age=20" }, "CDN-Cache-Control", 20],
    [{ "cache-control": "max-age=10", "cdn-cache-control": "max-age=20", "shardcache-cache-control": "max-age=30" }, "Shardcache-Cache-Control", 30],
    [{ "cache-control": "max-age=10", "shardcache-cache-control": "no-store" }, "Shardcache-Cache-Control", null],
    [{ "cache-control": "max-age=10", "cdn-cache-control": "  " }, "Cache-Control", 10],
    [{}, "Cache-Control", null],
  ])("%j → %s", (headers, source, maxAge) => {
    const h = new Headers(headers);
    expect(cacheControlSource(h)).toBe(source);
    expect(effectiveCacheControl(h).maxAge).toBe(maxAge);
  });

  // RFC 9213 §2.1: a targeted field that is not a valid sf-dictionary (or gives max-age a non-Integer) is ignored.
  it.each<[Record<string, string>, string, number | null]>([
    [{ "cache-control": "no-store", "cdn-cache-control": "max-age=10000, &&&&&" }, "Cache-Control", null],
    [{ "cache-control": "no-store", "cdn-cache-control": 'max-age="10000"' }, "Cache-Control", null],
    [{ "cache-control": "max-age=1", "cdn-cache-control": "max-age =100" }, "Cache-Control", 1],
    [{ "cache-control": "max-age=1", "cdn-cache-control": "max-age=-5" }, "Cache-Control", 1],
    [{ "cache-control": "max-age=1", "cdn-cache-control": "max-age=1.5" }, "Cache-Control", 1],
    [{ "cdn-cache-control": "max-age=20", "shardcache-cache-control": "s-maxage=(1 2)" }, "CDN-Cache-Control", 20],
    [{ "cache-control": "max-age=1", "cdn-cache-control": 'foobar, max-age=3600, private="x-foo"' }, "CDN-Cache-Control", 3600],
    [{ "cache-control": "max-age=1", "cdn-cache-control": "max-age=99999999999" }, "CDN-Cache-Control", 2147483648],
    [{ "cache-control": "max-age=1", "cdn-cache-control": "MaX-aGe=3600" }, "CDN-Cache-Control", 3600], // deviation: names case-insensitive
  ])("invalid targeted fields are ignored: %j → %s", (headers, source, maxAge) => {
    const h = new Headers(headers);
    expect(cacheControlSource(h)).toBe(source);
    expect(effectiveCacheControl(h).maxAge).toBe(maxAge);
  });
});

describe("request directives", () => {
  it.each<[Record<string, string>, boolean]>([
    [{ "cache-control": "no-cache" }, true],
    [{ pragma: "no-cache" }, true],
    [{ pragma: "x, No-Cache" }, true],
    [{ pragma: "no-cache", "cache-control": "max-age=5" }, false],
    [{ pragma: "other" }, false],
    [{}, false],
  ])("no-cache for %j → %s (Pragma only without Cache-Control, RFC 9111 §5.4)", (headers, noCache) => {
    expect(requestCacheControl(req(headers)).noCache).toBe(noCache);
  });

  it.each<[Record<string, string>, boolean, boolean]>([
    [{ "cache-control": "only-if-cached" }, true, false],
    [{ "cache-control": "no-store" }, false, true],
    [{ "cache-control": "max-age=0, ONLY-IF-CACHED, no-store" }, true, true],
    [{ "cdn-cache-control": "no-store, only-if-cached" }, false, false],
    [{}, false, false],
  ])("%j → only-if-cached %s, no-store %s", (headers, onlyIfCached, noStore) => {
    expect(isRequestOnlyIfCached(req(headers))).toBe(onlyIfCached);
    expect(requestForbidsStoring(req(headers))).toBe(noStore);
  });
});

describe("parseCacheControl properties", () => {
  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary-ascii", maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 100 })), (s) => {
        const cc = parseCacheControl(s);
        expect(Array.isArray(cc.directives)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on directive-shaped noise", () => {
    const piece = fc.constantFrom("max-age", "=", '"', "\\", ",", " ", "no-cache", "private", "5", "-1", "s-maxage", "x");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        parseCacheControl(parts.join(""));
      }),
      { numRuns: 2000 },
    );
  });

  it("format ∘ parse is stable: parsing the formatted result gives the same record", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (s) => {
        const once = parseCacheControl(s);
        expect(parseCacheControl(formatCacheControl(once))).toEqual(once);
      }),
      { numRuns: 2000 },
    );
  });

  const seconds = fc.integer({ min: 0, max: 2 ** 31 });
  const known = fc.record({
    maxAge: fc.option(seconds),
    sMaxage: fc.option(seconds),
    staleWhileRevalidate: fc.option(seconds),
    staleIfError: fc.option(seconds),
    minFresh: fc.option(seconds),
    noStore: fc.boolean(),
    public: fc.boolean(),
    mustRevalidate: fc.boolean(),
    immutable: fc.boolean(),
    privateFields: fc.uniqueArray(fc.constantFrom("set-cookie", "x-a", "x-b")),
  });

  it("round-trips known directives, whatever the case and quoting", () => {
    fc.assert(
      fc.property(known, fc.boolean(), fc.boolean(), (k, upper, quote) => {
        const v = (n: number) => (quote ? `"${n}"` : String(n));
        const parts: string[] = [];
        const num = { "max-age": k.maxAge, "s-maxage": k.sMaxage, "stale-while-revalidate": k.staleWhileRevalidate, "stale-if-error": k.staleIfError, "min-fresh": k.minFresh };
        for (const [name, n] of Object.entries(num)) if (n !== null) parts.push(`${name}=${v(n)}`);
        for (const [name, on] of Object.entries({ "no-store": k.noStore, public: k.public, "must-revalidate": k.mustRevalidate, immutable: k.immutable })) if (on) parts.push(name);
        if (k.privateFields.length > 0) parts.push(`private="${k.privateFields.join(", ")}"`);
        const text = parts.join(", ");
        const cc = parseCacheControl(upper ? text.toUpperCase() : text);
        expect(cc).toMatchObject({ ...k, invalid: [] });
      }),
      { numRuns: 1000 },
    );
  });
});
