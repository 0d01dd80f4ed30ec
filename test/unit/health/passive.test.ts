/** Passive health: failure threshold, fail time and probing, change reporting, outcome classes and retry rules. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { classifyOriginOutcome, initialPassiveState, isIdempotent, isUsable, mayRetry, passiveStatus, recordOutcome, type Outcome, type PassiveState } from "../../../src/health/passive";

const cfg = { failuresToFail: 3, nodeFailTimeSeconds: 60 };
const T0 = 1_700_000_000_000;

function run(outcomes: Outcome[], now = T0, state: PassiveState = initialPassiveState, config = cfg) {
  const changes: (string | null)[] = [];
  for (const outcome of outcomes) {
    const step = recordOutcome(state, outcome, now, config);
    state = step.state;
    changes.push(step.change);
  }
  return { state, changes };
}

const failedNode = () => run(["failure", "failure", "failure"]).state;

describe("passive health", () => {
  it.each([1, 2, 3, 5])("fails a node after exactly %i consecutive failures", (n) => {
    const config = { failuresToFail: n, nodeFailTimeSeconds: 60 };
    const almost = run(Array<Outcome>(n - 1).fill("failure"), T0, initialPassiveState, config);
    expect(almost.state.status).toBe("healthy");
    expect(isUsable(almost.state, T0)).toBe(true);
    expect(almost.changes.every((c) => c === null)).toBe(true);
    const failed = run(["failure"], T0, almost.state, config);
    expect(failed.changes).toEqual(["failed"]);
    expect(failed.state).toEqual({ status: "failed", consecutiveFailures: n, failedUntil: T0 + 60_000 });
  });

  it("resets the count on a success, so only consecutive failures count", () => {
    const { state, changes } = run(["failure", "failure", "success", "failure", "failure"]);
    expect(state.status).toBe("healthy");
    expect(state.consecutiveFailures).toBe(2);
    expect(changes.every((c) => c === null)).toBe(true);
  });

  it("keeps a failed node out until its fail time is over, then lets traffic probe it", () => {
    const state = failedNode();
    expect(isUsable(state, T0 + 59_999)).toBe(false);
    expect(passiveStatus(state, T0 + 59_999)).toBe("failed");
    expect(isUsable(state, T0 + 60_000)).toBe(true);
    expect(passiveStatus(state, T0 + 60_000)).toBe("probing");
  });

  it("ignores outcomes that arrive while the node is failed", () => {
    const state = failedNode();
    expect(recordOutcome(state, "success", T0 + 1000, cfg)).toEqual({ state, change: null });
    expect(recordOutcome(state, "failure", T0 + 1000, cfg)).toEqual({ state, change: null });
  });

  it("recovers a probing node with one success", () => {
    const step = recordOutcome(failedNode(), "success", T0 + 60_000, cfg);
    expect(step.change).toBe("recovered");
    expect(step.state).toEqual(initialPassiveState);
  });

  it("fails a probing node again at once on one failure, without a second failed event", () => {
    const step = recordOutcome(failedNode(), "failure", T0 + 61_000, cfg);
    expect(step.change).toBeNull();
    expect(step.state.status).toBe("failed");
    expect(step.state.failedUntil).toBe(T0 + 121_000);
    expect(isUsable(step.state, T0 + 120_999)).toBe(false);
  });

  it("reports each change exactly once: changes alternate failed, recovered, failed… (property)", () => {
    const stepArb = fc.tuple(fc.constantFrom<Outcome>("success", "failure"), fc.integer({ min: 0, max: 40_000 }));
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (steps, failuresToFail) => {
        const config = { failuresToFail, nodeFailTimeSeconds: 30 };
        let state = initialPassiveState;
        let now = T0;
        let expected: "failed" | "recovered" = "failed";
        for (const [outcome, advance] of steps) {
          now += advance;
          const usableBefore = isUsable(state, now);
          const step = recordOutcome(state, outcome, now, config);
          if (step.change !== null) {
            if (step.change !== expected) return false;
            expected = expected === "failed" ? "recovered" : "failed";
            // The report matches what the state says right after it.
            if (step.change === "failed" && isUsable(step.state, now)) return false;
            if (step.change === "recovered" && step.state.status !== "healthy") return false;
          }
          // A node never becomes unusable silently unless it already was reported failed.
          if (usableBefore && !isUsable(step.state, now) && step.change === null && expected !== "recovered") return false;
          state = step.state;
        }
        return true;
      }),
    );
  });
});

describe("classifyOriginOutcome", () => {
  it.each([
    [{ kind: "timeout" } as const, "failure"],
    [{ kind: "network" } as const, "failure"],
    [{ kind: "premature-close" } as const, "failure"],
    [{ kind: "response", status: 503 } as const, "failure"],
    [{ kind: "response", status: 99 } as const, "failure"],
    [{ kind: "response", status: 600 } as const, "failure"],
    [{ kind: "response", status: 200.5 } as const, "failure"],
    [{ kind: "response", status: 200 } as const, "success"],
    [{ kind: "response", status: 404 } as const, "success"],
    [{ kind: "response", status: 500 } as const, "success"],
    [{ kind: "response", status: 502 } as const, "success"],
  ])("%o counts as a %s", (outcome, expected) => {
    expect(classifyOriginOutcome(outcome)).toBe(expected);
  });
});

describe("retries", () => {
  it("treats exactly the RFC 9110 idempotent methods as idempotent", () => {
    for (const m of ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]) expect(isIdempotent(m)).toBe(true);
    for (const m of ["POST", "PATCH", "CONNECT", "get", "PROPFIND", ""]) expect(isIdempotent(m)).toBe(false);
  });

  it("retries an idempotent request only while its body is unsent", () => {
    expect(mayRetry("GET", false)).toBe(true);
    expect(mayRetry("PUT", false)).toBe(true);
    expect(mayRetry("PUT", true)).toBe(false);
  });

  it("never retries POST or PATCH, nor any request whose body was sent (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom("POST", "PATCH", "GET", "PUT", "DELETE"), fc.string()), fc.boolean(), (method, bodySent) => {
        const allowed = mayRetry(method, bodySent);
        if (method === "POST" || method === "PATCH" || bodySent) return !allowed;
        return allowed === isIdempotent(method);
      }),
    );
  });
});
