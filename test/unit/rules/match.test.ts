import { describe, expect, it } from "vitest";
import { matched, req, rules } from "./helpers";

const any = { pass: true };

describe("host", () => {
  const compiled = rules({ name: "exact", match: { host: "Example.com" }, actions: any }, { name: "wild", match: { host: "*.example.net" }, actions: any });
  it("matches exact hosts case-insensitively and ignores the port", () => {
    expect(matched(compiled, "https://example.com:8443/")).toEqual(["exact"]);
    expect(matched(compiled, "https://www.example.com/")).toEqual([]);
  });
  it("matches a wildcard at any subdomain depth but not the bare domain", () => {
    expect(matched(compiled, "https://a.example.net/")).toEqual(["wild"]);
    expect(matched(compiled, "https://a.b.example.net/")).toEqual(["wild"]);
    expect(matched(compiled, "https://example.net/")).toEqual([]);
    expect(matched(compiled, "https://badexample.net/")).toEqual([]);
  });
  it("accepts a list and a trailing-dot host", () => {
    const list = rules({ name: "l", match: { host: ["a.test", "b.test"] }, actions: any });
    expect(matched(list, "https://b.test/")).toEqual(["l"]);
    expect(matched(list, "https://b.test./")).toEqual(["l"]);
    expect(matched(list, "https://c.test/")).toEqual([]);
  });
});

describe("path", () => {
  it("treats a glob's * as one segment, ** as any depth, ? as one character", () => {
    const compiled = rules({ name: "star", match: { path: "/img/*.png" }, actions: any }, { name: "deep", match: { path: { glob: "/a/**/z" } }, actions: any }, { name: "q", match: { path: "/v?/x" }, actions: any });
    expect(matched(compiled, "https://h/img/cat.png")).toEqual(["star"]);
    expect(matched(compiled, "https://h/img/x/cat.png")).toEqual([]);
    expect(matched(compiled, "https://h/a/z")).toEqual(["deep"]);
    expect(matched(compiled, "https://h/a/b/c/z")).toEqual(["deep"]);
    expect(matched(compiled, "https://h/v1/x")).toEqual(["q"]);
    expect(matched(compiled, "https://h/v12/x")).toEqual([]);
  });
  it("makes /dir/** cover the directory itself but not a sibling sharing its prefix", () => {
    const compiled = rules({ name: "admin", match: { path: "/admin/**" }, actions: any });
    for (const path of ["/admin", "/admin/", "/admin/users/1"]) expect(matched(compiled, `https://h${path}`)).toEqual(["admin"]);
    expect(matched(compiled, "https://h/administrator")).toEqual([]);
  });
  it("escapes regex characters in globs and matches a glob without wildcards exactly", () => {
    const compiled = rules({ name: "dot", match: { path: "/a.b" }, actions: any }, { name: "paren", match: { path: "/(x)/*" }, actions: any });
    expect(matched(compiled, "https://h/a.b")).toEqual(["dot"]);
    expect(matched(compiled, "https://h/aXb")).toEqual([]);
    expect(matched(compiled, "https://h/a.b/c")).toEqual([]);
    expect(matched(compiled, "https://h/(x)/y")).toEqual(["paren"]);
  });
  it("applies a regex to the path only, unanchored unless the regex anchors it", () => {
    const compiled = rules({ name: "api", match: { path: { regex: "^/api/v[0-9]+/" } }, actions: any }, { name: "json", match: { path: { regex: "\\.json$" } }, actions: any });
    expect(matched(compiled, "https://h/api/v2/users")).toEqual(["api"]);
    expect(matched(compiled, "https://h/api/vx/users")).toEqual([]);
    expect(matched(compiled, "https://h/x/data.json?y=1")).toEqual(["json"]);
    expect(matched(compiled, "https://h/x/data.json.bak")).toEqual([]);
  });
  it("respects an optional character right after a regex's literal prefix", () => {
    const compiled = rules({ name: "opt", match: { path: { regex: "^/docs?/" } }, actions: any });
    expect(matched(compiled, "https://h/doc/a")).toEqual(["opt"]);
    expect(matched(compiled, "https://h/docs/a")).toEqual(["opt"]);
  });
});

describe("method, country, client IP", () => {
  it("matches methods from a list, case-insensitively in the rule", () => {
    const compiled = rules({ name: "write", match: { method: ["post", "PUT"] }, actions: any });
    expect(matched(compiled, "https://h/", { method: "POST" })).toEqual(["write"]);
    expect(matched(compiled, "https://h/", { method: "PUT" })).toEqual(["write"]);
    expect(matched(compiled, "https://h/", { method: "GET" })).toEqual([]);
    expect(matched(compiled, "https://h/", { method: "BREW" })).toEqual([]);
  });
  it("matches countries and never matches an unknown country", () => {
    const compiled = rules({ name: "eu", match: { country: ["nl", "DE"] }, actions: any });
    expect(matched(compiled, "https://h/", { country: "NL" })).toEqual(["eu"]);
    expect(matched(compiled, "https://h/", { country: "de" })).toEqual(["eu"]);
    expect(matched(compiled, "https://h/", { country: "US" })).toEqual([]);
    expect(matched(compiled, "https://h/", { country: null })).toEqual([]);
  });
  it("matches IPv4 CIDRs, including IPv4-mapped IPv6 client addresses", () => {
    const compiled = rules({ name: "office", match: { clientIp: ["10.0.0.0/8", "192.168.1.7"] }, actions: any });
    expect(matched(compiled, "https://h/", { clientIp: "10.255.0.1" })).toEqual(["office"]);
    expect(matched(compiled, "https://h/", { clientIp: "::ffff:10.1.2.3" })).toEqual(["office"]);
    expect(matched(compiled, "https://h/", { clientIp: "192.168.1.7" })).toEqual(["office"]);
    expect(matched(compiled, "https://h/", { clientIp: "192.168.1.8" })).toEqual([]);
    expect(matched(compiled, "https://h/", { clientIp: "11.0.0.1" })).toEqual([]);
    expect(matched(compiled, "https://h/", { clientIp: null })).toEqual([]);
    expect(matched(compiled, "https://h/", { clientIp: "not-an-ip" })).toEqual([]);
  });
  it("matches IPv6 CIDRs at non-word-aligned prefixes and keeps families apart", () => {
    const compiled = rules({ name: "v6", match: { clientIp: "2001:db8:abc0::/42" }, actions: any });
    expect(matched(compiled, "https://h/", { clientIp: "2001:db8:abc0::1" })).toEqual(["v6"]);
    expect(matched(compiled, "https://h/", { clientIp: "2001:DB8:ABFF:ffff::1" })).toEqual(["v6"]);
    expect(matched(compiled, "https://h/", { clientIp: "2001:db8:ac00::1" })).toEqual([]);
    expect(matched(compiled, "https://h/", { clientIp: "32.1.13.184" })).toEqual([]);
    const all = rules({ name: "all6", match: { clientIp: "::/0" }, actions: any });
    expect(matched(all, "https://h/", { clientIp: "fe80::1%eth0" })).toEqual(["all6"]);
    expect(matched(all, "https://h/", { clientIp: "1.2.3.4" })).toEqual([]);
  });
});

describe("query, headers, cookies", () => {
  const compiled = rules(
    { name: "q", match: { query: { preview: true, debug: false, lang: "en" } }, actions: any },
    { name: "h", match: { headers: { "X-Debug": true, authorization: false, "x-tenant": "acme" } }, actions: any },
    { name: "c", match: { cookies: { session: true, tracking: false, theme: "dark" } }, actions: any },
  );
  it("query: present, absent and exact value must all hold", () => {
    expect(matched(compiled, "https://h/?preview=&lang=en")).toEqual(["q"]);
    expect(matched(compiled, "https://h/?preview=1&lang=en&debug=0")).toEqual([]);
    expect(matched(compiled, "https://h/?preview=1&lang=fr")).toEqual([]);
    expect(matched(compiled, "https://h/?lang=en")).toEqual([]);
  });
  it("headers: names are case-insensitive; present, absent and exact value", () => {
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "", "x-tenant": "acme" } })).toEqual(["h"]);
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "1", "x-tenant": "ACME" } })).toEqual([]);
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "1", "x-tenant": "acme", authorization: "x" } })).toEqual([]);
  });
  it("cookies: parsed from the Cookie header; present, absent and exact value", () => {
    expect(matched(compiled, "https://h/", { headers: { cookie: "session=1; theme=dark" } })).toEqual(["c"]);
    expect(matched(compiled, "https://h/", { headers: { cookie: "session=1;theme=dark;tracking=y" } })).toEqual([]);
    expect(matched(compiled, "https://h/", { headers: { cookie: "theme=dark" } })).toEqual([]);
    expect(matched(compiled, "https://h/", { headers: { cookie: "session=1; theme=light; theme=dark" } })).toEqual([]);
  });
  it("reads fresh values for every request (no stale per-request cache)", () => {
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "1", "x-tenant": "acme" } })).toEqual(["h"]);
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "1", "x-tenant": "other" } })).toEqual([]);
    expect(matched(compiled, "https://h/", { headers: { "x-debug": "1", "x-tenant": "acme" } })).toEqual(["h"]);
  });
});

describe("ordering and merging", () => {
  it("first match wins and later rules are not applied", () => {
    const compiled = rules({ name: "a", match: { path: "/x/**" }, actions: { ttl: 1 } }, { name: "b", match: {}, actions: { ttl: 2, tags: ["b"] } });
    const result = compiled.evaluate(req("https://h/x/1"));
    expect(result.matched).toEqual(["a"]);
    expect(result.actions).toEqual({ ttl: 1 });
    expect(compiled.evaluate(req("https://h/y")).actions).toEqual({ ttl: 2, tags: ["b"] });
  });
  it("continue merges actions: later scalars win, tags concatenate, header maps and key specs merge", () => {
    const compiled = rules(
      { match: {}, continue: true, actions: { ttl: 10, tags: ["all"], setResponseHeaders: { "X-A": "1", "x-b": "1" }, removeResponseHeaders: ["Set-Cookie"], cacheKey: { query: "ignore" } } },
      { name: "skipped", match: { path: "/nope" }, actions: { pass: true } },
      { name: "mid", continue: true, match: { path: "/p/**" }, actions: { ttl: 20, tags: ["p", "all"], setResponseHeaders: { "x-a": "2" }, cacheKey: { headers: ["Accept"] } } },
      { name: "final", match: { path: "/p/**" }, actions: { staleIfError: 5, removeResponseHeaders: ["set-cookie", "x-c"] } },
      { name: "never", match: {}, actions: { pass: true } },
    );
    const result = compiled.evaluate(req("https://h/p/1"));
    expect(result.matched).toEqual(["rules[0]", "mid", "final"]);
    expect(result.actions).toEqual({
      ttl: 20,
      tags: ["all", "p"],
      setResponseHeaders: { "x-a": "2", "x-b": "1" },
      removeResponseHeaders: ["set-cookie", "x-c"],
      cacheKey: { query: "ignore", headers: ["accept"] },
      staleIfError: 5,
    });
  });
  it("returns what continue rules gave when no later rule matches, and merging never mutates a rule", () => {
    const compiled = rules({ name: "tag", continue: true, match: {}, actions: { tags: ["a"] } }, { name: "more", continue: true, match: { path: "/m" }, actions: { tags: ["b"] } });
    expect(compiled.evaluate(req("https://h/m")).actions).toEqual({ tags: ["a", "b"] });
    expect(compiled.evaluate(req("https://h/other"))).toEqual({ matched: ["tag"], actions: { tags: ["a"] } });
  });
  it("reports no match with empty actions, and every condition of a rule must hold", () => {
    const compiled = rules({ name: "both", match: { method: "GET", path: "/a", headers: { "x-k": true } }, actions: any });
    expect(compiled.evaluate(req("https://h/a"))).toEqual({ matched: [], actions: {} });
    expect(matched(compiled, "https://h/a", { method: "HEAD", headers: { "x-k": "1" } })).toEqual([]);
    expect(matched(compiled, "https://h/a", { headers: { "x-k": "1" } })).toEqual(["both"]);
  });
  it("keeps host/method indexing exact for unknown hosts, unknown methods and wildcard hosts", () => {
    const compiled = rules({ name: "get-a", match: { host: "a.test", method: "GET" }, actions: any }, { name: "wild", match: { host: "*.b.test" }, actions: any }, { name: "rest", match: {}, actions: any });
    expect(matched(compiled, "https://a.test/")).toEqual(["get-a"]);
    expect(matched(compiled, "https://a.test/", { method: "PURGE" })).toEqual(["rest"]);
    expect(matched(compiled, "https://x.b.test/", { method: "PURGE" })).toEqual(["wild"]);
    expect(matched(compiled, "https://y.b.test/")).toEqual(["wild"]);
    expect(matched(compiled, "https://zzz.test/")).toEqual(["rest"]);
    expect(matched(compiled, "https://a.test/", { method: "POST" })).toEqual(["rest"]);
  });
  it("freezes results so a caller cannot change the compiled rules", () => {
    const compiled = rules({ name: "t", match: {}, actions: { tags: ["x"] } });
    const result = compiled.evaluate(req("https://h/"));
    expect(Object.isFrozen(result.actions)).toBe(true);
    expect(Object.isFrozen(result.actions.tags)).toBe(true);
  });
});
