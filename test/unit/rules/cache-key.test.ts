import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normaliseIncoming } from "../../../src/edge/incoming";
import { EdgeRuleRequest } from "../../../src/edge/rule-request";
import { TargetMemo } from "../../../src/edge/target-memo";
import { cacheKeyFor, cacheKeyOfGet, defaultCacheKey, PLAIN_GET, type RequestTraits } from "../../../src/rules/cache-key";
import type { CompiledRules } from "../../../src/rules/match";
import { cacheKeySpecSchema, type CacheKeySpec } from "../../../src/rules/schema";
import { req, rules, type RequestOptions } from "./helpers";

const key = (url: string, spec: CacheKeySpec | undefined, options?: RequestOptions): string => cacheKeyFor(req(url, options), spec);

describe("default key", () => {
  it("sorts query parameters by name and keeps scheme, host and port", () => {
    expect(defaultCacheKey(new URL("https://h.test:8443/p?b=2&a=1&c=0"))).toBe("https://h.test:8443/p?a=1&b=2&c=0");
    expect(key("https://h.test/p?b=2&a=1", undefined)).toBe(key("https://h.test/p?a=1&b=2", undefined));
    expect(key("http://h.test/p", undefined)).not.toBe(key("https://h.test/p", undefined));
    expect(key("https://h.test/p?", undefined)).toBe("https://h.test/p");
  });
  it("keeps a repeated parameter's values in the order sent (first-value origins answer them differently)", () => {
    expect(defaultCacheKey(new URL("https://h.test/p?v=evil&b=1&v=good"))).toBe("https://h.test/p?b=1&v=evil&v=good");
    expect(key("https://h.test/p?v=evil&v=good", undefined)).not.toBe(key("https://h.test/p?v=good&v=evil", undefined));
    expect(key("https://h.test/p?v=evil&v=good", { query: { include: ["v"] } })).not.toBe(key("https://h.test/p?v=good&v=evil", { query: { include: ["v"] } }));
    expect(key("https://h.test/p?v=evil&x=1&v=good", { query: { exclude: ["x"] } })).toBe("https://h.test/p?v=evil&v=good");
  });
  it("an empty spec is the default key", () => {
    expect(key("https://h.test/p?b=2&a=1", {})).toBe(defaultCacheKey(new URL("https://h.test/p?b=2&a=1")));
  });
});

describe("query selection", () => {
  it("include keeps only the named parameters, sorted", () => {
    const spec: CacheKeySpec = { query: { include: ["page", "lang"] } };
    expect(key("https://h/p?utm=x&page=2&lang=en", spec)).toBe("https://h/p?lang=en&page=2");
    expect(key("https://h/p?utm=y&lang=en&page=2", spec)).toBe(key("https://h/p?page=2&lang=en", spec));
    expect(key("https://h/p?utm=y", spec)).toBe("https://h/p");
  });
  it("exclude drops the named parameters", () => {
    expect(key("https://h/p?utm_source=a&id=7&fbclid=z", { query: { exclude: ["utm_source", "fbclid"] } })).toBe("https://h/p?id=7");
  });
  it("ignore drops the whole query", () => {
    expect(key("https://h/p?id=7", { query: "ignore" })).toBe("https://h/p");
  });
  it("distinguishes present-but-empty from absent", () => {
    const spec: CacheKeySpec = { query: { include: ["a"] } };
    expect(key("https://h/p?a=", spec)).not.toBe(key("https://h/p", spec));
  });
});

describe("headers and cookies", () => {
  it("appends lower-cased, sorted header names with their values, and marks absent headers", () => {
    const spec: CacheKeySpec = { headers: ["X-Device", "Accept-Language"] };
    expect(key("https://h/p", spec, { headers: { "accept-language": "en", "x-device": "mobile" } })).toBe("https://h/p#h:accept-language=en#h:x-device=mobile");
    expect(key("https://h/p", spec, { headers: { "x-device": "mobile" } })).toBe("https://h/p#h:accept-language#h:x-device=mobile");
    expect(key("https://h/p", spec, { headers: { "accept-language": "" } })).toBe("https://h/p#h:accept-language=#h:x-device");
  });
  it("appends cookies after headers", () => {
    const spec: CacheKeySpec = { headers: ["accept"], cookies: ["theme", "ab"] };
    expect(key("https://h/p?x=1", spec, { headers: { accept: "text/html", cookie: "theme=dark; other=1; ab=B" } })).toBe("https://h/p?x=1#h:accept=text%2Fhtml#c:ab=B#c:theme=dark");
  });
  it("escapes separators so a value cannot pose as another component", () => {
    const spec: CacheKeySpec = { headers: ["x-a", "x-b"] };
    const forged = key("https://h/p", spec, { headers: { "x-a": "1#h:x-b=2" } });
    const real = key("https://h/p", spec, { headers: { "x-a": "1", "x-b": "2" } });
    expect(forged).not.toBe(real);
    // A raw "|" is legal in a URL path, which is why "#" (never raw in a serialised URL) separates components.
    expect(key("https://h/p|h:x-a=1", { headers: ["x-a"] })).not.toBe(key("https://h/p", { headers: ["x-a"] }, { headers: { "x-a": "1" } }));
    expect(key("https://h/p%23h:x-a=1", { headers: ["x-a"] })).not.toBe(key("https://h/p", { headers: ["x-a"] }, { headers: { "x-a": "1" } }));
  });
});

describe("custom template", () => {
  it("replaces the key but keeps the scheme", () => {
    const spec: CacheKeySpec = { custom: "${host}${path}" };
    expect(key("https://h.test/a?x=1", spec)).toBe("https://h.test/a");
    expect(key("http://h.test/a?x=1", spec)).toBe("http://h.test/a");
  });
  it("expands method, query, header and cookie placeholders, percent-encoding values", () => {
    const spec: CacheKeySpec = { custom: "${method}:${host}${path}/v=${query.v}/l=${header.Accept-Language}/s=${cookie.s}/none=${query.none}" };
    const result = key("https://h.test/a?v=1%202", spec, { method: "GET", headers: { "accept-language": "en", cookie: "s=a/b" } });
    expect(result).toBe("https://GET:h.test/a/v=1%202/l=en/s=a%2Fb/none=");
  });
  it("is validated by the schema", () => {
    expect(cacheKeySpecSchema.safeParse({ custom: "${host}${nope}" }).success).toBe(false);
    expect(cacheKeySpecSchema.safeParse({ custom: "${host" }).success).toBe(false);
    expect(cacheKeySpecSchema.safeParse({ custom: "$path-${path}" }).success).toBe(true);
  });
});

describe("no collisions (property)", () => {
  const name = fc.constantFrom("a", "b", "id", "page", "x y", "a=b", "&", "#");
  const value = fc.string({ maxLength: 6 });
  const params = fc.array(fc.tuple(name, value), { maxLength: 5 });
  const specs: (CacheKeySpec | undefined)[] = [undefined, {}, { query: { include: ["a", "id", "x y", "a=b", "&", "#"] } }, { query: { exclude: ["b"] } }, { headers: ["x-a"], cookies: ["c"] }];
  const included = (spec: CacheKeySpec | undefined, n: string) =>
    spec?.query === undefined || spec.query === "ignore" ? spec?.query !== "ignore" : "include" in spec.query ? spec.query.include.includes(n) : !spec.query.exclude.includes(n);
  // By name, stably: a repeated name's values stay in the order sent.
  const selected = (spec: CacheKeySpec | undefined, ps: [string, string][]) =>
    ps
      .filter(([n]) => included(spec, n))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([n, v]) => `${n}\u0000${v}`)
      .join("\u0001");

  it("two URLs whose included parameters differ never share a key", () => {
    fc.assert(
      fc.property(params, params, fc.constantFrom(...specs), (left, right, spec) => {
        const url = (ps: [string, string][]) => `https://h.test/p?${new URLSearchParams(ps).toString()}`;
        const differ = selected(spec, left) !== selected(spec, right);
        expect(key(url(left), spec) !== key(url(right), spec)).toBe(differ);
      }),
    );
  });
  it("two requests whose selected headers, cookies or paths differ never share a key", () => {
    const header = fc.option(fc.string({ unit: fc.constantFrom("a", "#", "=", "|", ":", "h", "%", " "), maxLength: 6 }), { nil: undefined });
    const cookie = fc.option(fc.string({ unit: fc.constantFrom("a", "#", "=", "|", "c", "%"), maxLength: 6 }), { nil: undefined });
    const path = fc.string({ unit: fc.constantFrom("a", "#", "|", "h", ":", "=", "%", "2", "3"), maxLength: 8 });
    const spec: CacheKeySpec = { headers: ["x-a", "x-b"], cookies: ["c"] };
    const build = ([p, a, b, c]: [string, string | undefined, string | undefined, string | undefined]) => {
      const headers: Record<string, string> = {};
      if (a !== undefined) headers["x-a"] = a.trim();
      if (b !== undefined) headers["x-b"] = b.trim();
      if (c !== undefined) headers.cookie = `c=${c}`;
      const url = new URL("https://h.test/");
      url.pathname = `/${p}`;
      return { k: key(url.href, spec, { headers }), id: JSON.stringify([url.pathname, headers["x-a"], headers["x-b"], c === undefined ? null : c.trim()]) };
    };
    const input = fc.tuple(path, header, header, cookie);
    fc.assert(
      fc.property(input, input, (left, right) => {
        const l = build(left);
        const r = build(right);
        expect(l.k === r.k).toBe(l.id === r.id);
      }),
    );
  });
});

/**
 * The one "which entry is this URL" function (purge by URL, invalidation after unsafe methods, POST
 * adoption), against the key the edge gives a client's GET of the same URL: its target normalised
 * on arrival (src/edge/incoming.ts), then the rules and cacheKeyFor. Non-normal spellings are the
 * point: an origin's Location or an operator's purge URL is written however they like.
 */
describe("cacheKeyOfGet: the key a GET of a URL has, as the edge computes it", () => {
  type Traits = RequestTraits & { headers: Headers };
  // As the edge decides: through its target memo (src/edge/target-memo.ts), which holds the key of a
  // target-only config and leaves a keyed rule's key to cacheKeyFor.
  const edgeKey = (url: string, compiled: CompiledRules, traits: Traits): string => {
    const arrived = normaliseIncoming(new Request(url, { headers: traits.headers }));
    const ruleRequest = new EdgeRuleRequest(arrived, traits.country, undefined);
    const decision = new TargetMemo(compiled).decide(ruleRequest);
    return decision.key ?? cacheKeyFor(ruleRequest, decision.rule.actions.cacheKey);
  };
  const noRules = rules();
  const queryIgnored = rules({ match: { path: "/p" }, actions: { cacheKey: { query: "ignore" } } });
  const byDevice = rules({ match: { path: "/d" }, actions: { cacheKey: { headers: ["x-device"] } } });
  const mobile: Traits = { headers: new Headers({ "x-device": "mobile" }), clientIp: "192.0.2.1", country: "DE" };

  it.each<[string, string, CompiledRules, Traits, string]>([
    ["sorted query", "https://a.test/p?b=2&a=1", noRules, PLAIN_GET, "https://a.test/p?a=1&b=2"],
    ["the rule's key spec", "https://a.test/p?b=2&a=1", queryIgnored, PLAIN_GET, "https://a.test/p"],
    ["an unreserved character percent-encoded", "https://a.test/%7Euser/x", noRules, PLAIN_GET, "https://a.test/~user/x"],
    ["dot segments, encoded or not", "https://a.test/a/./b/%2E%2E/c", noRules, PLAIN_GET, "https://a.test/a/c"],
    ["a run of slashes", "https://a.test//a///b", noRules, PLAIN_GET, "https://a.test/a/b"],
    ["lower-case hex in an encoding", "https://a.test/a%2fb", noRules, PLAIN_GET, "https://a.test/a%2Fb"],
    ["an upper-case host, a fragment, an empty query", "https://A.TEST/x?#frag", noRules, PLAIN_GET, "https://a.test/x"],
    ["the request's headers, for a keyed rule", "https://a.test/d", byDevice, mobile, "https://a.test/d#h:x-device=mobile"],
    ["no headers: a plain GET", "https://a.test/d", byDevice, PLAIN_GET, "https://a.test/d#h:x-device"],
  ])("%s: %s", (_case, url, compiled, traits, expected) => {
    expect(cacheKeyOfGet(url, traits, compiled).key).toBe(expected);
    expect(edgeKey(url, compiled, traits)).toBe(expected);
  });

  it("returns the rule the GET matches (adoption asks it whether the GET is cacheable)", () => {
    const passing = rules({ match: { path: "/nocache/**" }, actions: { pass: true } });
    expect(cacheKeyOfGet("https://a.test/nocache/%78", PLAIN_GET, passing).rule.actions.pass).toBe(true);
  });
});
