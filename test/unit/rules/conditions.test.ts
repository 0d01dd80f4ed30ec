/**
 * Header, cookie and query value conditions (present / absent / exact / glob / regex), SLM state
 * conditions, and the first-segment path index, which must never change which rule matches.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globToRegExpSource } from "../../../src/rules/compile";
import { ruleSchema } from "../../../src/rules/schema";
import { compileValueCondition, MAX_CONDITION_LENGTH, type ValueCondition, valueConditionSchema, valueGlobToRegExpSource, valueMeets } from "../../../src/rules/value-condition";
import { matched, rules } from "./helpers";

const any = { pass: true };

describe("value conditions", () => {
  it.each<[string, unknown, string | null, boolean]>([
    ["true: present (also empty)", true, "", true],
    ["true: absent fails", true, null, false],
    ["false: absent", false, null, true],
    ["{present:false}: present fails", { present: false }, "x", false],
    ["plain string: exact (old documents keep their meaning)", "acme", "acme", true],
    ["plain string is not a glob", "ac*", "acme", false],
    ["plain string: case-sensitive", "acme", "ACME", false],
    ["{exact}", { exact: "a*b" }, "a*b", true],
    ["glob prefix", { glob: "Mozilla/*" }, "Mozilla/5.0", true],
    ["glob suffix", { glob: "*.example.com" }, "www.example.com", true],
    ["glob contains", { glob: "*Mobile*" }, "Mozilla/5.0 (iPhone) Mobile Safari", true],
    ["glob contains fails", { glob: "*Mobile*" }, "Mozilla/5.0 (X11)", false],
    ["glob pieces in order", { glob: "a*b*c" }, "axxbyyc", true],
    ["glob pieces out of order", { glob: "a*b*c" }, "acb", false],
    ["glob pieces may not overlap the ends", { glob: "ab*ba" }, "aba", false],
    ["glob ? is one character", { glob: "v?" }, "v1", true],
    ["glob ? is not two", { glob: "v?" }, "v12", false],
    ["glob * crosses slashes and newlines", { glob: "a*z" }, "a/\nz", true],
    ["glob on absent value fails", { glob: "*" }, null, false],
    ["glob * alone: any present value", { glob: "*" }, "", true],
    ["regex unanchored", { regex: "bot|crawler" }, "Googlebot/2.1", true],
    ["regex anchored", { regex: "^bot$" }, "Googlebot", false],
    ["regex case-insensitive flag", { regex: "(?i)^curl/" }, "CURL/8.0", true],
    ["regex on absent value fails", { regex: ".*" }, null, false],
  ])("%s", (_name, condition, value, expected) => {
    expect(valueMeets(value, compileValueCondition(valueConditionSchema.parse(condition)))).toBe(expected);
  });

  it("refuses backtracking-only regex syntax, over-long patterns and unknown forms at validation", () => {
    expect(valueConditionSchema.safeParse({ regex: "^(a)\\1$" }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ regex: "(?=x)" }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ glob: "x".repeat(MAX_CONDITION_LENGTH + 1) }).success).toBe(false);
    expect(valueConditionSchema.safeParse("x".repeat(MAX_CONDITION_LENGTH + 1)).success).toBe(false);
    expect(valueConditionSchema.safeParse({ glob: "a", regex: "b" }).success).toBe(false);
    expect(valueConditionSchema.safeParse({ contains: "a" }).success).toBe(false);
    expect(valueConditionSchema.safeParse(1).success).toBe(false);
  });

  it("a *-only glob agrees with the regex form of the same glob (property)", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "b", "*", "/", "."), maxLength: 8 });
    fc.assert(
      fc.property(text, fc.string({ unit: fc.constantFrom("a", "b", "/", "."), maxLength: 10 }), (glob, value) => {
        const reference = new RegExp(valueGlobToRegExpSource(glob).replace("(?s)", ""), "s").test(value);
        expect(valueMeets(value, compileValueCondition({ glob }))).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it("hostile: a regex that backtracks exponentially and a glob with many stars stay linear on 1 MB values", () => {
    const huge = `${"a".repeat(1_000_000)}!`;
    const regex = compileValueCondition({ regex: "^(a+)+$" });
    const glob = compileValueCondition({ glob: "*a*a*a*a*a*a*a*a*b" });
    const started = performance.now();
    expect(valueMeets(huge, regex)).toBe(false);
    expect(valueMeets(huge, glob)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("header and cookie conditions in rules", () => {
  const compiled = rules(
    { name: "mobile", match: { headers: { "User-Agent": { glob: "*Mobile*" } } }, actions: any },
    { name: "bot", match: { headers: { "user-agent": { regex: "(?i)bot|crawler|spider" } } }, actions: any },
    { name: "ab", match: { cookies: { ab: { glob: "variant-?" }, session: { present: false } } }, actions: any },
    { name: "debug", match: { headers: { "X-Debug": { exact: "1" } }, query: { trace: { glob: "on*" } } }, actions: any },
  );
  it("header names are case-insensitive in rules; values match by glob and regex", () => {
    expect(matched(compiled, "https://h/", { headers: { "user-agent": "Mozilla/5.0 (iPhone) Mobile/15E148" } })).toEqual(["mobile"]);
    expect(matched(compiled, "https://h/", { headers: { "USER-AGENT": "Googlebot/2.1" } })).toEqual(["bot"]);
    expect(matched(compiled, "https://h/", { headers: { "user-agent": "Mozilla/5.0 (X11)" } })).toEqual([]);
  });
  it("cookie glob with an absent-cookie condition; query glob with a header exact", () => {
    expect(matched(compiled, "https://h/", { headers: { cookie: "ab=variant-b" } })).toEqual(["ab"]);
    expect(matched(compiled, "https://h/", { headers: { cookie: "ab=variant-b; session=x" } })).toEqual([]);
    expect(matched(compiled, "https://h/", { headers: { cookie: "ab=variant-bb" } })).toEqual([]);
    expect(matched(compiled, "https://h/?trace=once", { headers: { "x-debug": "1" } })).toEqual(["debug"]);
    expect(matched(compiled, "https://h/?trace=off", { headers: { "x-debug": "1" } })).toEqual([]);
  });
  it("hostile: encoded input is compared as sent, never decoded into a match", () => {
    const strict = rules({ name: "plain", match: { cookies: { role: "admin" }, headers: { "x-role": { glob: "admin*" } } }, actions: any });
    expect(matched(strict, "https://h/", { headers: { cookie: "role=admin", "x-role": "admin" } })).toEqual(["plain"]);
    expect(matched(strict, "https://h/", { headers: { cookie: "role=%61dmin", "x-role": "admin" } })).toEqual([]);
    expect(matched(strict, "https://h/", { headers: { cookie: 'role="admin"', "x-role": "admin" } })).toEqual([]);
    expect(matched(strict, "https://h/", { headers: { cookie: "role=admin", "x-role": "%61dmin" } })).toEqual([]);
  });
  it("a field sent twice is matched as its joined values", () => {
    const h = new Headers();
    h.append("x-k", "a");
    h.append("x-k", "b");
    const compiledJoin = rules({ name: "j", match: { headers: { "x-k": "a, b" } }, actions: any });
    expect(compiledJoin.evaluate({ method: "GET", url: new URL("https://h/"), headers: h, clientIp: null, country: null }).matched).toEqual(["j"]);
  });
});

describe("SLM state conditions", () => {
  const compiled = rules({ name: "shed", match: { path: "/checkout/**", slm: { checkout: ["warning", "serious"] } }, actions: { pass: true } }, { name: "normal", match: { path: "/checkout/**" }, actions: { ttl: 5 } });
  it("matches while the class is in a named state; unknown and absent sources count as ok", () => {
    expect(matched(compiled, "https://h/checkout/a", { slm: { checkout: "serious" } })).toEqual(["shed"]);
    expect(matched(compiled, "https://h/checkout/a", { slm: { checkout: "warning" } })).toEqual(["shed"]);
    expect(matched(compiled, "https://h/checkout/a", { slm: { checkout: "ok" } })).toEqual(["normal"]);
    expect(matched(compiled, "https://h/checkout/a", { slm: {} })).toEqual(["normal"]);
    expect(matched(compiled, "https://h/checkout/a")).toEqual(["normal"]);
    expect(compiled.usesSlm).toBe(true);
    expect(rules({ match: {}, actions: any }).usesSlm).toBe(false);
  });
  it("refuses an unknown state", () => {
    expect(ruleSchema.safeParse({ match: { slm: { checkout: "bad" } }, actions: any }).success).toBe(false);
  });
});

describe("first-segment path index", () => {
  /** Reference semantics with the backtracking engine, on small safe inputs only. */
  const admits = (path: unknown, target: string): boolean => {
    if (path === undefined) return true;
    if (typeof path === "object" && path !== null && "regex" in path) return new RegExp((path as { regex: string }).regex).test(target);
    const glob = typeof path === "string" ? path : (path as { glob: string }).glob;
    return new RegExp(globToRegExpSource(glob)).test(target);
  };
  const segment = fc.constantFrom("a", "b", "ab", "");
  const pathArb = fc.oneof(
    fc.constant(undefined),
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join("/")}`),
    fc.array(fc.constantFrom("a", "b", "*", "**", "a*"), { minLength: 1, maxLength: 3 }).map((s) => `/${s.join("/")}`),
    fc.array(segment, { minLength: 1, maxLength: 2 }).map((s) => ({ regex: `^/${s.join("/")}/` })),
    fc.array(segment, { minLength: 1, maxLength: 2 }).map((s) => ({ regex: `^/${s.join("/")}` })),
    fc.constant({ regex: "b$" }),
  );
  it("matches the first rule whose path admits the request, as a scan of every rule would (property)", () => {
    fc.assert(
      fc.property(fc.array(pathArb, { minLength: 1, maxLength: 12 }), fc.array(segment, { minLength: 1, maxLength: 4 }), (paths, target) => {
        const inputs = paths.map((path, i) => ({ name: `r${i}`, match: path === undefined ? {} : { path }, actions: any }));
        const valid = inputs.filter((input) => ruleSchema.safeParse(input).success);
        if (valid.length === 0) return;
        const url = `https://h/${target.join("/")}`;
        const expected = valid.find((input) => admits(input.match.path, new URL(url).pathname));
        expect(matched(rules(...valid), url)).toEqual(expected === undefined ? [] : [expected.name]);
      }),
      { numRuns: 400 },
    );
  });
  it("keying a bucket by a shared exact header never changes the match either (property)", () => {
    // Mostly exact values, so buckets often hold the 8 exact conditions that make them keyed.
    const headerCondition = fc.oneof({ arbitrary: fc.constantFrom("a", "b", "c"), weight: 6 }, fc.constant(undefined), fc.constant(true), fc.constant({ glob: "a*" }));
    const ruleArb = fc.record({ path: fc.constantFrom(undefined, "/x/**", "/y", { regex: "^/x/" }), tenant: headerCondition, other: fc.constantFrom(undefined, "a") });
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 10, maxLength: 40 }), fc.constantFrom("/x/1", "/y", "/z"), fc.constantFrom(undefined, "a", "b", "d"), (specs, path, tenant) => {
        const inputs = specs.map((spec, i) => {
          const headers: Record<string, ValueCondition> = {};
          if (spec.tenant !== undefined) headers["X-Tenant"] = spec.tenant;
          if (spec.other !== undefined) headers["x-other"] = spec.other;
          return { name: `r${i}`, match: { ...(spec.path === undefined ? {} : { path: spec.path }), headers }, actions: any };
        });
        const options = tenant === undefined ? {} : { headers: { "x-tenant": tenant } };
        // Each rule alone is never keyed (fewer than 8 rules): the reference is the first that matches on its own.
        const expected = inputs.find((input) => matched(rules(input), `https://h${path}`, options).length > 0);
        expect(matched(rules(...inputs), `https://h${path}`, options)).toEqual(expected === undefined ? [] : [expected.name]);
      }),
      { numRuns: 300 },
    );
  });
  it("keeps rule order across indexed and unindexed rules, with continue", () => {
    const compiled = rules(
      { name: "any", continue: true, match: { path: { regex: "x" } }, actions: { tags: ["1"] } },
      { name: "api", continue: true, match: { path: "/api/**" }, actions: { tags: ["2"] } },
      { name: "all", match: {}, actions: { tags: ["3"] } },
    );
    expect(matched(compiled, "https://h/api/x")).toEqual(["any", "api", "all"]);
    expect(matched(compiled, "https://h/apix")).toEqual(["any", "all"]);
    expect(matched(compiled, "https://h/")).toEqual(["all"]);
  });
});
