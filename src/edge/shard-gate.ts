/**
 * The isolate's shard health (src/health/shard-health.ts) as the shard client asks it: bound to the
 * clock and to one config version's policy (built once per version, not per request), with each state
 * change logged and raised as a cluster event.
 */
import type { Settings } from "../config/settings";
import type { Clock } from "../lib/clock";
import type { Admission, ShardCallOutcome, ShardHealth, ShardHealthPolicy } from "../health/shard-health";
import type { RaiseEvent } from "./event-raiser";
import type { ShardGate, WaitUntil } from "./shard-client";

export class EdgeShardGate implements ShardGate {
  readonly #policy: ShardHealthPolicy;

  constructor(
    private readonly health: ShardHealth,
    settings: Pick<Settings, "shardFailuresToSkip" | "shardSkipSeconds">,
    private readonly clock: Clock,
    private readonly raise: RaiseEvent,
  ) {
    this.#policy = { failuresToSkip: settings.shardFailuresToSkip, skipSeconds: settings.shardSkipSeconds };
  }

  admit(shard: string): Admission {
    return this.health.admit(shard, this.clock.now(), this.#policy);
  }

  /** Records one call's outcome; a shard turning unhealthy or healthy again is logged and raised (kept alive by `waitUntil`). */
  record(shard: string, outcome: ShardCallOutcome, waitUntil: WaitUntil): void {
    const change = this.health.record(shard, outcome, this.clock.now(), this.#policy);
    if (change === null) return;
    const unhealthy = change.to === "unhealthy";
    const text = unhealthy ? `Shard ${shard} skipped by this edge isolate for ${this.#policy.skipSeconds} s after ${change.failures} consecutive failures` : `Shard ${shard} answers again`;
    console.error(text);
    waitUntil(this.raise({ level: unhealthy ? "WARNING" : "INFO", section: `shards/${shard}`, tag: unhealthy ? "shardfail" : "shardok", text }));
  }
}
