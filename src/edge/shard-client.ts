/**
 * Calling the shards for a key: the primary first, then the next shards in HRW order when one throws
 * or does not answer in time. A client never sees a shard's internal error while any shard (or the
 * origin, which the caller tries last) can answer.
 *
 * Only the shard failing counts as failure: a response, whatever its status (a 502 for an origin that
 * sent garbage, a 504 for an origin that timed out), is the shard working, and is passed on rather
 * than retried elsewhere (which would only ask the origin again). Shards the isolate's health gate
 * says to skip are not called at all (`SKIP(unhealthy)` in the trace).
 */
import type { Millis } from "../lib/units";
import type { Shard } from "../config/settings";
import type { Admission, ShardCallOutcome } from "../health/shard-health";

/** One attempt's record, for the trace and for stats. */
export interface ShardAttempt {
  shard: string;
  error?: "timeout" | "error" | "unhealthy";
}

/** Keeps work going after the response is sent (the request's `ctx.waitUntil`). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** This isolate's view of shard health (src/edge/shard-gate.ts: ShardHealth bound to the clock and settings). */
export interface ShardGate {
  admit(shard: string): Admission;
  /** `waitUntil` keeps alive what a state change sets off (its event). */
  record(shard: string, outcome: ShardCallOutcome, waitUntil: WaitUntil): void;
}

const ALWAYS: ShardGate = { admit: () => "try", record: () => {} };
const NOTHING_TO_KEEP: WaitUntil = () => {};

export type ShardCallResult<T> = { ok: true; value: T; shard: string; attempts: ShardAttempt[] } | { ok: false; attempts: ShardAttempt[] };

/**
 * The order in which to try shards: one of the top `primaries` (chosen by `pick`, so a hot key's load
 * spreads over them), then the other primaries, then the rest of the ranking.
 */
export function attemptOrder(ranked: readonly Shard[], primaries: number, pick: number): Shard[] {
  const primaryCount = Math.min(primaries, ranked.length);
  if (primaryCount <= 1) return ranked.slice();
  const first = Math.abs(Math.floor(pick)) % primaryCount;
  const order = ranked.slice();
  const [chosen] = order.splice(first, 1);
  return [chosen!, ...order];
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: Millis): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Tries `call` on each shard in order (skipping those `gate` says to) until one answers within
 * `timeoutMs` with a value `check` accepts (an answer it refuses, such as a result of another
 * version, counts as that shard's error). Each outcome is recorded on the gate with `waitUntil`.
 */
export async function callShards<T>(
  order: readonly Shard[],
  call: (shard: Shard) => Promise<unknown>,
  check: (answer: unknown) => T | null,
  timeoutMs: Millis,
  gate: ShardGate = ALWAYS,
  waitUntil: WaitUntil = NOTHING_TO_KEEP,
): Promise<ShardCallResult<T>> {
  const attempts: ShardAttempt[] = [];
  for (const shard of order) {
    if (gate.admit(shard.name) === "skip") {
      attempts.push({ shard: shard.name, error: "unhealthy" });
      continue;
    }
    try {
      const outcome = await withTimeout(call(shard), timeoutMs);
      if (outcome === "timeout") {
        gate.record(shard.name, "timeout", waitUntil);
        attempts.push({ shard: shard.name, error: "timeout" });
        continue;
      }
      const value = check(outcome);
      if (value === null) {
        gate.record(shard.name, "error", waitUntil);
        attempts.push({ shard: shard.name, error: "error" });
        continue;
      }
      gate.record(shard.name, "ok", waitUntil);
      attempts.push({ shard: shard.name });
      return { ok: true, value, shard: shard.name, attempts };
    } catch {
      gate.record(shard.name, "error", waitUntil);
      attempts.push({ shard: shard.name, error: "error" });
    }
  }
  return { ok: false, attempts };
}
