import { describe, expect, it } from "vitest";
import { canServeStaleOnError, staleOnOriginFailure, type PolicyOverrides } from "../../../src/rfc9111";
import { at, req, stored200 } from "./fixtures";

describe("canServeStaleOnError (RFC 5861 §4, RFC 9111 §4.2.4)", () => {
  it.each<[string, string, Record<string, string>, number, boolean]>([
    // name, response Cache-Control, request headers, now (s), expected
    ["fresh entry", "max-age=60", {}, 30, true],
    ["stale, no window", "max-age=60", {}, 61, false],
    ["inside the response window", "max-age=60, stale-if-error=600", {}, 300, true],
    ["at the end of the window", "max-age=60, stale-if-error=600", {}, 660, true],
    ["after the window", "max-age=60, stale-if-error=600", {}, 661, false],
    ["request stale-if-error within", "max-age=60", { "cache-control": "stale-if-error=100" }, 160, true],
    ["request stale-if-error exceeded", "max-age=60", { "cache-control": "stale-if-error=100" }, 161, false],
    ["request window extends a shorter response window", "max-age=60, stale-if-error=10", { "cache-control": "stale-if-error=100" }, 100, true],
    ["never with must-revalidate (response window)", "max-age=60, must-revalidate, stale-if-error=600", {}, 61, false],
    ["never with must-revalidate (request window)", "max-age=60, must-revalidate", { "cache-control": "stale-if-error=600" }, 61, false],
    ["never with proxy-revalidate", "max-age=60, proxy-revalidate, stale-if-error=600", {}, 61, false],
    ["request window not with s-maxage (implied proxy-revalidate)", "s-maxage=60", { "cache-control": "stale-if-error=600" }, 61, false],
    ["deviation: the response's own window with s-maxage", "s-maxage=60, stale-if-error=600", {}, 61, true],
    ["never with no-cache, even fresh", "no-cache, max-age=60, stale-if-error=600", {}, 1, false],
    ["SWR window is not an error window", "max-age=60, stale-while-revalidate=600", {}, 61, false],
    ["invalid stale-if-error gives no window", "max-age=60, stale-if-error=x", {}, 61, false],
  ])("%s", (_name, cc, headers, now, expected) => {
    expect(canServeStaleOnError(stored200({ "cache-control": cc, etag: '"v"' }), req(headers), at(now))).toBe(expected);
  });

  it.each<[string, string, PolicyOverrides, number, boolean]>([
    ["rule window when the response has none", "max-age=60", { staleIfErrorSeconds: 100 }, 150, true],
    ["rule window ends", "max-age=60", { staleIfErrorSeconds: 100 }, 161, false],
    ["the response's own window wins over the rule's", "max-age=60, stale-if-error=10", { staleIfErrorSeconds: 100 }, 100, false],
    ["rule window not with must-revalidate", "max-age=60, must-revalidate", { staleIfErrorSeconds: 100 }, 100, false],
    ["forced entries use the rule window regardless", "max-age=0, must-revalidate", { forcedTtlSeconds: 60, staleIfErrorSeconds: 100 }, 150, true],
  ])("%s", (_name, cc, overrides, now, expected) => {
    expect(canServeStaleOnError(stored200({ "cache-control": cc }, { overrides }), req(), at(now))).toBe(expected);
  });

  it("windows are stored as absolute instants", () => {
    const meta = stored200({ "cache-control": "max-age=60, stale-while-revalidate=30, stale-if-error=600" });
    expect(meta).toMatchObject({ staleAt: at(60), staleWhileRevalidateUntil: at(90), staleIfErrorUntil: at(660), expireAt: at(660) });
    const plain = stored200({ "cache-control": "max-age=60" });
    expect(plain).toMatchObject({ staleAt: at(60), staleWhileRevalidateUntil: at(60), staleIfErrorUntil: at(60), expireAt: at(60) });
  });
});

describe("staleOnOriginFailure: grace (RFC 9111 §4.2.4, §5.2.2; settings.graceSeconds)", () => {
  const GRACE = 10;
  it.each<[string, string, Record<string, string>, number, number, false | "fresh" | "stale-if-error" | "grace"]>([
    // name, response Cache-Control, request headers, now (s), grace (s), expected
    ["fresh: always", "max-age=60", {}, 59, GRACE, "fresh"],
    ["just stale, inside grace", "max-age=60", {}, 61, GRACE, "grace"],
    ["at the end of grace", "max-age=60", {}, 70, GRACE, "grace"],
    ["past grace", "max-age=60", {}, 71, GRACE, false],
    ["grace 0 is no grace", "max-age=60", {}, 61, 0, false],
    ["stale-if-error wins over grace inside its window", "max-age=60, stale-if-error=600", {}, 61, GRACE, "stale-if-error"],
    ["stale-if-error window outlasts grace", "max-age=60, stale-if-error=600", {}, 300, GRACE, "stale-if-error"],
    ["request stale-if-error counts too", "max-age=60", { "cache-control": "stale-if-error=100" }, 150, GRACE, "stale-if-error"],
    ["never with must-revalidate", "max-age=60, must-revalidate", {}, 61, GRACE, false],
    ["never with proxy-revalidate", "max-age=60, proxy-revalidate", {}, 61, GRACE, false],
    ["never with s-maxage (implies proxy-revalidate, §5.2.2.10)", "s-maxage=60", {}, 61, GRACE, false],
    ["never with no-cache, even fresh", "no-cache, max-age=60", {}, 1, GRACE, false],
    ["a negative grace counts as none", "max-age=60", {}, 61, -5, false],
  ])("%s", (_name, cc, headers, now, grace, expected) => {
    const verdict = staleOnOriginFailure(stored200({ "cache-control": cc, etag: '"v"' }), req(headers), at(now), grace);
    expect(verdict.serve ? verdict.why : false).toBe(expected);
  });

  it("a rule-forced TTL overrides the response's must-revalidate, so grace applies", () => {
    const meta = stored200({ "cache-control": "max-age=5, must-revalidate" }, { overrides: { forcedTtlSeconds: 60 } });
    expect(staleOnOriginFailure(meta, req(), at(65), GRACE)).toEqual({ serve: true, why: "grace" });
  });
});
