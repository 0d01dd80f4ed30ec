import type { ShardSettings } from "../../src/serve/shard-protocol";

/** The settings a test sends a shard directly (no edge in between), with its own changes on top. */
export function shardSettings(changes: Partial<ShardSettings> = {}): ShardSettings {
  return {
    maxObjectBytes: 1_000_000,
    memoryBudgetBytes: 1_000_000,
    storageBudgetBytes: 100_000_000,
    maxTtlSeconds: 86_400,
    refreshTimeSeconds: 0,
    refreshAheadRatio: 0,
    maxVariants: 4,
    collapseTimeoutMs: 5000,
    hitForPassSeconds: 30,
    verbose: true,
    originTimeoutMs: 5000,
    ...changes,
  };
}
