import { describe, expect, it } from "vitest";
import { evaluateReuse, forwardReasonFor, type ReuseDecision } from "../../../src/rfc9111";
import { at, HTTP_T0, req, res, stored, stored200 } from "./fixtures";

type Expect = Pick<ReuseDecision, "kind"> & { reason?: string };

function decide(responseCc: string, requestHeaders: Record<string, string>, nowSeconds: number, extra: Record<string, string> = {}): Expect {
  const meta = stored200({ "cache-control": responseCc, etag: '"v"', ...extra });
  const d = evaluateReuse(meta, req(requestHeaders), at(nowSeconds));
  return d.kind === "revalidate" ? { kind: d.kind, reason: d.reason } : { kind: d.kind };
}

describe("evaluateReuse: response directives (RFC 9111 §4.2, §5.2.2)", () => {
  it.each<[string, string, number, Expect]>([
    ["fresh", "max-age=60", 10, { kind: "fresh" }],
    ["stale at the lifetime", "max-age=60", 60, { kind: "revalidate", reason: "stale" }],
    ["stale after", "max-age=60", 61, { kind: "revalidate", reason: "stale" }],
    ["no-cache while fresh", "no-cache, max-age=60", 1, { kind: "revalidate", reason: "no-cache-response" }],
    ["must-revalidate while fresh", "max-age=60, must-revalidate", 10, { kind: "fresh" }],
    ["must-revalidate when stale", "max-age=60, must-revalidate", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["proxy-revalidate when stale", "max-age=60, proxy-revalidate", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["s-maxage implies proxy-revalidate (§5.2.2.10)", "s-maxage=60", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["within stale-while-revalidate", "max-age=60, stale-while-revalidate=30", 75, { kind: "stale-while-revalidate" }],
    ["at the end of the SWR window", "max-age=60, stale-while-revalidate=30", 90, { kind: "stale-while-revalidate" }],
    ["after the SWR window", "max-age=60, stale-while-revalidate=30", 91, { kind: "revalidate", reason: "stale" }],
    ["SWR never with must-revalidate", "max-age=60, must-revalidate, stale-while-revalidate=30", 75, { kind: "revalidate", reason: "must-revalidate" }],
    ["SWR never with no-cache", "no-cache, max-age=60, stale-while-revalidate=30", 75, { kind: "revalidate", reason: "no-cache-response" }],
    ["deviation: explicit SWR with s-maxage is honoured", "s-maxage=60, stale-while-revalidate=30", 75, { kind: "stale-while-revalidate" }],
    ["SWR while still fresh is just fresh", "max-age=60, stale-while-revalidate=30", 30, { kind: "fresh" }],
    ["invalid SWR gives no window", "max-age=60, stale-while-revalidate=x", 61, { kind: "revalidate", reason: "stale" }],
    ["stale-if-error is not a reuse window", "max-age=60, stale-if-error=600", 61, { kind: "revalidate", reason: "stale" }],
  ])("%s", (_name, cc, now, expected) => {
    expect(decide(cc, {}, now)).toEqual(expected);
  });
});

describe("evaluateReuse: any stored status goes stale (RFC 9111 §4.2)", () => {
  it.each<[number, string, number, Expect["kind"]]>([
    [204, "max-age=2", 1, "fresh"],
    [204, "max-age=2", 2, "revalidate"],
    [204, "max-age=2", 3, "revalidate"],
    [204, "s-maxage=5, max-age=1", 4, "fresh"],
    [404, "max-age=2", 3, "revalidate"],
    [301, "max-age=2", 3, "revalidate"],
  ])("a stored %i with %s at +%is → %s", (status, cc, now, kind) => {
    const meta = stored(res(status, { date: HTTP_T0, "cache-control": cc }));
    expect(evaluateReuse(meta, req(), at(now)).kind).toBe(kind);
  });
});

describe("evaluateReuse: request directives (RFC 9111 §5.2.1)", () => {
  it.each<[string, Record<string, string>, string, number, Expect]>([
    ["no-cache", { "cache-control": "no-cache" }, "max-age=60", 1, { kind: "revalidate", reason: "no-cache-request" }],
    ["Pragma: no-cache without Cache-Control", { pragma: "no-cache" }, "max-age=60", 1, { kind: "revalidate", reason: "no-cache-request" }],
    ["Pragma ignored next to Cache-Control", { pragma: "no-cache", "cache-control": "max-stale=0" }, "max-age=60", 1, { kind: "fresh" }],
    ["no-cache beats immutable (RFC 8246)", { "cache-control": "no-cache" }, "max-age=60, immutable", 1, { kind: "revalidate", reason: "no-cache-request" }],
    ["max-age=0 beats immutable", { "cache-control": "max-age=0" }, "max-age=60, immutable", 1, { kind: "revalidate", reason: "request-max-age" }],
    ["max-age: age within", { "cache-control": "max-age=30" }, "max-age=60", 30, { kind: "fresh" }],
    ["max-age: age beyond", { "cache-control": "max-age=30" }, "max-age=60", 31, { kind: "revalidate", reason: "request-max-age" }],
    ["max-age=0 on a 0-second-old entry", { "cache-control": "max-age=0" }, "max-age=60", 0, { kind: "fresh" }],
    ["invalid max-age counts as 0", { "cache-control": "max-age=abc" }, "max-age=60", 1, { kind: "revalidate", reason: "request-max-age" }],
    ["min-fresh satisfied", { "cache-control": "min-fresh=20" }, "max-age=60", 40, { kind: "fresh" }],
    ["min-fresh not satisfied", { "cache-control": "min-fresh=20" }, "max-age=60", 41, { kind: "revalidate", reason: "request-min-fresh" }],
    ["max-stale without value", { "cache-control": "max-stale" }, "max-age=60", 100_000, { kind: "stale-allowed" }],
    ["max-stale within", { "cache-control": "max-stale=30" }, "max-age=60", 90, { kind: "stale-allowed" }],
    ["max-stale exceeded", { "cache-control": "max-stale=30" }, "max-age=60", 91, { kind: "revalidate", reason: "stale" }],
    ["max-stale on a fresh entry", { "cache-control": "max-stale=30" }, "max-age=60", 10, { kind: "fresh" }],
    ["max-stale vs must-revalidate", { "cache-control": "max-stale" }, "max-age=60, must-revalidate", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["max-stale vs proxy-revalidate", { "cache-control": "max-stale" }, "max-age=60, proxy-revalidate", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["max-stale vs s-maxage", { "cache-control": "max-stale" }, "s-maxage=60", 61, { kind: "revalidate", reason: "must-revalidate" }],
    ["max-stale vs no-cache", { "cache-control": "max-stale" }, "no-cache, max-age=60", 61, { kind: "revalidate", reason: "no-cache-response" }],
    ["max-age + max-stale accept a stale response younger than max-age", { "cache-control": "max-age=600, max-stale" }, "max-age=60", 100, { kind: "stale-allowed" }],
    ["SWR preferred over max-stale (it refreshes)", { "cache-control": "max-stale" }, "max-age=60, stale-while-revalidate=30", 70, { kind: "stale-while-revalidate" }],
    ["only-if-cached alone changes nothing", { "cache-control": "only-if-cached" }, "max-age=60", 61, { kind: "revalidate", reason: "stale" }],
  ])("%s", (_name, headers, cc, now, expected) => {
    expect(decide(cc, headers, now)).toEqual(expected);
  });
});

describe("evaluateReuse: ages and ttl", () => {
  it.each<[number, number, number]>([
    [0, 0, 60],
    [10.5, 10, 50],
    [75, 75, -15],
  ])("at +%ss: age %i, ttl %i", (now, age, ttl) => {
    const meta = stored200({ "cache-control": "max-age=60, stale-while-revalidate=30" });
    expect(evaluateReuse(meta, req(), at(now))).toMatchObject({ ageSeconds: age, ttlSeconds: ttl });
  });

  it("a forced entry ignores the origin's no-cache and must-revalidate", () => {
    const meta = stored200({ "cache-control": "no-cache, must-revalidate" }, { overrides: { forcedTtlSeconds: 60, staleWhileRevalidateSeconds: 10 } });
    expect(evaluateReuse(meta, req(), at(30)).kind).toBe("fresh");
    expect(evaluateReuse(meta, req(), at(65)).kind).toBe("stale-while-revalidate");
  });

  it("a rule's SWR window applies only when the response has none", () => {
    const own = stored200({ "cache-control": "max-age=60, stale-while-revalidate=5" }, { overrides: { staleWhileRevalidateSeconds: 100 } });
    const none = stored200({ "cache-control": "max-age=60" }, { overrides: { staleWhileRevalidateSeconds: 100 } });
    expect(evaluateReuse(own, req(), at(70)).kind).toBe("revalidate");
    expect(evaluateReuse(none, req(), at(70)).kind).toBe("stale-while-revalidate");
  });
});

describe("forwardReasonFor (RFC 9211 §2.2)", () => {
  it("is `request` when the request's directives refused a fresh response, else `stale`", () => {
    const base = { ageSeconds: 5, ttlSeconds: 55 };
    expect(forwardReasonFor({ kind: "revalidate", reason: "no-cache-request", ...base })).toBe("request");
    expect(forwardReasonFor({ kind: "revalidate", reason: "request-max-age", ...base })).toBe("request");
    expect(forwardReasonFor({ kind: "revalidate", reason: "request-min-fresh", ...base })).toBe("request");
    expect(forwardReasonFor({ kind: "revalidate", reason: "no-cache-request", ageSeconds: 70, ttlSeconds: -10 })).toBe("stale");
    expect(forwardReasonFor({ kind: "revalidate", reason: "no-cache-response", ...base })).toBe("stale");
    expect(forwardReasonFor({ kind: "revalidate", reason: "stale", ageSeconds: 70, ttlSeconds: -10 })).toBe("stale");
  });
});
