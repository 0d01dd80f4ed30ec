/**
 * Owns the exact human text of X-Cache-Info: one line per storage refusal (`reasonText`) and per
 * cache outcome (`cacheInfo`), in the wording traffic-manager users know ("cached", "caching",
 * `not cacheable; …`).
 */
import type { NotStorableReason } from "./types";

/** Everything X-Cache-Info can report about one request. */
export type CacheInfo =
  /** Served fresh from cache. */
  | { kind: "hit" }
  /** Fetched from the origin and being stored. */
  | { kind: "stored" }
  /** Fetched from the origin and not stored, with the reason. */
  | { kind: "not-stored"; reason: NotStorableReason }
  /** Stale served while one background request revalidates it (RFC 5861 §3). */
  | { kind: "stale-while-revalidate" }
  /** Stale served within the operator's refresh time while one request refreshes it (RFC 9111 §4.2.4 permission). */
  | { kind: "refresh-time" }
  /** Fresh, served while a background request refreshes it ahead of expiry. */
  | { kind: "refresh-ahead" }
  /** Stale served because the request's max-stale accepts it (RFC 9111 §5.2.1.2). */
  | { kind: "stale-allowed" }
  /** Stale served because the origin failed (RFC 5861 §4). */
  | { kind: "stale-if-error" }
  /** Stale served because the origin failed, within `settings.graceSeconds` (RFC 9111 §4.2.4 disconnected). */
  | { kind: "grace" }
  /** Stored response validated by the origin with 304 and served (RFC 9111 §4.3.4). */
  | { kind: "revalidated" }
  /** Answered from another request's origin fetch, which is being stored (collapsed forwarding). */
  | { kind: "collapsed" }
  /** Answered from another request's revalidation of the stored copy (304). */
  | { kind: "collapsed-revalidated" }
  /** A cache rule says pass: not looked up, not stored. */
  | { kind: "rule-pass" }
  /** The key recently answered with something unstorable, so requests go straight to the origin. */
  | { kind: "hit-for-pass" }
  /** only-if-cached and nothing usable stored: 504 (RFC 9111 §5.2.1.7). */
  | { kind: "only-if-cached-miss" };

/** The X-Cache-Info line for a refusal to store. */
export function reasonText(reason: NotStorableReason): string {
  switch (reason.code) {
    case "method":
      return `not cacheable; request method was ${reason.method}`;
    case "request-body":
      return "not cacheable; request had a body";
    case "request-no-store":
      return 'not cacheable; request specified "Cache-Control: no-store"';
    case "authorization":
      return 'not cacheable; request specified "Authorization"';
    case "response-no-store":
      return `not cacheable; response specified "${reason.header}"`;
    case "response-private":
      return `not cacheable; response specified "${reason.header}"`;
    case "vary-star":
      return 'not cacheable; response specified "Vary: *"';
    case "vary-too-large":
      return `not cacheable; Vary selecting headers too large (${reason.bytes} bytes)`;
    case "too-large":
      return `not cacheable; object too large (${reason.bytes} bytes)`;
    case "status":
      return `not cacheable; response status was ${reason.status}`;
    case "max-age-zero-no-validator":
      return `not cacheable; response specified "${reason.header}" without a validator`;
    case "already-expired":
      return "not cacheable; response already expired";
    case "redirect-without-freshness":
      return `not cacheable; redirect ${reason.status} without explicit freshness`;
    case "no-freshness-no-validator":
      return "not cacheable; response has no freshness information and no validator";
    case "partial-content":
      return "not cacheable; partial content (206)";
    case "rule":
      return `not cacheable; response rule ${reason.rule} says cache: false`;
    case "set-cookie":
      return 'not cacheable; response sets a cookie ("Set-Cookie")';
  }
}

/** The X-Cache-Info line for an outcome. */
export function cacheInfo(info: CacheInfo): string {
  switch (info.kind) {
    case "hit":
      return "cached";
    case "stored":
      return "caching";
    case "not-stored":
      return reasonText(info.reason);
    case "stale-while-revalidate":
      return "cached; stale, revalidating in the background";
    case "refresh-time":
      return "cached; stale, within refresh time (one request refreshes it)";
    case "refresh-ahead":
      return "cached; refreshing ahead of expiry in the background";
    case "stale-allowed":
      return "cached; stale, accepted by request max-stale";
    case "stale-if-error":
      return "cached; stale, origin failed";
    case "grace":
      return "cached; stale within grace, origin failed";
    case "revalidated":
      return "cached; revalidated with origin (304)";
    case "collapsed":
      return "caching; joined the origin fetch already in flight";
    case "collapsed-revalidated":
      return "cached; revalidated with origin (304) by the request already in flight";
    case "rule-pass":
      return "not cacheable; rule says pass";
    case "hit-for-pass":
      return "not cacheable; hit-for-pass";
    case "only-if-cached-miss":
      return 'not cached; request specified "Cache-Control: only-if-cached"';
  }
}
