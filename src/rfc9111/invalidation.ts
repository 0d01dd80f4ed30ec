/**
 * Owns invalidation after unsafe methods (RFC 9111 §4.4): which absolute URLs a response to an
 * unsafe request makes stale.
 */
import type { RequestLike, ResponseLike } from "./types";

/** RFC 9110 §9.2.1: the safe methods; every other (and any unknown) method counts as unsafe (§4.4). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * RFC 9111 §4.4: after a non-error (2xx/3xx) response to an unsafe method, the target URI must be
 * invalidated, and the URIs in Location and Content-Location may be — but never when their origin
 * differs from the target's. Absolute URLs, fragments dropped, deduplicated, target first.
 */
export function invalidationTargets(req: RequestLike, res: ResponseLike): string[] {
  if (SAFE_METHODS.has(req.method) || res.status < 200 || res.status > 399) return [];
  const target = absoluteUrl(req.url);
  if (target === null) return [];
  const out = [target.href];
  for (const field of ["location", "content-location"]) {
    const related = absoluteUrl(res.headers.get(field), target);
    if (related !== null && related.origin !== "null" && related.origin === target.origin && !out.includes(related.href)) out.push(related.href);
  }
  return out;
}

/** Resolves a (possibly relative) reference; unparseable or absent → null. */
function absoluteUrl(value: string | null, base?: URL): URL | null {
  if (value === null || value.trim() === "") return null;
  try {
    const url = new URL(value.trim(), base);
    url.hash = "";
    return url;
  } catch {
    return null;
  }
}
