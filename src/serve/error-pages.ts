/**
 * Custom error pages: the configured body for a response the cache made itself (a 5xx for an origin
 * it could not reach, 503 for a pool with no working node, 429 from a rate class). Status and the
 * headers that matter (Retry-After, Cache-Control: no-store) are kept; only the body and its
 * Content-Type change, so clients and caches downstream see the same semantics as before.
 */
import type { Settings } from "../config/settings";

export type ErrorPageKey = "pool-down" | `${number}`;

/** The page for `key`, falling back from "pool-down" to the status; the response itself when none is configured. */
export function withErrorPage(response: Response, pages: Settings["errorPages"], key: "pool-down" | null): Response {
  const page = (key === null ? undefined : pages[key]) ?? pages[String(response.status)];
  if (page === undefined) return response;
  const headers = new Headers(response.headers);
  headers.set("content-type", page.contentType);
  headers.delete("content-length");
  void response.body?.cancel();
  return new Response(page.body, { status: response.status, statusText: response.statusText, headers });
}
