/** The edge's shard health state machine (src/health/shard-health.ts): skip after N failures, one probe per period. */
import { describe, expect, it } from "vitest";
import { ShardHealth, type ShardCallOutcome } from "../../../src/health/shard-health";

const policy = { failuresToSkip: 3, skipSeconds: 10 };
type Step = ["admit", number, "try" | "probe" | "skip"] | ["record", number, ShardCallOutcome, null | "unhealthy" | "healthy"];

function run(steps: Step[]): void {
  const health = new ShardHealth();
  steps.forEach((step, i) => {
    if (step[0] === "admit") expect(health.admit("s", step[1], policy), `step ${i}`).toBe(step[2]);
    else expect(health.record("s", step[2], step[1], policy)?.to ?? null, `step ${i}`).toBe(step[3]);
  });
}

describe("ShardHealth", () => {
  it.each<[string, Step[]]>([
    [
      "a healthy shard is always tried",
      [
        ["admit", 0, "try"],
        ["record", 0, "ok", null],
        ["admit", 1, "try"],
      ],
    ],
    [
      "fewer than N consecutive failures keep it tried",
      [
        ["record", 0, "error", null],
        ["record", 1, "timeout", null],
        ["admit", 2, "try"],
      ],
    ],
    [
      "a success resets the count",
      [
        ["record", 0, "error", null],
        ["record", 1, "error", null],
        ["record", 2, "ok", null],
        ["record", 3, "error", null],
        ["admit", 4, "try"],
      ],
    ],
    [
      "N consecutive failures make it unhealthy: skipped for M seconds",
      [
        ["record", 0, "error", null],
        ["record", 1, "timeout", null],
        ["record", 2, "error", "unhealthy"],
        ["admit", 3, "skip"],
        ["admit", 10_001, "skip"],
      ],
    ],
    [
      "after M seconds ONE request probes; the others skip while it is out",
      [
        ["record", 0, "error", null],
        ["record", 0, "error", null],
        ["record", 0, "error", "unhealthy"],
        ["admit", 10_000, "probe"],
        ["admit", 10_001, "skip"],
        ["admit", 19_999, "skip"],
      ],
    ],
    [
      "a successful probe makes it healthy again (one change)",
      [
        ["record", 0, "error", null],
        ["record", 0, "error", null],
        ["record", 0, "error", "unhealthy"],
        ["admit", 10_000, "probe"],
        ["record", 10_500, "ok", "healthy"],
        ["admit", 10_501, "try"],
      ],
    ],
    [
      "a failed probe skips it for another period, without a second change",
      [
        ["record", 0, "error", null],
        ["record", 0, "error", null],
        ["record", 0, "error", "unhealthy"],
        ["admit", 10_000, "probe"],
        ["record", 20_000, "timeout", null],
        ["admit", 29_999, "skip"],
        ["admit", 30_000, "probe"],
      ],
    ],
    [
      "a probe that never reports expires after one period (so a lost probe cannot skip the shard forever)",
      [
        ["record", 0, "error", null],
        ["record", 0, "error", null],
        ["record", 0, "error", "unhealthy"],
        ["admit", 10_000, "probe"],
        ["admit", 20_000, "probe"],
      ],
    ],
    [
      "late outcomes of calls sent before it failed change nothing",
      [
        ["record", 0, "error", null],
        ["record", 0, "error", null],
        ["record", 0, "error", "unhealthy"],
        ["record", 1, "ok", null],
        ["admit", 2, "skip"],
      ],
    ],
  ])("%s", (_name, steps) => run(steps));

  it("with a hung shard, at most one call per period waits for the timeout", () => {
    const health = new ShardHealth();
    let waited = 0;
    // 1000 requests over 60 s, each call timing out; count the calls actually sent.
    for (let now = 0; now < 60_000; now += 60) {
      const admission = health.admit("hung", now, policy);
      if (admission === "skip") continue;
      waited += 1;
      health.record("hung", "timeout", now, policy);
    }
    // N calls to learn it is failing, then one probe per 10 s period.
    expect(waited).toBeLessThanOrEqual(policy.failuresToSkip + 60 / policy.skipSeconds);
  });

  it("counts calls, errors, timeouts, skips and probes per shard", () => {
    const health = new ShardHealth();
    health.record("a", "error", 0, policy);
    health.record("a", "timeout", 0, policy);
    health.record("a", "error", 0, policy);
    health.admit("a", 1, policy);
    health.admit("a", 10_000, policy);
    health.record("b", "ok", 0, policy);
    expect(health.snapshot(10_001)).toEqual({
      a: { state: "probing", consecutiveFailures: 3, calls: 3, errors: 2, timeouts: 1, skips: 1, probes: 1 },
      b: { state: "healthy", consecutiveFailures: 0, calls: 1, errors: 0, timeouts: 0, skips: 0, probes: 0 },
    });
  });
});
