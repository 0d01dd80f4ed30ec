import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderCacheStatus } from "../../../src/rfc9111/cache-status";
import { HIT_INFO, HIT_WORD, hitMemberText, renderOutcome, type Outcome, type Tier } from "../../../src/serve/outcome";

/** Every kind, so a new one without a row here fails to compile (and then the coverage test below). */
const KINDS: Record<Outcome["kind"], true> = {
  hit: true,
  "refresh-ahead": true,
  stale: true,
  "stale-on-error": true,
  stored: true,
  revalidated: true,
  collapsed: true,
  "from-shard": true,
  "not-stored": true,
  passed: true,
  "origin-failed": true,
  "only-if-cached-miss": true,
  "rate-limited": true,
  "rule-answered": true,
};

const timeout = { kind: "timeout", afterMs: 900 } as const;

/** [tier, outcome, Cache-Status member (with the tier's name), X-Cache-Info, trace word, counters' label] */
const table: [Tier, Outcome, string, string | null, string, string][] = [
  // shard
  ["shard", { kind: "hit", ttlSeconds: 42 }, "s;hit;ttl=42", "cached", "HIT", "hit"],
  ["shard", { kind: "refresh-ahead", ttlSeconds: 3 }, "s;hit;ttl=3;detail=refresh-ahead", "cached; refreshing ahead of expiry in the background", "HIT", "hit"],
  ["shard", { kind: "stale", why: "refresh-time", ttlSeconds: -4 }, "s;hit;fwd=stale;ttl=-4;detail=refresh-time", "cached; stale, within refresh time (one request refreshes it)", "STALE", "stale"],
  ["shard", { kind: "stale", why: "stale-while-revalidate", ttlSeconds: -2 }, "s;hit;ttl=-2;detail=stale-while-revalidate", "cached; stale, revalidating in the background", "STALE", "stale"],
  ["shard", { kind: "stale", why: "max-stale", ttlSeconds: -9 }, "s;hit;ttl=-9;detail=max-stale", "cached; stale, accepted by request max-stale", "HIT", "hit"],
  ["shard", { kind: "stale-on-error", why: "stale-if-error" }, "s;hit;detail=stale-if-error", "cached; stale, origin failed", "STALE", "stale"],
  ["shard", { kind: "stale-on-error", why: "grace" }, "s;hit;detail=grace", "cached; stale within grace, origin failed", "STALE", "stale"],
  ["shard", { kind: "stored", fwd: "uri-miss", fwdStatus: 200, ttlSeconds: 60, sizeKnown: true }, "s;fwd=uri-miss;fwd-status=200;ttl=60;stored", "caching", "MISS", "miss"],
  ["shard", { kind: "stored", fwd: "vary-miss", fwdStatus: 200, ttlSeconds: 60, sizeKnown: false }, "s;fwd=vary-miss;fwd-status=200;ttl=60", "caching", "MISS", "miss"],
  ["shard", { kind: "revalidated", fwd: "stale" }, "s;fwd=stale;fwd-status=304;detail=revalidated", "cached; revalidated with origin (304)", "REVALIDATED", "revalidated"],
  // A collapsed waiter's line used to read "cached" while its member said it was no hit.
  ["shard", { kind: "collapsed", fwd: "uri-miss", onto: "fetch", sizeKnown: true }, "s;fwd=uri-miss;stored;collapsed", "caching; joined the origin fetch already in flight", "COLLAPSED", "coalesced"],
  ["shard", { kind: "collapsed", fwd: "uri-miss", onto: "fetch", sizeKnown: false }, "s;fwd=uri-miss;collapsed", "caching; joined the origin fetch already in flight", "COLLAPSED", "coalesced"],
  ["shard", { kind: "collapsed", fwd: "stale", onto: "revalidation" }, "s;fwd=stale;fwd-status=304;collapsed", "cached; revalidated with origin (304) by the request already in flight", "COLLAPSED", "coalesced"],
  [
    "shard",
    { kind: "not-stored", fwd: "uri-miss", fwdStatus: 200, reason: { code: "response-private", header: "Cache-Control: private" } },
    "s;fwd=uri-miss;fwd-status=200;stored=?0;detail=response-private",
    'not cacheable; response specified "Cache-Control: private"',
    "PASS",
    "pass",
  ],
  ["shard", { kind: "passed", fwd: "uri-miss", fwdStatus: 200, why: "hit-for-pass" }, "s;fwd=uri-miss;fwd-status=200;stored=?0;detail=hit-for-pass", "not cacheable; hit-for-pass", "PASS", "pass"],
  ["shard", { kind: "passed", fwd: "uri-miss", fwdStatus: 200, why: "collapse-timeout" }, "s;fwd=uri-miss;fwd-status=200;stored=?0;detail=collapse-timeout", "not cached; collapse-timeout", "PASS", "pass"],
  ["shard", { kind: "passed", fwd: "vary-miss", fwdStatus: 206, why: "collapse-released" }, "s;fwd=vary-miss;fwd-status=206;stored=?0;detail=collapse-released", "not cached; collapse-released", "PASS", "pass"],
  ["shard", { kind: "origin-failed", fwd: "uri-miss", failure: timeout }, "s;fwd=uri-miss;detail=origin-timeout", "not cached; origin did not answer within 900 ms", "ERROR", "error"],
  ["shard", { kind: "origin-failed", fwd: "stale", failure: { kind: "status", status: 503 } }, "s;fwd=stale;detail=origin-status", "not cached; origin answered 503", "ERROR", "error"],
  ["shard", { kind: "only-if-cached-miss" }, "s;fwd=miss;detail=only-if-cached", 'not cached; request specified "Cache-Control: only-if-cached"', "ERROR", "error"],
  // edge
  ["edge", { kind: "hit", ttlSeconds: 7 }, "s;hit;ttl=7", "cached", "HIT", "hit"],
  ["edge", { kind: "from-shard", fwd: "uri-miss", storedAtEdge: true }, "s;fwd=uri-miss;stored", null, "MISS", "miss"],
  ["edge", { kind: "from-shard", fwd: "stale", storedAtEdge: false }, "s;fwd=stale;stored=?0", null, "MISS", "miss"],
  ["edge", { kind: "from-shard", fwd: "vary-miss", storedAtEdge: undefined }, "s;fwd=vary-miss", null, "MISS", "miss"],
  ["edge", { kind: "collapsed", fwd: "uri-miss", onto: "shared-copy" }, "s;fwd=uri-miss;collapsed", null, "COLLAPSED", "miss"],
  ["edge", { kind: "passed", fwd: "bypass", fwdStatus: 200, why: "rule", rules: ["api", "nocache"] }, "s;fwd=bypass;fwd-status=200;stored=?0", "not cacheable; rule says pass", "PASS(api+nocache)", "pass"],
  ["edge", { kind: "passed", fwd: "method", fwdStatus: 201, why: "method", method: "POST" }, "s;fwd=method;fwd-status=201;stored=?0", "not cacheable; request method was POST", "PASS", "pass"],
  ["edge", { kind: "passed", fwd: "bypass", fwdStatus: 400, why: "websocket" }, "s;fwd=bypass;fwd-status=400;stored=?0;detail=websocket", "not cached; WebSocket upgrade refused by the origin", "PASS(websocket)", "pass"],
  ["edge", { kind: "passed", fwd: "uri-miss", fwdStatus: 200, why: "skip-sharding" }, "s;fwd=uri-miss;fwd-status=200;stored=?0;detail=skip-sharding", "not cached; rule says skip sharding", "MISS", "pass"],
  [
    "edge",
    { kind: "passed", fwd: "uri-miss", fwdStatus: 200, why: "shards-unavailable" },
    "s;fwd=uri-miss;fwd-status=200;stored=?0;detail=shards-unavailable",
    "not cached; no shard answered, fetched from origin directly",
    "MISS",
    "origin",
  ],
  // An edge's direct fetch that fails keeps its route's word, and counts as an error.
  [
    "edge",
    { kind: "origin-failed", fwd: "method", failure: { kind: "network", message: "refused" }, route: { why: "method", method: "PUT" } },
    "s;fwd=method;detail=origin-network",
    "not cached; origin unreachable: refused",
    "PASS",
    "error",
  ],
  ["edge", { kind: "origin-failed", fwd: "bypass", failure: timeout, route: { why: "rule", rules: ["r"] } }, "s;fwd=bypass;detail=origin-timeout", "not cached; origin did not answer within 900 ms", "PASS(r)", "error"],
  ["edge", { kind: "origin-failed", fwd: "bypass", failure: timeout, route: { why: "websocket" } }, "s;fwd=bypass;detail=origin-timeout", "not cached; origin did not answer within 900 ms", "PASS(websocket)", "error"],
  [
    "edge",
    { kind: "origin-failed", fwd: "uri-miss", failure: { kind: "pool-down", pool: "web", retryAfterSeconds: 5 }, route: { why: "shards-unavailable" } },
    "s;fwd=uri-miss;detail=origin-pool-down",
    'not cached; no origin server in pool "web" is available',
    "MISS",
    "error",
  ],
  ["edge", { kind: "origin-failed", fwd: "uri-miss", failure: { kind: "invalid", reason: "status 99" } }, "s;fwd=uri-miss;detail=origin-invalid", "not cached; origin sent a response that cannot be relayed: status 99", "ERROR", "error"],
  ["edge", { kind: "rate-limited", rateClass: "api" }, "s;fwd=bypass;detail=rate-limited", 'not cached; rate class "api" is over its limit', "RATE(api)", "refused"],
  ["edge", { kind: "rule-answered", action: "redirect", rules: ["old"], status: 301 }, "s;fwd=bypass;detail=rule-redirect", "not cached; rule old answered 301 (redirect)", "REDIRECT(old)", "pass"],
  ["edge", { kind: "rule-answered", action: "deny", rules: ["block"], status: 403 }, "s;fwd=bypass;detail=rule-deny", "not cached; rule block answered 403 (deny)", "DENY(block)", "refused"],
  ["edge", { kind: "rule-answered", action: "refused", rules: ["old"], status: 400 }, "s;fwd=bypass;detail=rule-refused", "not cached; rule old answered 400 (refused)", "REFUSED(old)", "refused"],
];

describe("renderOutcome: one case renders member, X-Cache-Info, trace word and label", () => {
  it.each(table)("%s %j", (tier, outcome, member, info, word, label) => {
    const rendered = tier === "shard" ? renderOutcome("shard", outcome) : renderOutcome("edge", outcome);
    expect(renderCacheStatus([{ cache: "s", ...rendered.member }])).toBe(member);
    expect(rendered.info).toBe(info);
    expect(rendered.word).toBe(word);
    expect(rendered.label).toBe(label);
  });

  it("has a row for every kind of outcome", () => {
    expect(new Set(table.map(([, o]) => o.kind))).toEqual(new Set(Object.keys(KINDS)));
  });

  it("a shard never renders a word its counters have no label for", () => {
    for (const [, outcome] of table) expect(renderOutcome("shard", outcome).word).toMatch(/^(HIT|MISS|STALE|REVALIDATED|COLLAPSED|PASS|ERROR)$/);
  });

  it("a hit member says hit, anything else does not (the disagreement that existed once)", () => {
    for (const [tier, outcome] of table) {
      const rendered = tier === "shard" ? renderOutcome("shard", outcome) : renderOutcome("edge", outcome);
      if (rendered.info?.startsWith("cached") && !rendered.member.hit) expect(rendered.member.fwdStatus, `${outcome.kind}: "cached" without hit needs a 304 from the origin`).toBe(304);
      if (rendered.member.hit) expect(rendered.info).toMatch(/^cached/);
    }
  });
});

describe("the edge hit's hot path", () => {
  it("renders what the renderer renders, for any ttl", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e16, -1e16, Number.POSITIVE_INFINITY)), (ttlSeconds) => {
        const rendered = renderOutcome("edge", { kind: "hit", ttlSeconds });
        expect(hitMemberText("shardcache-edge", ttlSeconds)).toBe(renderCacheStatus([{ cache: "shardcache-edge", ...rendered.member }]));
        expect([HIT_INFO, HIT_WORD, "hit"]).toEqual([rendered.info, rendered.word, rendered.label]);
      }),
    );
  });
});
