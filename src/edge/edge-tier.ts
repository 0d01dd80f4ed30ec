/**
 * The edge tier: copies of shard responses kept in this data centre, so repeated hits never reach a
 * shard. A small byte-bounded memory tier in this isolate answers hot objects at little more than a
 * bare worker's cost; caches.default (per data centre) sits behind it. Entries never outlive the
 * edge-TTL cap or the object's own freshness.
 */
import { ByteLru } from "../lib/byte-lru";
import type { EpochMillis, Seconds } from "../lib/units";
import { decodeStoredMeta, encodeStoredMeta } from "../rfc9111/stored-record";
import type { StoredMeta } from "../rfc9111/types";
import { decodeComponentOrNull } from "../lib/uri";
import { bodyFromBytes, type StoredBody } from "../serve/stored-response";
import { HitTemplate } from "./hit-template";

export interface EdgeEntry {
  readonly meta: StoredMeta;
  readonly body: StoredBody;
  /** The edge copy is dropped at this instant, whatever the object's freshness says. */
  readonly edgeExpireAt: EpochMillis;
  /** When the edge asked for this copy: a purge recorded after it refuses the copy (see purge-log.ts). */
  readonly storedAt: EpochMillis;
  /** The prepared answer to a plain GET (src/edge/hit-template.ts); null for a copy outside memory or a partial one. */
  readonly template: HitTemplate | null;
}

/** Fields of our own caches.default entries (never of a response anyone else built): the record, expiry, store time. */
const META_FIELD = "x-shardcache-edge-record";
const EXPIRE_FIELD = "x-shardcache-edge-expire";
const STORED_FIELD = "x-shardcache-edge-stored";
/** Zone purge by tag reaches caches.default entries through the Cache-Tag they were put with. */
export const EDGE_CACHE_HOST = "shardcache.internal";
/** A single object larger than this share of the memory budget goes to caches.default only. */
const MEMORY_OBJECT_SHARE = 8;

/** The Cache API is keyed by URL: the cache key is encoded into one under a fixed internal host. */
function cacheRequestFor(key: string): Request {
  return new Request(edgeCacheUrl(key));
}

/** The URL caches.default holds `key` under (also what a zone purge by URL or prefix names). */
export function edgeCacheUrl(key: string): string {
  return `https://${EDGE_CACHE_HOST}/edge/${encodeURIComponent(key)}`;
}

export class EdgeTier {
  /** Entries are handed out as they are kept (read-only), so a hit allocates nothing to find its copy. */
  readonly #memory: ByteLru<string, EdgeEntry>;

  constructor(
    private memoryBudgetBytes: number,
    private readonly cache: Cache | null,
  ) {
    this.#memory = new ByteLru(memoryBudgetBytes);
  }

  setMemoryBudget(bytes: number): void {
    this.memoryBudgetBytes = bytes;
    this.#memory.resize(bytes);
  }

  /** The in-isolate copy of `key`, synchronously (the hot path); null when only caches.default may have one. */
  lookupMemory(key: string, now: EpochMillis): EdgeEntry | null {
    const hot = this.#memory.get(key);
    if (hot === undefined) return null;
    if (hot.edgeExpireAt > now) return hot;
    this.#memory.delete(key);
    return null;
  }

  /** This data centre's copy in caches.default (call after `lookupMemory` missed); it is kept in memory from then on. */
  async lookupShared(key: string, now: EpochMillis): Promise<EdgeEntry | null> {
    if (this.cache === null) return null;
    const cached = await this.cache.match(cacheRequestFor(key));
    if (cached === undefined) return null;
    const edgeExpireAt = Number(cached.headers.get(EXPIRE_FIELD));
    const metaField = cached.headers.get(META_FIELD);
    const metaText = metaField === null ? null : decodeComponentOrNull(metaField);
    const meta = metaText === null ? null : decodeStoredMeta(metaText);
    // An entry without a valid record (another version, or garbage) is a miss, never an error.
    if (meta === null || !(edgeExpireAt > now)) {
      void cached.body?.cancel();
      return null;
    }
    // Copies written before store times were recorded count as stored at 0: any matching purge refuses them.
    const storedAt = Number(cached.headers.get(STORED_FIELD) ?? 0) || 0;
    const body = new Uint8Array(await cached.arrayBuffer());
    return this.#remember(key, meta, body, edgeExpireAt, storedAt) ?? { meta, body: bodyFromBytes(body), edgeExpireAt, storedAt, template: null };
  }

  /**
   * Keeps a copy for `ttlSeconds` (the caller has already capped it by freshness and the edge cap).
   * `storedAt` is when the edge asked the shard for it (defaults to `now`).
   */
  async store(key: string, meta: StoredMeta, body: Uint8Array, ttlSeconds: Seconds, now: EpochMillis, storedAt: EpochMillis = now): Promise<void> {
    if (ttlSeconds <= 0) return;
    const edgeExpireAt = now + ttlSeconds * 1000;
    this.#remember(key, meta, body, edgeExpireAt, storedAt);
    if (this.cache === null) return;
    const headers = new Headers({ "cache-control": `max-age=${ttlSeconds}`, [META_FIELD]: encodeURIComponent(encodeStoredMeta(meta)), [EXPIRE_FIELD]: String(edgeExpireAt), [STORED_FIELD]: String(storedAt) });
    if (meta.tags.length > 0) headers.set("cache-tag", meta.tags.join(","));
    await this.cache.put(cacheRequestFor(key), new Response(body, { headers }));
  }

  /** Drops this data centre's copies of `key`. */
  async delete(key: string): Promise<void> {
    this.#memory.delete(key);
    if (this.cache !== null) await this.cache.delete(cacheRequestFor(key));
  }

  /** Keeps the copy in memory when it is small enough (with its prepared answer); the entry kept, or null. */
  #remember(key: string, meta: StoredMeta, body: Uint8Array, edgeExpireAt: EpochMillis, storedAt: EpochMillis): EdgeEntry | null {
    if (body.byteLength > this.memoryBudgetBytes / MEMORY_OBJECT_SHARE) return null;
    const entry: EdgeEntry = { meta, body: bodyFromBytes(body), edgeExpireAt, storedAt, template: HitTemplate.for(meta, body) };
    // 512: the record, the template's header list and the entry's own objects, roughly.
    this.#memory.set(key, entry, body.byteLength + 512 + key.length);
    return entry;
  }
}
