/**
 * Literal request/response builders and a fixed clock for the RFC 9111 unit tests.
 */
import { buildStoredMeta, canStore, type PolicyOverrides, type RequestLike, type ResponseLike, type StoredMeta, type StoreLimits } from "../../../src/rfc9111";

/** Fixed clock: Sun, 06 Nov 1994 08:49:37 GMT. */
export const T0 = Date.UTC(1994, 10, 6, 8, 49, 37);
export const HTTP_T0 = "Sun, 06 Nov 1994 08:49:37 GMT";
export const URL_A = "https://example.com/a";

/** IMF-fixdate `seconds` after T0 (negative = before). */
export function httpDate(seconds: number): string {
  return new Date(T0 + seconds * 1000).toUTCString();
}

export const LIMITS: StoreLimits = { maxObjectBytes: 1_000_000, maxVaryBytes: 256, maxHeuristicSeconds: 86_400, maxLifetimeSeconds: 2_147_483_648 };

export function req(headers: Record<string, string> = {}, method = "GET", url = URL_A): RequestLike {
  return { method, url, headers: new Headers(headers) };
}

export function res(status: number, headers: Record<string, string> = {}): ResponseLike {
  return { status, headers: new Headers(headers) };
}

export interface StoreOpts {
  request?: RequestLike;
  overrides?: PolicyOverrides;
  requestTime?: number;
  responseTime?: number;
  bodyBytes?: number;
  limits?: Partial<StoreLimits>;
}

/** canStore + buildStoredMeta as a cache would run them; fails the test when the response is refused. */
export function stored(response: ResponseLike, o: StoreOpts = {}): StoredMeta {
  const request = o.request ?? req();
  const base = { limits: { ...LIMITS, ...o.limits }, ...(o.overrides ? { overrides: o.overrides } : {}) };
  const verdict = canStore(request, response, { ...base, requestHasBody: false, contentLength: null });
  if (!verdict.store) throw new Error(`expected storable, got ${JSON.stringify(verdict.reason)}`);
  const timing = { requestTime: o.requestTime ?? T0, responseTime: o.responseTime ?? T0 };
  return buildStoredMeta(request, response, timing, verdict, { ...base, bodyBytes: o.bodyBytes ?? 100 });
}

/** A stored 200 with Date = T0 and the given extra headers. */
export function stored200(headers: Record<string, string>, o: StoreOpts = {}): StoredMeta {
  return stored(res(200, { date: HTTP_T0, ...headers }), o);
}

export const at = (seconds: number): number => T0 + seconds * 1000;
