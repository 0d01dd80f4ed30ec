/**
 * Cluster-wide settings: the `settings` section of the config document. One zod schema is the
 * source of truth; the `Settings` type is inferred from it and every field has a default, so an
 * empty object is a complete, valid configuration.
 */
import * as z from "zod";
import { httpUrlSchema } from "./pools";
import { STORE_SET_COOKIE_DESCRIPTION, storeSetCookieSchema } from "./set-cookie";
import { eventHandlersSchema } from "../events/handlers";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** RFC 9111 §1.2.2: delta-seconds beyond 2^31 are treated as 2^31. */
const MAX_TTL_CEILING_SECONDS = 2_147_483_648;

/** RFC 9110 token: the characters a header name may contain. */
const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "not a valid header name");

/**
 * Request headers that can change what an origin answers but are not in the default cache key, so a
 * client could use them to poison an entry for everyone (web cache poisoning): forwarding fields
 * (the edge writes its own `Forwarded` / `X-Forwarded-Host` / `X-Forwarded-Proto` from what the platform
 * knows), URL and method overrides, and client-address fields a client can forge.
 */
export const DEFAULT_UNKEYED_REQUEST_HEADERS = [
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-scheme",
  "x-forwarded-port",
  "x-host",
  "x-original-url",
  "x-rewrite-url",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "true-client-ip",
  "x-real-ip",
  "x-client-ip",
  "cf-connecting-ip",
  "cf-ipcountry",
] as const;

export const shardSchema = z.strictObject({
  name: z.string().min(1).max(64),
  weight: z.number().positive().max(1000).default(1),
});

export const settingsSchema = z.object({
  /** Shard names and weights for rendezvous hashing, or a count of equally weighted shards named shard-0 … shard-(n-1). */
  shards: z.union([z.number().int().min(1).max(1024), z.array(shardSchema).min(1).max(1024)]).default(16),
  /** How many shards share each key (1 = one origin fetch per object per cluster). */
  primaries: z.number().int().min(1).max(8).default(1),
  /** How many further shards, in HRW order, are tried when a shard fails, before going to the origin directly. */
  fallback: z.number().int().min(0).max(16).default(3),
  /** How long the edge waits for a shard's response headers before trying the next shard. */
  shardTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Consecutive failures or timeouts after which an edge isolate skips a shard (then the next shards in HRW order answer). */
  shardFailuresToSkip: z.number().int().min(1).max(100).default(3),
  /** How long a failing shard is skipped before one request tries it again (so a hung shard costs one timeout per period). */
  shardSkipSeconds: z.number().int().min(1).max(3600).default(10),
  /** Longest time an object may stay in the edge tier (caches.default and the in-isolate memory tier). */
  edgeTtlCapSeconds: z.number().int().min(0).max(86_400).default(60),
  /** Bodies larger than this stream through to the client and are not stored. */
  maxObjectBytes: z
    .number()
    .int()
    .min(0)
    .max(512 * MiB)
    .default(10 * MiB),
  /** Byte budget of each shard's in-memory LRU, in front of its SQLite store. */
  memoryBudgetBytes: z
    .number()
    .int()
    .min(0)
    .max(96 * MiB)
    .default(32 * MiB),
  /**
   * Byte budget of each shard's SQLite store (bodies, metadata, keys and tags, as the shard accounts
   * them); beyond it the least recently used variants are evicted. The ceiling stays well below the
   * 10 GB a SQLite-backed Durable Object may hold, leaving room for indexes and free pages.
   */
  storageBudgetBytes: z
    .number()
    .int()
    .min(64 * KiB)
    .max(8 * GiB)
    .default(1 * GiB),
  /**
   * Longest freshness lifetime any stored response gets, a rule's forced TTL included (Stingray's
   * `webcache!time`). Shortening a lifetime only makes the cache revalidate sooner (RFC 9111 §4.2.1).
   */
  maxTtlSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_TTL_CEILING_SECONDS)
    .default(365 * 86_400),
  /** Byte budget of the edge's in-isolate hot-object tier, in front of caches.default. */
  edgeMemoryBudgetBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * MiB)
    .default(8 * MiB),
  /** Most stored variants (from Vary) per cache key; the least recently stored is dropped beyond it. */
  maxVariants: z.number().int().min(1).max(64).default(8),
  /** How long coalesced waiters wait for the leader's response headers before fetching on their own. */
  collapseTimeoutMs: z.number().int().min(100).max(120_000).default(15_000),
  /** How long a key whose response was not storable skips coalescing (hit-for-pass). */
  hitForPassSeconds: z.number().int().min(0).max(3600).default(30),
  /** Whether responses with Set-Cookie are stored: "off" (default, RFC-conformant but conservative), "strip" or "keep" (dangerous). */
  storeSetCookie: storeSetCookieSchema.default("off").describe(STORE_SET_COOKIE_DESCRIPTION),
  /**
   * Grace: how long after a stored response goes stale it may still answer when the origin is
   * unreachable, times out, resets or answers 5xx (never for no-cache, must-revalidate,
   * proxy-revalidate or s-maxage responses). 10 s, Varnish's default_grace: long enough to hide an
   * origin restart or a deploy blip, short enough that an object is never served much past the
   * lifetime its origin gave it without that origin's consent (stale-if-error grants more).
   */
  graceSeconds: z.number().int().min(0).max(86_400).default(10),
  /**
   * Longest silence allowed inside an origin body once it has started: a body that stalls longer
   * is aborted, never stored, and the client's body ends in an error (not a clean, short end).
   * 30 s: half Varnish's between_bytes_timeout, because a stalled body here also holds every
   * coalesced waiter of the key.
   */
  originBodyIdleMs: z.number().int().min(100).max(600_000).default(30_000),
  /**
   * Seconds a stale object may still answer while ONE background request refreshes it (Stingray's
   * refresh time): no client waits on the origin at expiry, and the origin sees at most one request
   * per object per refresh time. 0 = off. An operator's out-of-band permission to serve stale
   * (RFC 9111 §4.2.4): never applied to no-cache, must-revalidate, proxy-revalidate or s-maxage responses.
   */
  refreshTimeSeconds: z.number().int().min(0).max(86_400).default(0),
  /** Fraction of an object's lifetime, at its end, in which a request revalidates it in the background before it expires; 0 = off. */
  refreshAheadRatio: z.number().min(0).max(0.9).default(0),
  /** Add the X-Cache-Info reason header to every response. */
  verbose: z.boolean().default(false),
  /** One JSON line per request through console.log (Workers Logs, `wrangler tail`): see src/observe/access-log.ts. */
  accessLog: z.boolean().default(false),
  /** Add the X-Cluster-Trace header naming every hop and its result. */
  trace: z.boolean().default(false),
  /** Origin used when no pool applies; defaults to the ORIGIN_URL variable. */
  origin: httpUrlSchema.optional(),
  /** Pool (a key of `pools`) used when no rule names one; without it such requests go to `origin`. */
  defaultPool: z.string().min(1).optional(),
  /** URL that receives every cluster event as JSON POSTs (batched, retried with backoff); kept for compatibility: the same as an `eventHandlers` entry named "default" without filters. */
  eventsWebhook: httpUrlSchema.optional(),
  /**
   * Request headers removed before a request goes to a shard or the origin, unless the matched rule
   * puts them in its cache key (`cacheKey.headers` or a `${header.NAME}` template): unkeyed inputs
   * that could change a stored response. The edge then writes Forwarded, X-Forwarded-Host and
   * X-Forwarded-Proto itself. Replacing the list replaces the defaults.
   */
  unkeyedRequestHeaders: z
    .array(headerName)
    .default([...DEFAULT_UNKEYED_REQUEST_HEADERS])
    .describe("Request headers that can change a response but are not keyed: removed before the shard and the origin see the request, unless the matched rule keys them. Replacing the list replaces the defaults."),
  /** Webhooks that each receive the events their filter selects (levels, sections, tags); see src/events/handlers.ts. */
  eventHandlers: eventHandlersSchema.optional(),
  /**
   * Custom error pages for responses the cache makes itself (default: none, the plain-text
   * messages): by status ("429", "500"–"599") or "pool-down" (a pool with no working node, which
   * wins over "503"). The status, Retry-After and no-store stay; only the body and its type change.
   * An origin's own error responses are passed on as they came.
   */
  errorPages: z
    .record(z.string().regex(/^(429|5\d\d|pool-down)$/, 'must be "429", a 5xx status or "pool-down"'), z.strictObject({ body: z.string().max(65_536), contentType: z.string().min(1).max(200).default("text/html; charset=utf-8") }))
    .default({}),
  /** Path prefix of the admin API (bearer token from the ADMIN_TOKEN secret); requests under it never reach the cache. */
  adminPrefix: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as "/_shardcache": one or more "/segment"s, no trailing slash')
    .default("/_shardcache"),
});

export type SettingsInput = z.input<typeof settingsSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;
export type Shard = z.output<typeof shardSchema>;

/** Settings with the shard list expanded, ready for the request path. */
export type Settings = Omit<ParsedSettings, "shards"> & { shards: readonly Shard[] };

export function expandShards(shards: ParsedSettings["shards"]): Shard[] {
  if (typeof shards !== "number") return shards;
  return Array.from({ length: shards }, (_, i) => ({ name: `shard-${i}`, weight: 1 }));
}

export function normaliseSettings(parsed: ParsedSettings): Settings {
  return { ...parsed, shards: expandShards(parsed.shards) };
}

export const defaultSettings: Settings = normaliseSettings(settingsSchema.parse({}));
