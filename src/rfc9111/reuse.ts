/**
 * Owns the reuse decision of RFC 9111 §4 for a stored response that already matched the request
 * (URI and Vary): serve it fresh, serve it stale (RFC 5861 / max-stale), or revalidate, with the reason.
 *
 * RFC 8246 immutable only tells clients they need not revalidate a fresh response; a shared cache
 * still honours a request's no-cache / max-age=0 (e.g. a browser reload), so `immutable` changes
 * nothing here by design.
 */
import type { EpochMillis, Millis } from "../lib/units";
import { currentAgeMillis, currentAgeSeconds } from "./age";
import type { CacheControl } from "./cache-control";
import { remainingFreshnessSeconds } from "./freshness";
import { requestCacheControl } from "./request-directives";
import { withinWindow } from "./stale";
import type { RequestLike, ReuseDecision, RevalidateReason, StoredMeta } from "./types";

type Timing = { ageSeconds: number; ttlSeconds: number };

/** RFC 9111 §4.2 + §5.2.1 + RFC 5861 §3: what to do with `meta` for `req` at `now`. */
export function evaluateReuse(meta: StoredMeta, req: RequestLike, now: EpochMillis): ReuseDecision {
  const cc = requestCacheControl(req);
  const ageMillis = currentAgeMillis(meta, now);
  const timing: Timing = { ageSeconds: currentAgeSeconds(meta, now), ttlSeconds: remainingFreshnessSeconds(meta, now) };
  const demanded = revalidationDemanded(meta, cc, ageMillis);
  if (demanded !== null) return { kind: "revalidate", reason: demanded, ...timing };
  if (ageMillis < meta.freshnessLifetimeSeconds * 1000) return { kind: "fresh", ...timing };
  return staleDecision(meta, cc, now, ageMillis, timing);
}

/** Reasons to contact the origin that hold whether or not the response is still fresh. */
function revalidationDemanded(meta: StoredMeta, cc: CacheControl, ageMillis: Millis): RevalidateReason | null {
  // §5.2.2.4: response no-cache → validate before every reuse.
  if (meta.alwaysRevalidate) return "no-cache-response";
  // §5.2.1.4: request no-cache (or Pragma: no-cache without Cache-Control, §5.4).
  if (cc.noCache) return "no-cache-request";
  // §5.2.1.1: the client does not want a response older than max-age.
  if (cc.maxAge !== null && ageMillis > cc.maxAge * 1000) return "request-max-age";
  // §5.2.1.3: the client wants it to stay fresh for at least min-fresh more seconds (a stale one never does).
  if (cc.minFresh !== null && meta.freshnessLifetimeSeconds * 1000 - ageMillis < cc.minFresh * 1000) return "request-min-fresh";
  return null;
}

/**
 * A stale response: RFC 5861 §3 stale-while-revalidate window first (it refreshes the entry), then the
 * request's max-stale (§5.2.1.2) unless must-revalidate / proxy-revalidate / s-maxage forbid it (§4.2.4).
 */
function staleDecision(meta: StoredMeta, cc: CacheControl, now: EpochMillis, ageMillis: Millis, timing: Timing): ReuseDecision {
  if (withinWindow(meta, meta.staleWhileRevalidateUntil, now)) return { kind: "stale-while-revalidate", ...timing };
  const stalenessMillis = ageMillis - meta.freshnessLifetimeSeconds * 1000;
  if (cc.maxStale !== null && !meta.mustRevalidate && stalenessMillis <= cc.maxStale * 1000) return { kind: "stale-allowed", ...timing };
  return { kind: "revalidate", reason: meta.mustRevalidate ? "must-revalidate" : "stale", ...timing };
}

/**
 * RFC 9211 §2.2: why a stored response that matched was not used. `request` when the stored response
 * was fresh but the request's directives (no-cache, max-age, min-fresh) refused it, else `stale`.
 */
export function forwardReasonFor(decision: ReuseDecision): "request" | "stale" {
  if (decision.kind !== "revalidate") return "stale";
  const byRequest = decision.reason === "no-cache-request" || decision.reason === "request-max-age" || decision.reason === "request-min-fresh";
  return byRequest && decision.ttlSeconds > 0 ? "request" : "stale";
}
