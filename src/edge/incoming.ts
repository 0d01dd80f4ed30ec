/**
 * The request as every later step sees it: its target in the one normal form (src/lib/request-target.ts),
 * and no body on GET or HEAD. Built once per request, before the admin check and the edge path, so
 * rules, rate contexts, the admin prefix, the cache key and the origin all read the same request.
 */
import { normaliseRequestUrl } from "../lib/request-target";

/** Framing fields that describe a body; they go with it. */
const BODY_FIELDS = ["content-length", "transfer-encoding"];

/**
 * RFC 9110 §9.3.1: content in a GET (or HEAD) has no generally defined semantics. shardcache drops it
 * and serves the request like any other GET, through the cache: a body must not let a client bypass
 * caching and coalescing (the cache key could never include it anyway).
 */
function hasDroppableBody(request: Request): boolean {
  return (request.method === "GET" || request.method === "HEAD") && (request.body !== null || BODY_FIELDS.some((name) => request.headers.has(name)));
}

/** `request` with a normalised target and without a GET/HEAD body; `request` itself when nothing changes. */
export function normaliseIncoming(request: Request): Request {
  const url = normaliseRequestUrl(request.url);
  const dropBody = hasDroppableBody(request);
  if (!dropBody) return url === request.url ? request : new Request(url, request);
  void request.body?.cancel().catch(() => {});
  const headers = new Headers(request.headers);
  for (const name of BODY_FIELDS) headers.delete(name);
  return new Request(url, { method: request.method, headers, redirect: request.redirect });
}
