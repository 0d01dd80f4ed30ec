/**
 * Hostile input at the client → edge boundary: every decision (rules, rate classes, the admin prefix,
 * the cache key) and the origin see one normalised form of the request target; request headers that
 * could change a stored response but are not keyed never reach the origin; query order cannot
 * merge what first-value origins tell apart.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import defaultConfig from "../../config/default.json";
import { normalisePath } from "../../src/lib/request-target";
import { putConfig } from "../helpers/config";
import { fetchVia, isHit, members } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

/** What the origin received, from the demo origin's /__echo endpoint (`cc` makes it cacheable). */
async function echoed(path: string, headers: Record<string, string> = {}): Promise<{ url: string; headers: Record<string, string>; response: Response }> {
  const response = await fetchVia(path, { headers });
  const body = JSON.parse(response.text_) as { url: string; headers: Record<string, string> };
  return { ...body, response };
}

describe("key confusion: percent-encoding, dot segments and slashes", () => {
  it("/%61dmin/x is /admin/x: the shipped pass-admin rule applies and nothing is stored", async () => {
    await putConfig(defaultConfig);
    const name = uniquePath("x").slice(1);
    for (const attempt of [1, 2]) {
      const response = await fetchVia(`/%61dmin/${name}`);
      expect(response.status, `attempt ${attempt}`).toBe(200);
      expect(members(response).edge?.params.fwd, `attempt ${attempt}`).toBe("bypass");
    }
    // The origin was asked for the normal form, twice: the rule that passed it is the one that matched.
    expect(await originCount(`/admin/${name}`)).toBe(2);
  });

  it.each([
    ["/%6%31dmin/", "a stray % next to an encoded digit (the origin would read /admin/)"],
    ["/a/%2%45%2E/", "a stray % that would spell an encoded dot segment"],
  ])("%s: the origin receives exactly the form the rules saw, one that normalising again leaves alone (%s)", async (hostile) => {
    await putConfig(defaultConfig);
    const seen = await echoed(`/__echo${uniquePath("stray")}${hostile}x?cc=${encodeURIComponent("public, max-age=60")}`);
    const received = new URL(seen.url, "http://origin").pathname;
    expect(normalisePath(received)).toBe(received);
    expect(received).toContain("%25");
  });

  const encodeFirst = (p: string) => `/%${p.charCodeAt(1).toString(16)}${p.slice(2)}`;
  it.each<[string, (p: string) => string, (p: string) => string]>([
    ["an encoded unreserved character", encodeFirst, (p) => p],
    ["a lower-case percent-encoding of a reserved character", (p) => `${p}%3a`, (p) => `${p}%3A`],
    ["encoded dot segments", (p) => `/x/%2E%2E${p}`, (p) => p],
    ["doubled slashes", (p) => `/${p}//y`, (p) => `${p}/y`],
  ])("%s shares the entry of the normal form (one origin fetch, for the normal form)", async (_what, variant, normal) => {
    const path = uniquePath("norm");
    expect((await fetchVia(variant(path))).status).toBe(200);
    expect(isHit(await fetchVia(normal(path)))).toBe(true);
    expect(await originCount(normal(path))).toBe(1);
  });

  it("/%72lg/x is held to the rate class on /rlg/** (30 requests at 5/s: no more than the limit admitted)", async () => {
    const cls = `rlg-${Date.now().toString(36)}`;
    const prefix = uniquePath("rlg");
    await putConfig({ rateClasses: { [cls]: { perSecond: 5, mode: "reject" } }, rules: [{ match: { path: `${prefix}/**` }, actions: { rateClass: { name: cls } } }] });
    const escaped = `/%${prefix.charCodeAt(1).toString(16)}${prefix.slice(2)}/x?cc=no-store`;
    const responses = await Promise.all(Array.from({ length: 30 }, () => SELF.fetch(`http://cache.test${escaped}`)));
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    const admitted = responses.filter((r) => r.status === 200).length;
    expect(admitted).toBeLessThanOrEqual(7);
    expect(responses.some((r) => r.status === 429)).toBe(true);
  });

  it("%2F stays data inside one segment: /a%2Fb is not under /a/**", async () => {
    const prefix = uniquePath("slash");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { pass: true } }] });
    const response = await fetchVia(`${prefix}%2Fsecret`);
    expect(members(response).edge?.params.fwd).not.toBe("bypass");
    expect(await originCount(`${prefix}%2Fsecret`)).toBe(1);
  });
});

describe("key confusion: duplicate query parameters", () => {
  it("?v=evil&v=good and ?v=good&v=evil are two entries (first-value origins answer them differently)", async () => {
    const path = uniquePath("dupes");
    const a = await fetchVia(`${path}?v=evil&v=good`);
    const b = await fetchVia(`${path}?v=good&v=evil`);
    expect(a.text_).toContain("v=evil&v=good");
    expect(b.text_).toContain("v=good&v=evil");
    expect(await originCount(`${path}?v=evil&v=good`)).toBe(1);
    expect(await originCount(`${path}?v=good&v=evil`)).toBe(1);
  });

  it("?b=1&a=2 and ?a=2&b=1 still share one entry (names sorted)", async () => {
    const path = uniquePath("order");
    await fetchVia(`${path}?b=1&a=2`);
    const second = await fetchVia(`${path}?a=2&b=1`);
    expect(second.text_).toContain("b=1&a=2");
  });
});

describe("unkeyed request headers (cache poisoning)", () => {
  const poison = {
    forwarded: "host=evil.example;proto=http",
    "x-forwarded-host": "evil.example",
    "x-forwarded-proto": "http",
    "x-forwarded-scheme": "http",
    "x-forwarded-port": "1234",
    "x-host": "evil.example",
    "x-original-url": "/admin",
    "x-rewrite-url": "/admin",
    "x-http-method-override": "DELETE",
    "x-http-method": "DELETE",
    "x-method-override": "DELETE",
    "true-client-ip": "6.6.6.6",
    "x-real-ip": "6.6.6.6",
    "cf-ipcountry": "XX",
  };

  it("none of the default list reaches the origin on a cacheable GET; Forwarded and X-Forwarded-* are the edge's own", async () => {
    const seen = await echoed(`/__echo${uniquePath("poison")}?cc=${encodeURIComponent("public, max-age=60")}`, poison);
    for (const name of Object.keys(poison).filter((n) => !["forwarded", "x-forwarded-host", "x-forwarded-proto"].includes(n))) {
      expect(seen.headers[name], name).toBeUndefined();
    }
    expect(seen.headers.forwarded).toBe("host=cache.test;proto=http");
    expect(seen.headers["x-forwarded-host"]).toBe("cache.test");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
  });

  it("nor on a pass or an unsafe method", async () => {
    const prefix = uniquePath("poison-pass");
    await putConfig({ rules: [{ match: { path: `/__echo${prefix}/**` }, actions: { pass: true } }] });
    const passed = await echoed(`/__echo${prefix}/x`, poison);
    expect(passed.headers["x-original-url"]).toBeUndefined();
    expect(passed.headers.forwarded).toBe("host=cache.test;proto=http");
    const posted = await SELF.fetch(`http://cache.test/__echo${prefix}/y`, { method: "POST", headers: poison, body: "b" });
    const body = (await posted.json()) as { headers: Record<string, string> };
    expect(body.headers["x-http-method-override"]).toBeUndefined();
  });

  it("the edge writes for= from the client address the platform reports", async () => {
    const seen = await echoed(`/__echo${uniquePath("for")}`, { "cf-connecting-ip": "2001:db8::7" });
    expect(seen.headers.forwarded).toBe('for="[2001:db8::7]";host=cache.test;proto=http');
  });

  it("a header the matched rule keys travels on (its value is part of the key)", async () => {
    const prefix = uniquePath("keyed");
    await putConfig({ rules: [{ match: { path: `/__echo${prefix}/**` }, actions: { cacheKey: { headers: ["X-Original-URL"] } } }] });
    const seen = await echoed(`/__echo${prefix}/x`, { "x-original-url": "/kept" });
    expect(seen.headers["x-original-url"]).toBe("/kept");
  });

  it("the list is config: an operator can add a header (and replacing the list replaces the defaults)", async () => {
    await putConfig({ settings: { unkeyedRequestHeaders: ["x-tenant"] } });
    const seen = await echoed(`/__echo${uniquePath("custom-list")}`, { "x-tenant": "evil", "x-original-url": "/x" });
    expect(seen.headers["x-tenant"]).toBeUndefined();
    expect(seen.headers["x-original-url"]).toBe("/x");
  });
});

describe("web cache deception: a rule's ttl keeps the shared-cache checks (RFC 9111 §3)", () => {
  it("alice's private answer under /static/** (shipped config, ttl 300) is not served to the next client", async () => {
    await putConfig(defaultConfig);
    const path = `/static${uniquePath("me")}?cc=private`;
    const alice = await fetchVia(path, { headers: { authorization: "Bearer alice" } });
    expect(alice.status).toBe(200);
    const next = await fetchVia(path);
    expect(isHit(next)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it.each([
    ["a request with Authorization (§3.5)", { authorization: "Bearer alice" }, `cc=${encodeURIComponent("max-age=60")}`],
    ["a no-store response", {}, "cc=no-store"],
    ["a response that sets a cookie", {}, `h-set-cookie=${encodeURIComponent("session=alice")}`],
  ])("%s under a ttl rule is not stored", async (_what, headers, query) => {
    await putConfig(defaultConfig);
    const path = `/static${uniquePath("deception")}?${query}`;
    await fetchVia(path, { headers });
    const next = await fetchVia(path);
    expect(isHit(next)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("only an explicit, dangerous action lifts a check (ignorePrivate stores the private response)", async () => {
    const prefix = uniquePath("opted-in");
    await putConfig({ rules: [{ match: { path: `${prefix}/**` }, actions: { ttl: 60, ignorePrivate: true } }] });
    const path = `${prefix}/x?cc=private`;
    await fetchVia(path);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(1);
  });
});

// The edge reads a GET's framing from its body alone (src/edge/incoming.ts), relying on workerd to drop
// Content-Length and Transfer-Encoding from a Request that has no body (as a service binding's caller
// can build one). These hold the platform to that: a rule that matches either field must never see
// it, and the origin must not receive it.
describe("a bodiless GET that names body framing fields", () => {
  it.each([
    ["content-length", "0"],
    ["transfer-encoding", "chunked"],
  ])("%s is gone before the rules read the request", async (name, value) => {
    const prefix = uniquePath(`framing-rule-${name}`);
    await putConfig({ rules: [{ name: "sees-framing", match: { path: `${prefix}/**`, headers: { [name]: true } }, actions: { deny: { status: 451, body: "framing seen\n" } } }] });
    const response = await SELF.fetch(`http://cache.test${prefix}/x`, { headers: { [name]: value } });
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });

  it.each([
    ["a cacheable GET", "public, max-age=60"],
    ["a GET the origin forbids storing", "no-store"],
  ])("%s reaches the origin without Content-Length or Transfer-Encoding", async (_, cc) => {
    const seen = await echoed(`/__echo${uniquePath("framing")}?cc=${encodeURIComponent(cc)}`, { "content-length": "0", "transfer-encoding": "chunked" });
    expect(seen.headers["content-length"]).toBeUndefined();
    expect(seen.headers["transfer-encoding"]).toBeUndefined();
  });
});
