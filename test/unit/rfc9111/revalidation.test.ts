import { describe, expect, it } from "vitest";
import { conditionalHeadersFor, evaluateReuse, freshenWithNotModified, type PolicyOverrides, type StoredMeta } from "../../../src/rfc9111";
import { LIMITS, at, httpDate, req, res, stored200 } from "./fixtures";

describe("conditionalHeadersFor (RFC 9111 §4.3.1)", () => {
  it.each<[Record<string, string>, Record<string, string>]>([
    [{ etag: '"v1"' }, { "if-none-match": '"v1"' }],
    [{ etag: 'W/"v1"' }, { "if-none-match": 'W/"v1"' }],
    [{ etag: '"v1"', "last-modified": httpDate(-60) }, { "if-none-match": '"v1"' }],
    [{ "last-modified": httpDate(-60) }, { "if-modified-since": httpDate(-60) }],
    [{}, {}],
  ])("%j → %j", (headers, expected) => {
    expect(Object.fromEntries(conditionalHeadersFor(stored200({ "cache-control": "max-age=60", ...headers })))).toEqual(expected);
  });
});

function freshen(meta: StoredMeta, headers: Record<string, string>, atSeconds: number, overrides?: PolicyOverrides): StoredMeta {
  const timing = { requestTime: at(atSeconds), responseTime: at(atSeconds) };
  return freshenWithNotModified(meta, res(304, headers), timing, { limits: LIMITS, ...(overrides ? { overrides } : {}) });
}

const header = (meta: StoredMeta, name: string) => meta.headers.filter(([n]) => n === name).map(([, v]) => v);

describe("freshenWithNotModified (RFC 9111 §4.3.4, §3.2)", () => {
  const original = () =>
    stored200(
      {
        "cache-control": "max-age=60",
        etag: '"v1"',
        "content-type": "text/html",
        "content-length": "100",
        "content-encoding": "gzip",
        "x-origin": "old",
        vary: "Accept",
      },
      { request: req({ accept: "text/html" }), bodyBytes: 100 },
    );

  it("recomputes freshness from the 304's Date and new directives", () => {
    const meta = freshen(original(), { date: httpDate(100), "cache-control": "max-age=300" }, 100);
    expect(meta.freshnessLifetimeSeconds).toBe(300);
    expect(meta.staleAt).toBe(at(400));
    expect(meta.responseTime).toBe(at(100));
    expect(evaluateReuse(meta, req({ accept: "text/html" }), at(399)).kind).toBe("fresh");
  });

  it("keeps the stored directives when the 304 sends none, measured from the 304's arrival", () => {
    const meta = freshen(original(), { date: httpDate(100) }, 100);
    expect(meta.staleAt).toBe(at(160));
  });

  it("without Date on the 304, dates the entry at the 304's arrival, not the old Date", () => {
    const meta = freshen(original(), {}, 100);
    expect(meta.staleAt).toBe(at(160));
    expect(header(meta, "date")).toEqual([httpDate(100)]);
  });

  it("counts the 304's Age", () => {
    expect(freshen(original(), { date: httpDate(100), age: "20" }, 100).staleAt).toBe(at(140));
  });

  it.each<[string, Record<string, string>, string, string[]]>([
    ["replaces a field", { "x-origin": "new" }, "x-origin", ["new"]],
    ["adds a field", { "x-new": "1" }, "x-new", ["1"]],
    ["replaces ETag", { etag: '"v2"' }, "etag", ['"v2"']],
    ["keeps a field the 304 lacks", {}, "content-type", ["text/html"]],
    ["does not overwrite Content-Length", { "content-length": "0" }, "content-length", ["100"]],
    ["does not overwrite Content-Encoding", { "content-encoding": "br" }, "content-encoding", ["gzip"]],
    ["does not take Vary", { vary: "Accept-Language" }, "vary", ["Accept"]],
    ["does not store hop-by-hop fields", { connection: "x-hop", "x-hop": "1", "keep-alive": "5" }, "x-hop", []],
    ["does not store Age", { age: "5" }, "age", []],
    ["drops fields the 304 marks private", { "cache-control": 'max-age=60, private="x-origin"' }, "x-origin", []],
  ])("%s", (_name, headers, name, values) => {
    expect(header(freshen(original(), headers, 10), name)).toEqual(values);
  });

  it("updates the validators and keeps body, status, vary and tags", () => {
    const before = { ...original(), tags: ["rule-tag"] };
    const meta = freshen(before, { etag: '"v2"', "last-modified": httpDate(5), "cache-tag": "t1" }, 10);
    expect(meta).toMatchObject({ etag: '"v2"', lastModified: httpDate(5), status: 200, bodyBytes: 100, vary: before.vary, variantKey: before.variantKey, url: before.url });
    expect(meta.tags).toEqual(["rule-tag", "t1"]);
  });

  it("a 304 that says no-cache makes the entry always-revalidate", () => {
    expect(freshen(original(), { "cache-control": "no-cache" }, 10).alwaysRevalidate).toBe(true);
  });

  it("a 304 that says no-store keeps the entry only behind revalidation", () => {
    const meta = freshen(original(), { "cache-control": "no-store" }, 10);
    expect(evaluateReuse(meta, req({ accept: "text/html" }), at(11))).toMatchObject({ kind: "revalidate", reason: "no-cache-response" });
  });

  it("a forced entry keeps its forced lifetime (the rule's current value)", () => {
    const forced = stored200({ "cache-control": "max-age=0" }, { overrides: { forcedTtlSeconds: 30 } });
    expect(freshen(forced, { "cache-control": "no-store" }, 100).freshnessLifetimeSeconds).toBe(30);
    expect(freshen(forced, {}, 100, { forcedTtlSeconds: 90 }).staleAt).toBe(at(190));
  });

  it("does not modify the stored meta it was given", () => {
    const before = original();
    const copy = structuredClone(before);
    freshen(before, { "x-origin": "new", "cache-control": "max-age=5" }, 10);
    expect(before).toEqual(copy);
  });
});
