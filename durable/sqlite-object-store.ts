/**
 * The object store in the Durable Object's own SQLite (authoritative: survives restarts and
 * evictions). Bodies are split into chunks because one SQLite value holds at most 2 MB. Every row is
 * accounted (`row_bytes`), and a write that would pass the budget first evicts the least recently
 * used variants (`used_at`). Schema and meaning of every column: docs/storage-schema.md.
 */
import { concatBytes } from "../src/lib/bytes";
import type { EpochMillis } from "../src/lib/units";
import { decodeStoredMeta, encodeStoredMeta } from "../src/rfc9111/stored-record";
import type { StoredMeta } from "../src/rfc9111/types";
import { bodyFromBytes } from "../src/serve/stored-response";
import { type NewObject, type ObjectStore, type PutOptions, type StoreCounts, type StoredObject, type SweepResult, sweepAt } from "./object-store";
import { type PurgeTarget, softPurgedMeta } from "./shard-purge";

/** Bytes per SQLite body row: well under the 2 MB value limit, big enough that large bodies need few rows. */
export const CHUNK_BYTES = 1024 * 1024;
/**
 * `used_at` is rewritten at most this often per key: least-recently-used order at this resolution
 * costs one row write per hot key per interval instead of one per hit.
 */
export const TOUCH_INTERVAL_MS = 10_000;
/** Accounted per variant beyond its body, metadata and key: row headers, index entries, the chunk rows' keys. */
const ROW_OVERHEAD_BYTES = 256;
/** Victims read per eviction query. */
const EVICTION_BATCH = 64;
/** Keys whose last `used_at` write is remembered; a key not remembered is written on its next use (one extra write, never a wrong order). */
const TOUCHES_REMEMBERED = 16_384;

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

/**
 * Newest stored first. `rowid` breaks ties of `stored_at`: a put deletes and re-inserts its row, so the
 * variant put last comes first, as in the memory store.
 */
const NEWEST_FIRST = "ORDER BY stored_at DESC, rowid DESC";

type EntryRow = { variant: string; meta: string; body_bytes: number; chunk_count: number; used_at: number };
type RowId = { key: string; variant: string };

/** Accounted bytes of one variant: what it costs in SQLite, near enough to bound the database. */
export function rowBytes(key: string, meta: StoredMeta, metaJson: string): number {
  return meta.bodyBytes + metaJson.length + 2 * key.length + 2 * meta.variantKey.length + meta.tags.reduce((sum, tag) => sum + tag.length + key.length + meta.variantKey.length, 0) + ROW_OVERHEAD_BYTES;
}

export interface SqliteStoreOptions {
  budgetBytes: number;
  /** Told every time a key loses a variant here (replaced, evicted, swept, purged, unreadable), so a cache in front can drop its copy. */
  onDelete?: (key: string) => void;
}

export class SqliteObjectStore implements ObjectStore {
  #budgetBytes: number;
  /** Accounted bytes: SUM(row_bytes), kept in step with every write so a put never scans. */
  #storedBytes: number;
  readonly #counts: StoreCounts = { evictions: 0, evictedBytes: 0, refusals: 0 };
  #graceMs = 0;
  /** When `used_at` was last written per key (insertion order = oldest first, so the map stays bounded). */
  readonly #touchedAt = new Map<string, EpochMillis>();
  readonly #onDelete: (key: string) => void;

  constructor(
    private readonly sql: SqlStorage,
    options: SqliteStoreOptions,
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
    this.#budgetBytes = options.budgetBytes;
    this.#onDelete = options.onDelete ?? (() => {});
    this.#storedBytes = sql.exec<{ total: number | null }>("SELECT SUM(row_bytes) AS total FROM entries").one().total ?? 0;
  }

  setGraceSeconds(seconds: number): void {
    this.#graceMs = Math.max(0, seconds) * 1000;
  }

  get counts(): Readonly<StoreCounts> {
    return this.#counts;
  }

  get budgetBytes(): number {
    return this.#budgetBytes;
  }

  setBudget(bytes: number): void {
    if (bytes === this.#budgetBytes) return;
    this.#budgetBytes = bytes;
    this.#evictUntil(bytes, null);
  }

  variants(key: string, now: EpochMillis): StoredObject[] {
    const rows = this.sql.exec<EntryRow>(`SELECT variant, meta, body_bytes, chunk_count, used_at FROM entries WHERE key = ? ${NEWEST_FIRST}`, key).toArray();
    if (rows.length === 0) return [];
    const objects = rows.flatMap((row) => this.#loadVariant(key, row) ?? []);
    this.#rememberTouch(key, Math.max(...rows.map((row) => row.used_at)));
    this.touch(key, now);
    return objects;
  }

  /**
   * Marks `key` used at `now` without reading it (a cache in front served it): writes `used_at` when the
   * last write is at least TOUCH_INTERVAL_MS old, or not remembered.
   */
  touch(key: string, now: EpochMillis): void {
    const last = this.#touchedAt.get(key);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.sql.exec("UPDATE entries SET used_at = ? WHERE key = ?", now, key);
    this.#rememberTouch(key, now);
  }

  put(key: string, object: NewObject, options: PutOptions): boolean {
    const { meta } = object;
    const body = concatBytes(object.chunks, meta.bodyBytes);
    const metaJson = encodeStoredMeta(meta);
    const bytes = rowBytes(key, meta, metaJson);
    if (bytes > this.#budgetBytes) {
      this.#counts.refusals += 1;
      return false;
    }
    this.#deleteVariant(key, meta.variantKey);
    this.#evictUntil(this.#budgetBytes - bytes, key);
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
      options.now,
    );
    this.#storedBytes += bytes;
    for (const tag of meta.tags) this.sql.exec("INSERT OR IGNORE INTO tags (tag, key, variant) VALUES (?, ?, ?)", tag, key, meta.variantKey);
    this.#dropOldVariants(key, options.maxVariants);
    this.#rememberTouch(key, options.now);
    return true;
  }

  updateMeta(key: string, meta: StoredMeta): void {
    if (!this.#rewriteMeta({ key, variant: meta.variantKey }, meta)) return;
    // A 304 may add headers: stay within the budget, evicting others first (this key is the one in use).
    this.#evictUntil(this.#budgetBytes, key);
  }

  delete(key: string): number {
    const variants = this.sql.exec<{ variant: string }>("SELECT variant FROM entries WHERE key = ?", key).toArray();
    for (const { variant } of variants) this.#deleteVariant(key, variant);
    return variants.length;
  }

  purge(target: PurgeTarget, soft: boolean): number {
    const matched = this.#purgeTargets(target);
    for (const row of matched) {
      if (!soft) {
        this.#deleteVariant(row.key, row.variant);
        continue;
      }
      const stored = this.sql.exec<{ meta: string }>("SELECT meta FROM entries WHERE key = ? AND variant = ?", row.key, row.variant).toArray()[0];
      if (stored === undefined) continue;
      const meta = decodeStoredMeta(stored.meta);
      if (meta === null) this.#deleteVariant(row.key, row.variant);
      else this.#rewriteMeta(row, softPurgedMeta(meta));
    }
    return matched.length;
  }

  sweep(now: EpochMillis, limit = 500): SweepResult {
    const due = this.sql.exec<RowId>("SELECT key, variant FROM entries WHERE sweep_at <= ? LIMIT ?", now, limit).toArray();
    for (const { key, variant } of due) this.#deleteVariant(key, variant);
    const next = this.sql.exec<{ next: number | null }>("SELECT MIN(sweep_at) AS next FROM entries").one().next;
    return { deleted: due.length, next };
  }

  objectCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries").one().n;
  }

  /** Accounted bytes (bodies, metadata, keys, tags; see `rowBytes`): never above the budget. */
  storedBytes(): number {
    return this.#storedBytes;
  }

  #purgeTargets(target: PurgeTarget): RowId[] {
    if ("keys" in target) return target.keys.flatMap((key) => this.sql.exec<RowId>("SELECT key, variant FROM entries WHERE key = ?", key).toArray());
    if ("tag" in target) return this.sql.exec<RowId>("SELECT key, variant FROM tags WHERE tag = ?", target.tag).toArray();
    if ("all" in target) return this.sql.exec<RowId>("SELECT key, variant FROM entries").toArray();
    // Keys sort by their bytes, so every key with the prefix comes in one run from the prefix on.
    const out: RowId[] = [];
    for (const row of this.sql.exec<RowId>("SELECT key, variant FROM entries WHERE key >= ? ORDER BY key", target.prefix)) {
      if (!row.key.startsWith(target.prefix)) break;
      out.push({ key: row.key, variant: row.variant });
    }
    return out;
  }

  /** Writes a stored variant's new record and keeps the running total equal to SUM(row_bytes); false when there is no such row. */
  #rewriteMeta(row: RowId, meta: StoredMeta): boolean {
    const before = this.sql.exec<{ row_bytes: number }>("SELECT row_bytes FROM entries WHERE key = ? AND variant = ?", row.key, row.variant).toArray()[0];
    if (before === undefined) return false;
    const metaJson = encodeStoredMeta(meta);
    const bytes = rowBytes(row.key, meta, metaJson);
    this.sql.exec("UPDATE entries SET meta = ?, sweep_at = ?, row_bytes = ? WHERE key = ? AND variant = ?", metaJson, sweepAt(meta, this.#graceMs), bytes, row.key, row.variant);
    this.#storedBytes += bytes - before.row_bytes;
    return true;
  }

  /**
   * Evicts least recently used variants until at most `limit` bytes are stored: those of other keys
   * first, then (only when one key's variants alone pass the budget) `keep`'s own, oldest used first.
   */
  #evictUntil(limit: number, keep: string | null): void {
    type Victim = RowId & { row_bytes: number };
    const batches = [
      () => this.sql.exec<Victim>("SELECT key, variant, row_bytes FROM entries WHERE key IS NOT ? ORDER BY used_at LIMIT ?", keep, EVICTION_BATCH).toArray(),
      () => this.sql.exec<Victim>("SELECT key, variant, row_bytes FROM entries WHERE key = ? ORDER BY stored_at, rowid LIMIT ?", keep, EVICTION_BATCH).toArray(),
    ];
    for (const batch of batches) {
      while (this.#storedBytes > limit) {
        const victims = batch();
        if (victims.length === 0) break;
        for (const victim of victims) {
          if (this.#storedBytes <= limit) return;
          this.#deleteVariant(victim.key, victim.variant);
          this.#counts.evictions += 1;
          this.#counts.evictedBytes += victim.row_bytes;
        }
      }
    }
  }

  #rememberTouch(key: string, at: EpochMillis): void {
    this.#touchedAt.delete(key);
    this.#touchedAt.set(key, at);
    if (this.#touchedAt.size > TOUCHES_REMEMBERED) this.#touchedAt.delete(this.#touchedAt.keys().next().value as string);
  }

  #deleteVariant(key: string, variant: string): void {
    const row = this.sql.exec<{ row_bytes: number }>("DELETE FROM entries WHERE key = ? AND variant = ? RETURNING row_bytes", key, variant).toArray()[0];
    if (row !== undefined) this.#storedBytes -= row.row_bytes;
    this.sql.exec("DELETE FROM chunks WHERE key = ? AND variant = ?", key, variant);
    this.sql.exec("DELETE FROM tags WHERE key = ? AND variant = ?", key, variant);
    this.#onDelete(key);
  }

  #dropOldVariants(key: string, maxVariants: number): void {
    const surplus = this.sql.exec<{ variant: string }>(`SELECT variant FROM entries WHERE key = ? ${NEWEST_FIRST} LIMIT -1 OFFSET ?`, key, maxVariants).toArray();
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
}
