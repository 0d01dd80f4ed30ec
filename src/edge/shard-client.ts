/**
 * Calling the shards for a key: the primary first, then the next shards in HRW order when one throws
 * or does not answer in time. A client never sees a shard's internal error while any shard (or the
 * origin, which the caller tries last) can answer.
 */
import type { Millis } from "../lib/units";
import type { Shard } from "../config/settings";

/** One attempt's record, for the trace and for stats. */
export interface ShardAttempt {
  shard: string;
  error?: "timeout" | "error";
}

export type ShardCallResult = { ok: true; response: Response; shard: string; attempts: ShardAttempt[] } | { ok: false; attempts: ShardAttempt[] };

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

/** Tries `call` on each shard in order until one answers within `timeoutMs`. */
export async function callShards(order: readonly Shard[], call: (shard: Shard) => Promise<Response>, timeoutMs: Millis): Promise<ShardCallResult> {
  const attempts: ShardAttempt[] = [];
  for (const shard of order) {
    try {
      const outcome = await withTimeout(call(shard), timeoutMs);
      if (outcome === "timeout") {
        attempts.push({ shard: shard.name, error: "timeout" });
        continue;
      }
      attempts.push({ shard: shard.name });
      return { ok: true, response: outcome, shard: shard.name, attempts };
    } catch {
      attempts.push({ shard: shard.name, error: "error" });
    }
  }
  return { ok: false, attempts };
}
