/**
 * Owns the stored record (practice 3: decide at store time, keep absolute instants): the timeline
 * of a stored response (corrected initial age, lifetime, stale/SWR/SIE/expiry instants) and
 * `buildStoredMeta`, which assembles a `StoredMeta` from a response that `canStore` accepted.
 */
import type { EpochMillis, Seconds } from "../lib/units";
import { correctedInitialAgeMillis, dateValue, type ArrivalTiming } from "./age";
import { cacheControlSource, effectiveCacheControl } from "./cache-control";
import { formatHttpDate, parseHttpDate } from "./dates";
import { freshnessLifetime } from "./freshness";
import { storableHeaderList, storedHeader } from "./headers";
import { staleWindows } from "./stale";
import { forcedTtlSeconds } from "./storability";
import type { PolicyOverrides, RequestLike, ResponseLike, StoreLimits, StoredMeta, StoreVerdict } from "./types";
import { captureVary, parseVary, variantKeyFor } from "./vary";

type Timeline = Pick<StoredMeta, "initialAgeSeconds" | "freshnessLifetimeSeconds" | "staleAt" | "staleWhileRevalidateUntil" | "staleIfErrorUntil" | "expireAt" | "alwaysRevalidate" | "mustRevalidate" | "immutable">;

export interface TimelineInput {
  status: number;
  /** Headers that define freshness (the response's, or the stored ones after a 304 update). */
  headers: Headers;
  /** The Age field that arrived with this response (never a stored one). */
  ageHeader: string | null;
  timing: ArrivalTiming;
  limits: StoreLimits;
  overrides: PolicyOverrides | undefined;
  /** A rule's forced lifetime (replaces the origin's caching directives), or null. */
  forcedTtlSeconds: Seconds | null;
  /** Unqualified no-cache (ignored when forced). */
  alwaysRevalidate: boolean;
}

/** RFC 9111 §4.2.1 + §4.2.3 + RFC 5861, folded into absolute instants. */
export function deriveTimeline(input: TimelineInput): Timeline {
  const cc = effectiveCacheControl(input.headers);
  const source = cacheControlSource(input.headers);
  const date = dateValue(input.headers, input.timing.responseTime);
  const initialAgeMillis = Math.round(correctedInitialAgeMillis(date, input.ageHeader, input.timing));
  const forced = input.forcedTtlSeconds !== null;
  const uncapped = input.forcedTtlSeconds ?? freshnessLifetime({ status: input.status, headers: input.headers, cc, source, date, maxHeuristicSeconds: input.limits.maxHeuristicSeconds }).seconds;
  // A cache may always treat a response as stale sooner than its lifetime says (RFC 9111 §4.2.1): the cap never serves anything staler.
  const lifetime = Math.min(uncapped, input.limits.maxLifetimeSeconds);
  const alwaysRevalidate = !forced && input.alwaysRevalidate;
  const explicitMustRevalidate = !forced && (cc.mustRevalidate || cc.proxyRevalidate);
  const windows = staleWindows(cc, input.overrides, alwaysRevalidate || explicitMustRevalidate);
  const staleAt = input.timing.responseTime - initialAgeMillis + lifetime * 1000;
  const staleWhileRevalidateUntil = staleAt + windows.staleWhileRevalidateSeconds * 1000;
  const staleIfErrorUntil = staleAt + windows.staleIfErrorSeconds * 1000;
  return {
    initialAgeSeconds: initialAgeMillis / 1000,
    freshnessLifetimeSeconds: lifetime,
    staleAt,
    staleWhileRevalidateUntil,
    staleIfErrorUntil,
    expireAt: Math.max(staleAt, staleWhileRevalidateUntil, staleIfErrorUntil),
    alwaysRevalidate,
    // §5.2.2.2 must-revalidate, §5.2.2.8 proxy-revalidate, §5.2.2.10 s-maxage implies proxy-revalidate.
    mustRevalidate: explicitMustRevalidate || (!forced && cc.sMaxage !== null),
    immutable: cc.immutable, // RFC 8246
  };
}

export interface BuildMetaOptions {
  limits: StoreLimits;
  overrides?: PolicyOverrides;
  bodyBytes: number;
}

/** The record for a response `canStore` accepted; `timing` brackets the origin exchange (§4.2.3). */
export function buildStoredMeta(req: RequestLike, res: ResponseLike, timing: ArrivalTiming, verdict: Extract<StoreVerdict, { store: true }>, opts: BuildMetaOptions): StoredMeta {
  const headers = withDate(storableHeaderList(res.headers, verdict.strippedFields), timing.responseTime);
  const forcedTtl = verdict.reason === "forced" ? forcedTtlSeconds(opts.overrides) : null;
  const timeline = deriveTimeline({
    status: res.status,
    headers: res.headers,
    ageHeader: res.headers.get("age"),
    timing,
    limits: opts.limits,
    overrides: opts.overrides,
    forcedTtlSeconds: forcedTtl,
    alwaysRevalidate: verdict.alwaysRevalidate,
  });
  const varyNames = parseVary(res.headers.get("vary"));
  return {
    v: 1,
    url: req.url,
    status: res.status,
    headers,
    requestTime: timing.requestTime,
    responseTime: timing.responseTime,
    ...timeline,
    etag: storedHeader({ headers }, "etag"),
    lastModified: storedHeader({ headers }, "last-modified"),
    vary: varyNames.length === 0 ? null : { names: varyNames, values: captureVary(varyNames, req.headers) },
    variantKey: variantKeyFor(varyNames, req.headers),
    bodyBytes: opts.bodyBytes,
    tags: parseTags(res.headers),
    forced: verdict.reason === "forced",
  };
}

/** RFC 9110 §6.6.1: a cache adds Date (the receive time) when it is missing, and may replace an invalid one. */
export function withDate(list: [string, string][], responseTime: EpochMillis): [string, string][] {
  const date = storedHeader({ headers: list }, "date");
  if (date !== null && parseHttpDate(date) !== null) return list;
  return [...list.filter(([name]) => name !== "date"), ["date", formatHttpDate(responseTime)]];
}

/** Purge tags: Cache-Tag is comma-separated, Surrogate-Key is space-separated; deduplicated, in order. */
export function parseTags(headers: Headers): string[] {
  const commaTags = (headers.get("cache-tag") ?? "").split(",");
  const spaceTags = (headers.get("surrogate-key") ?? "").split(/\s+/);
  return [...new Set([...commaTags, ...spaceTags].map((t) => t.trim()).filter((t) => t !== ""))];
}
