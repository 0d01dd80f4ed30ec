/**
 * Owns conditional requests that the cache answers itself (RFC 9111 §4.3.2, RFC 9110 §13): whether a
 * client's If-None-Match / If-Modified-Since matches a stored response, and the headers of the 304.
 */
import type { EpochMillis } from "../lib/units";
import { currentAgeSeconds } from "./age";
import { parseHttpDate } from "./dates";
import { parseEntityTag, parseEntityTagList, weakMatch } from "./entity-tags";
import { storedHeader } from "./headers";
import type { RequestLike, StoredMeta } from "./types";

/**
 * RFC 9110 §13.2.2: If-None-Match (weak comparison, `*`, lists) is evaluated first and, when present,
 * If-Modified-Since is ignored. Only GET/HEAD requests and stored 200 responses can be answered 304.
 * (Callers evaluate this only for a stored response that matched the request, §4.3.2.)
 */
export function clientConditionalMatches(meta: StoredMeta, req: RequestLike): boolean {
  if ((req.method !== "GET" && req.method !== "HEAD") || meta.status !== 200) return false;
  const ifNoneMatch = req.headers.get("if-none-match");
  if (ifNoneMatch !== null) return noneMatchFails(meta, ifNoneMatch);
  const ifModifiedSince = req.headers.get("if-modified-since");
  return ifModifiedSince !== null && notModifiedSince(meta, ifModifiedSince);
}

/** RFC 9110 §13.1.2: the condition is false (→ 304) when `*` or any listed tag weakly matches ours. */
function noneMatchFails(meta: StoredMeta, value: string): boolean {
  const list = parseEntityTagList(value);
  if (list === "*") return true;
  const ours = parseEntityTag(meta.etag);
  return ours !== null && list.some((tag) => weakMatch(tag, ours));
}

/**
 * RFC 9110 §13.1.3 evaluated by a cache (RFC 9111 §4.3.2): compare with Last-Modified, else the stored
 * Date, else the receive time. An invalid If-Modified-Since date is ignored (no 304).
 */
function notModifiedSince(meta: StoredMeta, value: string): boolean {
  const since = parseHttpDate(value);
  if (since === null) return false;
  const modified = parseHttpDate(meta.lastModified) ?? parseHttpDate(storedHeader(meta, "date")) ?? meta.responseTime;
  return modified <= since;
}

/**
 * RFC 9110 §15.4.5: the fields a 304 carries — those a 200 would have sent among Cache-Control,
 * Content-Location, Date, ETag, Expires and Vary, plus Last-Modified (useful to caches without an ETag)
 * — and Age (RFC 9111 §4, the response comes from cache).
 */
export function notModifiedHeaders(meta: StoredMeta, now: EpochMillis): Headers {
  const keep = new Set(["cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"]);
  const headers = new Headers();
  for (const [name, value] of meta.headers) if (keep.has(name)) headers.append(name, value);
  headers.set("age", String(currentAgeSeconds(meta, now)));
  return headers;
}
