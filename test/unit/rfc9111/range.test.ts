import { describe, expect, it } from "vitest";
import { planRange, type RangePlan } from "../../../src/rfc9111";
import { HTTP_T0, httpDate, req, res, stored, stored200 } from "./fixtures";

const SIZE = 1000;
const meta = stored200({ "cache-control": "max-age=60", etag: '"v1"', "last-modified": httpDate(-3600) });

describe("planRange (RFC 9110 §14)", () => {
  it.each<[string | null, RangePlan]>([
    [null, { kind: "full" }],
    ["bytes=0-99", { kind: "partial", start: 0, end: 99 }],
    ["bytes=100-", { kind: "partial", start: 100, end: 999 }],
    ["bytes=-100", { kind: "partial", start: 900, end: 999 }],
    ["bytes=-5000", { kind: "partial", start: 0, end: 999 }],
    ["bytes=500-5000", { kind: "partial", start: 500, end: 999 }],
    ["bytes=999-999", { kind: "partial", start: 999, end: 999 }],
    ["Bytes = 0-0", { kind: "partial", start: 0, end: 0 }],
    ["bytes=0-0,", { kind: "partial", start: 0, end: 0 }],
    ["bytes=1000-", { kind: "unsatisfiable" }],
    ["bytes=1000-2000", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=0-9, 20-29", { kind: "pass" }],
    ["bytes=0-9,-5", { kind: "pass" }],
    ["bytes=0-9, x", { kind: "full" }],
    ["bytes=10-5", { kind: "full" }],
    ["bytes=abc", { kind: "full" }],
    ["bytes=", { kind: "full" }],
    ["items=0-9", { kind: "full" }],
    ["", { kind: "full" }],
  ])("%j", (range, plan) => {
    expect(planRange(range, SIZE, meta, req({ range: range ?? "" }))).toEqual(plan);
  });

  it("an empty body cannot satisfy any range", () => {
    expect(planRange("bytes=0-", 0, meta, req())).toEqual({ kind: "unsatisfiable" });
    expect(planRange("bytes=-10", 0, meta, req())).toEqual({ kind: "unsatisfiable" });
  });

  it.each([["HEAD"], ["POST"]])("%s requests get the full response", (method) => {
    expect(planRange("bytes=0-9", SIZE, meta, req({}, method))).toEqual({ kind: "full" });
  });

  it("only a stored 200 is sliced", () => {
    const notFound = stored(res(404, { date: HTTP_T0, "cache-control": "max-age=60" }));
    expect(planRange("bytes=0-9", SIZE, notFound, req())).toEqual({ kind: "full" });
  });
});

describe("If-Range (RFC 9110 §13.1.5)", () => {
  it.each<[string, string, RangePlan["kind"]]>([
    ["matching strong ETag", '"v1"', "partial"],
    ["different ETag", '"v2"', "full"],
    ["weak ETag never matches", 'W/"v1"', "full"],
    ["Last-Modified date, strong (≥ 1 s before Date)", httpDate(-3600), "partial"],
    ["other date", httpDate(-3599), "full"],
    ["garbage", "yesterday", "full"],
  ])("%s", (_name, ifRange, kind) => {
    expect(planRange("bytes=0-9", SIZE, meta, req({ "if-range": ifRange })).kind).toBe(kind);
  });

  it("a stored weak ETag never satisfies If-Range", () => {
    const weak = stored200({ "cache-control": "max-age=60", etag: 'W/"v1"' });
    expect(planRange("bytes=0-9", SIZE, weak, req({ "if-range": 'W/"v1"' })).kind).toBe("full");
    expect(planRange("bytes=0-9", SIZE, weak, req({ "if-range": '"v1"' })).kind).toBe("full");
  });

  it("a date equal to a weak Last-Modified (same second as Date) does not match", () => {
    const weakLm = stored200({ "cache-control": "max-age=60", "last-modified": HTTP_T0 });
    expect(planRange("bytes=0-9", SIZE, weakLm, req({ "if-range": HTTP_T0 })).kind).toBe("full");
  });

  it("a mismatching If-Range beats an unsatisfiable range", () => {
    expect(planRange("bytes=5000-", SIZE, meta, req({ "if-range": '"v2"' }))).toEqual({ kind: "full" });
  });
});
