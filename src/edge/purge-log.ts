/**
 * The purge log: how one purge reaches the edge tier of every data centre. `caches.default.delete`
 * only purges the local data centre, so each purge also writes a record to KV; every edge isolate
 * loads the recent records (memoised like the config) and refuses an edge copy stored before a purge
 * that matches it. One KV key per record (`purge:<reverse time>:<random>`, expiring after the longest
 * possible edge TTL) means concurrent purges never overwrite each other, and listing the prefix
 * returns the newest first.
 *
 * Bounded: one listing page (LIST_LIMIT records) is read. When more records exist, everything stored
 * before the oldest record read counts as purged (`floor`), so a dropped record costs extra misses,
 * never a stale copy.
 *
 * A record that does not parse (a hand-written KV value, a truncated write) is skipped and counted
 * (`malformed`, reported by the loader); it never costs the other records.
 */
import { CachedValue } from "../lib/cached-value";
import type { EpochMillis, Millis } from "../lib/units";

/** What one purge matched; `key` for purges by URL (resolved to its cache key) or by key. */
export type PurgeMatch = { key: string; url?: string } | { prefix: string } | { tag: string } | { all: true };

export type PurgeRecord = { at: EpochMillis; soft?: boolean } & PurgeMatch;

export const PURGE_KEY_PREFIX = "purge:";
/** The edge-TTL cap is at most a day; a record must outlive every copy it can refuse. */
export const PURGE_RECORD_TTL_SECONDS = 86_400 + 600;
/** Records read per load (one KV list page). */
export const LIST_LIMIT = 1000;
/** KV metadata holds at most 1024 bytes; longer records are read from the value. */
const METADATA_MAX_CHARS = 900;
const REVERSE_BASE = 9_999_999_999_999;

/** `purge:<reverse time>:<random>`: KV lists keys in lexicographic order, so the newest record comes first. */
export function purgeRecordKey(at: EpochMillis, random: string): string {
  return `${PURGE_KEY_PREFIX}${String(REVERSE_BASE - at).padStart(13, "0")}:${random}`;
}

/** The recent purges in a form the hot path can check cheaply: one map lookup per key and tag. */
export class PurgeIndex {
  readonly #keys = new Map<string, EpochMillis>();
  readonly #tags = new Map<string, EpochMillis>();
  readonly #prefixes: [string, EpochMillis][] = [];
  #all: EpochMillis = Number.NEGATIVE_INFINITY;
  /** Everything stored at or before this instant counts as purged (records beyond the bound were not read). */
  readonly floor: EpochMillis;
  readonly size: number;
  /** KV keys of records that did not parse and were skipped. */
  readonly malformed: readonly string[];

  constructor(records: readonly PurgeRecord[], floor: EpochMillis = Number.NEGATIVE_INFINITY, malformed: readonly string[] = []) {
    this.floor = floor;
    this.size = records.length;
    this.malformed = malformed;
    for (const record of records) this.add(record);
  }

  static readonly empty = new PurgeIndex([]);

  /** Adds a record (the isolate that ran a purge applies it at once, without waiting for KV). */
  add(record: PurgeRecord): void {
    const later = (map: Map<string, EpochMillis>, name: string) => map.set(name, Math.max(map.get(name) ?? Number.NEGATIVE_INFINITY, record.at));
    if ("key" in record) later(this.#keys, record.key);
    else if ("tag" in record) later(this.#tags, record.tag);
    else if ("prefix" in record) this.#prefixes.push([record.prefix, record.at]);
    else if ("all" in record) this.#all = Math.max(this.#all, record.at);
  }

  /** True when a purge recorded after `storedAt` matches this copy. */
  purges(copy: { key: string; tags: readonly string[]; storedAt: EpochMillis }): boolean {
    const { storedAt } = copy;
    if (storedAt <= this.floor || storedAt < this.#all) return true;
    if ((this.#keys.get(copy.key) ?? Number.NEGATIVE_INFINITY) > storedAt) return true;
    for (const tag of copy.tags) if ((this.#tags.get(tag) ?? Number.NEGATIVE_INFINITY) > storedAt) return true;
    for (const [prefix, at] of this.#prefixes) if (at > storedAt && copy.key.startsWith(prefix)) return true;
    return false;
  }
}

function isRecord(value: unknown): value is PurgeRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.at !== "number") return false;
  return typeof r.key === "string" || typeof r.prefix === "string" || typeof r.tag === "string" || r.all === true;
}

/** Writes one record; KV deletes it once no edge copy it could refuse can still exist. */
export async function writePurgeRecord(kv: KVNamespace, record: PurgeRecord): Promise<void> {
  const text = JSON.stringify(record);
  const metadata = text.length <= METADATA_MAX_CHARS ? record : { at: record.at, inValue: true };
  await kv.put(purgeRecordKey(record.at, crypto.randomUUID().slice(0, 8)), text, { expirationTtl: PURGE_RECORD_TTL_SECONDS, metadata });
}

/** Reads the newest records (one listing page, plus the values of records too long for metadata). */
export async function readPurgeIndex(kv: KVNamespace): Promise<PurgeIndex> {
  const page = await kv.list<unknown>({ prefix: PURGE_KEY_PREFIX, limit: LIST_LIMIT });
  const records = await Promise.all(
    page.keys.map(async ({ name, metadata }) => {
      if (isRecord(metadata)) return { name, record: metadata };
      const text = await kv.get(name);
      // A record that expired between list and get is simply gone, not malformed.
      if (text === null) return { name, record: null, gone: true };
      return { name, record: parseRecord(text) };
    }),
  );
  const valid: PurgeRecord[] = [];
  const malformed: string[] = [];
  for (const { name, record, gone } of records) {
    if (record !== null) valid.push(record);
    else if (gone !== true) malformed.push(name);
  }
  const floor = page.list_complete ? Number.NEGATIVE_INFINITY : Math.min(...valid.map((r) => r.at));
  return new PurgeIndex(valid, floor, malformed);
}

/** One record's stored text, or null when it is not JSON or not a record. */
export function parseRecord(text: string): PurgeRecord | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * The purge index for the request path: read from KV at most once per memo period per isolate (the
 * config's memo); on a KV error the last index read is kept. Held in a CachedValue
 * (src/lib/cached-value.ts): the request that starts a read awaits it, requests meanwhile use the
 * index held, and none awaits a read another request started.
 */
export class PurgeLogLoader {
  readonly #memo: CachedValue<PurgeIndex>;
  #lastProblem: string | null = null;

  constructor(
    private readonly read: () => Promise<PurgeIndex>,
    memoMs: Millis,
    private readonly report: (problem: string) => void,
  ) {
    this.#memo = new CachedValue(() => this.#load(), memoMs);
  }

  /** The memoised index when it is still within its memo period, else null (then call `get`). */
  fresh(now: EpochMillis): PurgeIndex | null {
    return this.#memo.isFresh(now) ? this.#memo.held!.value : null;
  }

  get(now: EpochMillis): Promise<PurgeIndex> {
    return this.#memo.get(now);
  }

  /** Applies a purge this isolate just ran, so its own edge tier honours it before the next read. */
  note(record: PurgeRecord): void {
    this.#memo.update((held) => {
      const index = held === null || held.value === PurgeIndex.empty ? new PurgeIndex([]) : held.value;
      index.add(record);
      return index;
    });
  }

  /** One read; never rejects (a KV error keeps the index held, or the empty one), so it is memoised either way. */
  #load(): Promise<PurgeIndex> {
    return this.read()
      .then((index) => {
        const problem = index.malformed.length === 0 ? null : `purge log: skipped ${index.malformed.length} malformed record(s): ${index.malformed.slice(0, 5).join(", ")}`;
        if (problem !== null && problem !== this.#lastProblem) this.report(problem);
        this.#lastProblem = problem;
        return index;
      })
      .catch((error: unknown) => {
        this.report(`purge log: KV read failed, keeping the last one read (${error instanceof Error ? error.message : String(error)})`);
        return this.#memo.held?.value ?? PurgeIndex.empty;
      });
  }
}
