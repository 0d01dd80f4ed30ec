/**
 * The storage contract a shard keeps its objects behind. Two implementations hold to it — the
 * byte-bounded memory LRU (durable/memory-object-store.ts) and the SQLite rows of the Durable Object
 * (durable/sqlite-object-store.ts) — and the shard uses them composed, memory in front of SQLite
 * (durable/shard-store.ts). One contract suite (test/workers/object-store-contract.ts) runs against all
 * three, so "what a store does" is written down once.
 *
 * Time is a parameter: nothing here reads a clock, so a test moves `now` instead of sleeping.
 */
import type { EpochMillis } from "../src/lib/units";
import type { StoredMeta } from "../src/rfc9111/types";
import type { StoredBody } from "../src/serve/stored-response";
import type { PurgeTarget } from "./shard-purge";

/** One stored variant: its record and its body. */
export interface StoredObject {
  meta: StoredMeta;
  body: StoredBody;
}

/** A variant to store: its record and its body as it arrived (in chunks; `meta.bodyBytes` long). */
export interface NewObject {
  meta: StoredMeta;
  chunks: readonly Uint8Array[];
}

export interface PutOptions {
  /** The key keeps at most this many variants (Vary); the oldest stored go first. */
  maxVariants: number;
  /** When the key is used (least-recently-used order). */
  now: EpochMillis;
}

/** What keeping within the budget has done since the store was made. */
export interface StoreCounts {
  /** Variants evicted (least recently used first) to stay within the budget. */
  evictions: number;
  /** Their accounted bytes. */
  evictedBytes: number;
  /** Puts refused because the variant alone is larger than the whole budget. */
  refusals: number;
}

export interface SweepResult {
  deleted: number;
  /** The earliest instant a remaining variant becomes sweepable; null when nothing is stored. */
  next: EpochMillis | null;
}

export interface ObjectStore {
  /** Every stored variant of `key`, newest stored first; marks the key used at `now`. A record that does not decode is a miss. */
  variants(key: string, now: EpochMillis): StoredObject[];
  /**
   * Stores one variant (replacing an older copy of it), trims the key to `maxVariants`, and first
   * evicts least recently used variants until it fits the budget. Returns false, changing nothing,
   * when the variant alone is larger than the budget.
   */
  put(key: string, object: NewObject, options: PutOptions): boolean;
  /** Replaces a stored variant's record (after a 304), keeping its body; a variant not stored stays absent. */
  updateMeta(key: string, meta: StoredMeta): void;
  /** Deletes every variant of `key`; returns how many there were. */
  delete(key: string): number;
  /** Deletes the variants `target` selects, or with `soft` makes them stale (they revalidate next); returns how many matched. */
  purge(target: PurgeTarget, soft: boolean): number;
  /** Deletes up to `limit` variants nothing can use at `now` (see `sweepAt`). */
  sweep(now: EpochMillis, limit?: number): SweepResult;
  /** Stored variants. */
  objectCount(): number;
  /** Accounted bytes held: never above `budgetBytes`. */
  storedBytes(): number;
  readonly budgetBytes: number;
  /** A smaller budget evicts at once. */
  setBudget(bytes: number): void;
  /** Variants are kept this long past their last usable instant, so grace (settings.graceSeconds) still finds them. */
  setGraceSeconds(seconds: number): void;
  readonly counts: Readonly<StoreCounts>;
}

/** Entries with a validator are kept this long past their last usable instant: a 304 can still revive them cheaply. */
export const VALIDATOR_GRACE_MS = 24 * 3600 * 1000;

/** When nothing can use a variant any more: past its stale windows and grace, plus a day for one with validators. */
export function sweepAt(meta: StoredMeta, graceMs: number): EpochMillis {
  const usable = Math.max(meta.expireAt, meta.staleAt + graceMs);
  return meta.etag !== null || meta.lastModified !== null ? usable + VALIDATOR_GRACE_MS : usable;
}

/** The variants `target` selects among `key`'s, for stores that scan (a key prefix matches by its characters). */
export function purgeSelects(target: PurgeTarget, key: string, meta: StoredMeta): boolean {
  if ("keys" in target) return target.keys.includes(key);
  if ("tag" in target) return meta.tags.includes(target.tag);
  if ("all" in target) return true;
  return key.startsWith(target.prefix);
}
