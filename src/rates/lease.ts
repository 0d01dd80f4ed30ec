/**
 * The edge side of a rate class: small batches of tokens leased from the class's limiter object,
 * each valid for a short hold, so most requests are admitted without a round trip, and the next
 * batch is asked for while the current one still has tokens (refill ahead), so a steady stream of
 * requests never waits for a round trip.
 *
 * The bound: the limiter books every leased token at the end of its hold (`tryAcquire` with the
 * hold the edge asked for) and the edge never uses a token after that instant. So the tokens used in
 * any window are at most the limit, exactly, however many batches an edge holds at once (one being
 * used, one asked for ahead) and however many edges there are: leases are taken out of the limit,
 * never added to it, and each batch is checked against every booking made before it. What leases in
 * flight can hold (at most `leaseCap` per edge per call) is therefore not over-admission but
 * under-admission: booked tokens that expire unused, which the edge hands back (`surrender`) with its
 * next call; at saturation that costs about hold / (window + hold) of the limit, and the hold grows
 * only with the round trip to the limiter (`holdFor`). Edge and object clocks are compared only through durations: the edge starts a hold when
 * it sent the request, which is never later than when the object granted it.
 */
import type { EpochMillis, Millis } from "../lib/units";
import type { RateLimits } from "./limiter";

/**
 * How long a batch is valid at least: short, because holding costs holdMs / (window + holdMs) of the
 * limit at saturation (here under 5%).
 */
export const LEASE_TTL_MS: Millis = 50;
/** Longest hold, whatever the round trip (the limiter refuses longer ones). */
export const MAX_HOLD_MS: Millis = 500;
/**
 * The hold is at least this many round trips to the limiter: a batch is usable for its hold less
 * one round trip, and the next one is asked for at half of it, so a slow limiter (a loaded machine,
 * a distant object) lengthens the hold instead of making every batch arrive expired.
 */
const HOLD_PER_ROUND_TRIP = 4;
/** Largest batch whatever the class, so one busy edge asks for a bounded share of a huge class in one call. */
export const MAX_LEASE_SIZE = 1024;
/** The first batch of a context, before this edge has seen its rate (the old fixed batch size). */
export const FIRST_LEASE_SIZE = 64;
/**
 * A batch covers this many holds of the rate this edge saw, so that when the next one is asked for
 * (at half of it, or at half of the hold) what is left carries the requests through the round trip.
 */
const HOLDS_PER_BATCH = 2;
/** The rate a batch is sized by is measured over at least this long (calls close together would see a few requests in no time). */
const RATE_WINDOW_MS: Millis = 25;
/** Weight of the newest round trip in the estimate the hold is derived from. */
const ROUND_TRIP_WEIGHT = 0.3;

/** The hold to ask for, given the round trip this edge sees to the limiter (null: none seen yet). */
export function holdFor(roundTripMs: number | null): Millis {
  if (roundTripMs === null || !Number.isFinite(roundTripMs)) return LEASE_TTL_MS;
  return Math.min(MAX_HOLD_MS, Math.max(LEASE_TTL_MS, Math.ceil(roundTripMs * HOLD_PER_ROUND_TRIP)));
}

/**
 * Most tokens one call may ask for: what the class admits in one hold at its full rate, at least 1,
 * at most MAX_LEASE_SIZE. So one edge's batch is a small share of the window and unused tokens
 * (under-admission) stay small.
 */
export function leaseCap(limits: RateLimits, holdMs: Millis = LEASE_TTL_MS): number {
  const perSecond = Math.min(limits.perSecond ?? Infinity, (limits.perMinute ?? Infinity) / 60);
  if (!Number.isFinite(perSecond)) return MAX_LEASE_SIZE;
  return Math.min(MAX_LEASE_SIZE, Math.max(1, Math.floor((perSecond * holdMs) / 1000)));
}

/**
 * Tokens to ask for: HOLDS_PER_BATCH holds' worth of the rate this edge admitted lately
 * (`observedPerMs`, null before it has been measured), at least 1, at most the class's cap. Sized
 * by what the edge uses, a quiet edge books little it would give back, a busy one calls about twice
 * per hold.
 */
export function leaseSize(limits: RateLimits, observedPerMs: number | null, holdMs: Millis = LEASE_TTL_MS): number {
  const cap = leaseCap(limits, holdMs);
  if (observedPerMs === null || !Number.isFinite(observedPerMs)) return Math.min(cap, FIRST_LEASE_SIZE);
  return Math.min(cap, Math.max(1, Math.ceil(observedPerMs * holdMs * HOLDS_PER_BATCH)));
}

/** Unused tokens of a batch being given up, for the limiter's `release`. */
export interface Surrender {
  readonly bookedAt: EpochMillis;
  readonly unused: number;
}

/** A limiter's grant as the lease records it. */
export interface LeaseFill {
  /** The edge's clock when it asked: the hold ends no later than the object's booking. */
  readonly requestedAt: EpochMillis;
  /** The edge's clock when the answer came (the round trip the next hold is derived from). */
  readonly answeredAt: EpochMillis;
  readonly granted: number;
  readonly holdMs: Millis;
  /** The object's booking instant, kept only to surrender. */
  readonly bookedAt: EpochMillis;
  /** Tokens asked for (what "running low" is measured against). */
  readonly size: number;
  /** Tokens of the grant already used by the request that waited for it (0 or 1). */
  readonly usedAtOnce: number;
}

interface Batch {
  tokens: number;
  readonly expiresAt: EpochMillis;
  readonly holdMs: Millis;
  readonly bookedAt: EpochMillis;
  readonly size: number;
}

/**
 * One edge's tokens for one class and context: the batches it holds (at most two in practice: the
 * one in use and the one asked for ahead), used oldest first. Mutable: it lives in the isolate's memory.
 */
export class EdgeLease {
  /** Requests waiting for a call because the lease was empty (the gate counts them; a call asks for enough to cover them). */
  waiting = 0;
  /** Ascending by expiry. */
  #batches: Batch[] = [];
  /** Tokens used since `#since`: the rate the next batch is sized by. */
  #used = 0;
  #since: EpochMillis | null = null;
  #ratePerMs: number | null = null;
  #roundTripMs: number | null = null;

  /** Adds a grant beside the batches held. */
  fill(grant: LeaseFill): void {
    const roundTrip = Math.max(0, grant.answeredAt - grant.requestedAt);
    this.#roundTripMs = this.#roundTripMs === null ? roundTrip : this.#roundTripMs + ROUND_TRIP_WEIGHT * (roundTrip - this.#roundTripMs);
    const used = Math.min(Math.max(0, grant.granted), grant.usedAtOnce);
    this.#used += used;
    const batch: Batch = { tokens: Math.max(0, Math.floor(grant.granted - used)), expiresAt: grant.requestedAt + grant.holdMs, holdMs: grant.holdMs, bookedAt: grant.bookedAt, size: Math.max(1, grant.size) };
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
    return this.remaining(now) * 2 <= latest.size || (latest.expiresAt - now) * 2 <= latest.holdMs;
  }

  /**
   * Starts a call: the rate to size it by (tokens per ms, measured over at least RATE_WINDOW_MS; null
   * before that), the hold to ask for, and the unused tokens of expired batches, given up for the
   * object to release. Live batches are kept: the edge goes on using them while the call is in flight.
   */
  beginRefill(now: EpochMillis): { observedPerMs: number | null; holdMs: Millis; surrender: Surrender[] } {
    if (this.#since === null) this.#since = now;
    else if (now - this.#since >= RATE_WINDOW_MS) {
      this.#ratePerMs = this.#used / (now - this.#since);
      this.#used = 0;
      this.#since = now;
    }
    const surrender: Surrender[] = [];
    this.#batches = this.#batches.filter((batch) => {
      if (now < batch.expiresAt) return true;
      if (batch.tokens > 0) surrender.push({ bookedAt: batch.bookedAt, unused: batch.tokens });
      return false;
    });
    return { observedPerMs: this.#ratePerMs, holdMs: holdFor(this.#roundTripMs), surrender };
  }
}
