/**
 * The edge side of a rate class: small batches of tokens leased from the class's limiter object,
 * each valid for a short hold, so most requests are admitted without a round trip, and the next
 * batch is asked for while the current one still has tokens (refill ahead), so a steady stream of
 * requests never waits for a round trip.
 *
 * The bound: the limiter books every leased token at the end of its hold (`tryAcquire` with
 * holdMs = the lease TTL) and the edge never uses a token after that instant. So the tokens used in
 * any window are at most the limit, exactly, however many batches an edge holds at once (one being
 * used, one asked for ahead) and however many edges there are: leases are taken out of the limit,
 * never added to it, and each batch is checked against every booking made before it. What leases in
 * flight can hold (at most `leaseCap` per edge per call) is therefore not over-admission but
 * under-admission: booked tokens that expire unused, which the edge hands back (`surrender`) with its
 * next call. Edge and object clocks are compared only through durations: the edge starts a hold when
 * it sent the request, which is never later than when the object granted it.
 */
import type { EpochMillis, Millis } from "../lib/units";
import type { RateLimits } from "./limiter";

/** How long a lease is valid: short, because holding costs holdMs / (window + holdMs) of the limit at saturation (here under 5%). */
export const LEASE_TTL_MS: Millis = 50;
/** Largest batch whatever the class, so one busy edge asks for a bounded share of a huge class in one call. */
export const MAX_LEASE_SIZE = 1024;
/** The first batch of a context, before this edge has seen its rate (the old fixed batch size). */
export const FIRST_LEASE_SIZE = 64;
/**
 * A batch covers this many holds of the rate this edge saw, so that when the next one is asked for
 * (at half of it, or at half of the hold) what is left carries the requests through the round trip.
 */
const HOLDS_PER_BATCH = 2;

/**
 * Most tokens one call may ask for: what the class admits in one lease TTL at its full rate (a
 * twentieth of its per-second limit), at least 1, at most MAX_LEASE_SIZE. So one edge's batch is a
 * small share of the window and unused tokens (under-admission) stay small.
 */
export function leaseCap(limits: RateLimits): number {
  const perSecond = Math.min(limits.perSecond ?? Infinity, (limits.perMinute ?? Infinity) / 60);
  if (!Number.isFinite(perSecond)) return MAX_LEASE_SIZE;
  return Math.min(MAX_LEASE_SIZE, Math.max(1, Math.floor((perSecond * LEASE_TTL_MS) / 1000)));
}

/**
 * Tokens to ask for: HOLDS_PER_BATCH holds' worth of the rate this edge admitted since its last
 * call (`observedPerMs`, null before the first), at least 1, at most the class's cap. Sized by what
 * the edge uses, a quiet edge books little it would give back, a busy one calls once per hold.
 */
export function leaseSize(limits: RateLimits, observedPerMs: number | null): number {
  const cap = leaseCap(limits);
  if (observedPerMs === null || !Number.isFinite(observedPerMs)) return Math.min(cap, FIRST_LEASE_SIZE);
  return Math.min(cap, Math.max(1, Math.ceil(observedPerMs * LEASE_TTL_MS * HOLDS_PER_BATCH)));
}

/** Unused tokens of a batch being given up, for the limiter's `release`. */
export interface Surrender {
  readonly bookedAt: EpochMillis;
  readonly unused: number;
}

interface Batch {
  tokens: number;
  readonly expiresAt: EpochMillis;
  readonly bookedAt: EpochMillis;
  readonly size: number;
}

/**
 * One edge's tokens for one class and context: the batches it holds (at most two in practice: the
 * one in use and the one asked for ahead), used oldest first. Mutable: it lives in the isolate's memory.
 */
export class EdgeLease {
  /** Ascending by expiry (a later call is sent later, with the same hold). */
  #batches: Batch[] = [];
  /** Tokens used since the last call was sent, and since when: the rate the next batch is sized by. */
  #used = 0;
  #since: EpochMillis | null = null;

  /**
   * Adds a grant. `requestedAt` is the edge's clock when it asked, so the hold ends no later than
   * the object's booking; `bookedAt` is the object's booking instant, kept only to surrender.
   */
  fill(requestedAt: EpochMillis, granted: number, holdMs: Millis, bookedAt: EpochMillis, size: number = granted): void {
    const tokens = Math.max(0, Math.floor(granted));
    const batch: Batch = { tokens, expiresAt: requestedAt + holdMs, bookedAt, size: Math.max(1, size) };
    let i = this.#batches.length;
    while (i > 0 && this.#batches[i - 1]!.expiresAt > batch.expiresAt) i--;
    this.#batches.splice(i, 0, batch);
  }

  /** Uses one token of the oldest batch that has one and has not expired. */
  take(now: EpochMillis): boolean {
    for (const batch of this.#batches) {
      if (batch.tokens > 0 && now < batch.expiresAt) {
        batch.tokens--;
        this.#used++;
        return true;
      }
    }
    return false;
  }

  /** Tokens still usable at `now` (expired batches count 0: tokens never carry into a later hold). */
  remaining(now: EpochMillis): number {
    let sum = 0;
    for (const batch of this.#batches) if (now < batch.expiresAt) sum += batch.tokens;
    return sum;
  }

  /** True when the next request cannot be admitted locally. */
  needsRefill(now: EpochMillis): boolean {
    return this.remaining(now) === 0;
  }

  /**
   * True when the next batch should be asked for now, before this one runs out: half of the latest
   * batch's tokens used, or half of its hold gone. An edge whose lease is empty is past both.
   */
  runningLow(now: EpochMillis): boolean {
    const latest = this.#batches[this.#batches.length - 1];
    if (latest === undefined) return true;
    return this.remaining(now) * 2 <= latest.size || (latest.expiresAt - now) * 2 <= LEASE_TTL_MS;
  }

  /**
   * Starts a call: the rate observed since the previous one (tokens per ms; null before the first),
   * and the unused tokens of expired batches, given up for the object to release. Live batches are
   * kept: the edge goes on using them while the call is in flight.
   */
  beginRefill(now: EpochMillis): { observedPerMs: number | null; surrender: Surrender[] } {
    const observedPerMs = this.#since === null ? null : this.#used / Math.max(1, now - this.#since);
    this.#used = 0;
    this.#since = now;
    const surrender: Surrender[] = [];
    this.#batches = this.#batches.filter((batch) => {
      if (now < batch.expiresAt) return true;
      if (batch.tokens > 0) surrender.push({ bookedAt: batch.bookedAt, unused: batch.tokens });
      return false;
    });
    return { observedPerMs, surrender };
  }
}
