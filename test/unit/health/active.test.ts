/** Active monitors: probe verdicts, up/down hysteresis, scheduling and the combined node verdict. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { monitorSchema } from "../../../src/config/pools";
import { evaluateProbe, initialActiveState, nextProbeAt, nodeHealthy, probeDue, recordProbe, type ActiveState } from "../../../src/health/active";
import { initialPassiveState, recordOutcome } from "../../../src/health/passive";

const monitor = monitorSchema.parse({});
const T0 = 1_700_000_000_000;

describe("evaluateProbe", () => {
  it("passes a TCP connect and names the bound that ran out on a timeout", () => {
    const monitor = { expectStatus: { min: 200, max: 399 }, timeoutMs: 2000 };
    expect(evaluateProbe({ kind: "connected" }, monitor)).toEqual({ ok: true, reason: "monitor connected" });
    expect(evaluateProbe({ kind: "timeout", afterMs: 300 }, monitor)).toEqual({ ok: false, reason: "monitor timed out after 300 ms" });
    expect(evaluateProbe({ kind: "timeout" }, monitor).reason).toBe("monitor timed out after 2000 ms");
  });

  it("accepts statuses inside the expected range, bounds included", () => {
    for (const status of [200, 301, 399]) expect(evaluateProbe({ kind: "response", status, body: "" }, monitor).ok).toBe(true);
  });

  it("rejects statuses outside the range, saying which", () => {
    expect(evaluateProbe({ kind: "response", status: 400, body: "" }, monitor)).toEqual({ ok: false, reason: "monitor got status 400, expected 200-399" });
    expect(evaluateProbe({ kind: "response", status: 199, body: "" }, monitor).ok).toBe(false);
  });

  it("checks the body against the regex", () => {
    const withRegex = monitorSchema.parse({ bodyRegex: "status: *ok" });
    expect(evaluateProbe({ kind: "response", status: 200, body: "db up\nstatus: ok" }, withRegex).ok).toBe(true);
    const miss = evaluateProbe({ kind: "response", status: 200, body: "status: degraded" }, withRegex);
    expect(miss).toEqual({ ok: false, reason: "monitor body did not match /status: *ok/" });
  });

  it("fails timeouts and network errors with their reason", () => {
    expect(evaluateProbe({ kind: "timeout" }, monitor)).toEqual({ ok: false, reason: "monitor timed out after 2000 ms" });
    expect(evaluateProbe({ kind: "network", message: "connection refused" }, monitor)).toEqual({
      ok: false,
      reason: "monitor could not connect: connection refused",
    });
  });

  it("fails, rather than throws, on a regex that does not compile", () => {
    const broken = { ...monitor, bodyRegex: "(" };
    expect(evaluateProbe({ kind: "response", status: 200, body: "(" }, broken).ok).toBe(false);
  });
});

describe("recordProbe hysteresis", () => {
  const hyst = { failuresToMarkDown: 3, successesToMarkUp: 2 };
  const run = (oks: boolean[], state: ActiveState = initialActiveState) => {
    const changes: (string | null)[] = [];
    for (const ok of oks) {
      const step = recordProbe(state, ok, hyst);
      state = step.state;
      changes.push(step.change);
    }
    return { state, changes };
  };

  it("marks a node down on exactly the failuresToMarkDown-th consecutive failure, once", () => {
    expect(run([false, false]).state.up).toBe(true);
    const { state, changes } = run([false, false, false, false]);
    expect(state.up).toBe(false);
    expect(changes).toEqual([null, null, "down", null]);
  });

  it("does not flap on an isolated failure between successes", () => {
    const { state, changes } = run([false, false, true, false, false, true]);
    expect(state.up).toBe(true);
    expect(changes.every((c) => c === null)).toBe(true);
  });

  it("marks a node up again only after successesToMarkUp consecutive successes", () => {
    const down = run([false, false, false]).state;
    expect(run([true], down).state.up).toBe(false);
    expect(run([true, false, true], down).state.up).toBe(false);
    expect(run([true, true, true], down).changes).toEqual([null, "up", null]);
  });

  it("reports changes alternating down, up, down… and only when `up` flips (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (oks, down, up) => {
        let state = initialActiveState;
        let expected: "down" | "up" = "down";
        for (const ok of oks) {
          const step = recordProbe(state, ok, { failuresToMarkDown: down, successesToMarkUp: up });
          if ((step.change !== null) !== (step.state.up !== state.up)) return false;
          if (step.change !== null) {
            if (step.change !== expected) return false;
            expected = expected === "down" ? "up" : "down";
          }
          state = step.state;
        }
        return true;
      }),
    );
  });
});

describe("probe scheduling", () => {
  it("probes a never-probed node at once, then every interval", () => {
    expect(probeDue(null, 10, T0)).toBe(true);
    expect(probeDue(T0, 10, T0 + 9_999)).toBe(false);
    expect(probeDue(T0, 10, T0 + 10_000)).toBe(true);
    expect(nextProbeAt(T0, 10)).toBe(T0 + 10_000);
  });

  it("probes when the clock stepped back past the last probe", () => {
    expect(probeDue(T0, 10, T0 - 1)).toBe(true);
  });
});

describe("nodeHealthy", () => {
  const down: ActiveState = { up: false, consecutiveFailures: 3, consecutiveSuccesses: 0 };
  const failed = recordOutcome(initialPassiveState, "failure", T0, { failuresToFail: 1, nodeFailTimeSeconds: 60 }).state;

  it("needs passive health usable and every monitor up", () => {
    expect(nodeHealthy(initialPassiveState, [], T0)).toBe(true);
    expect(nodeHealthy(initialPassiveState, [initialActiveState, initialActiveState], T0)).toBe(true);
    expect(nodeHealthy(initialPassiveState, [initialActiveState, down], T0)).toBe(false);
    expect(nodeHealthy(failed, [initialActiveState], T0 + 1)).toBe(false);
    expect(nodeHealthy(failed, [initialActiveState], T0 + 60_000)).toBe(true);
  });
});
