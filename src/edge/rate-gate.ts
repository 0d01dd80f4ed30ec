/**
 * The edge's rate-class check: admit from this isolate's lease when it still holds a token, otherwise
 * lease a small batch from the class's RateLimiter object (the cluster-wide authority), and in queue
 * mode reserve a later admission instant instead of refusing. Limits are scaled by the shaping factor
 * of classes that follow an SLM class.
 *
 * Refill ahead: when a lease runs low (src/rates/lease.ts `runningLow`), the request that noticed
 * starts the next lease call in the background (kept alive by its waitUntil) and is admitted from
 * what is left, so a steady stream of requests never waits for a round trip; only a request that
 * finds the lease truly empty waits (for the call in flight, or its own). Cluster-wide admission stays
 * within the limit exactly: see the bound in src/rates/lease.ts.
 *
 * When the limiter cannot answer, or answers something that is not a grant (a count that is not a
 * whole number from 0 to what was asked, an instant that is not finite), the gate fails open: the
 * request is admitted, onLimiterError is told, and nothing is added to the lease (the next request
 * asks again). A limit that is briefly not enforced is better than errors for every client.
 */
import type { RateClass } from "../config/rates";
import type { EpochMillis, Millis } from "../lib/units";
import { contextKey, limiterObjectName, type ContextRequest } from "../rates/context";
import { EdgeLease, LEASE_TTL_MS, leaseSize } from "../rates/lease";
import type { RateLimits } from "../rates/limiter";
import { effectiveLimits } from "../rates/shaping";
import type { RateClassRef } from "../rules/schema";
import type { LeaseRequest } from "../../durable/rate-limiter";
import type { WaitUntil } from "./shard-client";

export type RateVerdict = { admitted: true; delayedMs: Millis } | { admitted: false; retryAfterMs: Millis };

type LeaseGrant = { granted: number; retryAfterMs: Millis; bookedAt: EpochMillis };

/** The two calls the gate makes on a RateLimiter object. */
export interface LimiterStub {
  lease(request: LeaseRequest): Promise<LeaseGrant>;
  reserve(context: string, limits: RateLimits, maxWaitMs: Millis): Promise<{ delayMs: Millis } | { rejected: true; retryAfterMs: Millis }>;
}

export interface RateGateDeps {
  limiter(objectName: string): LimiterStub;
  /** Shaping factors by rate class (1 when a class follows no SLM class). */
  factors(): Promise<Record<string, number>>;
  now(): EpochMillis;
  /** Told when a limiter object could not answer (the request was admitted: the gate fails open). */
  onLimiterError?(className: string, error: unknown): void;
}

type Refill = { grant: LeaseGrant | null; limits: RateLimits };

/** Contexts of one class this isolate keeps leases for before it forgets the idle ones. */
export const MAX_CONTEXTS_PER_CLASS = 4096;

const sleep = (ms: Millis) => new Promise((resolve) => setTimeout(resolve, ms));

/** A limiter's lease answer as a grant for `want` tokens, or null when it is not one (the gate then fails open). */
export function validGrant(answer: unknown, want: number): LeaseGrant | null {
  if (typeof answer !== "object" || answer === null) return null;
  const { granted, retryAfterMs, bookedAt } = answer as Record<string, unknown>;
  if (typeof granted !== "number" || !Number.isInteger(granted) || granted < 0 || granted > want) return null;
  if (typeof bookedAt !== "number" || !Number.isFinite(bookedAt)) return null;
  if (typeof retryAfterMs !== "number" || !Number.isFinite(retryAfterMs) || retryAfterMs < 0) return null;
  return { granted, retryAfterMs, bookedAt };
}

export class RateGate {
  /** By class, then context key (two lookups, so the hit path builds no key string). */
  readonly #leases = new Map<string, Map<string, EdgeLease>>();
  /** One lease call in flight per lease: concurrent requests wait for it rather than each leasing a batch. */
  readonly #refills = new Map<EdgeLease, Promise<Refill>>();

  constructor(private readonly deps: RateGateDeps) {}

  /**
   * Admits synchronously when this isolate's lease for the request's context still holds a token;
   * when that leaves the lease running low, starts the next lease call in the background (kept alive
   * through `waitUntil`).
   */
  admitFromLease(className: string, cls: RateClass, ref: RateClassRef, req: ContextRequest, waitUntil: WaitUntil): boolean {
    const context = contextKey({ context: ref.context ?? cls.context }, req);
    const lease = this.#leases.get(className)?.get(context);
    if (lease === undefined) return false;
    const now = this.deps.now();
    if (!lease.take(now)) return false;
    if (!this.#refills.has(lease) && lease.runningLow(now)) void this.#refill(lease, className, cls, context, false, waitUntil);
    return true;
  }

  /** The check when the lease could not admit: waits for the lease call in flight, or makes one. */
  async admit(className: string, cls: RateClass, ref: RateClassRef, req: ContextRequest, waitUntil: WaitUntil): Promise<RateVerdict> {
    const context = contextKey({ context: ref.context ?? cls.context }, req);
    const lease = this.#lease(className, context);
    if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };

    // Wait for refills already in flight (a few rounds at most) before leasing again ourselves.
    for (let round = 0; round < 3; round++) {
      const pending = this.#refills.get(lease);
      if (pending === undefined) break;
      await pending;
      if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };
    }
    const { grant, limits } = await this.#refill(lease, className, cls, context, true, waitUntil);
    if (grant === null || grant.granted > 0) return { admitted: true, delayedMs: 0 };
    if (cls.mode === "reject") return { admitted: false, retryAfterMs: grant.retryAfterMs };

    const limiter = this.deps.limiter(limiterObjectName(className, context, cls.spread));
    const reservation = await limiter.reserve(context, limits, cls.maxWaitMs).catch((error: unknown) => {
      this.deps.onLimiterError?.(className, error);
      return { delayMs: 0 };
    });
    if ("rejected" in reservation) return { admitted: false, retryAfterMs: reservation.retryAfterMs };
    if (reservation.delayMs > 0) await sleep(reservation.delayMs);
    return { admitted: true, delayedMs: reservation.delayMs };
  }

  /** Contexts of a class this isolate holds a lease for (what the memory bound is about). */
  contextsHeld(className: string): number {
    return this.#leases.get(className)?.size ?? 0;
  }

  #lease(className: string, context: string): EdgeLease {
    let byContext = this.#leases.get(className);
    if (byContext === undefined) this.#leases.set(className, (byContext = new Map()));
    let lease = byContext.get(context);
    if (lease === undefined) {
      if (byContext.size >= MAX_CONTEXTS_PER_CLASS) this.#forgetIdle(byContext);
      byContext.set(context, (lease = new EdgeLease()));
    }
    return lease;
  }

  /**
   * Drops the leases that hold no usable token and have no call in flight: a client that sends a new
   * context value with every request (a header, a cookie) must not grow this isolate's memory without
   * end. Forgetting a lease loses nothing but its expired tokens' surrender (under-admission, briefly).
   */
  #forgetIdle(byContext: Map<string, EdgeLease>): void {
    const now = this.deps.now();
    for (const [context, lease] of byContext) if (lease.needsRefill(now) && !this.#refills.has(lease)) byContext.delete(context);
  }

  /**
   * Leases a batch for this isolate, sized by the rate the lease saw since its last call. When a
   * request is waiting for it (`forRequest`), that request keeps one granted token whatever happens
   * (it was booked for it, even if the reply arrives after the hold); the rest go to the lease for
   * the requests that follow. Null grant: the limiter could not answer, and the gate fails open.
   *
   * The call is handed to the request's waitUntil: other requests wait for it too, and workerd
   * cancels what a request started once that request is over (answered, or its client gone), which
   * would leave this call unsettled and every later request of the context waiting on it.
   */
  #refill(lease: EdgeLease, className: string, cls: RateClass, context: string, forRequest: boolean, waitUntil: WaitUntil): Promise<Refill> {
    const call = (async (): Promise<Refill> => {
      const factor = (await this.deps.factors().catch(() => ({}) as Record<string, number>))[className] ?? 1;
      const limits = effectiveLimits({ perSecond: cls.perSecond, perMinute: cls.perMinute }, factor);
      const requestedAt = this.deps.now();
      const { observedPerMs, surrender } = lease.beginRefill(requestedAt);
      const want = leaseSize(limits, observedPerMs);
      try {
        const limiter = this.deps.limiter(limiterObjectName(className, context, cls.spread));
        const grant = validGrant(await limiter.lease({ context, limits, want, holdMs: LEASE_TTL_MS, surrender }), want);
        if (grant === null) throw new Error("the limiter's answer is not a grant");
        lease.fill(requestedAt, forRequest ? Math.max(0, grant.granted - 1) : grant.granted, LEASE_TTL_MS, grant.bookedAt, want);
        return { grant, limits };
      } catch (error) {
        // Fail open: a limiter object that cannot answer (overloaded, restarting) must not turn into
        // errors for clients; the limit is briefly not enforced for this isolate instead.
        this.deps.onLimiterError?.(className, error);
        return { grant: null, limits };
      }
    })().finally(() => {
      if (this.#refills.get(lease) === call) this.#refills.delete(lease);
    });
    this.#refills.set(lease, call);
    waitUntil(call);
    return call;
  }
}

/** 429 for a request its rate class refused, with Retry-After in whole seconds (at least 1). */
export function tooManyRequests(className: string, retryAfterMs: Millis): Response {
  return new Response(`shardcache: rate class "${className}" is over its limit\n`, {
    status: 429,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}
