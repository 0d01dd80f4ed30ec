import { describe, expect, it } from "vitest";
import { compileLinearRegex, linearRegexSchema } from "../../../src/lib/linear-regex";
import { compileRules } from "../../../src/rules/match";
import { ruleSchema } from "../../../src/rules/schema";

const hostile = `/${"a".repeat(10_000)}!`;

describe("compileLinearRegex (every config regex goes through it)", () => {
  it.each(["^/(a+)+$", "^/(a|aa)+$", "^/(a*)*$", "^/(?:a|a)*b$", "^/(x+x+)+y$"])("%s — catastrophic for a backtracking engine — matches a 10 kB hostile path in linear time", (source) => {
    const compiled = compileLinearRegex(source);
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    const started = performance.now();
    expect(compiled.regex.test(hostile)).toBe(false);
    // A backtracking engine needs longer than the age of the universe here; linear time is milliseconds.
    expect(performance.now() - started).toBeLessThan(250);
  });

  it.each([
    ["a backreference", "(a)\\1"],
    ["lookahead", "^/(?=admin)"],
    ["lookbehind", "(?<=x)y"],
    ["a repeat count over 1000", "a{1001}"],
    ["an unterminated group", "("],
  ])("refuses %s with the reason", (_what, source) => {
    const compiled = compileLinearRegex(source);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.reason).toMatch(/^not a linear-time \(RE2\) regular expression: /);
  });

  it("matches like RegExp#test for ordinary patterns", () => {
    for (const [source, input, expected] of [
      ["^/api/v\\d+/", "/api/v2/x", true],
      ["\\.png$", "/a.png", true],
      ["\\.png$", "/a.png?x", false],
      ["(?i)^/ADMIN", "/admin", true],
    ] as const) {
      const compiled = compileLinearRegex(source);
      expect(compiled.ok && compiled.regex.test(input), `${source} on ${input}`).toBe(expected);
    }
  });

  it("the schema field reports the reason at the config path", () => {
    const parsed = linearRegexSchema.safeParse("(a)\\1");
    expect(parsed.success).toBe(false);
    const rule = ruleSchema.safeParse({ match: { path: { regex: "^/(?!x)" } }, actions: {} });
    expect(rule.success).toBe(false);
    expect(rule.error?.issues[0]?.path).toEqual(["match", "path", "regex"]);
  });

  it("a rule with a catastrophic pattern evaluates a 10 kB hostile path quickly", () => {
    const rules = compileRules([ruleSchema.parse({ match: { path: { regex: "^/(a+)+$" } }, actions: { pass: true } })]);
    const started = performance.now();
    const result = rules.evaluate({ method: "GET", url: new URL(`https://h.test${hostile}`), headers: new Headers(), clientIp: null, country: null });
    expect(result.matched).toEqual([]);
    expect(performance.now() - started).toBeLessThan(250);
  });
});
