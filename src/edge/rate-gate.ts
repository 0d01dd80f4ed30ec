/**
 * The edge's rate-class check: admit from this isolate's lease when it still holds a token, otherwise
 * lease a small batch from the class's RateLimiter object (the cluster-wide authority), and in queue
 * mode reserve a later admission instant instead of refusing. Limits are scaled by the shaping factor
 * of classes that follow an SLM class.
 */
import type { RateClass } from "../config/rates";
import type { EpochMillis, Millis } from "../lib/units";
import { contextKey, limiterObjectName, type ContextRequest } from "../rates/context";
import { EdgeLease, LEASE_TTL_MS, leaseSize } from "../rates/lease";
import type { RateLimits } from "../rates/limiter";
import { effectiveLimits } from "../rates/shaping";
import type { RateClassRef } from "../rules/schema";
import type { LeaseRequest } from "../../durable/rate-limiter";

export type RateVerdict = { admitted: true; delayedMs: Millis } | { admitted: false; retryAfterMs: Millis };

/** The two calls the gate makes on a RateLimiter object. */
export interface LimiterStub {
  lease(request: LeaseRequest): Promise<{ granted: number; retryAfterMs: Millis; bookedAt: EpochMillis }>;
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

type Refill = { grant: Awaited<ReturnType<LimiterStub["lease"]>> | null; limits: RateLimits };

const sleep = (ms: Millis) => new Promise((resolve) => setTimeout(resolve, ms));

export class RateGate {
  readonly #leases = new Map<string, EdgeLease>();
  /** One lease call in flight per class and context: concurrent requests wait for it rather than each leasing a batch. */
  readonly #refills = new Map<string, Promise<Refill>>();

  constructor(private readonly deps: RateGateDeps) {}

  /** Admits synchronously when this isolate's lease for the request's context still holds a token. */
  admitFromLease(className: string, cls: RateClass, ref: RateClassRef, req: ContextRequest): boolean {
    const context = contextKey({ context: ref.context ?? cls.context }, req);
    return this.#leases.get(`${className}\u0000${context}`)?.take(this.deps.now()) === true;
  }

  async admit(className: string, cls: RateClass, ref: RateClassRef, req: ContextRequest): Promise<RateVerdict> {
    const context = contextKey({ context: ref.context ?? cls.context }, req);
    const leaseKey = `${className}\u0000${context}`;
    let lease = this.#leases.get(leaseKey);
    if (lease === undefined) this.#leases.set(leaseKey, (lease = new EdgeLease()));
    if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };

    // Wait for refills already in flight (a few rounds at most) before leasing again ourselves.
    for (let round = 0; round < 3; round++) {
      const pending = this.#refills.get(leaseKey);
      if (pending === undefined) break;
      await pending;
      if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };
    }
    const limiter = this.deps.limiter(limiterObjectName(className, context, cls.spread));
    const refill = this.#refill(leaseKey, lease, limiter, context, cls, className);
    const { grant, limits } = await refill;
    if (grant === null || grant.granted > 0) return { admitted: true, delayedMs: 0 };
    if (cls.mode === "reject") return { admitted: false, retryAfterMs: grant.retryAfterMs };

    const reservation = await limiter.reserve(context, limits, cls.maxWaitMs).catch((error: unknown) => {
      this.deps.onLimiterError?.(className, error);
      return { delayMs: 0 };
    });
    if ("rejected" in reservation) return { admitted: false, retryAfterMs: reservation.retryAfterMs };
    if (reservation.delayMs > 0) await sleep(reservation.delayMs);
    return { admitted: true, delayedMs: reservation.delayMs };
  }

  /**
   * Leases a batch for this isolate. The request that asked keeps one granted token whatever happens
   * (it was booked for it, even if the reply arrives after the lease's hold); the rest go to the lease
   * for the requests that follow. Null: the limiter could not answer, and the gate fails open.
   */
  #refill(leaseKey: string, lease: EdgeLease, limiter: LimiterStub, context: string, cls: RateClass, className: string): Promise<Refill> {
    const call = (async (): Promise<Refill> => {
      const factor = (await this.deps.factors().catch(() => ({}) as Record<string, number>))[className] ?? 1;
      const limits = effectiveLimits({ perSecond: cls.perSecond, perMinute: cls.perMinute }, factor);
      const requestedAt = this.deps.now();
      try {
        const grant = await limiter.lease({ context, limits, want: leaseSize(limits), holdMs: LEASE_TTL_MS, surrender: lease.surrender() });
        lease.fill(requestedAt, Math.max(0, grant.granted - 1), LEASE_TTL_MS, grant.bookedAt);
        return { grant, limits };
      } catch (error) {
        // Fail open: a limiter object that cannot answer (overloaded, restarting) must not turn into
        // errors for clients; the limit is briefly not enforced for this isolate instead.
        this.deps.onLimiterError?.(className, error);
        return { grant: null, limits };
      }
    })().finally(() => this.#refills.delete(leaseKey));
    this.#refills.set(leaseKey, call);
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
