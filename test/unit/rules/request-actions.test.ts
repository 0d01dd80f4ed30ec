/**
 * Request actions: redirect / deny / rewrite / request header edits, with the open-redirect cases
 * a location template must refuse at validation or at run time.
 */
import { describe, expect, it } from "vitest";
import { actionsSchema } from "../../../src/rules/schema";
import { MAX_LOCATION_LENGTH, parseLocationTemplate, planRequest, redirectLocation, type RequestPlan } from "../../../src/rules/request-actions";

const plan = (actions: unknown, url: string): RequestPlan | null => planRequest(actionsSchema.parse(actions), { url: new URL(url) });
const location = (template: string, url: string) => {
  const parsed = parseLocationTemplate(template, true);
  if (typeof parsed === "string") throw new Error(parsed);
  return redirectLocation(parsed, new URL(url));
};

describe("location templates at validation", () => {
  it.each([
    ["${path}", "a leading placeholder: the request path could be //evil.com"],
    ["/${path}", "/ then the path: //evil.com"],
    ["//evil.com${path}", "network-path reference"],
    ["/\\evil.com", "backslash (browsers read /\\ as //)"],
    ["\\\\evil.com", "backslashes"],
    ["https://${query}/x", "placeholder in the authority"],
    ["https://good.example${query}.evil.com/", "the authority could go on after an empty query"],
    ["https://good.example@evil.com/", "credentials that move the host"],
    ["/a\r\nSet-Cookie: x=1", "CR/LF"],
    ["/a${header.host}", "a header placeholder"],
    ["/a${host}", "the Host placeholder"],
    ["javascript:alert(1)", "another scheme"],
    ["evil.com/x", "a relative path that is not path-absolute"],
  ])("refuses %j (%s)", (template) => {
    expect(typeof parseLocationTemplate(template, true)).toBe("string");
    expect(actionsSchema.safeParse({ redirect: { location: template } }).success).toBe(false);
  });
  it.each(["/", "/new${path}${query}", "/a", "https://www.example.com${path}", "https://www.example.com/new${path}?from=old", "http://[::1]:8080/x${query}"])("accepts %j", (template) => {
    expect(actionsSchema.safeParse({ redirect: { status: 301, location: template } }).success).toBe(true);
  });
  it("accepts only the five redirect statuses, and a template of at most 2 kB", () => {
    for (const status of [200, 300, 304, 305, 306, 309]) expect(actionsSchema.safeParse({ redirect: { status, location: "/a" } }).success).toBe(false);
    expect(actionsSchema.parse({ redirect: { location: "/a" } }).redirect?.status).toBe(302);
    expect(actionsSchema.safeParse({ redirect: { location: `/${"a".repeat(2048)}` } }).success).toBe(false);
  });
});

describe("locations at run time", () => {
  it("interpolates the parsed path and query only, as a relative reference on the request's own origin", () => {
    expect(location("/new${path}${query}", "https://evil-host.test/a/b?x=1")).toEqual({ ok: true, location: "/new/a/b?x=1" });
    expect(location("https://www.example.com${path}", "https://h.test/a")).toEqual({ ok: true, location: "https://www.example.com/a" });
    expect(location("https://www.example.com${path}", "https://h.test/@evil.com")).toEqual({ ok: true, location: "https://www.example.com/@evil.com" });
  });
  it("hostile: a request path of //evil.com, \\\\evil.com or %2F%2Fevil.com never yields a location on another host", () => {
    expect(location("/go${path}", "https://h.test//evil.com/x")).toEqual({ ok: true, location: "/go//evil.com/x" });
    // Dot segments in the template's literal part would let the path climb back to "//evil.com".
    expect(location("/a/..${path}", "https://h.test//evil.com")).toMatchObject({ ok: false, status: 400 });
    expect(location("/a/..${path}", "https://h.test/\\evil.com")).toMatchObject({ ok: false, status: 400 });
    expect(location("/go${path}", "https://h.test/%2F%2Fevil.com")).toEqual({ ok: true, location: "/go/%2F%2Fevil.com" });
    expect(location("https://www.example.com/..${path}", "https://h.test//evil.com")).toEqual({ ok: true, location: "https://www.example.com//evil.com" });
  });
  it("hostile: CR/LF in the request never reach the Location field; a huge path is answered 414", () => {
    const result = location("/go${path}${query}", "https://h.test/a%0d%0aSet-Cookie:x?q=%0d%0a");
    expect(result).toEqual({ ok: true, location: "/go/a%0d%0aSet-Cookie:x?q=%0d%0a" });
    expect(location("/go${path}", `https://h.test/${"a".repeat(MAX_LOCATION_LENGTH)}`)).toMatchObject({ ok: false, status: 414 });
  });
});

describe("planRequest", () => {
  it("deny: status, body and type, never cached; wins over a merged redirect", () => {
    expect(plan({ deny: { status: 451, body: "gone" }, redirect: { location: "/x" } }, "https://h/a")).toEqual({
      kind: "respond",
      status: 451,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      body: "gone",
      detail: "rule-deny",
    });
    expect(plan({ deny: {} }, "https://h/a")).toMatchObject({ status: 403, body: "Forbidden\n" });
  });
  it("redirect: the status and location; an unsafe location is answered 400 instead", () => {
    expect(plan({ redirect: { status: 308, location: "/v2${path}" } }, "https://h/a")).toEqual({ kind: "respond", status: 308, headers: { location: "/v2/a", "cache-control": "no-store" }, body: null, detail: "rule-redirect" });
    expect(plan({ redirect: { location: "/a/..${path}" } }, "https://h//evil.com")).toMatchObject({ kind: "respond", status: 400, detail: "rule-refused" });
  });
  it("rewrite: path and host, query kept unless the template sets one; an escaping path is refused", () => {
    expect(plan({ rewrite: { path: "/v2${path}", host: "origin.internal" } }, "https://h.test:8443/a?x=1")).toEqual({ kind: "forward", url: "https://origin.internal:8443/v2/a?x=1", set: null, remove: null });
    expect(plan({ rewrite: { path: "/static/index.html" } }, "https://h/?x=1")).toMatchObject({ url: "https://h/static/index.html?x=1" });
    expect(plan({ rewrite: { path: "/search?q=all" } }, "https://h/find?x=1")).toMatchObject({ url: "https://h/search?q=all" });
    expect(plan({ rewrite: { path: "/a/..${path}" } }, "https://h//evil.com")).toMatchObject({ kind: "respond", status: 400, detail: "rule-refused" });
    expect(actionsSchema.safeParse({ rewrite: { path: "https://evil.com/" } }).success).toBe(false);
    expect(actionsSchema.safeParse({ rewrite: { host: "evil.com/x" } }).success).toBe(false);
    expect(actionsSchema.safeParse({ rewrite: {} }).success).toBe(false);
  });
  it("request header edits: names lower-cased later; framing, Host and X-Cluster-* refused; no CR/LF", () => {
    expect(plan({ setRequestHeaders: { "x-a": "1" }, removeRequestHeaders: ["cookie"] }, "https://h/")).toEqual({ kind: "forward", url: null, set: { "x-a": "1" }, remove: ["cookie"] });
    for (const name of ["Host", "content-length", "Transfer-Encoding", "x-cluster-token", "X-Cluster-Trace"]) {
      expect(actionsSchema.safeParse({ setRequestHeaders: { [name]: "x" } }).success).toBe(false);
      expect(actionsSchema.safeParse({ removeRequestHeaders: [name] }).success).toBe(false);
    }
    expect(actionsSchema.safeParse({ setRequestHeaders: { "x-a": "1\r\nx-b: 2" } }).success).toBe(false);
  });
  it("null without request actions", () => {
    expect(plan({ ttl: 5 }, "https://h/")).toBeNull();
  });
});
