/**
 * Header hygiene at the cluster's boundaries: internal X-Cluster-* fields that only shardcache may
 * set. (Hop-by-hop fields have their one list in src/rfc9111/headers.ts.)
 */

import { INTERNAL_FIELD_PREFIX } from "../rfc9111/stored-record";

export const INTERNAL_PREFIX = INTERNAL_FIELD_PREFIX;
/** A client may send internal headers (for debugging a live cluster) only together with this token header. */
export const CLUSTER_TOKEN_HEADER = "x-cluster-token";
export const TRACE_HEADER = "x-cluster-trace";
export const CACHE_INFO_HEADER = "x-cache-info";

function internalNames(headers: Headers): string[] {
  const names: string[] = [];
  for (const [name] of headers) if (name.startsWith(INTERNAL_PREFIX)) names.push(name);
  return names;
}

/**
 * Whether a client's field `name` (lower case, as `Headers` iterates names) stays behind at the edge:
 * every X-Cluster-* field unless the client carried the cluster token (`trusted`), and the token
 * itself always, so it never travels further. src/edge/request-fields.ts hides the same fields from
 * every reader at the edge.
 */
export function clientFieldStays(name: string, trusted: boolean): boolean {
  return name.startsWith(INTERNAL_PREFIX) && (!trusted || name === CLUSTER_TOKEN_HEADER);
}

/** `headers` without the client fields that stay behind (`clientFieldStays`); `headers` itself when there are none. */
export function withoutClientInternalHeaders(headers: Headers, trusted: boolean): Headers {
  const names = internalNames(headers).filter((name) => clientFieldStays(name, trusted));
  if (names.length === 0) return headers;
  const out = new Headers(headers);
  for (const name of names) out.delete(name);
  return out;
}

/** Removes internal fields before a response leaves the cluster or a request goes to the origin. */
export function withoutInternalHeaders(headers: Headers): Headers {
  const names = internalNames(headers);
  if (names.length === 0) return headers;
  const out = new Headers(headers);
  for (const name of names) out.delete(name);
  return out;
}

/** The product-targeted cache-control field (RFC 9213): consumed by the edge, never sent on to clients. */
export const TARGETED_CACHE_CONTROL = "shardcache-cache-control";
