/**
 * The edge tier: copies of shard responses kept in this data centre, so repeated hits never reach a
 * shard. A small byte-bounded memory tier in this isolate answers hot objects at little more than a
 * bare worker's cost; caches.default (per data centre) sits behind it. Entries never outlive the
 * edge-TTL cap or the object's own freshness.
 */
import { ByteLru } from "../lib/byte-lru";
import type { EpochMillis, Seconds } from "../lib/units";
import type { StoredMeta } from "../rfc9111/types";
import { bodyFromBytes, type StoredBody } from "../serve/stored-response";

export interface EdgeEntry {
  meta: StoredMeta;
  body: StoredBody;
  /** The edge copy is dropped at this instant, whatever the object's freshness says. */
  edgeExpireAt: EpochMillis;
}

const META_FIELD = "x-cluster-edge-meta";
const EXPIRE_FIELD = "x-cluster-edge-expire";
/** A single object larger than this share of the memory budget goes to caches.default only. */
const MEMORY_OBJECT_SHARE = 8;

/** The Cache API is keyed by URL: the cache key is encoded into one under a fixed internal host. */
function cacheRequestFor(key: string): Request {
  return new Request(`https://shardcache.internal/edge/${encodeURIComponent(key)}`);
}

export class EdgeTier {
  readonly #memory: ByteLru<string, { meta: StoredMeta; body: Uint8Array; edgeExpireAt: EpochMillis }>;

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

  async lookup(key: string, now: EpochMillis): Promise<EdgeEntry | null> {
    const hot = this.#memory.get(key);
    if (hot !== undefined) {
      if (hot.edgeExpireAt > now) return { meta: hot.meta, body: bodyFromBytes(hot.body), edgeExpireAt: hot.edgeExpireAt };
      this.#memory.delete(key);
    }
    if (this.cache === null) return null;
    const cached = await this.cache.match(cacheRequestFor(key));
    if (cached === undefined) return null;
    const edgeExpireAt = Number(cached.headers.get(EXPIRE_FIELD));
    const metaField = cached.headers.get(META_FIELD);
    if (metaField === null || !(edgeExpireAt > now)) {
      void cached.body?.cancel();
      return null;
    }
    const meta = JSON.parse(decodeURIComponent(metaField)) as StoredMeta;
    const body = new Uint8Array(await cached.arrayBuffer());
    this.#remember(key, meta, body, edgeExpireAt);
    return { meta, body: bodyFromBytes(body), edgeExpireAt };
  }

  /** Keeps a copy for `ttlSeconds` (the caller has already capped it by freshness and the edge cap). */
  async store(key: string, meta: StoredMeta, body: Uint8Array, ttlSeconds: Seconds, now: EpochMillis): Promise<void> {
    if (ttlSeconds <= 0) return;
    const edgeExpireAt = now + ttlSeconds * 1000;
    this.#remember(key, meta, body, edgeExpireAt);
    if (this.cache === null) return;
    const headers = new Headers({ "cache-control": `max-age=${ttlSeconds}`, [META_FIELD]: encodeURIComponent(JSON.stringify(meta)), [EXPIRE_FIELD]: String(edgeExpireAt) });
    await this.cache.put(cacheRequestFor(key), new Response(body, { headers }));
  }

  /** Drops this data centre's copies of `key`. */
  async delete(key: string): Promise<void> {
    this.#memory.delete(key);
    if (this.cache !== null) await this.cache.delete(cacheRequestFor(key));
  }

  #remember(key: string, meta: StoredMeta, body: Uint8Array, edgeExpireAt: EpochMillis): void {
    if (body.byteLength > this.memoryBudgetBytes / MEMORY_OBJECT_SHARE) return;
    this.#memory.set(key, { meta, body, edgeExpireAt }, body.byteLength + 512 + key.length);
  }
}
