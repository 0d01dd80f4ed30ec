/**
 * Response-phase rules: which actions a response rule may have, the wire form the edge sends (and
 * the shard re-checks), and `responsePhase`, which merges matching rules over the request rule's
 * store context without lifting any RFC 9111 §3 trust check unless a DANGEROUS action says so.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/document";
import { canStore } from "../../../src/rfc9111";
import { mediaType, responsePhase, withResponseRules } from "../../../src/rules/response-rules";
import { checkResponseRules, MAX_RESPONSE_RULES, type ResponseRuleWire } from "../../../src/rules/response-schema";
import { ruleSchema } from "../../../src/rules/schema";
import { req, rules } from "./helpers";

const response = (status: number, headers: Record<string, string> = {}) => ({ status, headers: new Headers(headers) });
const wire = (input: Parameters<typeof rules>[0], url = "https://h/x"): readonly ResponseRuleWire[] => rules(input).evaluate(req(url)).responseRules ?? [];

describe("response rule schema", () => {
  it("allows only actions that act on the response; cache only in a response rule", () => {
    expect(ruleSchema.safeParse({ match: { response: { status: 404 } }, actions: { cache: true, ttl: 60, tags: ["x"], setResponseHeaders: { "x-a": "1" }, ignorePrivate: true } }).success).toBe(true);
    for (const action of [{ pass: true }, { pool: "web" }, { cacheKey: { query: "ignore" } }, { redirect: { location: "/a" } }, { edgeTtl: 5 }, { rewrite: { host: "a.test" } }]) {
      const parsed = ruleSchema.safeParse({ match: { response: { status: 200 } }, actions: action });
      expect(parsed.success, JSON.stringify(action)).toBe(false);
      expect(parsed.error!.issues[0]!.message).toMatch(/not available in a response rule/);
    }
    expect(ruleSchema.safeParse({ match: {}, actions: { cache: false } }).success).toBe(false);
  });
  it("validates statuses, ranges and content-type globs; caps response rules per document", () => {
    expect(ruleSchema.safeParse({ match: { response: { status: [200, { min: 500, max: 599 }], contentType: ["text/*", "application/json"] } }, actions: { ttl: 1 } }).success).toBe(true);
    expect(ruleSchema.safeParse({ match: { response: { status: { min: 500, max: 400 } } }, actions: { ttl: 1 } }).success).toBe(false);
    expect(ruleSchema.safeParse({ match: { response: { status: 99 } }, actions: { ttl: 1 } }).success).toBe(false);
    const many = Array.from({ length: MAX_RESPONSE_RULES + 1 }, () => ({ match: { response: { status: 200 } }, actions: { ttl: 1 } }));
    expect(parseConfig({ rules: many }).ok).toBe(false);
    expect(parseConfig({ rules: many.slice(1) }).ok).toBe(true);
  });
});

describe("response rules at the edge", () => {
  it("never take part in first-match request evaluation; those whose request conditions hold travel in order", () => {
    const compiled = rules(
      { name: "errors", match: { path: "/x/**", response: { status: { min: 500, max: 599 } } }, actions: { cache: false } },
      { name: "static", match: { path: "/x/**" }, actions: { ttl: 60 } },
      { name: "other-path", match: { path: "/y", response: { status: 200 } }, actions: { ttl: 5 } },
      { name: "json", continue: true, match: { response: { contentType: "application/JSON", headers: { "X-Kind": { glob: "a*" } } } }, actions: { tags: ["j"] } },
    );
    const result = compiled.evaluate(req("https://h/x/1"));
    expect(result.matched).toEqual(["static"]);
    expect(result.actions).toEqual({ ttl: 60 });
    expect(result.responseRules!.map((r) => r.label)).toEqual(["errors", "json"]);
    expect(result.responseRules![1]).toEqual({ label: "json", continue: true, when: { contentType: "application/JSON", headers: { "x-kind": { glob: "a*" } } }, actions: { tags: ["j"] } });
    expect(compiled.evaluate(req("https://h/z")).responseRules!.map((r) => r.label)).toEqual(["json"]);
    expect(rules({ match: {}, actions: { ttl: 1 } }).evaluate(req("https://h/")).responseRules).toBeUndefined();
  });
  it("the shard refuses a malformed or oversized list (then no response rule applies)", () => {
    const one = wire({ match: { response: { status: 200 } }, actions: { ttl: 1 } });
    expect(checkResponseRules([...one])).toEqual([...one]);
    expect(checkResponseRules(undefined)).toEqual([]);
    expect(checkResponseRules([{ label: "x", when: { status: 200 }, actions: { pass: true } }])).toBeNull();
    expect(checkResponseRules([{ label: "x", when: { headers: { a: { regex: "(a)\\1" } } }, actions: {} }])).toBeNull();
    expect(checkResponseRules(Array.from({ length: MAX_RESPONSE_RULES + 1 }, () => one[0]))).toBeNull();
    expect(checkResponseRules("nope")).toBeNull();
  });
});

describe("responsePhase", () => {
  const base = { overrides: { forcedTtlSeconds: 10 }, tags: ["req"], responseHeaders: { set: { "x-a": "req" } } };
  const phase = (input: Parameters<typeof rules>[0], res: ReturnType<typeof response>) => responsePhase(wire(input), res, base);

  it("matches status lists and ranges, media types without parameters, and response headers as sent", () => {
    const rule = { name: "r", match: { response: { status: [200, { min: 300, max: 399 }], contentType: "text/*", headers: { "x-cacheable": "yes" } } }, actions: { ttl: 99 } };
    expect(phase(rule, response(200, { "content-type": "Text/HTML; charset=utf-8", "x-cacheable": "yes" })).matched).toEqual(["r"]);
    expect(phase(rule, response(302, { "content-type": "text/plain", "x-cacheable": "yes" })).matched).toEqual(["r"]);
    expect(phase(rule, response(404, { "content-type": "text/plain", "x-cacheable": "yes" })).matched).toEqual([]);
    expect(phase(rule, response(200, { "content-type": "image/png", "x-cacheable": "yes" })).matched).toEqual([]);
    expect(phase(rule, response(200, { "x-cacheable": "yes" })).matched).toEqual([]);
    expect(phase(rule, response(200, { "content-type": "text/plain", "x-cacheable": "YES" })).matched).toEqual([]);
    expect(mediaType(" Application/JSON ;q=1")).toBe("application/json");
  });
  it("merges over the request rule's context: ttl replaces, tags and header edits add; no match keeps the base", () => {
    const out = phase({ name: "r", match: { response: { status: 404 } }, actions: { ttl: 30, tags: ["missing", "req"], setResponseHeaders: { "X-B": "1" }, removeResponseHeaders: ["Set-Cookie"] } }, response(404));
    expect(out).toEqual({ matched: ["r"], overrides: { forcedTtlSeconds: 30 }, tags: ["req", "missing"], responseHeaders: { set: { "x-a": "req", "x-b": "1" }, remove: ["set-cookie"] } });
    expect(phase({ match: { response: { status: 404 } }, actions: { ttl: 30 } }, response(200))).toEqual({ ...base, matched: [] });
    expect(base).toEqual({ overrides: { forcedTtlSeconds: 10 }, tags: ["req"], responseHeaders: { set: { "x-a": "req" } } });
  });
  it("first match wins unless continue; cache: false refuses storing through canStore, a later cache: true undoes it", () => {
    const list = [
      ...wire({ name: "no", continue: true, match: { response: { status: { min: 400, max: 599 } } }, actions: { cache: false } }),
      ...wire({ name: "yes-404", match: { response: { status: 404 } }, actions: { cache: true, ttl: 5 } }),
      ...wire({ name: "never", match: { response: { status: 404 } }, actions: { tags: ["never"] } }),
    ];
    const refused = responsePhase(list, response(500), {});
    expect(refused.matched).toEqual(["no"]);
    const verdict = canStore(
      { method: "GET", url: "https://h/x", headers: new Headers() },
      { status: 500, headers: new Headers({ "cache-control": "max-age=60" }) },
      { limits: { maxObjectBytes: 1e6, maxVaryBytes: 4096, maxHeuristicSeconds: 86400, maxLifetimeSeconds: 1e6 }, requestHasBody: false, contentLength: 1, overrides: refused.overrides! },
    );
    expect(verdict).toEqual({ store: false, reason: { code: "rule", rule: "no" } });
    const undone = responsePhase(list, response(404), {});
    expect(undone.matched).toEqual(["no", "yes-404"]);
    expect(undone.overrides).toEqual({ forcedTtlSeconds: 5 });
  });
  it("keeps RFC 9111 §3: a response rule's ttl does not store a private or Set-Cookie response; only a DANGEROUS action lifts one", () => {
    const limits = { maxObjectBytes: 1e6, maxVaryBytes: 4096, maxHeuristicSeconds: 86400, maxLifetimeSeconds: 1e6 };
    const store = (overrides: object, headers: Record<string, string>) =>
      canStore({ method: "GET", url: "https://h/x", headers: new Headers() }, { status: 200, headers: new Headers(headers) }, { limits, requestHasBody: false, contentLength: 1, overrides }).store;
    const ttlOnly = responsePhase(wire({ match: { response: { status: 200 } }, actions: { ttl: 600 } }), response(200), {}).overrides!;
    expect(store(ttlOnly, { "cache-control": "private" })).toBe(false);
    expect(store(ttlOnly, { "set-cookie": "a=1" })).toBe(false);
    expect(store(ttlOnly, { "cache-control": "no-store" })).toBe(false);
    expect(store(ttlOnly, {})).toBe(true);
    const dangerous = responsePhase(wire({ match: { response: { status: 200 } }, actions: { ttl: 600, ignorePrivate: true } }), response(200), {}).overrides!;
    expect(store(dangerous, { "cache-control": "private" })).toBe(true);
    expect(store(dangerous, { "cache-control": "no-store" })).toBe(false);
  });
  it("hostile: a response header built to make a backtracking regex explode is matched in linear time", () => {
    const list = wire({ match: { response: { headers: { "x-h": { regex: "^(a|aa)+$" } } } }, actions: { ttl: 1 } });
    const started = performance.now();
    expect(responsePhase(list, response(200, { "x-h": `${"a".repeat(100_000)}!` }), {}).matched).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("withResponseRules (the shard's step)", () => {
  it("returns the context itself without rules or without a match, the decided context otherwise, and ignores a malformed list", () => {
    const ctx = { key: "k", overrides: { forcedTtlSeconds: 1 }, responseRules: [...wire({ name: "nf", match: { response: { status: 404 } }, actions: { ttl: 9 } })] };
    const bare: { key: string; responseRules?: unknown } = { key: "k" };
    expect(withResponseRules(bare, response(404))).toBe(bare);
    expect(withResponseRules(ctx, response(200))).toBe(ctx);
    expect(withResponseRules(ctx, response(404))).toEqual({ ...ctx, overrides: { forcedTtlSeconds: 9 } });
    const hostile = { ...ctx, responseRules: [{ label: "x", when: { status: 404 }, actions: { ttl: 9, pass: true } }] };
    expect(withResponseRules(hostile, response(404))).toBe(hostile);
  });
});
