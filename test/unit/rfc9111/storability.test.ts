import { describe, expect, it } from "vitest";
import { canStore, type NotStorableReason, type PolicyOverrides, type RequestLike, type ResponseLike, type StoreVerdict } from "../../../src/rfc9111";
import { HTTP_T0, LIMITS, T0, httpDate, req, res, stored } from "./fixtures";

interface Case {
  name: string;
  request?: RequestLike;
  response: ResponseLike;
  overrides?: PolicyOverrides;
  requestHasBody?: boolean;
  contentLength?: number | null;
}

function verdict(c: Case): StoreVerdict {
  return canStore(c.request ?? req(), c.response, {
    limits: LIMITS,
    requestHasBody: c.requestHasBody ?? false,
    contentLength: c.contentLength ?? null,
    ...(c.overrides ? { overrides: c.overrides } : {}),
  });
}

const fresh = { date: HTTP_T0, "cache-control": "max-age=60" };
const ETAG = { etag: '"v1"' };

describe("canStore refuses with one reason per code (RFC 9111 §3)", () => {
  it.each<[Case, NotStorableReason]>([
    [
      { name: "POST", request: req({}, "POST"), response: res(200, fresh) },
      { code: "method", method: "POST" },
    ],
    [
      { name: "PUT", request: req({}, "PUT"), response: res(200, fresh) },
      { code: "method", method: "PUT" },
    ],
    [
      { name: "lower-case get is another method", request: req({}, "get"), response: res(200, fresh) },
      { code: "method", method: "get" },
    ],
    [{ name: "GET with a body", response: res(200, fresh), requestHasBody: true }, { code: "request-body" }],
    [{ name: "request no-store", request: req({ "cache-control": "no-store" }), response: res(200, fresh) }, { code: "request-no-store" }],
    [{ name: "Authorization without permission", request: req({ authorization: "Bearer x" }), response: res(200, fresh) }, { code: "authorization" }],
    [
      { name: "response no-store", response: res(200, { ...fresh, "cache-control": "max-age=60, no-store" }) },
      { code: "response-no-store", header: "Cache-Control: no-store" },
    ],
    [
      { name: "CDN-Cache-Control no-store", response: res(200, { ...fresh, "cdn-cache-control": "no-store" }) },
      { code: "response-no-store", header: "CDN-Cache-Control: no-store" },
    ],
    [{ name: "Set-Cookie (deviation: one client's cookie must not reach the others)", response: res(200, { ...fresh, "set-cookie": "session=abc" }) }, { code: "set-cookie" }],
    [{ name: "Set-Cookie even with public", response: res(200, { ...fresh, "cache-control": "public, max-age=60", "set-cookie": "session=abc" }) }, { code: "set-cookie" }],
    [
      { name: "Shardcache-Cache-Control no-store", response: res(200, { ...fresh, "shardcache-cache-control": "No-Store" }) },
      { code: "response-no-store", header: "Shardcache-Cache-Control: no-store" },
    ],
    [
      { name: "private", response: res(200, { ...fresh, "cache-control": "private, max-age=60" }) },
      { code: "response-private", header: "Cache-Control: private" },
    ],
    [
      { name: "empty qualified private", response: res(200, { ...fresh, "cache-control": 'private="", max-age=60' }) },
      { code: "response-private", header: 'Cache-Control: private=""' },
    ],
    [{ name: "Vary: *", response: res(200, { ...fresh, vary: "Accept, *" }) }, { code: "vary-star" }],
    [
      { name: "vary data too large", request: req({ "x-big": "v".repeat(300) }), response: res(200, { ...fresh, vary: "X-Big" }) },
      { code: "vary-too-large", bytes: 305 },
    ],
    [
      { name: "too large", response: res(200, fresh), contentLength: LIMITS.maxObjectBytes + 1 },
      { code: "too-large", bytes: LIMITS.maxObjectBytes + 1 },
    ],
    [
      { name: "500 without explicit freshness", response: res(500, { date: HTTP_T0, etag: '"e"' }) },
      { code: "status", status: 500 },
    ],
    [
      { name: "201 without explicit freshness", response: res(201, { date: HTTP_T0, "last-modified": httpDate(-3600) }) },
      { code: "status", status: 201 },
    ],
    [
      { name: "303 without explicit freshness", response: res(303, { date: HTTP_T0 }) },
      { code: "status", status: 303 },
    ],
    [
      { name: "304 is never stored", response: res(304, fresh) },
      { code: "status", status: 304 },
    ],
    [
      { name: "1xx is never stored", response: res(103, fresh) },
      { code: "status", status: 103 },
    ],
    [
      { name: "must-understand with an unknown status", response: res(299, { ...fresh, "cache-control": "max-age=60, must-understand, no-store" }) },
      { code: "status", status: 299 },
    ],
    [
      { name: "max-age=0 without validator", response: res(200, { date: HTTP_T0, "cache-control": "max-age=0" }) },
      { code: "max-age-zero-no-validator", header: "Cache-Control: max-age=0" },
    ],
    [
      { name: "s-maxage=0 without validator", response: res(200, { date: HTTP_T0, "cache-control": "s-maxage=0, max-age=60" }) },
      { code: "max-age-zero-no-validator", header: "Cache-Control: s-maxage=0" },
    ],
    [
      { name: "invalid max-age counts as 0", response: res(200, { date: HTTP_T0, "cache-control": "max-age=soon" }) },
      { code: "max-age-zero-no-validator", header: "Cache-Control: max-age=soon" },
    ],
    [
      { name: "duplicate max-age: the zero one is reported", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60, max-age=0" }) },
      { code: "max-age-zero-no-validator", header: "Cache-Control: max-age=0" },
    ],
    [
      { name: "CDN-Cache-Control max-age=0", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60", "cdn-cache-control": "max-age=0" }) },
      { code: "max-age-zero-no-validator", header: "CDN-Cache-Control: max-age=0" },
    ],
    [{ name: "Expires in the past", response: res(200, { date: HTTP_T0, expires: httpDate(-60) }) }, { code: "already-expired" }],
    [{ name: "Expires equal to Date", response: res(200, { date: HTTP_T0, expires: HTTP_T0 }) }, { code: "already-expired" }],
    [{ name: "invalid Expires (§5.3)", response: res(200, { date: HTTP_T0, expires: "0" }) }, { code: "already-expired" }],
    [{ name: "Age beyond max-age", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60", age: "60" }) }, { code: "already-expired" }],
    [{ name: "Age list whose first member is beyond max-age", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60", age: "7200, 10" }) }, { code: "already-expired" }],
    [
      { name: "302 without explicit freshness", response: res(302, { date: HTTP_T0, location: "/b" }) },
      { code: "redirect-without-freshness", status: 302 },
    ],
    [
      { name: "307 without explicit freshness", response: res(307, { date: HTTP_T0, location: "/b", "last-modified": httpDate(-3600) }) },
      { code: "redirect-without-freshness", status: 307 },
    ],
    [{ name: "200 without freshness or validator", response: res(200, { date: HTTP_T0 }) }, { code: "no-freshness-no-validator" }],
    [{ name: "public 500 without freshness or validator", response: res(500, { date: HTTP_T0, "cache-control": "public" }) }, { code: "no-freshness-no-validator" }],
    [{ name: "bare no-cache without validator", response: res(200, { date: HTTP_T0, "cache-control": "no-cache" }) }, { code: "no-freshness-no-validator" }],
    [{ name: "206 without Content-Range (§3.3)", response: res(206, fresh) }, { code: "partial-content" }],
    [{ name: "206 with an invalid Content-Range", response: res(206, { ...fresh, "content-range": "bytes 9-0/100" }) }, { code: "partial-content" }],
    [{ name: "206 with an unsatisfied-range Content-Range", response: res(206, { ...fresh, "content-range": "bytes */100" }) }, { code: "partial-content" }],
  ])("$name", (c, reason) => {
    expect(verdict(c)).toEqual({ store: false, reason });
  });
});

describe("canStore accepts (RFC 9111 §3)", () => {
  it.each<[Case, { alwaysRevalidate: boolean; strippedFields: string[] }]>([
    [
      { name: "max-age", response: res(200, fresh) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "HEAD", request: req({}, "HEAD"), response: res(200, fresh) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Authorization + public", request: req({ authorization: "x" }), response: res(200, { ...fresh, "cache-control": "public, max-age=60" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Authorization + s-maxage", request: req({ authorization: "x" }), response: res(200, { ...fresh, "cache-control": "s-maxage=60" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Authorization + must-revalidate", request: req({ authorization: "x" }), response: res(200, { ...fresh, "cache-control": "max-age=60, must-revalidate" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "no-cache with a validator", response: res(200, { ...ETAG, date: HTTP_T0, "cache-control": "no-cache" }) },
      { alwaysRevalidate: true, strippedFields: [] },
    ],
    [
      { name: "no-cache with max-age", response: res(200, { date: HTTP_T0, "cache-control": "no-cache, max-age=60" }) },
      { alwaysRevalidate: true, strippedFields: [] },
    ],
    ...["abc", "-7200", "7200.0", "7200abc", "abc, 7200"].map((age): [Case, { alwaysRevalidate: boolean; strippedFields: string[] }] => [
      { name: `invalid Age ${JSON.stringify(age)} is ignored (§5.1), fresh by max-age`, response: res(200, { date: HTTP_T0, "cache-control": "max-age=3600", age }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ]),
    [
      { name: "Age list: the first member (10) is below max-age", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60", age: "10, 7200" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "206 with one byte range is stored as an incomplete response (§3.3)", response: res(206, { ...fresh, "content-range": "bytes 0-9/100" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "no-cache=field", response: res(200, { ...fresh, "cache-control": 'max-age=60, no-cache="Set-Cookie"' }) },
      { alwaysRevalidate: false, strippedFields: ["set-cookie"] },
    ],
    [
      { name: "Set-Cookie the origin asks to strip", response: res(200, { ...fresh, "set-cookie": "a=b", "cache-control": 'max-age=60, private="Set-Cookie"' }) },
      { alwaysRevalidate: false, strippedFields: ["set-cookie"] },
    ],
    [
      { name: "private=field", response: res(200, { ...fresh, "cache-control": 'max-age=60, private="X-User"' }) },
      { alwaysRevalidate: false, strippedFields: ["x-user"] },
    ],
    [
      { name: "both qualified forms", response: res(200, { ...fresh, "cache-control": 'max-age=60, private="a, b", no-cache="b, c"' }) },
      { alwaysRevalidate: false, strippedFields: ["b", "c", "a"] },
    ],
    [
      { name: "must-understand ignores no-store for a known status", response: res(200, { ...fresh, "cache-control": "max-age=60, must-understand, no-store" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "500 with max-age", response: res(500, fresh) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "302 with max-age", response: res(302, fresh) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "302 with Expires", response: res(302, { date: HTTP_T0, expires: httpDate(60) }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "public 500 with Last-Modified (heuristic)", response: res(500, { date: HTTP_T0, "cache-control": "public", "last-modified": httpDate(-3600) }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "200 with ETag only (stored stale)", response: res(200, { date: HTTP_T0, ...ETAG }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "max-age=0 with ETag", response: res(200, { date: HTTP_T0, ...ETAG, "cache-control": "max-age=0" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "max-age=0 with Last-Modified", response: res(200, { date: HTTP_T0, "last-modified": httpDate(-10), "cache-control": "max-age=0" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "max-age=0 with stale-while-revalidate", response: res(200, { date: HTTP_T0, "cache-control": "max-age=0, stale-while-revalidate=30" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "max-age=0 with a rule stale-if-error window", response: res(200, { date: HTTP_T0, "cache-control": "max-age=0" }), overrides: { staleIfErrorSeconds: 60 } },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Expires in the past with ETag (stored stale)", response: res(200, { date: HTTP_T0, ...ETAG, expires: httpDate(-60) }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "max-age wins over a past Expires", response: res(200, { date: HTTP_T0, "cache-control": "max-age=60", expires: httpDate(-60) }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "CDN-Cache-Control replaces Expires (RFC 9213)", response: res(200, { date: HTTP_T0, "cdn-cache-control": "max-age=60", expires: "0" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "targeted field lifts Cache-Control private", response: res(200, { date: HTTP_T0, "cache-control": "private", "cdn-cache-control": "max-age=60" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Expires without Date cannot be judged", response: res(200, { expires: httpDate(-60) }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "Vary within the limit", request: req({ "accept-encoding": "gzip" }), response: res(200, { ...fresh, vary: "Accept-Encoding" }) },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
    [
      { name: "size at the limit", response: res(200, fresh), contentLength: LIMITS.maxObjectBytes },
      { alwaysRevalidate: false, strippedFields: [] },
    ],
  ])("$name", (c, expected) => {
    expect(verdict(c)).toEqual({ store: true, reason: "cached", ...expected });
  });

  it.each([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])("heuristically cacheable %i with Last-Modified is stored", (status) => {
    expect(verdict({ name: "", response: res(status, { date: HTTP_T0, "last-modified": httpDate(-86_400) }) }).store).toBe(true);
  });

  it.each([201, 202, 400, 403, 500, 502, 503])("status %i with Last-Modified but without explicit freshness is refused", (status) => {
    const v = verdict({ name: "", response: res(status, { date: HTTP_T0, "last-modified": httpDate(-86_400) }) });
    expect(v).toEqual({ store: false, reason: { code: "status", status } });
  });
});

describe("canStore with a forced TTL (rule override)", () => {
  const forced: PolicyOverrides = { forcedTtlSeconds: 300 };
  it.each<[Case]>([
    [{ name: "no freshness, no validator", response: res(200, {}) }],
    [{ name: "max-age=0", response: res(200, { "cache-control": "max-age=0" }) }],
    [{ name: "500 status", response: res(500, {}) }],
    [{ name: "302 without freshness", response: res(302, { location: "/x" }) }],
    [{ name: "no-cache response", response: res(200, { "cache-control": "no-cache" }) }],
  ])("replaces the origin's freshness: stores $name", (c) => {
    expect(verdict({ ...c, overrides: forced })).toEqual({ store: true, reason: "forced", alwaysRevalidate: false, strippedFields: [] });
  });

  it.each<[Case, NotStorableReason["code"]]>([
    [{ name: "POST", request: req({}, "POST"), response: res(200, {}) }, "method"],
    [{ name: "request body", response: res(200, {}), requestHasBody: true }, "request-body"],
    [{ name: "Vary: *", response: res(200, { vary: "*" }) }, "vary-star"],
    [{ name: "too large", response: res(200, {}), contentLength: LIMITS.maxObjectBytes + 1 }, "too-large"],
    [{ name: "206", response: res(206, {}) }, "partial-content"],
    [{ name: "304", response: res(304, {}) }, "status"],
    // The shared-cache safety checks of §3 survive a forced TTL (a rule that caches /static/** must
    // not turn one user's answer into everyone's).
    [{ name: "response no-store", response: res(200, { "cache-control": "no-store" }) }, "response-no-store"],
    [{ name: "response private", response: res(200, { "cache-control": "private" }) }, "response-private"],
    [{ name: "Authorization (§3.5)", request: req({ authorization: "Bearer alice" }), response: res(200, { "cache-control": "max-age=5" }) }, "authorization"],
    [{ name: "request no-store", request: req({ "cache-control": "no-store" }), response: res(200, {}) }, "request-no-store"],
    [{ name: "Set-Cookie (deviation 16)", response: res(200, { "set-cookie": "session=abc" }) }, "set-cookie"],
  ])("still refuses: $name", (c, code) => {
    const v = verdict({ ...c, overrides: forced });
    expect(v.store ? null : v.reason.code).toBe(code);
  });

  it.each<[string, PolicyOverrides, Record<string, string>, { store: boolean; strippedFields?: string[] }]>([
    ["storeSetCookie off (the default) refuses it", { storeSetCookie: "off" }, {}, { store: false }],
    ["storeSetCookie strip stores it without the field", { storeSetCookie: "strip" }, {}, { store: true, strippedFields: ["set-cookie"] }],
    ["storeSetCookie keep stores it with the field", { storeSetCookie: "keep" }, {}, { store: true, strippedFields: [] }],
    ['keep still honours private="Set-Cookie"', { storeSetCookie: "keep" }, { "cache-control": 'max-age=60, private="Set-Cookie"' }, { store: true, strippedFields: ["set-cookie"] }],
    ["keep does not make a private response storable", { storeSetCookie: "keep" }, { "cache-control": "private, max-age=60" }, { store: false }],
    ["a forced TTL with keep keeps the cookie", { storeSetCookie: "keep", forcedTtlSeconds: 60 }, {}, { store: true, strippedFields: [] }],
    ["a forced TTL with strip strips it", { storeSetCookie: "strip", forcedTtlSeconds: 60 }, {}, { store: true, strippedFields: ["set-cookie"] }],
  ])("Set-Cookie (RFC 9111 §3, deviation 16): %s", (_name, overrides, extra, expected) => {
    const v = verdict({ name: "", response: res(200, { ...fresh, "set-cookie": "theme=dark", ...extra }), overrides });
    expect(v.store).toBe(expected.store);
    if (v.store && expected.strippedFields !== undefined) expect(v.strippedFields).toEqual(expected.strippedFields);
    if (!v.store && !expected.store && extra["cache-control"] === undefined) expect(v.reason).toEqual({ code: "set-cookie" });
  });

  it("storeSetCookie changes nothing for responses without Set-Cookie", () => {
    for (const storeSetCookie of ["off", "strip", "keep"] as const) {
      expect(verdict({ name: "", response: res(200, fresh), overrides: { storeSetCookie } })).toMatchObject({ store: true, strippedFields: [] });
    }
  });

  it.each<[string, PolicyOverrides, Case]>([
    ["storeAuthorized lifts §3.5", { storeAuthorized: true }, { name: "", request: req({ authorization: "Bearer alice" }), response: res(200, { "cache-control": "max-age=5" }) }],
    ["ignorePrivate lifts private", { ignorePrivate: true }, { name: "", response: res(200, { "cache-control": "private" }) }],
    ["ignoreNoStore lifts no-store", { ignoreNoStore: true }, { name: "", response: res(200, { "cache-control": "no-store" }) }],
  ])("only its own explicit, dangerous override lifts a safety check: %s", (_name, lift, c) => {
    expect(verdict({ ...c, overrides: { ...forced, ...lift } })).toMatchObject({ store: true, reason: "forced" });
    // …and no other override does.
    const others: PolicyOverrides[] = [{ storeAuthorized: true }, { ignorePrivate: true }, { ignoreNoStore: true }].filter((o) => Object.keys(o)[0] !== Object.keys(lift)[0]);
    for (const other of others) expect(verdict({ ...c, overrides: { ...forced, ...other } }).store).toBe(false);
  });

  it("a forced response with Set-Cookie is stored only as storeSetCookie says (off: not at all)", () => {
    expect(verdict({ name: "", response: res(200, { ...fresh, "set-cookie": "session=abc" }), overrides: forced })).toEqual({ store: false, reason: { code: "set-cookie" } });
  });

  it("keeps stripping qualified private fields", () => {
    expect(verdict({ name: "", response: res(200, { "cache-control": 'private="set-cookie"' }), overrides: forced })).toMatchObject({ strippedFields: ["set-cookie"] });
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("an invalid forced TTL (%s) is no override", (ttl) => {
    expect(verdict({ name: "", response: res(200, { "cache-control": "no-store" }), overrides: { forcedTtlSeconds: ttl } }).store).toBe(false);
  });
});

describe("canStore with an explicit receive time", () => {
  it("judges Expires against `now` when the response has no Date", () => {
    const v = canStore(req(), res(200, { expires: httpDate(-60) }), { limits: LIMITS, requestHasBody: false, contentLength: null, now: T0 });
    expect(v).toEqual({ store: false, reason: { code: "already-expired" } });
  });
});

describe("stored header fields (RFC 9111 §3.1)", () => {
  const names = (h: [string, string][]) => h.map(([n]) => n);

  it.each<[Record<string, string>, string[], string[]]>([
    [{ connection: "close", "keep-alive": "timeout=5", "transfer-encoding": "chunked", te: "trailers", trailer: "x", upgrade: "h2c" }, [], ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"]],
    // RFC 9111 §3.1 names the proxy-specific fields; a field merely named Proxy-Something is end-to-end.
    [
      { "proxy-authenticate": "Basic", "proxy-authentication-info": "x", "proxy-authorization": "Basic x", "proxy-connection": "keep-alive", "proxy-x": "1", "x-keep": "1" },
      ["x-keep", "proxy-x"],
      ["proxy-authenticate", "proxy-authentication-info", "proxy-authorization", "proxy-connection"],
    ],
    [{ connection: "X-Hop, x-other", "x-hop": "1", "x-other": "2", "x-keep": "3" }, ["x-keep"], ["x-hop", "x-other"]],
    [{ "cache-control": 'max-age=60, no-cache="Set-Cookie"', "set-cookie": "a=1", "x-keep": "1" }, ["x-keep", "cache-control"], ["set-cookie"]],
    [{ "cache-control": 'max-age=60, private="x-user"', "x-user": "bob" }, ["cache-control"], ["x-user"]],
    [{ "cache-control": "max-age=60", age: "5" }, ["cache-control"], ["age"]],
  ])("%j keeps %j and drops %j", (headers, kept, dropped) => {
    const meta = stored(res(200, { date: HTTP_T0, "cache-control": "max-age=60", ...headers }));
    for (const n of kept) expect(names(meta.headers)).toContain(n);
    for (const n of dropped) expect(names(meta.headers)).not.toContain(n);
  });

  it("adds Date (the receive time) when the response has none, and replaces an invalid one (RFC 9110 §6.6.1)", () => {
    expect(stored(res(200, { "cache-control": "max-age=60" }), { responseTime: T0 + 1500 }).headers).toContainEqual(["date", HTTP_T0.replace(":37", ":38")]);
    expect(stored(res(200, { "cache-control": "max-age=60", date: "garbage" })).headers).toContainEqual(["date", HTTP_T0]);
  });

  it("never keeps Set-Cookie in a stored copy, and lower-cases names", () => {
    const h = new Headers({ date: HTTP_T0, "Cache-Control": 'max-age=60, no-cache="Set-Cookie"', "X-Custom": "1" });
    h.append("Set-Cookie", "a=1");
    h.append("Set-Cookie", "b=2");
    const meta = stored({ status: 200, headers: h });
    expect(meta.headers.filter(([n]) => n === "set-cookie")).toEqual([]);
    expect(meta.headers).toContainEqual(["x-custom", "1"]);
  });
});
