/** Counters one shard keeps about its own traffic, read through the admin API's stats. */
export interface ShardStats {
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
  /** Stale copies confirmed by a 304. */
  revalidations: number;
  /** Stale copies served because the origin failed (stale-if-error). */
  staleServed: number;
}

export function newShardStats(): ShardStats {
  return { hits: 0, misses: 0, coalesced: 0, originFetches: 0, passes: 0, stores: 0, revalidations: 0, staleServed: 0 };
}
