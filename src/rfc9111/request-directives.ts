/**
 * Owns the request side of Cache-Control (RFC 9111 §5.2.1), including the legacy `Pragma: no-cache`.
 */
import { emptyCacheControl, parseCacheControl, type CacheControl } from "./cache-control";
import type { RequestLike } from "./types";

/**
 * A request's directives. Targeted fields (RFC 9213) are response-only, so only Cache-Control counts.
 * RFC 9111 §5.4 (and RFC 7234 §5.4 before it): `Pragma: no-cache` means `no-cache` only when the
 * request carries no Cache-Control field.
 */
export function requestCacheControl(req: RequestLike): CacheControl {
  const value = req.headers.get("cache-control");
  if (value !== null) return parseCacheControl(value);
  const cc = emptyCacheControl();
  const pragma = req.headers.get("pragma");
  if (pragma?.split(",").some((p) => p.trim().toLowerCase() === "no-cache")) cc.noCache = true;
  return cc;
}

/** RFC 9111 §5.2.1.7: the client wants a stored response or a 504, never a trip to the origin. */
export function isRequestOnlyIfCached(req: RequestLike): boolean {
  return requestCacheControl(req).onlyIfCached;
}

/** RFC 9111 §5.2.1.5: request no-store forbids storing the request and its response. */
export function requestForbidsStoring(req: RequestLike): boolean {
  return requestCacheControl(req).noStore;
}
