/** Counters one shard keeps about its own traffic (in SQLite: durable/shard-counters.ts), read through the admin API's stats. */
import type { ShardOutcome } from "../src/observe/outcomes";

export interface ShardStats {
  /** Calls of `handle` this object received (every request an edge sent it, faults included). */
  calls: number;
  /** Requests answered from the store without contacting the origin. */
  hits: number;
  /** Requests that led an origin fetch whose response was stored. */
  misses: number;
  /** Requests that waited on another request's origin fetch instead of making their own. */
  coalesced: number;
  /** Origin fetches of every kind (stores, revalidations, pass-throughs). */
  originFetches: number;
  /** Requests forwarded without storing (not storable, hit-for-pass, released waiters). */
  passes: number;
  /** Bodies written to storage. */
  stores: number;
  /** Writes to storage that threw (the response was served, the copy is lost). */
  storeFailures: number;
  /** Stale copies confirmed by a 304. */
  revalidations: number;
  /** Stale copies served because the origin failed (stale-if-error). */
  staleServed: number;
}

export function newShardStats(): ShardStats {
  return { calls: 0, hits: 0, misses: 0, coalesced: 0, originFetches: 0, passes: 0, stores: 0, storeFailures: 0, revalidations: 0, staleServed: 0 };
}

/** What storage eviction has done since the object started. */
export interface EvictionCounts {
  /** Variants evicted from SQLite to stay within the storage budget. */
  storageEvictions: number;
  /** Their accounted bytes. */
  storageEvictedBytes: number;
  /** Responses not kept because on their own they exceed the budget. */
  storageRefusals: number;
}

/** What a shard's `stats()` returns: its counters, storage eviction, and the state of its two tiers. */
export type ShardStatsReply = ShardStats &
  EvictionCounts & {
    /** One count per request that reached the shard, by outcome. */
    requests: Record<ShardOutcome, number>;
    /** Stored variants in SQLite. */
    objects: number;
    /** Accounted bytes in SQLite, never above `storageBudgetBytes`. */
    storedBytes: number;
    storageBudgetBytes: number;
    /** Memory-tier evictions. */
    memoryEvictions: number;
  };
