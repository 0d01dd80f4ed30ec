/**
 * What a CacheShard keeps between requests, as the read path and the write path share it: the store,
 * the open origin fetches, the keys on hit-for-pass, the latest background refreshes, the counters,
 * the clock and the purge count. The Durable Object builds it once; the paths never own it.
 */
import type { Clock } from "../src/lib/clock";
import type { Flights } from "./coalesce";
import type { RecentInstants } from "./recent-instants";
import type { ShardCounters } from "./shard-counters";
import type { ShardStore } from "./shard-store";

export interface ShardState {
  readonly store: ShardStore;
  readonly flights: Flights;
  /** Keys whose last response was not storable, until when: they skip coalescing (hit-for-pass). */
  readonly hitForPass: RecentInstants;
  /** When each key's latest background refresh started: refresh time and refresh-ahead start at most one per interval. */
  readonly refreshes: RecentInstants;
  /** Counters in SQLite: they survive eviction. */
  readonly counters: ShardCounters;
  readonly clock: Clock;
  /** Purges run so far; an origin response that left before the latest purge is not stored. */
  purgeEpoch: number;
  /** Keeps the object alive for work that outlives the request (background refreshes, the health reports). */
  waitUntil(promise: Promise<unknown>): void;
  /** Makes sure the expiry sweep alarm is set after a store. */
  scheduleSweep(): void;
}
