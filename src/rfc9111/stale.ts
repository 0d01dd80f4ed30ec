/**
 * Owns serving stale responses (RFC 9111 §4.2.4, RFC 5861): the stale-while-revalidate and
 * stale-if-error windows fixed at store time, and whether a stale entry may answer when the origin fails.
 */
import type { EpochMillis, Seconds } from "../lib/units";
import { currentAgeMillis } from "./age";
import type { CacheControl } from "./cache-control";
import { MAX_DELTA_SECONDS } from "./dates";
import { isFresh } from "./freshness";
import { requestCacheControl } from "./request-directives";
import type { PolicyOverrides, RequestLike, StoredMeta } from "./types";

export interface StaleWindows {
  staleWhileRevalidateSeconds: Seconds;
  staleIfErrorSeconds: Seconds;
}

/**
 * RFC 5861 §3/§4 windows: the response's own directive, else the rule override, else none.
 * RFC 9111 §4.2.4: a stale response must not be served when no-cache, must-revalidate or
 * proxy-revalidate forbids it (`suppressed`), so the windows are then empty.
 * deviation: s-maxage alone (which implies proxy-revalidate, §5.2.2.10) does NOT suppress the windows:
 * `s-maxage=N, stale-while-revalidate=M` is the common CDN idiom and its explicit grant wins.
 */
export function staleWindows(cc: CacheControl, overrides: PolicyOverrides | undefined, suppressed: boolean): StaleWindows {
  if (suppressed) return { staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 };
  return {
    staleWhileRevalidateSeconds: cc.staleWhileRevalidate ?? validSeconds(overrides?.staleWhileRevalidateSeconds) ?? 0,
    staleIfErrorSeconds: cc.staleIfError ?? validSeconds(overrides?.staleIfErrorSeconds) ?? 0,
  };
}

/** A rule-supplied duration, floored to whole seconds; a negative or non-finite one counts as absent. */
export function validSeconds(value: Seconds | undefined): Seconds | null {
  if (value === undefined || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.floor(value), MAX_DELTA_SECONDS);
}

/** True while `now` is inside a non-empty window that starts at staleAt and ends at `until` (inclusive). */
export function withinWindow(meta: Pick<StoredMeta, "staleAt">, until: EpochMillis, now: EpochMillis): boolean {
  return until > meta.staleAt && now <= until;
}

/**
 * RFC 5861 §4: after an origin error (5xx or no answer) a stored response may still be used when it is
 * fresh, inside the response's (or rule's) stale-if-error window, or within the request's
 * `stale-if-error=N`. Never for no-cache responses, and the request form never overrides
 * must-revalidate / proxy-revalidate / s-maxage (RFC 9111 §4.2.4).
 */
export function canServeStaleOnError(meta: StoredMeta, req: RequestLike, now: EpochMillis): boolean {
  if (meta.alwaysRevalidate) return false;
  if (isFresh(meta, now) || withinWindow(meta, meta.staleIfErrorUntil, now)) return true;
  if (meta.mustRevalidate) return false;
  const requested = requestCacheControl(req).staleIfError;
  if (requested === null) return false;
  const stalenessMillis = currentAgeMillis(meta, now) - meta.freshnessLifetimeSeconds * 1000;
  return stalenessMillis <= requested * 1000;
}

/** Why a stored response may answer for an origin that failed; `serve: false` when it may not. */
export type StaleOnFailureVerdict = { serve: true; why: "fresh" | "stale-if-error" | "grace" } | { serve: false };

/**
 * Grace (Varnish's name; RFC 9111 §4.2.4 "disconnected" operation): when the origin is unreachable,
 * times out, resets or answers 5xx, a stale stored response may still answer for `graceSeconds`
 * after it went stale, so a short origin outage is invisible to clients. Never for responses that
 * forbid serving stale: no-cache (`alwaysRevalidate`), must-revalidate, proxy-revalidate and
 * s-maxage (which implies proxy-revalidate for a shared cache, §5.2.2.10) — all `mustRevalidate`
 * in the stored meta. A rule-forced TTL clears those flags (the operator overrode the response).
 *
 * Order: fresh first, then the explicit RFC 5861 stale-if-error grants (response, rule or request),
 * then grace. The refresh logic (issue #13) builds on this: a response inside grace is usable but due.
 */
export function staleOnOriginFailure(meta: StoredMeta, req: RequestLike, now: EpochMillis, graceSeconds: Seconds): StaleOnFailureVerdict {
  if (meta.alwaysRevalidate) return { serve: false };
  if (isFresh(meta, now)) return { serve: true, why: "fresh" };
  if (canServeStaleOnError(meta, req, now)) return { serve: true, why: "stale-if-error" };
  if (withinGrace(meta, now, graceSeconds)) return { serve: true, why: "grace" };
  return { serve: false };
}

/** True while a stale response may still be served for a failed origin under grace alone. */
export function withinGrace(meta: Pick<StoredMeta, "staleAt" | "alwaysRevalidate" | "mustRevalidate">, now: EpochMillis, graceSeconds: Seconds): boolean {
  if (meta.alwaysRevalidate || meta.mustRevalidate) return false;
  const grace = validSeconds(graceSeconds) ?? 0;
  return now <= meta.staleAt + grace * 1000;
}
