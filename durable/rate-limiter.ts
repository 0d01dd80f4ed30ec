/**
 * RateLimiter: the authoritative counter for the contexts of one rate class that hash to it (a class
 * is spread over several objects, so one busy class is not one hot object). Edges lease small batches
 * of tokens from it, and queue-mode requests reserve an admission instant. State is kept in memory:
 * it describes the last minute only, and an evicted object starts empty (documented: at worst one
 * extra window's worth of requests is admitted after an eviction).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { Clock } from "../src/lib/clock";
import type { EpochMillis, Millis } from "../src/lib/units";
import { MAX_HOLD_MS, type Surrender } from "../src/rates/lease";
import { backlog, currentRate, emptyLimiterState, release, reserve, tryAcquire, type LimiterState, type RateLimits } from "../src/rates/limiter";

export interface LeaseRequest {
  context: string;
  limits: RateLimits;
  want: number;
  holdMs: Millis;
  /** Unused tokens of this edge's expired batches for the same context, handed back. */
  surrender: readonly Surrender[];
}

export type ContextStatus = { context: string; perSecond: number; perMinute: number; backlog: number };

/** Contexts idle this long are forgotten (their windows are empty by then). */
const IDLE_MS = 120_000;

export class RateLimiter extends DurableObject<Env> {
  readonly #contexts = new Map<string, { state: LimiterState; lastUsed: EpochMillis }>();
  readonly #clock: Clock;

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    this.#clock = clock;
  }

  async lease(request: LeaseRequest): Promise<{ granted: number; retryAfterMs: Millis; bookedAt: EpochMillis }> {
    // The edge stops using the tokens at the end of the hold it asked for; a hold it could not have
    // asked for is a bug there, refused rather than booked at some other instant.
    if (!(request.holdMs >= 0 && request.holdMs <= MAX_HOLD_MS)) throw new RangeError(`lease hold must be 0..${MAX_HOLD_MS} ms, got ${request.holdMs}`);
    const now = this.#clock.now();
    let state = this.#state(request.context);
    for (const given of request.surrender) if (given.unused > 0) state = release(state, given.bookedAt, given.unused);
    const grant = tryAcquire(state, now, request.want, request.limits, request.holdMs);
    this.#save(request.context, grant.state, now);
    return { granted: grant.granted, retryAfterMs: grant.retryAfterMs, bookedAt: grant.bookedAt };
  }

  /** Queue mode: the delay after which this request may proceed, or a rejection if that exceeds maxWaitMs. */
  async reserve(context: string, limits: RateLimits, maxWaitMs: Millis): Promise<{ delayMs: Millis } | { rejected: true; retryAfterMs: Millis }> {
    const now = this.#clock.now();
    const result = reserve(this.#state(context), now, limits, maxWaitMs);
    this.#save(context, result.state, now);
    return "rejected" in result ? { rejected: true, retryAfterMs: result.retryAfterMs } : { delayMs: result.delayMs };
  }

  async status(): Promise<ContextStatus[]> {
    const now = this.#clock.now();
    return [...this.#contexts].map(([context, { state }]) => ({ context, ...currentRate(state, now), backlog: backlog(state, now) }));
  }

  #state(context: string): LimiterState {
    return this.#contexts.get(context)?.state ?? emptyLimiterState;
  }

  #save(context: string, state: LimiterState, now: EpochMillis): void {
    this.#contexts.set(context, { state, lastUsed: now });
    if (this.#contexts.size > 1000) for (const [key, entry] of this.#contexts) if (now - entry.lastUsed > IDLE_MS) this.#contexts.delete(key);
  }
}
