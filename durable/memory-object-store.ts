/**
 * The object store in the isolate's memory: a byte-bounded LRU of keys, each holding its variants
 * newest first. It is the shard's fast tier (durable/shard-store.ts puts it in front of SQLite, as a
 * cache of whole keys), and on its own a complete ObjectStore: the same contract suite runs against it.
 * Records are held decoded, so nothing in it can fail to decode.
 */
import { ByteLru } from "../src/lib/byte-lru";
import { concatBytes } from "../src/lib/bytes";
import type { EpochMillis } from "../src/lib/units";
import type { StoredMeta } from "../src/rfc9111/types";
import { bodyFromBytes } from "../src/serve/stored-response";
import { type NewObject, type ObjectStore, type PutOptions, purgeSelects, type StoreCounts, type StoredObject, type SweepResult, sweepAt } from "./object-store";
import { type PurgeTarget, softPurgedMeta } from "./shard-purge";

/** Accounted per variant beyond its body: the decoded record, headers and the objects around them. */
const VARIANT_OVERHEAD_BYTES = 512;

/** One key's variants, newest stored first. */
interface Held {
  objects: StoredObject[];
}

function heldBytes(key: string, objects: readonly StoredObject[]): number {
  return objects.reduce((sum, o) => sum + o.meta.bodyBytes + VARIANT_OVERHEAD_BYTES, key.length);
}

/** Newest stored first; the sort is stable, so of two stored in the same instant the one listed first stays first. */
function newestFirst(objects: StoredObject[]): StoredObject[] {
  return objects.sort((a, b) => b.meta.responseTime - a.meta.responseTime);
}

export class MemoryObjectStore implements ObjectStore {
  readonly #counts: StoreCounts = { evictions: 0, evictedBytes: 0, refusals: 0 };
  readonly #lru: ByteLru<string, Held>;
  #graceMs = 0;

  constructor(budgetBytes: number) {
    this.#lru = new ByteLru<string, Held>(budgetBytes, (_key, held, bytes) => {
      this.#counts.evictions += held.objects.length;
      this.#counts.evictedBytes += bytes;
    });
  }

  get counts(): Readonly<StoreCounts> {
    return this.#counts;
  }

  get budgetBytes(): number {
    return this.#lru.budgetBytes;
  }

  /** Every request carries the budget: an unchanged one is no work (a resize walks the LRU). */
  setBudget(bytes: number): void {
    if (bytes !== this.#lru.budgetBytes) this.#lru.resize(bytes);
  }

  setGraceSeconds(seconds: number): void {
    this.#graceMs = Math.max(0, seconds) * 1000;
  }

  /** A read is a use: the key moves to the most recently used end (at any `now`; memory order is exact). */
  variants(key: string, _now: EpochMillis): StoredObject[] {
    return this.#lru.get(key)?.objects ?? [];
  }

  /**
   * Holds exactly `objects` (newest first) as `key`'s variants, as another store has them; a set larger
   * than the whole budget is not held at all (a part of a key's variants would hide the others).
   */
  remember(key: string, objects: readonly StoredObject[]): void {
    if (objects.length === 0) this.#lru.delete(key);
    else this.#lru.set(key, { objects: [...objects] }, heldBytes(key, objects));
  }

  put(key: string, object: NewObject, options: PutOptions): boolean {
    const fresh: StoredObject = { meta: object.meta, body: bodyFromBytes(concatBytes(object.chunks, object.meta.bodyBytes)) };
    if (heldBytes(key, [fresh]) > this.budgetBytes) {
      this.#counts.refusals += 1;
      return false;
    }
    const others = (this.#lru.peek(key)?.objects ?? []).filter((o) => o.meta.variantKey !== object.meta.variantKey);
    const objects = newestFirst([fresh, ...others]).slice(0, options.maxVariants);
    // Only when this key's variants alone pass the budget (every other key goes anyway): its oldest others go.
    for (let i = objects.length - 1; i >= 0 && heldBytes(key, objects) > this.budgetBytes; i--) {
      if (objects[i] === fresh) continue;
      const [evicted] = objects.splice(i, 1);
      this.#counts.evictions += 1;
      this.#counts.evictedBytes += evicted!.meta.bodyBytes + VARIANT_OVERHEAD_BYTES;
    }
    this.#lru.set(key, { objects }, heldBytes(key, objects));
    return true;
  }

  updateMeta(key: string, meta: StoredMeta): void {
    const held = this.#lru.peek(key);
    if (held === undefined || !held.objects.some((o) => o.meta.variantKey === meta.variantKey)) return;
    this.#replace(
      key,
      held.objects.map((o) => (o.meta.variantKey === meta.variantKey ? { meta, body: o.body } : o)),
    );
  }

  delete(key: string): number {
    const count = this.#lru.peek(key)?.objects.length ?? 0;
    this.#lru.delete(key);
    return count;
  }

  purge(target: PurgeTarget, soft: boolean): number {
    let matched = 0;
    const keys = "keys" in target ? target.keys : [...this.#lru.keys()];
    for (const key of keys) {
      const held = this.#lru.peek(key);
      if (held === undefined) continue;
      const kept: StoredObject[] = [];
      for (const o of held.objects) {
        if (!purgeSelects(target, key, o.meta)) kept.push(o);
        else {
          matched += 1;
          if (soft) kept.push({ meta: softPurgedMeta(o.meta), body: o.body });
        }
      }
      if (kept.length !== held.objects.length || soft) this.#replace(key, kept);
    }
    return matched;
  }

  sweep(now: EpochMillis, limit = 500): SweepResult {
    let deleted = 0;
    let next: EpochMillis | null = null;
    for (const key of [...this.#lru.keys()]) {
      const { objects } = this.#lru.peek(key)!;
      const kept = objects.filter((o) => {
        const at = sweepAt(o.meta, this.#graceMs);
        if (at <= now && deleted < limit) {
          deleted += 1;
          return false;
        }
        next = next === null ? at : Math.min(next, at);
        return true;
      });
      if (kept.length !== objects.length) this.#replace(key, kept);
    }
    return { deleted, next };
  }

  objectCount(): number {
    let count = 0;
    for (const key of this.#lru.keys()) count += this.#lru.peek(key)!.objects.length;
    return count;
  }

  storedBytes(): number {
    return this.#lru.bytes;
  }

  /** Puts `objects` in place of `key`'s variants without making it more recently used; none left deletes the key. */
  #replace(key: string, objects: StoredObject[]): void {
    if (objects.length === 0) this.#lru.delete(key);
    else this.#lru.replace(key, { objects }, heldBytes(key, objects));
  }
}
