/**
 * The store a shard holds: the memory store in front of the SQLite store (durable/object-store.ts has
 * the contract both keep, and this composition keeps it too). SQLite is authoritative; memory holds
 * whole keys as SQLite has them, so it is only ever a cache of the tables: every SQLite delete
 * (replace, eviction, sweep, purge, an unreadable row) drops the key from memory, and a memory miss
 * loads the key from SQLite.
 */
import type { EpochMillis } from "../src/lib/units";
import type { StoredMeta } from "../src/rfc9111/types";
import { MemoryObjectStore } from "./memory-object-store";
import type { NewObject, ObjectStore, PutOptions, StoreCounts, StoredObject, SweepResult } from "./object-store";
import type { PurgeTarget } from "./shard-purge";
import type { EvictionCounts } from "./shard-stats";
import { SqliteObjectStore } from "./sqlite-object-store";

export class ShardStore implements ObjectStore {
  readonly #memory: MemoryObjectStore;
  readonly #sqlite: SqliteObjectStore;

  constructor(sql: SqlStorage, budgets: { memoryBytes: number; storageBytes: number }) {
    this.#memory = new MemoryObjectStore(budgets.memoryBytes);
    this.#sqlite = new SqliteObjectStore(sql, { budgetBytes: budgets.storageBytes, onDelete: (key) => this.#memory.delete(key) });
  }

  setGraceSeconds(seconds: number): void {
    this.#memory.setGraceSeconds(seconds);
    this.#sqlite.setGraceSeconds(seconds);
  }

  /** Applies the budgets a request carries; a smaller budget evicts at once. */
  setBudgets(memoryBytes: number, storageBytes: number): void {
    this.#memory.setBudget(memoryBytes);
    this.#sqlite.setBudget(storageBytes);
  }

  /** The storage (SQLite) budget: what `storedBytes` is bounded by. */
  setBudget(bytes: number): void {
    this.#sqlite.setBudget(bytes);
  }

  get budgetBytes(): number {
    return this.#sqlite.budgetBytes;
  }

  get storageBudgetBytes(): number {
    return this.#sqlite.budgetBytes;
  }

  /** SQLite's counts: the authoritative tier's evictions and refusals. */
  get counts(): Readonly<StoreCounts> {
    return this.#sqlite.counts;
  }

  /** The same counts under the names of the shard's stats. */
  get evictions(): Readonly<EvictionCounts> {
    const { evictions, evictedBytes, refusals } = this.#sqlite.counts;
    return { storageEvictions: evictions, storageEvictedBytes: evictedBytes, storageRefusals: refusals };
  }

  /** Variants evicted from memory (they are still in SQLite). */
  get memoryEvictions(): number {
    return this.#memory.counts.evictions;
  }

  variants(key: string, now: EpochMillis): StoredObject[] {
    const hot = this.#memory.variants(key, now);
    if (hot.length > 0) {
      this.#sqlite.touch(key, now);
      return hot;
    }
    const stored = this.#sqlite.variants(key, now);
    this.#memory.remember(key, stored);
    return stored;
  }

  put(key: string, object: NewObject, options: PutOptions): boolean {
    if (!this.#sqlite.put(key, object, options)) return false;
    // The put dropped the key from memory; load it back whole (the variants SQLite kept, newest first).
    this.variants(key, options.now);
    return true;
  }

  updateMeta(key: string, meta: StoredMeta): void {
    this.#sqlite.updateMeta(key, meta);
    this.#memory.updateMeta(key, meta);
  }

  delete(key: string): number {
    this.#memory.delete(key);
    return this.#sqlite.delete(key);
  }

  purge(target: PurgeTarget, soft: boolean): number {
    this.#memory.purge(target, soft);
    return this.#sqlite.purge(target, soft);
  }

  sweep(now: EpochMillis, limit?: number): SweepResult {
    return this.#sqlite.sweep(now, limit);
  }

  objectCount(): number {
    return this.#sqlite.objectCount();
  }

  storedBytes(): number {
    return this.#sqlite.storedBytes();
  }
}
