/**
 * The request as every later step sees it: its target in the one normal form (src/lib/request-target.ts),
 * no body on GET or HEAD, and no X-Cluster-* field a client may not send. Built once per request,
 * before the admin check and the edge path, so rules, rate contexts, the admin prefix, the cache key,
 * the shards and the origin all read the same request. One pass over the field names finds both the
 * body framing and the internal fields (issue 15: this runs on every hit).
 */
import { normaliseRequestUrl } from "../lib/request-target";
import { INTERNAL_PREFIX, stripClientInternalHeaders } from "../serve/internal-headers";

/** Framing fields that describe a body; they go with it. */
const BODY_FIELDS = ["content-length", "transfer-encoding"];

/**
 * `request` with a normalised target, without a GET/HEAD body, and without the client's X-Cluster-*
 * fields unless it carried `clusterToken` (none given: no client is trusted; src/serve/internal-headers.ts); `request` itself when
 * nothing changes.
 *
 * RFC 9110 §9.3.1: content in a GET (or HEAD) has no generally defined semantics. shardcache drops it
 * and serves the request like any other GET, through the cache: a body must not let a client bypass
 * caching and coalescing (the cache key could never include it anyway).
 */
export function normaliseIncoming(request: Request, clusterToken?: string): Request {
  const url = normaliseRequestUrl(request.url);
  const headers = request.headers;
  let internal: string[] | null = null;
  let framing = false;
  for (const name of headers.keys()) {
    if (name.startsWith(INTERNAL_PREFIX)) (internal ??= []).push(name);
    else if (name === "content-length" || name === "transfer-encoding") framing = true;
  }
  const { method } = request;
  const dropBody = (method === "GET" || method === "HEAD") && (framing || request.body !== null);
  const cleaned = internal === null ? headers : stripClientInternalHeaders(headers, clusterToken, internal);
  if (dropBody) {
    void request.body?.cancel().catch(() => {});
    const bodiless = new Headers(cleaned);
    for (const name of BODY_FIELDS) bodiless.delete(name);
    return new Request(url, { method, headers: bodiless, redirect: request.redirect });
  }
  const target = url === request.url ? request : new Request(url, request);
  return cleaned === headers ? target : new Request(target, { headers: cleaned });
}
