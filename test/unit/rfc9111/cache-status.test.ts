import { parseList, type Token } from "structured-headers";
import { describe, expect, it } from "vitest";
import { cacheInfo, reasonText, renderCacheStatus, type CacheInfo, type CacheOutcome, type NotStorableReason } from "../../../src/rfc9111";

describe("renderCacheStatus (RFC 9211)", () => {
  it.each<[CacheOutcome[], string]>([
    [[{ cache: "shardcache-edge", hit: true, ttlSeconds: 42 }], "shardcache-edge;hit;ttl=42"],
    [[{ cache: "shardcache-shard", hit: false, fwd: "uri-miss", fwdStatus: 200, stored: true, ttlSeconds: 60 }], "shardcache-shard;fwd=uri-miss;fwd-status=200;ttl=60;stored"],
    [[{ cache: "shardcache-shard", hit: false, fwd: "miss", stored: false, detail: "response-private" }], "shardcache-shard;fwd=miss;stored=?0;detail=response-private"],
    [[{ cache: "shardcache-shard", hit: false, fwd: "stale", collapsed: true }], "shardcache-shard;fwd=stale;collapsed"],
    [[{ cache: "shardcache-shard", hit: false, fwd: "stale", collapsed: false }], "shardcache-shard;fwd=stale"],
    [[{ cache: "shardcache-edge", hit: true, ttlSeconds: -15.7, detail: "stale-if-error" }], "shardcache-edge;hit;ttl=-15;detail=stale-if-error"],
    [[{ cache: "shardcache-edge", hit: false, fwd: "bypass", detail: "rule says pass" }], 'shardcache-edge;fwd=bypass;detail="rule says pass"'],
    [[{ cache: "My Cache", hit: true }], '"My Cache";hit'],
    [[{ cache: "café", hit: true, detail: "naïve\n" }], '"caf?";hit;detail="na?ve?"'],
    [
      [
        { cache: "origin-cdn", hit: true },
        { cache: "shardcache-shard", hit: false, fwd: "vary-miss" },
        { cache: "shardcache-edge", hit: false, fwd: "miss" },
      ],
      "origin-cdn;hit, shardcache-shard;fwd=vary-miss, shardcache-edge;fwd=miss",
    ],
    [[], ""],
  ])("%j → %s", (outcomes, expected) => {
    expect(renderCacheStatus(outcomes)).toBe(expected);
  });

  it("clamps ttl to a Structured Fields integer", () => {
    expect(renderCacheStatus([{ cache: "c", hit: true, ttlSeconds: 1e20 }])).toBe("c;hit;ttl=999999999999999");
    expect(renderCacheStatus([{ cache: "c", hit: true, ttlSeconds: Number.NEGATIVE_INFINITY }])).toBe("c;hit;ttl=-999999999999999");
  });

  it("parses back as a list with the same members and parameters", () => {
    const parsed = parseList(renderCacheStatus([{ cache: "shardcache-shard", hit: false, fwd: "request", fwdStatus: 304, detail: "revalidated" }]));
    expect(parsed).toHaveLength(1);
    const [value, params] = parsed[0] as [Token, Map<string, unknown>];
    expect(value.toString()).toBe("shardcache-shard");
    expect(Object.fromEntries([...params].map(([k, v]) => [k, String(v)]))).toEqual({ fwd: "request", "fwd-status": "304", detail: "revalidated" });
  });
});

describe("reasonText (X-Cache-Info for refusals)", () => {
  it.each<[NotStorableReason, string]>([
    [{ code: "method", method: "POST" }, "not cacheable; request method was POST"],
    [{ code: "request-body" }, "not cacheable; request had a body"],
    [{ code: "request-no-store" }, 'not cacheable; request specified "Cache-Control: no-store"'],
    [{ code: "authorization" }, 'not cacheable; request specified "Authorization"'],
    [{ code: "response-no-store", header: "Cache-Control: no-store" }, 'not cacheable; response specified "Cache-Control: no-store"'],
    [{ code: "response-private", header: "Cache-Control: private" }, 'not cacheable; response specified "Cache-Control: private"'],
    [{ code: "response-private", header: "CDN-Cache-Control: private" }, 'not cacheable; response specified "CDN-Cache-Control: private"'],
    [{ code: "vary-star" }, 'not cacheable; response specified "Vary: *"'],
    [{ code: "vary-too-large", bytes: 5000 }, "not cacheable; Vary selecting headers too large (5000 bytes)"],
    [{ code: "too-large", bytes: 12345678 }, "not cacheable; object too large (12345678 bytes)"],
    [{ code: "status", status: 500 }, "not cacheable; response status was 500"],
    [{ code: "max-age-zero-no-validator", header: "Cache-Control: max-age=0" }, 'not cacheable; response specified "Cache-Control: max-age=0" without a validator'],
    [{ code: "already-expired" }, "not cacheable; response already expired"],
    [{ code: "redirect-without-freshness", status: 302 }, "not cacheable; redirect 302 without explicit freshness"],
    [{ code: "no-freshness-no-validator" }, "not cacheable; response has no freshness information and no validator"],
    [{ code: "partial-content" }, "not cacheable; partial content (206)"],
  ])("%j", (reason, text) => {
    expect(reasonText(reason)).toBe(text);
  });
});

describe("cacheInfo (X-Cache-Info for outcomes)", () => {
  it.each<[CacheInfo, string]>([
    [{ kind: "hit" }, "cached"],
    [{ kind: "stored" }, "caching"],
    [{ kind: "not-stored", reason: { code: "response-private", header: "Cache-Control: private" } }, 'not cacheable; response specified "Cache-Control: private"'],
    [{ kind: "stale-while-revalidate" }, "cached; stale, revalidating in the background"],
    [{ kind: "stale-allowed" }, "cached; stale, accepted by request max-stale"],
    [{ kind: "stale-if-error" }, "cached; stale, origin failed"],
    [{ kind: "revalidated" }, "cached; revalidated with origin (304)"],
    [{ kind: "collapsed" }, "caching; joined the origin fetch already in flight"],
    [{ kind: "collapsed-revalidated" }, "cached; revalidated with origin (304) by the request already in flight"],
    [{ kind: "rule-pass" }, "not cacheable; rule says pass"],
    [{ kind: "hit-for-pass" }, "not cacheable; hit-for-pass"],
    [{ kind: "only-if-cached-miss" }, 'not cached; request specified "Cache-Control: only-if-cached"'],
  ])("%j", (info, text) => {
    expect(cacheInfo(info)).toBe(text);
  });
});
