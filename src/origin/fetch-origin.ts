/**
 * Fetching from an origin: builds the forwarded request (hop-by-hop and internal fields removed,
 * redirects passed back rather than followed; the edge has already written the forwarding fields,
 * src/edge/forwarding.ts) and bounds the wait for response headers.
 * Failures come back as values, because a dead origin is an expected event, not a bug.
 */
import { err, ok, type Result } from "../lib/result";
import type { Millis } from "../lib/units";
import { watchBody } from "./watched-body";
import { withoutHopByHop } from "../rfc9111/headers";
import { withoutInternalHeaders } from "../serve/internal-headers";
import { finalAfterInterim, isInterim, OriginFramingError } from "./interim";

export type OriginFailure =
  | { kind: "timeout"; afterMs: Millis }
  | { kind: "network"; message: string }
  /** Every node of the pool is down, draining or disabled: nothing was sent. */
  | { kind: "pool-down"; pool: string; retryAfterSeconds: number }
  /** The origin answered with something no Response can carry (a status outside 200–599): one fetch, never retried. */
  | { kind: "invalid"; reason: string };

export interface OriginRequestOptions {
  /** Base URL of the origin; the client's path and query are appended. */
  origin: string;
  /** Time allowed until response headers arrive. */
  firstByteTimeoutMs: Millis;
  /** Method to use instead of the client's (a HEAD miss is fetched as GET so it can be stored). */
  method?: string;
  /** Fields to add or replace (conditional revalidation headers). */
  setHeaders?: Headers;
  /** Fields to remove (Range and conditionals when the cache fetches the full object). */
  removeHeaders?: readonly string[];
  /** Forward the client's body (pass-through of unsafe methods). */
  forwardBody?: boolean;
}

/** The URL the origin sees: the origin's scheme, host and base path, then the client's path and query. */
export function originUrlFor(clientUrl: URL, origin: string): URL {
  const base = new URL(origin);
  const basePath = base.pathname.endsWith("/") ? base.pathname.slice(0, -1) : base.pathname;
  return new URL(`${base.protocol}//${base.host}${basePath}${clientUrl.pathname}${clientUrl.search}`);
}

export function buildOriginRequest(request: Request, opts: OriginRequestOptions): Request {
  const clientUrl = new URL(request.url);
  const headers = withoutInternalHeaders(withoutHopByHop(request.headers));
  for (const name of opts.removeHeaders ?? []) headers.delete(name);
  opts.setHeaders?.forEach((value, name) => headers.set(name, value));
  const method = opts.method ?? request.method;
  const withBody = opts.forwardBody === true && method !== "GET" && method !== "HEAD";
  return new Request(originUrlFor(clientUrl, opts.origin), {
    method,
    headers,
    body: withBody ? request.body : null,
    redirect: "manual",
  });
}

/**
 * The origin's response without the cluster's internal fields: an origin (or a client, through an
 * origin that reflects input into headers) must not be able to set a field the cluster gives a
 * meaning to, so none of them is ever stored, forwarded or answered.
 */
export function withoutOriginInternalFields(response: Response): Response {
  const headers = withoutInternalHeaders(response.headers);
  if (headers === response.headers) return response;
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Sends `originRequest`, giving up if no response headers arrive within the timeout; with
 * `bodyIdleMs`, the body then errors if it stalls that long (src/origin/watched-body.ts). Every
 * origin response of the cluster comes through here, cleaned of internal fields.
 */
export async function fetchOrigin(originRequest: Request, firstByteTimeoutMs: Millis, opts: { bodyIdleMs?: Millis } = {}): Promise<Result<Response, OriginFailure>> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), firstByteTimeoutMs);
  try {
    const response = await fetch(originRequest, { signal: abort.signal });
    // RFC 9110 §15.2: a 1xx is not the answer; workerd hands it over with the rest of the exchange as its body.
    const final = isInterim(response.status) ? await finalAfterInterim(response, originRequest.method) : response;
    // A 101 to a request that asked to upgrade (a WebSocket handshake, passed by the edge) carries the socket: it goes back as it came.
    if (final.status === 101 && originRequest.headers.has("upgrade")) return ok(withoutOriginInternalFields(final));
    const problem = unrepresentable(final);
    // Checked before anything re-wraps the response (that would throw on such a status).
    if (problem === null) return ok(withIdleTimeout(withoutOriginInternalFields(final), opts.bodyIdleMs));
    void final.body?.cancel().catch(() => {});
    return err({ kind: "invalid", reason: problem });
  } catch (error) {
    if (abort.signal.aborted) return err({ kind: "timeout", afterMs: firstByteTimeoutMs });
    if (error instanceof OriginFramingError) return err({ kind: "network", message: `invalid response after an interim response: ${error.message}` });
    return err({ kind: "network", message: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(timer);
  }
}

function withIdleTimeout(response: Response, idleMs: Millis | undefined): Response {
  return idleMs === undefined || response.body === null ? response : watchBody(response, () => {}, { idleMs });
}

/**
 * What the rest of the cache cannot pass on: `new Response()` accepts only 200–599 (the runtime
 * consumes 1xx itself), so such a status would throw wherever the response is re-wrapped. Caught
 * here, once, the shard answers 502 with the reason instead of throwing and making the edge retry
 * (and refetch) on every fallback shard.
 */
export function unrepresentable(response: { status: number }): string | null {
  return Number.isInteger(response.status) && response.status >= 200 && response.status <= 599 ? null : `status ${response.status} is outside 200-599`;
}
