/**
 * What a shard purge selects, and what a soft purge does to a stored entry. A hard purge deletes the
 * entry; a soft purge keeps it but makes it stale with no stale-while-revalidate window, so the next
 * request revalidates it with its validators (a cheap 304) instead of refetching the body. The
 * stale-if-error window is kept: an origin that fails right after a soft purge still gets the stale
 * copy served, as a soft purge promises.
 */
import type { EpochMillis } from "../src/lib/units";
import type { StoredMeta } from "../src/rfc9111/types";

/** Keys (purge by URL / key), a key prefix, a Cache-Tag / Surrogate-Key tag, or everything. */
export type PurgeTarget = { keys: string[] } | { prefix: string } | { tag: string } | { all: true };

export interface ShardPurgeResult {
  /** Stored variants that matched (deleted, or made stale by a soft purge). */
  purged: number;
}

/** The entry as a soft purge leaves it: freshness lifetime 0 (stale at once), no serve-while-revalidate window. */
export function softPurgedMeta(meta: StoredMeta): StoredMeta {
  const staleAt: EpochMillis = meta.responseTime - meta.initialAgeSeconds * 1000;
  const staleIfErrorUntil = Math.max(staleAt, meta.staleIfErrorUntil);
  return {
    ...meta,
    freshnessLifetimeSeconds: 0,
    staleAt,
    staleWhileRevalidateUntil: staleAt,
    staleIfErrorUntil,
    expireAt: Math.max(staleAt, staleIfErrorUntil),
  };
}
