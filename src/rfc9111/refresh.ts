/**
 * Refresh time and refresh-ahead: two permissions an operator grants beyond what a response says,
 * decided here, beside the RFC 9111 reuse decision they extend.
 *
 * Refresh time (Stingray's `refresh_time`): once a stored response is stale, it may still answer for
 * `refreshTimeSeconds` while ONE request at a time refreshes it in the background, so no client waits
 * on the origin at expiry and the origin sees at most one request per object per refresh time.
 * Serving stale this way is the out-of-band permission of RFC 9111 §4.2.4 ("a cache MUST NOT generate
 * a stale response unless ... permitted by an explicit configuration"), so it is off by default and
 * never applies where the response forbids stale: no-cache (`alwaysRevalidate`), must-revalidate,
 * proxy-revalidate and s-maxage (all `mustRevalidate` in the stored meta, §5.2.2.10). It also never
 * overrides the request's own refusals (no-cache, max-age, min-fresh): only plain staleness qualifies.
 *
 * Refresh-ahead: a fresh response requested during the last `refreshAheadRatio` of its lifetime is
 * served as it is and revalidated in the background, so a hot object is refreshed before it expires.
 * Revalidating early is always allowed; it costs the origin one request per lifetime at most.
 */
import type { EpochMillis, Seconds } from "../lib/units";
import { currentAgeMillis } from "./age";
import type { ReuseDecision, StoredMeta } from "./types";

export interface RefreshPolicy {
  /** Seconds a stale object may answer while it is refreshed in the background; 0 = off. */
  refreshTimeSeconds: Seconds;
  /** Fraction (0 ≤ r < 1) of the lifetime, at its end, in which a request refreshes the object ahead; 0 = off. */
  refreshAheadRatio: number;
}

export type RefreshDecision =
  /** Nothing to add: the RFC 9111 decision stands. */
  | { kind: "none" }
  /** Fresh, in the last part of its lifetime: serve it and revalidate in the background. */
  | { kind: "refresh-ahead" }
  /** Stale within the refresh time: serve it; start a background refresh only when `refresh`. */
  | { kind: "refresh-time"; refresh: boolean };

/**
 * What refresh time / refresh-ahead add to `decision` (from `evaluateReuse(meta, req, now)`).
 * `lastRefreshAt` is when this cache last started a background refresh of the object (null: not
 * since it started), which bounds refreshes to one per refresh time, and one ahead per lifetime. The
 * first stale request after a plain fetch refreshes at once; later ones wait out the refresh time.
 */
export function refreshDecision(meta: StoredMeta, decision: ReuseDecision, now: EpochMillis, policy: RefreshPolicy, lastRefreshAt: EpochMillis | null): RefreshDecision {
  if (decision.kind === "fresh") return refreshAhead(meta, now, policy.refreshAheadRatio, lastRefreshAt);
  // `evaluateReuse` says plain "stale" only when nothing forbids serving stale: no-cache, must-revalidate,
  // proxy-revalidate and s-maxage have reasons of their own, as do the request's no-cache / max-age / min-fresh.
  if (decision.kind !== "revalidate" || decision.reason !== "stale") return { kind: "none" };
  const refreshMillis = wholeSeconds(policy.refreshTimeSeconds) * 1000;
  if (refreshMillis === 0 || now - meta.staleAt > refreshMillis) return { kind: "none" };
  return { kind: "refresh-time", refresh: lastRefreshAt === null || now - lastRefreshAt >= refreshMillis };
}

function refreshAhead(meta: StoredMeta, now: EpochMillis, ratio: number, lastRefreshAt: EpochMillis | null): RefreshDecision {
  if (!(ratio > 0 && ratio < 1) || meta.freshnessLifetimeSeconds <= 0) return { kind: "none" };
  const lifetimeMillis = meta.freshnessLifetimeSeconds * 1000;
  if (currentAgeMillis(meta, now) < (1 - ratio) * lifetimeMillis) return { kind: "none" };
  // A refresh started after this copy's own request is under way (or just failed): one per lifetime.
  if (lastRefreshAt !== null && lastRefreshAt > meta.requestTime) return { kind: "none" };
  return { kind: "refresh-ahead" };
}

/** Until when the edge tier may keep a copy: with refresh-ahead, only until the refresh-ahead part begins, so those requests reach the shard. */
export function refreshAheadStartsAt(meta: Pick<StoredMeta, "staleAt" | "freshnessLifetimeSeconds">, ratio: number): EpochMillis {
  if (!(ratio > 0 && ratio < 1)) return meta.staleAt;
  return meta.staleAt - ratio * meta.freshnessLifetimeSeconds * 1000;
}

function wholeSeconds(value: Seconds): Seconds {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
