/**
 * The edge side of a rate class: a small batch of tokens leased from the class's limiter object,
 * valid for a short hold, so most requests are admitted without a round trip.
 *
 * The bound: the limiter books every leased token at the end of its hold (`tryAcquire` with
 * holdMs = the lease TTL) and the edge never uses a token after that instant. So with E edges
 * each holding at most L unused tokens, the tokens used in any window are at most the limit,
 * exactly: leases are taken out of the limit, never added to it. The only error is tokens that
 * expire unused, which is under-admission, not over (returned with `surrender`, they are given
 * back to the limit). Edge and object clocks are compared only through durations: the edge starts
 * the hold when it sent the request, which is never later than when the object granted it.
 */
import type { EpochMillis, Millis } from "../lib/units";
import type { RateLimits } from "./limiter";

/** How long a lease is valid: short, because holding costs holdMs / (window + holdMs) of the limit at saturation (here under 5%). */
export const LEASE_TTL_MS: Millis = 50;
/** Largest batch, so one busy edge cannot drain a large class's window in one call. */
export const MAX_LEASE_SIZE = 64;

/**
 * Tokens to ask for per refill: what the class admits in a twentieth of a second (one lease TTL
 * at full rate), at least 1, capped. Small batches keep unused tokens, and so under-admission, small.
 */
export function leaseSize(limits: RateLimits): number {
  const perSecond = Math.min(limits.perSecond ?? Infinity, (limits.perMinute ?? Infinity) / 60);
  if (!Number.isFinite(perSecond)) return MAX_LEASE_SIZE;
  return Math.min(MAX_LEASE_SIZE, Math.max(1, Math.floor(perSecond / 20)));
}

/** Unused tokens of a lease being given up, for the limiter's `release`. */
export interface Surrender {
  readonly bookedAt: EpochMillis;
  readonly unused: number;
}

/** One edge's tokens for one class and context. Mutable: it lives in the isolate's memory. */
export class EdgeLease {
  #tokens = 0;
  #expiresAt: EpochMillis = -Infinity;
  #bookedAt: EpochMillis | null = null;

  /**
   * Installs a grant. `requestedAt` is the edge's clock when it asked, so the hold ends no later
   * than the object's booking; `bookedAt` is the object's booking instant, kept only to surrender.
   * A previous lease's tokens are dropped: surrender them first to give them back.
   */
  fill(requestedAt: EpochMillis, granted: number, holdMs: Millis, bookedAt: EpochMillis): void {
    this.#tokens = Math.max(0, Math.floor(granted));
    this.#expiresAt = requestedAt + holdMs;
    this.#bookedAt = bookedAt;
  }

  /** Uses one token if one is left and the lease has not expired. */
  take(now: EpochMillis): boolean {
    if (this.#tokens === 0 || now >= this.#expiresAt) return false;
    this.#tokens--;
    return true;
  }

  /** True when the next request cannot be admitted locally. */
  needsRefill(now: EpochMillis): boolean {
    return this.remaining(now) === 0;
  }

  /** Tokens still usable at `now` (0 once expired: tokens never carry into a later hold). */
  remaining(now: EpochMillis): number {
    return now < this.#expiresAt ? this.#tokens : 0;
  }

  /** Gives up the current lease; the caller sends the result with its next refill so the object can release it. */
  surrender(): Surrender | null {
    const out = this.#bookedAt !== null && this.#tokens > 0 ? { bookedAt: this.#bookedAt, unused: this.#tokens } : null;
    this.#tokens = 0;
    this.#expiresAt = -Infinity;
    this.#bookedAt = null;
    return out;
  }
}
