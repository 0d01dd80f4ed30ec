import { describe, expect, it } from "vitest";
import { evaluateReuse } from "../../../src/rfc9111";
import { refreshAheadStartsAt, refreshDecision, type RefreshDecision, type RefreshPolicy } from "../../../src/rfc9111/refresh";
import { at, req, stored200, T0 } from "./fixtures";

const OFF: RefreshPolicy = { refreshTimeSeconds: 0, refreshAheadRatio: 0 };
const TEN: RefreshPolicy = { refreshTimeSeconds: 10, refreshAheadRatio: 0 };
const AHEAD: RefreshPolicy = { refreshTimeSeconds: 0, refreshAheadRatio: 0.25 };

describe("refresh time (operator permission, RFC 9111 §4.2.4)", () => {
  it.each<[string, Record<string, string>, Record<string, string>, RefreshPolicy, number, number | null, RefreshDecision]>([
    ["off by default: a stale response revalidates", { "cache-control": "max-age=2" }, {}, OFF, 3, null, { kind: "none" }],
    ["stale within the refresh time: served, one refresh starts", { "cache-control": "max-age=2" }, {}, TEN, 3, null, { kind: "refresh-time", refresh: true }],
    ["a refresh sent within the refresh time: served, no second refresh", { "cache-control": "max-age=2" }, {}, TEN, 5, at(3), { kind: "refresh-time", refresh: false }],
    ["the last refresh was a refresh time ago: another starts", { "cache-control": "max-age=2" }, {}, TEN, 11.5, at(1.5), { kind: "refresh-time", refresh: true }],
    ["stale beyond the refresh time: the client waits", { "cache-control": "max-age=2" }, {}, TEN, 12.5, null, { kind: "none" }],
    ["at exactly the end of the refresh time: still served", { "cache-control": "max-age=2" }, {}, TEN, 12, null, { kind: "refresh-time", refresh: true }],
    ["never for must-revalidate", { "cache-control": "max-age=2, must-revalidate" }, {}, TEN, 3, null, { kind: "none" }],
    ["never for proxy-revalidate", { "cache-control": "max-age=2, proxy-revalidate" }, {}, TEN, 3, null, { kind: "none" }],
    ["never for s-maxage", { "cache-control": "s-maxage=2" }, {}, TEN, 3, null, { kind: "none" }],
    ["never for no-cache", { "cache-control": "no-cache", etag: '"v"' }, {}, TEN, 0, null, { kind: "none" }],
    ["never against the request's no-cache", { "cache-control": "max-age=2" }, { "cache-control": "no-cache" }, TEN, 3, null, { kind: "none" }],
    ["never against the request's max-age", { "cache-control": "max-age=2" }, { "cache-control": "max-age=1" }, TEN, 3, null, { kind: "none" }],
    ["fresh: nothing to add", { "cache-control": "max-age=2" }, {}, TEN, 1, null, { kind: "none" }],
  ])("%s", (_name, headers, requestHeaders, policy, seconds, lastRefreshAt, expected) => {
    const meta = stored200(headers);
    const request = req(requestHeaders);
    expect(refreshDecision(meta, evaluateReuse(meta, request, at(seconds)), at(seconds), policy, lastRefreshAt)).toEqual(expected);
  });

  it("leaves an RFC 5861 stale-while-revalidate window to its own decision", () => {
    const meta = stored200({ "cache-control": "max-age=2, stale-while-revalidate=30" });
    expect(refreshDecision(meta, evaluateReuse(meta, req(), at(5)), at(5), TEN, null)).toEqual({ kind: "none" });
  });
});

describe("refresh-ahead", () => {
  it.each<[string, number, number | null, RefreshDecision]>([
    ["early in the lifetime: nothing", 50, null, { kind: "none" }],
    ["in the last quarter: refresh ahead", 80, null, { kind: "refresh-ahead" }],
    ["the request that fetched this copy does not count", 80, T0, { kind: "refresh-ahead" }],
    ["a refresh already sent since the copy arrived: no second one", 90, at(80), { kind: "none" }],
  ])("%s", (_name, seconds, lastRefreshAt, expected) => {
    const meta = stored200({ "cache-control": "max-age=100" });
    expect(refreshDecision(meta, evaluateReuse(meta, req(), at(seconds)), at(seconds), AHEAD, lastRefreshAt)).toEqual(expected);
  });

  it("off by default, and for a zero lifetime", () => {
    const meta = stored200({ "cache-control": "max-age=100" });
    expect(refreshDecision(meta, evaluateReuse(meta, req(), at(99)), at(99), OFF, null)).toEqual({ kind: "none" });
  });

  it("ends the edge copy where refresh-ahead begins", () => {
    const meta = stored200({ "cache-control": "max-age=100" });
    expect(refreshAheadStartsAt(meta, 0.25)).toBe(at(75));
    expect(refreshAheadStartsAt(meta, 0)).toBe(at(100));
  });
});
