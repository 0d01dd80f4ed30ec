/**
 * Active health monitors: judging one probe's result against a monitor, the up/down hysteresis
 * over consecutive probes, probe scheduling, and the combined passive + active verdict per node.
 */
import { compileLinearRegex, type LinearRegex } from "../lib/linear-regex";
import type { Monitor } from "../config/pools";
import type { EpochMillis, Seconds } from "../lib/units";
import { secondsToMillis } from "../lib/units";
import { isUsable, type PassiveState } from "./passive";

export type ProbeResult =
  | { kind: "response"; status: number; body: string }
  /** A `tcp` monitor's connect completed (nothing is sent or read). */
  | { kind: "connected" }
  /** `afterMs`: the bound that ran out (the monitor's timeout, or a TCP monitor's connect bound). */
  | { kind: "timeout"; afterMs?: number }
  | { kind: "network"; message: string };

export type ProbeVerdict = { ok: boolean; reason: string };

/** Judges one probe. The reason is the text that ends up in the node's health event. */
export function evaluateProbe(result: ProbeResult, monitor: Pick<Monitor, "expectStatus" | "bodyRegex" | "timeoutMs">): ProbeVerdict {
  switch (result.kind) {
    case "timeout":
      return { ok: false, reason: `monitor timed out after ${result.afterMs ?? monitor.timeoutMs} ms` };
    case "connected":
      return { ok: true, reason: "monitor connected" };
    case "network":
      return { ok: false, reason: `monitor could not connect: ${result.message}` };
    case "response": {
      const { min, max } = monitor.expectStatus;
      if (!(result.status >= min && result.status <= max)) {
        return { ok: false, reason: `monitor got status ${result.status}, expected ${min}-${max}` };
      }
      if (monitor.bodyRegex === undefined) return { ok: true, reason: `monitor got status ${result.status}` };
      const regex = compile(monitor.bodyRegex);
      // The schema refuses a bad regex; if one slips through, the probe fails rather than throws.
      if (regex === null) return { ok: false, reason: `monitor body regex /${monitor.bodyRegex}/ does not compile` };
      if (!regex.test(result.body)) return { ok: false, reason: `monitor body did not match /${monitor.bodyRegex}/` };
      return { ok: true, reason: `monitor got status ${result.status} and a matching body` };
    }
  }
}

/** The monitor's body check, in linear time like every config regex (src/lib/linear-regex.ts). */
function compile(source: string): LinearRegex | null {
  const compiled = compileLinearRegex(source);
  return compiled.ok ? compiled.regex : null;
}

export type ActiveState = { up: boolean; consecutiveFailures: number; consecutiveSuccesses: number };
export type ActiveChange = "down" | "up";

/** A node is presumed up until its monitor has seen enough failures, so a restart sheds no traffic. */
export const initialActiveState: ActiveState = Object.freeze({ up: true, consecutiveFailures: 0, consecutiveSuccesses: 0 });

/**
 * Counts one probe. The node goes down only after `failuresToMarkDown` failures in a row and comes
 * back only after `successesToMarkUp` successes in a row, so one lost probe or one lucky one does
 * not flap it; `change` is reported once, on the probe that crosses the threshold.
 */
export function recordProbe(state: ActiveState, ok: boolean, monitor: Pick<Monitor, "failuresToMarkDown" | "successesToMarkUp">): { state: ActiveState; change: ActiveChange | null } {
  if (ok) {
    const consecutiveSuccesses = state.consecutiveSuccesses + 1;
    const up = state.up || consecutiveSuccesses >= Math.max(1, monitor.successesToMarkUp);
    return { state: { up, consecutiveFailures: 0, consecutiveSuccesses }, change: up && !state.up ? "up" : null };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  const up = state.up && consecutiveFailures < Math.max(1, monitor.failuresToMarkDown);
  return { state: { up, consecutiveFailures, consecutiveSuccesses: 0 }, change: state.up && !up ? "down" : null };
}

/** When the next probe is due; a node never probed is due at once. */
export function nextProbeAt(lastProbeAt: EpochMillis | null, intervalSeconds: Seconds): EpochMillis {
  return lastProbeAt === null ? Number.NEGATIVE_INFINITY : lastProbeAt + secondsToMillis(intervalSeconds);
}

/**
 * Whether a probe should run at `now`. A last probe time in the future means the clock stepped
 * back; probing then is better than staying blind until the clock catches up.
 */
export function probeDue(lastProbeAt: EpochMillis | null, intervalSeconds: Seconds, now: EpochMillis): boolean {
  if (lastProbeAt !== null && now < lastProbeAt) return true;
  return now >= nextProbeAt(lastProbeAt, intervalSeconds);
}

/** A node takes traffic only if live traffic has not failed it and every monitor on its pool says up. */
export function nodeHealthy(passive: PassiveState, active: readonly ActiveState[], now: EpochMillis): boolean {
  return isUsable(passive, now) && active.every((a) => a.up);
}
