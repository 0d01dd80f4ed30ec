/**
 * The shard's object store: SQLite rows in the Durable Object's own storage (authoritative, survives
 * restarts and evictions) with a byte-bounded memory LRU in front. Bodies are split into chunks
 * because one SQLite value holds at most 2 MB; each key keeps at most `maxVariants` variants (Vary).
 * Schema and meaning of every column: docs/storage-schema.md.
 */
import { ByteLru } from "../src/lib/byte-lru";
import type { EpochMillis } from "../src/lib/units";
import { decodeStoredMeta, encodeStoredMeta } from "../src/rfc9111/stored-record";
import type { StoredMeta } from "../src/rfc9111/types";
import { bodyFromBytes, type StoredBody } from "../src/serve/stored-response";
import { softPurgedMeta, type PurgeTarget } from "./shard-purge";

export interface StoredObject {
  meta: StoredMeta;
  body: StoredBody;
}

/** Bytes per SQLite body row: well under the 2 MB value limit, big enough that large bodies need few rows. */
export const CHUNK_BYTES = 1024 * 1024;
/** Entries with a validator are kept this long past their last usable instant: a 304 can still revive them cheaply. */
const VALIDATOR_GRACE_MS = 24 * 3600 * 1000;

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

type EntryRow = { variant: string; meta: string; body_bytes: number; chunk_count: number };

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function sweepAt(meta: StoredMeta): EpochMillis {
  return meta.etag !== null || meta.lastModified !== null ? meta.expireAt + VALIDATOR_GRACE_MS : meta.expireAt;
}

export class ShardStore {
  readonly #memory: ByteLru<string, StoredObject[]>;

  constructor(
    private readonly sql: SqlStorage,
    memoryBudgetBytes: number,
  ) {
    sql.exec(SCHEMA);
    this.#memory = new ByteLru(memoryBudgetBytes);
  }

  get memoryEvictions(): number {
    return this.#memory.evictions;
  }

  setMemoryBudget(bytes: number): void {
    this.#memory.resize(bytes);
  }

  /** Every stored variant of `key`, newest first. */
  variants(key: string): StoredObject[] {
    const cached = this.#memory.get(key);
    if (cached !== undefined) return cached;
    const rows = this.sql.exec<EntryRow>("SELECT variant, meta, body_bytes, chunk_count FROM entries WHERE key = ? ORDER BY stored_at DESC", key).toArray();
    if (rows.length === 0) return [];
    const objects = rows.flatMap((row) => this.#loadVariant(key, row) ?? []);
    this.#remember(key, objects);
    return objects;
  }

  /** Stores one variant (replacing an older copy of it) and trims the key to `maxVariants`. */
  put(key: string, meta: StoredMeta, chunks: readonly Uint8Array[], maxVariants: number): void {
    const body = concat(chunks, meta.bodyBytes);
    this.sql.exec("DELETE FROM chunks WHERE key = ? AND variant = ?", key, meta.variantKey);
    this.sql.exec("DELETE FROM tags WHERE key = ? AND variant = ?", key, meta.variantKey);
    const chunkCount = Math.ceil(body.byteLength / CHUNK_BYTES);
    for (let seq = 0; seq < chunkCount; seq++) {
      this.sql.exec("INSERT INTO chunks (key, variant, seq, data) VALUES (?, ?, ?, ?)", key, meta.variantKey, seq, body.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES));
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO entries (key, variant, meta, body_bytes, chunk_count, stored_at, sweep_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      key, meta.variantKey, encodeStoredMeta(meta), body.byteLength, chunkCount, meta.responseTime, sweepAt(meta),
    );
    for (const tag of meta.tags) this.sql.exec("INSERT OR IGNORE INTO tags (tag, key, variant) VALUES (?, ?, ?)", tag, key, meta.variantKey);
    this.#dropOldVariants(key, maxVariants);
    this.#memory.delete(key);
    const fresh: StoredObject = { meta, body: bodyFromBytes(body) };
    const others = this.variants(key).filter((o) => o.meta.variantKey !== meta.variantKey);
    this.#remember(key, [fresh, ...others]);
  }

  /** Replaces a variant's metadata (after a 304) without rewriting its body. */
  updateMeta(key: string, meta: StoredMeta): void {
    this.sql.exec("UPDATE entries SET meta = ?, sweep_at = ? WHERE key = ? AND variant = ?", encodeStoredMeta(meta), sweepAt(meta), key, meta.variantKey);
    const cached = this.#memory.peek(key);
    if (cached !== undefined) {
      const updated = cached.map((o) => (o.meta.variantKey === meta.variantKey ? { meta, body: o.body } : o));
      this.#remember(key, updated);
    }
  }

  /** Deletes every variant of `key`; returns how many there were. */
  delete(key: string): number {
    this.#memory.delete(key);
    const cursor = this.sql.exec("DELETE FROM entries WHERE key = ?", key);
    this.sql.exec("DELETE FROM chunks WHERE key = ?", key);
    this.sql.exec("DELETE FROM tags WHERE key = ?", key);
    return cursor.rowsWritten;
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
      this.sql.exec("UPDATE entries SET meta = ?, sweep_at = ? WHERE key = ? AND variant = ?", encodeStoredMeta(meta), sweepAt(meta), key, variant);
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

  /** Bytes of bodies held in SQLite. */
  storedBytes(): number {
    return this.sql.exec<{ total: number | null }>("SELECT SUM(body_bytes) AS total FROM entries").one().total ?? 0;
  }

  #deleteVariant(key: string, variant: string): void {
    this.sql.exec("DELETE FROM entries WHERE key = ? AND variant = ?", key, variant);
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
    return { meta, body: bodyFromBytes(concat(chunks, row.body_bytes)) };
  }

  #remember(key: string, objects: StoredObject[]): void {
    const bytes = objects.reduce((sum, o) => sum + (o.body.bytes ?? 0) + 512, key.length);
    this.#memory.set(key, objects, bytes);
  }
}
