/**
 * Passive health of one origin node, judged from live traffic: a pure state machine with time as
 * a parameter, plus the rules for what counts as a failure and which requests may be retried.
 */
import type { EpochMillis, Seconds } from "../lib/units";
import { secondsToMillis } from "../lib/units";

export type PassiveState = {
  /** `probing`: the fail time is over and live traffic decides — one success recovers, one failure re-fails. */
  status: "healthy" | "failed" | "probing";
  consecutiveFailures: number;
  /** While failed, when the node may be probed again; null otherwise. */
  failedUntil: EpochMillis | null;
};

export type PassiveConfig = { failuresToFail: number; nodeFailTimeSeconds: Seconds };
export type Outcome = "success" | "failure";
export type PassiveChange = "failed" | "recovered";

// Frozen because recordOutcome hands this very object back; a caller mutating it would corrupt every node.
export const initialPassiveState: PassiveState = Object.freeze({ status: "healthy", consecutiveFailures: 0, failedUntil: null });

/** The status in force at `now`: a failed node whose fail time has passed is probing. */
export function passiveStatus(state: PassiveState, now: EpochMillis): PassiveState["status"] {
  if (state.status === "failed" && (state.failedUntil === null || now >= state.failedUntil)) return "probing";
  return state.status;
}

export function isUsable(state: PassiveState, now: EpochMillis): boolean {
  return passiveStatus(state, now) !== "failed";
}

/**
 * Applies one request's outcome. `change` is reported only on the transitions users care about:
 * healthy → failed and probing → healthy. A probe that fails again extends the fail time but is
 * not a new "failed" event, so over any sequence the changes alternate failed, recovered, failed…
 */
export function recordOutcome(state: PassiveState, outcome: Outcome, now: EpochMillis, cfg: PassiveConfig): { state: PassiveState; change: PassiveChange | null } {
  const failFor = () => now + secondsToMillis(Math.max(0, cfg.nodeFailTimeSeconds));
  switch (passiveStatus(state, now)) {
    case "failed":
      // Outcomes of requests sent before the node failed say nothing new; the fail time stands.
      return { state, change: null };
    case "probing":
      if (outcome === "success") return { state: initialPassiveState, change: "recovered" };
      return { state: { status: "failed", consecutiveFailures: state.consecutiveFailures + 1, failedUntil: failFor() }, change: null };
    case "healthy": {
      if (outcome === "success") return { state: state.consecutiveFailures === 0 ? state : initialPassiveState, change: null };
      const consecutiveFailures = state.consecutiveFailures + 1;
      if (consecutiveFailures < Math.max(1, cfg.failuresToFail)) return { state: { ...state, consecutiveFailures }, change: null };
      return { state: { status: "failed", consecutiveFailures, failedUntil: failFor() }, change: "failed" };
    }
  }
}

export type OriginOutcome = { kind: "response"; status: number } | { kind: "timeout" } | { kind: "network" } | { kind: "premature-close" };

/**
 * Whether an origin exchange counts against the node's health. Refused or timed-out connections,
 * bodies cut short and responses with an impossible status say the node itself is broken. A 503 is
 * the node saying it is unavailable (overloaded, in maintenance), so it counts too. Every other
 * status, 500 and 502/504 included, is an answer about one URL: a single broken page must not take
 * a node out of rotation for all the URLs it serves well. Traffic Manager's passive monitoring
 * applies the same list.
 * @see https://community.pulsesecure.net/t5/Pulse-Secure-vADC/Feature-Brief-Health-Monitoring-in-Traffic-Manager/ta-p/28516
 */
export function classifyOriginOutcome(x: OriginOutcome): Outcome {
  if (x.kind !== "response") return "failure";
  if (!Number.isInteger(x.status) || x.status < 100 || x.status > 599) return "failure";
  return x.status === 503 ? "failure" : "success";
}

/** Idempotent methods, RFC 9110 §9.2.2. Method names are case-sensitive (§9.1), so "get" is not GET. */
const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);

export function isIdempotent(method: string): boolean {
  return idempotentMethods.has(method);
}

/**
 * A failed request may be sent to another node only when repeating it is harmless (idempotent)
 * and its body has not been consumed: a streamed body that was already sent cannot be replayed.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
 */
export function mayRetry(method: string, bodySent: boolean): boolean {
  return isIdempotent(method) && !bodySent;
}
