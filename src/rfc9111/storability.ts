/**
 * Owns the storage decision of RFC 9111 §3 for this shared cache: `canStore` returns either a store
 * verdict (with always-revalidate and the fields to strip) or the first reason the response is refused.
 */
import type { EpochMillis } from "../lib/units";
import { cacheControlSource, directiveHeaderText, effectiveCacheControl, parseFieldNames, type CacheControl, type CacheControlSource } from "./cache-control";
import { parseAgeValue, parseDeltaSeconds, parseHttpDate } from "./dates";
import { HEURISTICALLY_CACHEABLE, freshnessLifetime, hasExplicitFreshness, type Lifetime } from "./freshness";
import { storablePartial } from "./partial";
import { requestForbidsStoring } from "./request-directives";
import { staleWindows, validSeconds } from "./stale";
import type { NotStorableReason, PolicyOverrides, RequestLike, ResponseLike, StoreLimits, StoreVerdict } from "./types";
import { parseVary, varyBytes } from "./vary";

export interface CanStoreOptions {
  limits: StoreLimits;
  overrides?: PolicyOverrides;
  requestHasBody: boolean;
  /** Body length when known up front (Content-Length); null when it streams without one. */
  contentLength: number | null;
  /**
   * Receive time, used as date_value when the response has no valid Date (RFC 9110 §6.6.1). Without
   * it (and without Date) an Expires in the past cannot be told apart and is trusted; the entry is
   * then simply stale once `buildStoredMeta` computes with the real receive time.
   */
  now?: EpochMillis;
}

/** Everything the checks read, computed once. */
interface Ctx {
  req: RequestLike;
  res: ResponseLike;
  opts: CanStoreOptions;
  cc: CacheControl;
  source: CacheControlSource;
  date: EpochMillis;
}

/**
 * What may lift a check: nothing, a rule's forced TTL (freshness checks only: the TTL replaces the
 * origin's lifetime), or one explicit, dangerous override named after the check it lifts. A forced
 * TTL never lifts a shared-cache safety check (§3.5 Authorization, private, no-store, Set-Cookie):
 * a rule that caches /static/** must not turn one user's private answer into everyone's.
 */
type Lift = null | "forcedTtl" | "storeAuthorized" | "ignorePrivate" | "ignoreNoStore";

/** A check returns the reason it refuses, or null; it is skipped when the override `liftedBy` names is on. */
interface Check {
  liftedBy: Lift;
  refuse: (ctx: Ctx) => NotStorableReason | null;
}

function lifted(lift: Lift, overrides: PolicyOverrides | undefined): boolean {
  switch (lift) {
    case null:
      return false;
    case "forcedTtl":
      return forcedTtlSeconds(overrides) !== null;
    default:
      return overrides?.[lift] === true;
  }
}

/** Statuses this cache understands (RFC 9110 §15), for must-understand (RFC 9111 §5.2.2.3). */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
]);

/** RFC 9111 §3, in the order the reasons are reported. */
const CHECKS: readonly Check[] = [
  // §3: the request method must be understood and cacheable; only GET/HEAD are served from cache.
  { liftedBy: null, refuse: ({ req }) => (req.method === "GET" || req.method === "HEAD" ? null : { code: "method", method: req.method }) },
  // deviation: a GET/HEAD with a body is not stored (its response may depend on content the key lacks).
  { liftedBy: null, refuse: ({ opts }) => (opts.requestHasBody ? { code: "request-body" } : null) },
  // §5.2.1.5 request no-store: the client asked; no rule overrides it.
  { liftedBy: null, refuse: ({ req }) => (requestForbidsStoring(req) ? { code: "request-no-store" } : null) },
  // A response rule's `cache: false` (src/rules/response-rules.ts): the operator's refusal, after the client's.
  { liftedBy: null, refuse: ({ opts }) => (opts.overrides?.refusedByRule === undefined ? null : { code: "rule", rule: opts.overrides.refusedByRule }) },
  // §3.3: a 206 is stored as an incomplete response when its Content-Range names one byte range
  // (src/rfc9111/partial.ts); 1xx/304 are not final, storable responses.
  { liftedBy: null, refuse: ({ res }) => (res.status === 206 && !storablePartial(res.headers) ? { code: "partial-content" } : null) },
  { liftedBy: null, refuse: ({ res }) => (res.status < 200 || res.status === 304 || res.status > 599 ? { code: "status", status: res.status } : null) },
  // §5.2.2.3 must-understand: store only a status code we understand.
  { liftedBy: null, refuse: ({ cc, res }) => (cc.mustUnderstand && !UNDERSTOOD.has(res.status) ? { code: "status", status: res.status } : null) },
  { liftedBy: null, refuse: tooLarge },
  { liftedBy: null, refuse: varyRefusal },
  { liftedBy: "ignoreNoStore", refuse: responseNoStore },
  // §5.2.2.7: unqualified private forbids a shared cache from storing.
  { liftedBy: "ignorePrivate", refuse: ({ cc, source }) => (cc.private ? { code: "response-private", header: directiveHeaderText(source, cc, "private", isUnqualified) } : null) },
  // Lifted only by storeSetCookie "strip" / "keep" (inside the check).
  { liftedBy: null, refuse: setsCookie },
  { liftedBy: "storeAuthorized", refuse: authorization },
  { liftedBy: "forcedTtl", refuse: explicitFreshnessNeeded },
  { liftedBy: "forcedTtl", refuse: freshnessOrValidator },
];

/** RFC 9111 §3: may this response be stored, and how. */
export function canStore(req: RequestLike, res: ResponseLike, opts: CanStoreOptions): StoreVerdict {
  const source = cacheControlSource(res.headers);
  const cc = effectiveCacheControl(res.headers);
  const date = parseHttpDate(res.headers.get("date")) ?? opts.now ?? Number.NEGATIVE_INFINITY;
  const ctx: Ctx = { req, res, opts, cc, source, date };
  const forced = forcedTtlSeconds(opts.overrides) !== null;
  for (const check of CHECKS) {
    if (lifted(check.liftedBy, opts.overrides)) continue;
    const reason = check.refuse(ctx);
    if (reason !== null) return { store: false, reason };
  }
  const cookieMode = opts.overrides?.storeSetCookie ?? "off";
  const stripCookie = res.headers.has("set-cookie") && cookieMode === "strip";
  const strippedFields = [...new Set([...cc.noCacheFields, ...cc.privateFields, ...(stripCookie ? ["set-cookie"] : [])])];
  if (forced) return { store: true, reason: "forced", alwaysRevalidate: false, strippedFields };
  // §5.2.2.4 unqualified no-cache: store, but validate before every reuse.
  return { store: true, reason: "cached", alwaysRevalidate: cc.noCache, strippedFields };
}

/** A rule's forced lifetime, whole seconds; absent, negative or non-finite → null (not forced). */
export function forcedTtlSeconds(overrides: PolicyOverrides | undefined): number | null {
  return validSeconds(overrides?.forcedTtlSeconds);
}

function isUnqualified(d: { value: string | null }): boolean {
  return d.value === null || parseFieldNames(d.value).length === 0;
}

function tooLarge({ opts }: Ctx): NotStorableReason | null {
  const bytes = opts.contentLength;
  return bytes !== null && bytes > opts.limits.maxObjectBytes ? { code: "too-large", bytes } : null;
}

/**
 * deviation: RFC 9111 lets a shared cache store a response with Set-Cookie (§3 lists no such condition;
 * §7.3 / RFC 6265 §3 only warn about it); shardcache does not by default (Varnish's default too), because
 * the stored copy would hand one client's cookie to every other client. The origin can still ask for it
 * with `no-cache="Set-Cookie"` / `private="Set-Cookie"` (stored without the field), a rule can remove the
 * field, and `storeSetCookie` ("strip" | "keep", setting or rule action) restores the RFC's
 * default where the operator knows it is safe.
 */
function setsCookie({ res, cc, opts }: Ctx): NotStorableReason | null {
  if (!res.headers.has("set-cookie")) return null;
  const mode = opts.overrides?.storeSetCookie ?? "off";
  if (mode === "strip" || mode === "keep") return null;
  const strips = [...cc.noCacheFields, ...cc.privateFields].some((field) => field.toLowerCase() === "set-cookie");
  return strips ? null : { code: "set-cookie" };
}

/** §4.1: `Vary: *` can never be matched; huge selecting values are not worth a variant. */
function varyRefusal({ req, res, opts }: Ctx): NotStorableReason | null {
  const names = parseVary(res.headers.get("vary"));
  if (names.includes("*")) return { code: "vary-star" };
  const bytes = varyBytes(names, req.headers);
  return bytes > opts.limits.maxVaryBytes ? { code: "vary-too-large", bytes } : null;
}

/** §5.2.2.5 no-store; §5.2.2.3: with must-understand and an understood status, no-store is ignored. */
function responseNoStore({ cc, source, res }: Ctx): NotStorableReason | null {
  if (!cc.noStore || (cc.mustUnderstand && UNDERSTOOD.has(res.status))) return null;
  return { code: "response-no-store", header: directiveHeaderText(source, cc, "no-store") };
}

/** §3.5: a request with Authorization needs public, s-maxage or must-revalidate in the response. */
function authorization({ req, cc }: Ctx): NotStorableReason | null {
  if (!req.headers.has("authorization")) return null;
  return cc.public || cc.sMaxage !== null || cc.mustRevalidate ? null : { code: "authorization" };
}

/**
 * §3: without explicit freshness a response is storable only for heuristically cacheable statuses
 * (RFC 9110 §15.1) or when marked public; 302/307 get their own reason.
 */
function explicitFreshnessNeeded({ cc, res, source }: Ctx): NotStorableReason | null {
  if (hasExplicitFreshness({ cc, headers: res.headers, source })) return null;
  if (res.status === 302 || res.status === 307) return { code: "redirect-without-freshness", status: res.status };
  return HEURISTICALLY_CACHEABLE.has(res.status) || cc.public ? null : { code: "status", status: res.status };
}

/**
 * A response that is never fresh and cannot be validated can never be reused: refuse it.
 * deviation (policy, not RFC): such responses are storable per §3, but we refuse them, except when a
 * stale-while-revalidate / stale-if-error window gives them a use (e.g. `max-age=0, stale-while-revalidate=60`).
 */
function freshnessOrValidator(ctx: Ctx): NotStorableReason | null {
  const { res, cc, source } = ctx;
  if (res.headers.has("etag") || res.headers.has("last-modified")) return null;
  const lifetime = freshnessLifetime({ status: res.status, headers: res.headers, cc, source, date: ctx.date, maxHeuristicSeconds: ctx.opts.limits.maxHeuristicSeconds });
  if (lifetime.source === "none") return { code: "no-freshness-no-validator" };
  const windows = staleWindows(cc, ctx.opts.overrides, cc.noCache || cc.mustRevalidate || cc.proxyRevalidate);
  if (windows.staleWhileRevalidateSeconds > 0 || windows.staleIfErrorSeconds > 0) return null;
  return expiredOnArrival(ctx, lifetime);
}

/** Zero lifetime from max-age / s-maxage (incl. invalid values), an Expires in the past, or an Age beyond the lifetime. */
function expiredOnArrival({ res, cc, source }: Ctx, lifetime: Lifetime): NotStorableReason | null {
  if (lifetime.seconds === 0 && (lifetime.source === "s-maxage" || lifetime.source === "max-age")) {
    const isZero = (d: { value: string | null }) => (d.value === null ? 0 : (parseDeltaSeconds(d.value) ?? 0)) === 0;
    return { code: "max-age-zero-no-validator", header: directiveHeaderText(source, cc, lifetime.source, isZero) };
  }
  if (lifetime.seconds === 0) return { code: "already-expired" }; // §5.3: Expires in the past, or invalid
  const age = parseAgeValue(res.headers.get("age"));
  return age !== null && age >= lifetime.seconds ? { code: "already-expired" } : null;
}

/**
 * RFC 9110 §9.3.3: "Responses to POST requests are only cacheable when they include explicit freshness
 * information (see Section 4.2.1 of [CACHING]) and a Content-Location header field that has the same value
 * as the POST's target URI", and such a cached response "can be reused to satisfy a later GET or HEAD
 * request". RFC 9111 §4 reuses a stored response only for its own target URI, so it is stored as the GET
 * of that URI. Returns that GET (the POST's header fields kept, for Vary; no body), or null. The caller
 * then runs `canStore` on it like on any GET (no-store, private, Authorization, Set-Cookie still refuse).
 * Heuristic freshness does not count (it is not "explicit"); fragments are not part of the comparison.
 */
export function postResponseStorableAsGet<R extends RequestLike>(req: R, res: ResponseLike): (RequestLike & { headers: R["headers"] }) | null {
  if (req.method !== "POST") return null;
  const location = res.headers.get("content-location");
  if (location === null || !sameTargetUri(location, req.url)) return null;
  const source = cacheControlSource(res.headers);
  if (!hasExplicitFreshness({ cc: effectiveCacheControl(res.headers), headers: res.headers, source })) return null;
  return { method: "GET", url: req.url, headers: req.headers };
}

/** Content-Location (possibly relative, RFC 9110 §8.7) resolved against the target URI equals it. */
function sameTargetUri(reference: string, target: string): boolean {
  try {
    const resolved = new URL(reference.trim(), target);
    const base = new URL(target);
    resolved.hash = "";
    base.hash = "";
    return resolved.href === base.href;
  } catch {
    return false;
  }
}
