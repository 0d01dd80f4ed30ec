import { describe, expect, it } from "vitest";
import { edgeOutcomeOf, ruleLabel, type EdgeOutcome } from "../../../src/observe/outcomes";
import type { CacheOutcome } from "../../../src/rfc9111/types";

type Member = Omit<CacheOutcome, "cache">;

describe("edgeOutcomeOf: the edge outcome its Cache-Status member describes", () => {
  const table: [string, Member, EdgeOutcome][] = [
    ["edge hit", { hit: true, ttlSeconds: 5 }, "hit"],
    ["answered by a shard", { hit: false, fwd: "uri-miss", stored: true }, "miss"],
    ["stale at the edge, answered by a shard", { hit: false, fwd: "stale", stored: false }, "miss"],
    ["unsafe method", { hit: false, fwd: "method", fwdStatus: 200, stored: false }, "pass"],
    ["pass rule", { hit: false, fwd: "bypass", fwdStatus: 200, stored: false }, "pass"],
    ["skipSharding rule", { hit: false, fwd: "uri-miss", fwdStatus: 200, stored: false, detail: "skip-sharding" }, "pass"],
    ["no shard answered", { hit: false, fwd: "uri-miss", fwdStatus: 200, stored: false, detail: "shards-unavailable" }, "origin"],
    ["rate class refused", { hit: false, fwd: "bypass", detail: "rate-limited" }, "refused"],
    ["direct origin failure", { hit: false, fwd: "bypass", detail: "origin-timeout" }, "error"],
    ["direct origin failure on an unsafe method", { hit: false, fwd: "method", detail: "origin-network" }, "error"],
  ];
  it.each(table)("%s", (_name, member, outcome) => {
    expect(edgeOutcomeOf(member)).toBe(outcome);
  });
});

describe("ruleLabel", () => {
  it.each([
    [[], "(none)"],
    [["static"], "static"],
    [["a", "b"], "a+b"],
  ] as [string[], string][])("%j → %s", (matched, label) => {
    expect(ruleLabel(matched)).toBe(label);
  });
});
