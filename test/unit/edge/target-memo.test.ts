/**
 * The edge's target memo (src/edge/target-memo.ts): a config whose rules read only the method and
 * target is evaluated once per target, and its key built once; any rule that reads more of a request
 * turns the memo off for the whole config, so no request is given a decision made for another
 * request's fields, address, country or SLM state.
 */
import { describe, expect, it } from "vitest";
import { normaliseIncoming } from "../../../src/edge/incoming";
import { EdgeRuleRequest } from "../../../src/edge/rule-request";
import { MAX_ENTRIES, MAX_TARGET_LENGTH, TargetMemo } from "../../../src/edge/target-memo";
import { cacheKeyFor } from "../../../src/rules/cache-key";
import type { CompiledRules, RuleRequest } from "../../../src/rules/match";
import type { RuleInput } from "../../../src/rules/schema";
import { rules } from "../rules/helpers";

/** `compiled`, counting its evaluations. */
function counted(compiled: CompiledRules): { rules: CompiledRules; evaluations: () => number } {
  let n = 0;
  const wrapper: CompiledRules = {
    size: compiled.size,
    usesSlm: compiled.usesSlm,
    readsOnlyTarget: compiled.readsOnlyTarget,
    evaluate: (req: RuleRequest) => {
      n++;
      return compiled.evaluate(req);
    },
  };
  return { rules: wrapper, evaluations: () => n };
}

const arrive = (url: string, headers: Record<string, string> = {}, country: string | null = null, method = "GET") => new EdgeRuleRequest(normaliseIncoming(new Request(url, { method, headers })), country, undefined);

const TARGET_ONLY: RuleInput[] = [
  { name: "static", match: { path: "/static/**", method: ["GET"] }, actions: { edgeTtl: 60 } },
  { name: "query", match: { path: "/q", query: { v: "1" } }, actions: { cacheKey: { query: "ignore" } } },
];

describe("readsOnlyTarget: whether a config's decisions are a function of method and target", () => {
  it.each<[string, RuleInput[], boolean]>([
    ["no rules", [], true],
    ["paths, hosts, methods and query conditions", TARGET_ONLY, true],
    ["a header condition", [{ match: { headers: { "x-device": "mobile" } }, actions: {} }], false],
    ["a cookie condition", [{ match: { cookies: { session: { present: true } } }, actions: {} }], false],
    ["a client address condition", [{ match: { clientIp: "192.0.2.0/24" }, actions: {} }], false],
    ["a country condition", [{ match: { country: "DE" }, actions: {} }], false],
    ["an SLM condition", [{ match: { slm: { checkout: "serious" } }, actions: {} }], false],
    ["a response rule with a header condition", [{ match: { headers: { "x-a": "1" }, response: { status: [200] } }, actions: { setResponseHeaders: { "x-b": "1" } } }], false],
  ])("%s: %s", (_case, inputs, expected) => {
    expect(rules(...inputs).readsOnlyTarget).toBe(expected);
  });
});

describe("TargetMemo", () => {
  it("evaluates a target-only config once per method and target, and builds its key once", () => {
    const { rules: compiled, evaluations } = counted(rules(...TARGET_ONLY));
    const memo = new TargetMemo(compiled);
    const first = memo.decide(arrive("https://a.test/static/x.css?b=2&a=1"));
    const again = memo.decide(arrive("https://a.test/static/x.css?b=2&a=1", { "x-device": "mobile" }, "DE"));
    expect(again).toBe(first);
    expect(evaluations()).toBe(1);
    expect(first.rule.matched).toEqual(["static"]);
    expect(first.key).toBe("https://a.test/static/x.css?a=1&b=2");
    // Another method or another target is its own decision.
    expect(memo.decide(arrive("https://a.test/static/x.css?b=2&a=1", {}, null, "HEAD"))).not.toBe(first);
    expect(memo.decide(arrive("https://a.test/q?v=1")).rule.matched).toEqual(["query"]);
    expect(memo.decide(arrive("https://a.test/q?v=2")).rule.matched).toEqual([]);
    expect(evaluations()).toBe(4);
  });

  it("decides as the rules and cacheKeyFor do, for every request", () => {
    const compiled = rules(...TARGET_ONLY);
    const memo = new TargetMemo(compiled);
    for (const url of ["https://a.test/static/a", "https://a.test/q?v=1&z=0", "https://a.test/%7Eu//x/./y", "https://b.test/q?v=1"])
      for (let i = 0; i < 2; i++) {
        const req = arrive(url);
        const rule = compiled.evaluate(req);
        const decision = memo.decide(req);
        expect(decision.rule).toEqual(rule);
        expect(decision.key).toBe(cacheKeyFor(req, rule.actions.cacheKey));
      }
  });

  it("evaluates every request when a rule reads its fields: two clients of one URL get their own rules", () => {
    const { rules: compiled, evaluations } = counted(rules({ name: "mobile", match: { headers: { "x-device": "mobile" } }, actions: { edgeTtl: 0 } }));
    const memo = new TargetMemo(compiled);
    expect(memo.decide(arrive("https://a.test/p", { "x-device": "mobile" })).rule.matched).toEqual(["mobile"]);
    expect(memo.decide(arrive("https://a.test/p")).rule.matched).toEqual([]);
    expect(memo.decide(arrive("https://a.test/p", { "x-device": "mobile" })).rule.matched).toEqual(["mobile"]);
    expect(evaluations()).toBe(3);
  });

  it("leaves the key to the request when the rule's key reads fields or cookies", () => {
    const memo = new TargetMemo(
      rules(
        { match: { path: "/d" }, actions: { cacheKey: { headers: ["x-device"] } } },
        { match: { path: "/t" }, actions: { cacheKey: { custom: "${host}${path}#${cookie.lang}" } } },
        { match: { path: "/k" }, actions: { cacheKey: { custom: "${host}${path}?${query.v}" } } },
      ),
    );
    expect(memo.decide(arrive("https://a.test/d")).key).toBeNull();
    expect(memo.decide(arrive("https://a.test/t")).key).toBeNull();
    expect(memo.decide(arrive("https://a.test/k?v=7&w=1")).key).toBe("https://a.test/k?7");
  });

  it("never parses the URL nor reads the client address for a remembered target", () => {
    const memo = new TargetMemo(rules(...TARGET_ONLY));
    memo.decide(arrive("https://a.test/static/x"));
    const reads: string[] = [];
    const watched = new Proxy(arrive("https://a.test/static/x"), {
      get(target, prop) {
        if (prop === "url" || prop === "clientIp" || prop === "headers") reads.push(prop);
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    memo.decide(watched);
    expect(reads).toEqual([]);
  });

  it("shares frozen decisions, so no request can change another's", () => {
    const decision = new TargetMemo(rules(...TARGET_ONLY)).decide(arrive("https://a.test/static/x"));
    expect(Object.isFrozen(decision)).toBe(true);
    expect(Object.isFrozen(decision.rule)).toBe(true);
  });

  it("is bounded: long targets are not kept, and a full memo starts over", () => {
    const { rules: compiled, evaluations } = counted(rules(...TARGET_ONLY));
    const memo = new TargetMemo(compiled);
    const long = `https://a.test/static/${"x".repeat(MAX_TARGET_LENGTH)}`;
    memo.decide(arrive(long));
    memo.decide(arrive(long));
    expect(evaluations()).toBe(2);
    for (let i = 0; i < MAX_ENTRIES; i++) memo.decide(arrive(`https://a.test/static/${i}`));
    const before = evaluations();
    memo.decide(arrive("https://a.test/static/0")); // still remembered: the memo holds MAX_ENTRIES
    expect(evaluations()).toBe(before);
    memo.decide(arrive("https://a.test/static/new")); // the memo is full: it starts over with this one
    memo.decide(arrive("https://a.test/static/0"));
    expect(evaluations()).toBe(before + 2);
  });
});
