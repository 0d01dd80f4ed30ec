/**
 * The shard's object store: SQLite rows in the Durable Object's own storage (authoritative, survives
 * restarts and evictions) with a byte-bounded memory LRU in front. Bodies are split into chunks
 * because one SQLite value holds at most 2 MB; each key keeps at most `maxVariants` variants (Vary).
 * SQLite is bounded too: every row is accounted (`row_bytes`), and a write that would pass the
 * storage budget first evicts the least recently used variants (`used_at`).
 * Schema and meaning of every column: docs/storage-schema.md.
 */
import { ByteLru } from "../src/lib/byte-lru";
import { concatBytes } from "../src/lib/bytes";
import type { EpochMillis } from "../src/lib/units";
import { decodeStoredMeta, encodeStoredMeta } from "../src/rfc9111/stored-record";
import type { StoredMeta } from "../src/rfc9111/types";
import { bodyFromBytes, type StoredBody } from "../src/serve/stored-response";
import { softPurgedMeta, type PurgeTarget } from "./shard-purge";
import type { EvictionCounts } from "./shard-stats";

export interface StoredObject {
  meta: StoredMeta;
  body: StoredBody;
}

/** Bytes per SQLite body row: well under the 2 MB value limit, big enough that large bodies need few rows. */
export const CHUNK_BYTES = 1024 * 1024;
/** Entries with a validator are kept this long past their last usable instant: a 304 can still revive them cheaply. */
const VALIDATOR_GRACE_MS = 24 * 3600 * 1000;
/**
 * `used_at` is rewritten at most this often per key: least-recently-used order at this resolution
 * costs one row write per hot key per interval instead of one per hit.
 */
export const TOUCH_INTERVAL_MS = 10_000;
/** Accounted per variant beyond its body, metadata and key: row headers, index entries, the chunk rows' keys. */
const ROW_OVERHEAD_BYTES = 256;
/** Victims read per eviction query. */
const EVICTION_BATCH = 64;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT NOT NULL, variant TEXT NOT NULL, meta TEXT NOT NULL, body_bytes INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL, stored_at INTEGER NOT NULL, sweep_at INTEGER NOT NULL,
  PRIMARY KEY (key, variant));
CREATE INDEX IF NOT EXISTS entries_sweep ON entries (sweep_at);
CREATE TABLE IF NOT EXISTS chunks (
  key TEXT NOT NULL, variant TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (key, variant, seq));
CREATE TABLE IF NOT EXISTS tags (
  tag TEXT NOT NULL, key TEXT NOT NULL, variant TEXT NOT NULL, PRIMARY KEY (tag, key, variant));
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key, variant);
`;

/** Columns added after the first schema; ALTER TABLE fails harmlessly when a column already exists. */
const ADDED_COLUMNS = ["row_bytes INTEGER NOT NULL DEFAULT 0", "used_at INTEGER NOT NULL DEFAULT 0"];
const ADDED_SCHEMA = `
CREATE INDEX IF NOT EXISTS entries_lru ON entries (used_at);
UPDATE entries SET row_bytes = body_bytes + length(meta) + 2 * length(key) + 2 * length(variant) + ${ROW_OVERHEAD_BYTES} WHERE row_bytes = 0;
`;

type EntryRow = { variant: string; meta: string; body_bytes: number; chunk_count: number; used_at: number };

/** A key's variants as the memory tier holds them, with when `used_at` was last written for it. */
type Remembered = { objects: StoredObject[]; touchedAt: EpochMillis };

/** Accounted bytes of one variant: what it costs in SQLite, near enough to bound the database. */
export function rowBytes(key: string, meta: StoredMeta, metaJson: string): number {
  return meta.bodyBytes + metaJson.length + 2 * key.length + 2 * meta.variantKey.length + meta.tags.reduce((sum, tag) => sum + tag.length + key.length + meta.variantKey.length, 0) + ROW_OVERHEAD_BYTES;
}

/** When nothing can use an entry any more: past its stale windows and grace, plus a day for one with validators. */
function sweepAt(meta: StoredMeta, graceMs: number): EpochMillis {
  const usable = Math.max(meta.expireAt, meta.staleAt + graceMs);
  return meta.etag !== null || meta.lastModified !== null ? usable + VALIDATOR_GRACE_MS : usable;
}

export class ShardStore {
  readonly #memory: ByteLru<string, Remembered>;
  #storageBudgetBytes: number;
  /** Accounted bytes in SQLite: SUM(row_bytes), kept in step with every write so a put never scans. */
  #storedBytes: number;
  readonly #evictions: EvictionCounts = { storageEvictions: 0, storageEvictedBytes: 0, storageRefusals: 0 };
  #graceMs = 0;

  constructor(
    private readonly sql: SqlStorage,
    budgets: { memoryBytes: number; storageBytes: number },
  ) {
    sql.exec(SCHEMA);
    for (const column of ADDED_COLUMNS) {
      try {
        sql.exec(`ALTER TABLE entries ADD COLUMN ${column}`);
      } catch {
        // duplicate column: a database created since the column was added
      }
    }
    sql.exec(ADDED_SCHEMA);
    this.#memory = new ByteLru(budgets.memoryBytes);
    this.#storageBudgetBytes = budgets.storageBytes;
    this.#storedBytes = sql.exec<{ total: number | null }>("SELECT SUM(row_bytes) AS total FROM entries").one().total ?? 0;
  }

  /** Kept past expiry for this long, so grace (settings.graceSeconds) finds the entry when the origin fails. */
  setGraceSeconds(seconds: number): void {
    this.#graceMs = Math.max(0, seconds) * 1000;
  }

  get memoryEvictions(): number {
    return this.#memory.evictions;
  }

  get evictions(): Readonly<EvictionCounts> {
    return this.#evictions;
  }

  /** Applies the budgets a request carries; a smaller storage budget evicts at once. */
  setBudgets(memoryBytes: number, storageBytes: number): void {
    this.#memory.resize(memoryBytes);
    if (storageBytes === this.#storageBudgetBytes) return;
    this.#storageBudgetBytes = storageBytes;
    this.#evictUntil(storageBytes, null);
  }

  /** Every stored variant of `key`, newest first; marks the key used at `now`. */
  variants(key: string, now: EpochMillis): StoredObject[] {
    const cached = this.#memory.get(key);
    if (cached !== undefined) {
      if (now - cached.touchedAt >= TOUCH_INTERVAL_MS) this.#touch(key, cached, now);
      return cached.objects;
    }
    const rows = this.sql.exec<EntryRow>("SELECT variant, meta, body_bytes, chunk_count, used_at FROM entries WHERE key = ? ORDER BY stored_at DESC", key).toArray();
    if (rows.length === 0) return [];
    const objects = rows.flatMap((row) => this.#loadVariant(key, row) ?? []);
    const remembered = { objects, touchedAt: Math.max(...rows.map((row) => row.used_at)) };
    if (now - remembered.touchedAt >= TOUCH_INTERVAL_MS) this.#touch(key, remembered, now);
    this.#remember(key, remembered);
    return objects;
  }

  /**
   * Stores one variant (replacing an older copy of it) and trims the key to `maxVariants`, first
   * evicting least recently used variants of other keys until it fits the storage budget. Returns
   * false, storing nothing, when the variant alone is larger than the budget.
   */
  put(key: string, meta: StoredMeta, chunks: readonly Uint8Array[], maxVariants: number, now: EpochMillis): boolean {
    const body = concatBytes(chunks, meta.bodyBytes);
    const metaJson = encodeStoredMeta(meta);
    const bytes = rowBytes(key, meta, metaJson);
    if (bytes > this.#storageBudgetBytes) {
      this.#evictions.storageRefusals += 1;
      return false;
    }
    this.#deleteVariant(key, meta.variantKey);
    this.#evictUntil(this.#storageBudgetBytes - bytes, key);
    const chunkCount = Math.ceil(body.byteLength / CHUNK_BYTES);
    for (let seq = 0; seq < chunkCount; seq++) {
      this.sql.exec("INSERT INTO chunks (key, variant, seq, data) VALUES (?, ?, ?, ?)", key, meta.variantKey, seq, body.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES));
    }
    this.sql.exec(
      "INSERT INTO entries (key, variant, meta, body_bytes, chunk_count, stored_at, sweep_at, row_bytes, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      key,
      meta.variantKey,
      metaJson,
      body.byteLength,
      chunkCount,
      meta.responseTime,
      sweepAt(meta, this.#graceMs),
      bytes,
      now,
    );
    this.#storedBytes += bytes;
    for (const tag of meta.tags) this.sql.exec("INSERT OR IGNORE INTO tags (tag, key, variant) VALUES (?, ?, ?)", tag, key, meta.variantKey);
    this.#dropOldVariants(key, maxVariants);
    this.#memory.delete(key);
    const fresh: StoredObject = { meta, body: bodyFromBytes(body) };
    const others = this.variants(key, now).filter((o) => o.meta.variantKey !== meta.variantKey);
    this.#remember(key, { objects: [fresh, ...others], touchedAt: now });
    return true;
  }

  /** Replaces a variant's metadata (after a 304) without rewriting its body. */
  updateMeta(key: string, meta: StoredMeta): void {
    const metaJson = encodeStoredMeta(meta);
    const row = this.sql.exec<{ row_bytes: number }>("SELECT row_bytes FROM entries WHERE key = ? AND variant = ?", key, meta.variantKey).toArray()[0];
    if (row === undefined) return;
    const bytes = rowBytes(key, meta, metaJson);
    this.sql.exec("UPDATE entries SET meta = ?, sweep_at = ?, row_bytes = ? WHERE key = ? AND variant = ?", metaJson, sweepAt(meta, this.#graceMs), bytes, key, meta.variantKey);
    this.#storedBytes += bytes - row.row_bytes;
    const cached = this.#memory.peek(key);
    if (cached !== undefined) {
      const updated = cached.objects.map((o) => (o.meta.variantKey === meta.variantKey ? { meta, body: o.body } : o));
      this.#remember(key, { objects: updated, touchedAt: cached.touchedAt });
    }
    // A 304 may add headers: stay within the budget, evicting others first (this key is the one in use).
    this.#evictUntil(this.#storageBudgetBytes, key);
  }

  /** Deletes every variant of `key`; returns how many there were. */
  delete(key: string): number {
    this.#memory.delete(key);
    const variants = this.sql.exec<{ variant: string }>("SELECT variant FROM entries WHERE key = ?", key).toArray();
    for (const { variant } of variants) this.#deleteVariant(key, variant);
    return variants.length;
  }

  /**
   * Purge: deletes the variants `target` selects, or with `soft` marks them stale (they revalidate
   * with their validators on the next request). Returns how many variants matched.
   */
  purge(target: PurgeTarget, soft: boolean): number {
    const matched = this.#purgeTargets(target);
    for (const { key, variant } of matched) {
      if (!soft) {
        this.#deleteVariant(key, variant);
        continue;
      }
      const row = this.sql.exec<{ meta: string }>("SELECT meta FROM entries WHERE key = ? AND variant = ?", key, variant).toArray()[0];
      if (row === undefined) continue;
      const stored = decodeStoredMeta(row.meta);
      if (stored === null) {
        this.#deleteVariant(key, variant);
        continue;
      }
      const meta = softPurgedMeta(stored);
      const metaJson = encodeStoredMeta(meta);
      const before = this.sql.exec<{ row_bytes: number }>("SELECT row_bytes FROM entries WHERE key = ? AND variant = ?", key, variant).one().row_bytes;
      const bytes = rowBytes(key, meta, metaJson);
      this.sql.exec("UPDATE entries SET meta = ?, sweep_at = ?, row_bytes = ? WHERE key = ? AND variant = ?", metaJson, sweepAt(meta, this.#graceMs), bytes, key, variant);
      // The running total must follow the row's new size, or the budget drifts from SUM(row_bytes).
      this.#storedBytes += bytes - before;
      this.#memory.delete(key);
    }
    return matched.length;
  }

  #purgeTargets(target: PurgeTarget): { key: string; variant: string }[] {
    type Row = { key: string; variant: string };
    if ("keys" in target) return target.keys.flatMap((key) => this.sql.exec<Row>("SELECT key, variant FROM entries WHERE key = ?", key).toArray());
    if ("tag" in target) return this.sql.exec<Row>("SELECT key, variant FROM tags WHERE tag = ?", target.tag).toArray();
    if ("all" in target) return this.sql.exec<Row>("SELECT key, variant FROM entries").toArray();
    // Keys sort by their bytes, so every key with the prefix comes in one run from the prefix on.
    const out: Row[] = [];
    for (const row of this.sql.exec<Row>("SELECT key, variant FROM entries WHERE key >= ? ORDER BY key", target.prefix)) {
      if (!row.key.startsWith(target.prefix)) break;
      out.push({ key: row.key, variant: row.variant });
    }
    return out;
  }

  /** Deletes entries nothing can use any more; returns how many, and the earliest remaining sweep time. */
  sweep(now: EpochMillis, limit = 500): { deleted: number; next: EpochMillis | null } {
    const due = this.sql.exec<{ key: string; variant: string }>("SELECT key, variant FROM entries WHERE sweep_at <= ? LIMIT ?", now, limit).toArray();
    for (const { key, variant } of due) this.#deleteVariant(key, variant);
    const next = this.sql.exec<{ next: number | null }>("SELECT MIN(sweep_at) AS next FROM entries").one().next;
    return { deleted: due.length, next };
  }

  /** Stored variants (each Vary variant is one object). */
  objectCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries").one().n;
  }

  /** Accounted bytes held in SQLite (bodies, metadata, keys, tags; see `rowBytes`): never above the storage budget. */
  storedBytes(): number {
    return this.#storedBytes;
  }

  get storageBudgetBytes(): number {
    return this.#storageBudgetBytes;
  }

  /** Evicts least recently used variants, never of `keep`, until at most `limit` bytes are stored. */
  #evictUntil(limit: number, keep: string | null): void {
    while (this.#storedBytes > limit) {
      type Victim = { key: string; variant: string; row_bytes: number };
      const victims = this.sql.exec<Victim>("SELECT key, variant, row_bytes FROM entries WHERE key IS NOT ? ORDER BY used_at LIMIT ?", keep, EVICTION_BATCH).toArray();
      if (victims.length === 0) return;
      for (const victim of victims) {
        if (this.#storedBytes <= limit) return;
        this.#deleteVariant(victim.key, victim.variant);
        this.#evictions.storageEvictions += 1;
        this.#evictions.storageEvictedBytes += victim.row_bytes;
      }
    }
  }

  #touch(key: string, remembered: Remembered, now: EpochMillis): void {
    this.sql.exec("UPDATE entries SET used_at = ? WHERE key = ?", now, key);
    remembered.touchedAt = now;
  }

  #deleteVariant(key: string, variant: string): void {
    const row = this.sql.exec<{ row_bytes: number }>("DELETE FROM entries WHERE key = ? AND variant = ? RETURNING row_bytes", key, variant).toArray()[0];
    if (row !== undefined) this.#storedBytes -= row.row_bytes;
    this.sql.exec("DELETE FROM chunks WHERE key = ? AND variant = ?", key, variant);
    this.sql.exec("DELETE FROM tags WHERE key = ? AND variant = ?", key, variant);
    this.#memory.delete(key);
  }

  #dropOldVariants(key: string, maxVariants: number): void {
    const surplus = this.sql.exec<{ variant: string }>("SELECT variant FROM entries WHERE key = ? ORDER BY stored_at DESC LIMIT -1 OFFSET ?", key, maxVariants).toArray();
    for (const { variant } of surplus) this.#deleteVariant(key, variant);
  }

  /** A row whose record does not decode (another version, or damaged) is deleted and reads as absent. */
  #loadVariant(key: string, row: EntryRow): StoredObject | null {
    const meta = decodeStoredMeta(row.meta);
    if (meta === null) {
      this.#deleteVariant(key, row.variant);
      return null;
    }
    const chunks = this.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM chunks WHERE key = ? AND variant = ? ORDER BY seq", key, row.variant)
      .toArray()
      .map((r) => new Uint8Array(r.data));
    return { meta, body: bodyFromBytes(concatBytes(chunks, row.body_bytes)) };
  }

  #remember(key: string, remembered: Remembered): void {
    const bytes = remembered.objects.reduce((sum, o) => sum + (o.body.bytes ?? 0) + 512, key.length);
    this.#memory.set(key, remembered, bytes);
  }
}
