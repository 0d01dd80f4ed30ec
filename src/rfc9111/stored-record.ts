/**
 * The one encoder and the one checked decoder of the stored record (`StoredMeta`). Every place that
 * reads a record it did not just build (a SQLite row, a caches.default entry, a shard's answer to the
 * edge) goes through `checkStoredMeta` / `decodeStoredMeta`: a record of another version, of the wrong
 * shape, or carrying a cluster-internal header field is refused (null), and the caller treats it as
 * a miss. A cast (`JSON.parse(...) as StoredMeta`) would let garbage or a forged record steer what
 * the cache serves to everyone.
 */
import * as z from "zod";

/** Header fields whose names start with this are the cluster's own; no stored record may carry one. */
export const INTERNAL_FIELD_PREFIX = "x-cluster-";

/** RFC 9110 §5.1 field-name (a token), lower-case as stored. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** RFC 9110 §5.5: no CR, LF or NUL in a field value. */
const FIELD_VALUE = /^[^\r\n\0]*$/;

// zod 4 numbers are finite: NaN and ±Infinity are refused.
const instant = z.number();
const seconds = z.number();

const storedHeaderSchema = z.tuple([
  z
    .string()
    .regex(FIELD_NAME)
    .refine((name) => !name.startsWith(INTERNAL_FIELD_PREFIX), "cluster-internal field in a stored record"),
  z.string().regex(FIELD_VALUE),
]);

export const storedMetaSchema = z.strictObject({
  v: z.literal(1),
  /** The URL the response was stored under (for invalidation and Content-Location checks). */
  url: z.string(),
  /** A final status (1xx and 304 are never stored; 206 is refused by canStore). */
  status: z.number().int().min(200).max(599),
  /** Stored response header fields, lower-case names, hop-by-hop and no-cache=/private= fields removed. */
  headers: z.array(storedHeaderSchema),
  /** When the request that produced this response was sent (RFC 9111 §4.2.3 request_time). */
  requestTime: instant,
  /** When the response was received (response_time). */
  responseTime: instant,
  /** corrected_initial_age from §4.2.3, in seconds, at responseTime. */
  initialAgeSeconds: seconds,
  /** Freshness lifetime chosen for this cache (CDN-Cache-Control > s-maxage > max-age > Expires > heuristic, or forced). */
  freshnessLifetimeSeconds: seconds,
  /** Instant the entry becomes stale: responseTime - initialAge + lifetime. */
  staleAt: instant,
  /** Last instant a stale entry may be served while revalidating in the background (RFC 5861). Equal to staleAt when none. */
  staleWhileRevalidateUntil: instant,
  /** Last instant a stale entry may be served when the origin fails (RFC 5861). Equal to staleAt when none. */
  staleIfErrorUntil: instant,
  /** After this instant nothing can use the entry (max of the windows); a store may evict it. */
  expireAt: instant,
  /** no-cache without field names: store but revalidate before every reuse. */
  alwaysRevalidate: z.boolean(),
  /** must-revalidate or proxy-revalidate (or s-maxage, §5.2.2.10): never serve stale without revalidating. */
  mustRevalidate: z.boolean(),
  immutable: z.boolean(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  /** Vary: lower-case field names, and the normalised values the storing request sent (null = absent). */
  vary: z.strictObject({ names: z.array(z.string()), values: z.array(z.string().nullable()) }).nullable(),
  /** Secondary key derived from `vary` (empty string when the response does not vary). */
  variantKey: z.string(),
  /** Body length in bytes once known. */
  bodyBytes: z.number().int().min(0),
  /** Purge tags from Cache-Tag / Surrogate-Key. */
  tags: z.array(z.string()),
  /** Stored because a rule forced it, regardless of the origin's headers. */
  forced: z.boolean(),
});

/** The record a cache keeps for one stored response (one variant). Absolute instants: reads become comparisons. */
export type StoredMeta = z.output<typeof storedMetaSchema>;

/** The record as a value, when it is one this version wrote; otherwise null. */
export function checkStoredMeta(value: unknown): StoredMeta | null {
  const parsed = storedMetaSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The record's text form (SQLite rows, caches.default entries). */
export function encodeStoredMeta(meta: StoredMeta): string {
  return JSON.stringify(meta);
}

/** A record from its text form; null for text that is not JSON or not a valid record. */
export function decodeStoredMeta(text: string): StoredMeta | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return checkStoredMeta(value);
}
