/**
 * Owns revalidation with the origin (RFC 9111 §4.3): the validators a conditional request carries, and
 * freshening a stored response from a 304 (§4.3.4) by updating its header fields (§3.2).
 */
import type { Seconds } from "../lib/units";
import { effectiveCacheControl } from "./cache-control";
import { connectionListed, headersFromList, isHopByHop } from "./headers";
import { deriveTimeline, parseTags, withDate } from "./stored-meta";
import { forcedTtlSeconds } from "./storability";
import type { PolicyOverrides, ResponseLike, StoreLimits, StoredMeta } from "./types";
import type { ArrivalTiming } from "./age";

/**
 * RFC 9111 §4.3.1: If-None-Match with the stored ETag, else If-Modified-Since with Last-Modified.
 * deviation: §4.3.1 says a cache SHOULD also send If-Modified-Since when it has an ETag; an origin
 * must ignore it next to If-None-Match (RFC 9110 §13.1.3), so we send one validator only.
 */
export function conditionalHeadersFor(meta: StoredMeta): Headers {
  const headers = new Headers();
  if (meta.etag !== null) headers.set("if-none-match", meta.etag);
  else if (meta.lastModified !== null) headers.set("if-modified-since", meta.lastModified);
  return headers;
}

/**
 * RFC 9111 §3.2: fields a 304 must not overwrite. Content-Length by the RFC; Content-Encoding and
 * Content-Range because the stored body is what they describe; Age because it is recomputed.
 * deviation: Vary is not updated either, since the stored variant was selected by the old Vary.
 */
const NOT_UPDATED = new Set(["content-length", "content-encoding", "content-range", "age", "vary"]);

export interface FreshenOptions {
  limits: StoreLimits;
  overrides?: PolicyOverrides;
}

/**
 * RFC 9111 §4.3.4: a 304 freshens the selected stored response. Its header fields replace the stored
 * ones (§3.2, with the exclusions above, hop-by-hop and no-cache=/private= fields dropped), and
 * freshness is recomputed from the merged fields and the 304's own Date/Age and timing.
 * If the merged fields say no-store, the entry is kept but must be revalidated before any reuse.
 */
export function freshenWithNotModified(meta: StoredMeta, res304: ResponseLike, timing: ArrivalTiming, opts: FreshenOptions): StoredMeta {
  const cc304 = effectiveCacheControl(res304.headers);
  const stripped = new Set([...cc304.noCacheFields, ...cc304.privateFields]);
  const merged = withDate(mergeHeaders(meta.headers, res304.headers, stripped), timing.responseTime);
  const mergedHeaders = headersFromList(merged);
  const cc = effectiveCacheControl(mergedHeaders);
  const forcedTtl: Seconds | null = meta.forced ? (forcedTtlSeconds(opts.overrides) ?? meta.freshnessLifetimeSeconds) : null;
  const timeline = deriveTimeline({
    status: meta.status,
    headers: mergedHeaders,
    ageHeader: res304.headers.get("age"),
    timing,
    limits: opts.limits,
    overrides: opts.overrides,
    forcedTtlSeconds: forcedTtl,
    alwaysRevalidate: cc.noCache || cc.noStore,
  });
  const etag = merged.find(([n]) => n === "etag")?.[1] ?? null;
  const lastModified = merged.find(([n]) => n === "last-modified")?.[1] ?? null;
  const tags = [...new Set([...meta.tags, ...parseTags(res304.headers)])];
  return { ...meta, headers: merged, requestTime: timing.requestTime, responseTime: timing.responseTime, ...timeline, etag, lastModified, tags };
}

/**
 * RFC 9111 §3.2: every field of the 304 replaces the stored field of that name (all its lines);
 * fields the 304 lacks stay as stored. A 304 without Date gets the receive time (RFC 9110 §6.6.1),
 * never the old stored Date, which would make the freshened response look old.
 */
function mergeHeaders(stored: readonly [string, string][], update: Headers, stripped: ReadonlySet<string>): [string, string][] {
  const listed = connectionListed(update);
  const incoming: [string, string][] = [];
  update.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!NOT_UPDATED.has(lower) && !isHopByHop(lower, listed) && !stripped.has(lower)) incoming.push([lower, value]);
  });
  const replaced = new Set(incoming.map(([name]) => name));
  replaced.add("date");
  const kept = stored.filter(([name]) => !replaced.has(name) && !stripped.has(name));
  return [...kept, ...incoming];
}
