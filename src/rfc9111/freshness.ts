/**
 * Owns freshness (RFC 9111 §4.2): the freshness lifetime chosen for this shared cache
 * (s-maxage > max-age > Expires > heuristic, from the effective Cache-Control) and whether a stored
 * response is still fresh at a given instant.
 */
import type { EpochMillis, Seconds } from "../lib/units";
import { currentAgeMillis, currentAgeSeconds } from "./age";
import type { CacheControl, CacheControlSource } from "./cache-control";
import { MAX_DELTA_SECONDS, parseHttpDate } from "./dates";
import type { StoredMeta } from "./types";

/** RFC 9110 §15.1: status codes that are heuristically cacheable. */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

export type LifetimeSource = "forced" | "s-maxage" | "max-age" | "expires" | "heuristic" | "none";

export interface Lifetime {
  seconds: Seconds;
  source: LifetimeSource;
}

/** What the lifetime is computed from: a response's headers, status and its date_value. */
export interface FreshnessInput {
  status: number;
  headers: Headers;
  /** The effective Cache-Control for this cache and the field it came from. */
  cc: CacheControl;
  source: CacheControlSource;
  /** date_value (RFC 9111 §4.2.3): the Date field, or the receive time without one. */
  date: EpochMillis;
  maxHeuristicSeconds: Seconds;
}

/** RFC 9111 §4.2.1: the first of s-maxage (shared caches, §5.2.2.10), max-age, Expires, heuristic. */
export function freshnessLifetime(input: FreshnessInput): Lifetime {
  if (input.cc.sMaxage !== null) return { seconds: input.cc.sMaxage, source: "s-maxage" };
  if (input.cc.maxAge !== null) return { seconds: input.cc.maxAge, source: "max-age" };
  const expires = expiresLifetime(input);
  if (expires !== null) return { seconds: expires, source: "expires" };
  return heuristicLifetime(input);
}

/**
 * RFC 9111 §4.2.1: Expires minus date_value; §5.3: an invalid Expires (e.g. "0") means already expired.
 * RFC 9213 §2.1: when a targeted field governs this cache, Expires is ignored (null).
 * Multiple Expires values arrive comma-joined, fail to parse, and so count as expired (§4.2.1 allows it).
 */
export function expiresLifetime(input: Pick<FreshnessInput, "headers" | "source" | "date">): Seconds | null {
  if (input.source !== "Cache-Control") return null;
  const raw = input.headers.get("expires");
  if (raw === null) return null;
  const expires = parseHttpDate(raw);
  if (expires === null) return 0;
  return Math.min(Math.max(0, Math.floor((expires - input.date) / 1000)), MAX_DELTA_SECONDS);
}

/**
 * RFC 9111 §4.2.2: without explicit freshness, heuristically cacheable statuses (and responses marked
 * `public`) may get a heuristic lifetime; we use the suggested 10% of (Date − Last-Modified), capped.
 */
export function heuristicLifetime(input: FreshnessInput): Lifetime {
  if (!HEURISTICALLY_CACHEABLE.has(input.status) && !input.cc.public) return { seconds: 0, source: "none" };
  const lastModified = parseHttpDate(input.headers.get("last-modified"));
  if (lastModified === null || !(lastModified < input.date)) return { seconds: 0, source: "none" };
  const tenthSeconds = Math.floor((input.date - lastModified) / 10_000);
  return { seconds: Math.max(0, Math.min(tenthSeconds, input.maxHeuristicSeconds)), source: "heuristic" };
}

/** RFC 9111 §4.2.1 / §3: s-maxage, max-age or (with Cache-Control governing) an Expires field. */
export function hasExplicitFreshness(input: Pick<FreshnessInput, "cc" | "headers" | "source">): boolean {
  return input.cc.sMaxage !== null || input.cc.maxAge !== null || (input.source === "Cache-Control" && input.headers.has("expires"));
}

/** RFC 9111 §4.2: fresh while freshness_lifetime > current_age (exact to the millisecond). */
export function isFresh(meta: StoredMeta, now: EpochMillis): boolean {
  return currentAgeMillis(meta, now) < meta.freshnessLifetimeSeconds * 1000;
}

/** Remaining freshness in whole seconds: lifetime − current_age; ≥ 1 while fresh, ≤ 0 once stale. */
export function remainingFreshnessSeconds(meta: StoredMeta, now: EpochMillis): Seconds {
  return Math.ceil(meta.freshnessLifetimeSeconds) - currentAgeSeconds(meta, now);
}
