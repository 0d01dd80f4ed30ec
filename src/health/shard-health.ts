/**
 * Shard health as one edge isolate sees it: after `failuresToSkip` consecutive failures or timeouts
 * a shard is skipped for `skipSeconds`, then ONE request (the probe) tries it again; its success
 * makes the shard healthy, its failure skips it for another period. So with a hung primary at most
 * one request per isolate per period waits for the shard timeout, instead of every request.
 *
 * The transitions are the origin nodes' passive state machine (src/health/passive.ts); this adds
 * the single probe (concurrent requests skip while the probe is out) and per-shard counters.
 * Pure: time is a parameter, no timers.
 */
import type { EpochMillis } from "../lib/units";
import { initialPassiveState, passiveStatus, recordOutcome, type PassiveState } from "./passive";

export interface ShardHealthPolicy {
  /** Consecutive failures (throws or timeouts) that make a shard skipped. */
  failuresToSkip: number;
  /** How long a failing shard is skipped before one request probes it. */
  skipSeconds: number;
}

/** What a request may do with a shard: call it, call it as the one probe, or skip it. */
export type Admission = "try" | "probe" | "skip";

export type ShardCallOutcome = "ok" | "error" | "timeout";

export interface ShardCounters {
  calls: number;
  errors: number;
  timeouts: number;
  skips: number;
  probes: number;
}

export interface ShardHealthChange {
  shard: string;
  to: "unhealthy" | "healthy";
  /** Consecutive failures that led to the change (0 for recovery). */
  failures: number;
}

interface Entry {
  passive: PassiveState;
  /** When the current probe was sent (null: none out). A probe never recorded expires after one skip period. */
  probeSince: EpochMillis | null;
  counters: ShardCounters;
}

export class ShardHealth {
  readonly #shards = new Map<string, Entry>();

  admit(shard: string, now: EpochMillis, policy: ShardHealthPolicy): Admission {
    const entry = this.#entry(shard);
    const status = passiveStatus(entry.passive, now);
    if (status === "healthy") return "try";
    const probeOut = entry.probeSince !== null && now - entry.probeSince < policy.skipSeconds * 1000;
    if (status === "failed" || probeOut) {
      entry.counters.skips += 1;
      return "skip";
    }
    entry.probeSince = now;
    entry.counters.probes += 1;
    return "probe";
  }

  /** Records a call's outcome; returns the change when the shard became unhealthy or healthy again. */
  record(shard: string, outcome: ShardCallOutcome, now: EpochMillis, policy: ShardHealthPolicy): ShardHealthChange | null {
    const entry = this.#entry(shard);
    entry.counters.calls += 1;
    if (outcome === "error") entry.counters.errors += 1;
    if (outcome === "timeout") entry.counters.timeouts += 1;
    const { state, change } = recordOutcome(entry.passive, outcome === "ok" ? "success" : "failure", now, { failuresToFail: policy.failuresToSkip, nodeFailTimeSeconds: policy.skipSeconds });
    entry.passive = state;
    if (passiveStatus(state, now) !== "probing") entry.probeSince = null;
    if (change === "failed") return { shard, to: "unhealthy", failures: state.consecutiveFailures };
    if (change === "recovered") return { shard, to: "healthy", failures: 0 };
    return null;
  }

  /** Every shard this isolate has called or skipped: its state at `now` and its counters. */
  snapshot(now: EpochMillis): Record<string, { state: "healthy" | "unhealthy" | "probing"; consecutiveFailures: number } & ShardCounters> {
    const out: Record<string, { state: "healthy" | "unhealthy" | "probing"; consecutiveFailures: number } & ShardCounters> = {};
    for (const [name, entry] of this.#shards) {
      const status = passiveStatus(entry.passive, now);
      out[name] = { state: status === "failed" ? "unhealthy" : status, consecutiveFailures: entry.passive.consecutiveFailures, ...entry.counters };
    }
    return out;
  }

  #entry(shard: string): Entry {
    let entry = this.#shards.get(shard);
    if (entry === undefined) {
      entry = { passive: initialPassiveState, probeSince: null, counters: { calls: 0, errors: 0, timeouts: 0, skips: 0, probes: 0 } };
      this.#shards.set(shard, entry);
    }
    return entry;
  }
}
