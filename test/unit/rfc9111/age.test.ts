import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currentAgeSeconds, headersForServe } from "../../../src/rfc9111";
import { correctedInitialAgeMillis } from "../../../src/rfc9111/age";
import { T0, at, httpDate, res, stored } from "./fixtures";

describe("corrected_initial_age (RFC 9111 §4.2.3)", () => {
  it.each<[string, number, string | null, number, number, number]>([
    // name, Date offset (s), Age, requestTime (s), responseTime (s), expected (ms)
    ["fresh from origin, no delay", 0, null, 0, 0, 0],
    ["response_delay counts", 0, null, 0, 2, 2000],
    ["apparent_age from Date", -30, null, 0, 0, 30_000],
    ["Date in the future (clock skew) → 0 apparent age", 30, null, 0, 0, 0],
    ["Age + response_delay", 0, "100", 0, 3, 103_000],
    ["apparent_age larger than Age + delay", -500, "100", 0, 3, 503_000],
    ["several Age values → the first (§5.1)", 0, "50, 5", 0, 0, 50_000],
    ["invalid Age is ignored (§5.1): apparent age and delay only", 0, "soon", 0, 2, 2_000],
    ["huge Age clamps to 2^31", 0, "99999999999999", 0, 0, 2 ** 31 * 1000],
    ["response before request (clock step) adds no delay", 0, "10", 5, 0, 10_000],
  ])("%s", (_name, dateOffset, age, requestS, responseS, expected) => {
    expect(correctedInitialAgeMillis(T0 + dateOffset * 1000, age, { requestTime: at(requestS), responseTime: at(responseS) })).toBe(expected);
  });
});

describe("current_age (RFC 9111 §4.2.3)", () => {
  it.each<[Record<string, string>, number, number, number]>([
    // response headers, responseTime (s), now (s), expected Age
    [{ date: httpDate(0) }, 0, 0, 0],
    [{ date: httpDate(0) }, 0, 59.9, 59],
    [{ date: httpDate(0), age: "100" }, 0, 10, 110],
    [{ date: httpDate(-20) }, 0, 10, 30],
    [{ date: httpDate(0) }, 2, 10, 10], // request at 0, response at 2: delay 2 + resident 8
    [{ date: httpDate(0), age: "garbage" }, 0, 0, 0], // §5.1: an invalid Age is ignored
    [{ date: httpDate(0), age: "7200abc" }, 0, 30, 30],
    [{ date: httpDate(0) }, 0, -5, 0], // now before the response arrived: no negative resident time
  ])("%j received at +%ss, now +%ss → %i", (headers, responseS, nowS, expected) => {
    const meta = stored(res(200, { "cache-control": "max-age=60", etag: '"x"', ...headers }), { requestTime: T0, responseTime: at(responseS) });
    expect(currentAgeSeconds(meta, at(nowS))).toBe(expected);
  });

  it("Age served is the current age, replacing the origin's", () => {
    const meta = stored(res(200, { date: httpDate(0), "cache-control": "max-age=600", age: "7" }));
    expect(headersForServe(meta, at(30)).get("age")).toBe("37");
    expect(headersForServe(meta, at(30)).get("cache-control")).toBe("max-age=600");
  });

  it("never decreases as time advances", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000, max: 10_000 }),
        fc.option(fc.integer({ min: 0, max: 1e6 })),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: -1e6, max: 2e10 }),
        fc.integer({ min: 0, max: 2e10 }),
        (dateOffset, age, delay, t, step) => {
          const headers: Record<string, string> = { date: httpDate(dateOffset), "cache-control": "max-age=60", etag: '"x"' };
          if (age !== null) headers.age = String(age);
          const meta = stored(res(200, headers), { requestTime: T0, responseTime: T0 + delay });
          const before = currentAgeSeconds(meta, T0 + t);
          expect(currentAgeSeconds(meta, T0 + t + step)).toBeGreaterThanOrEqual(before);
          expect(before).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
