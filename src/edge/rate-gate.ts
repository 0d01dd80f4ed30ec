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
import { EdgeLease, leaseCap, leaseSize } from "../rates/lease";
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
  /** Reads the shaping factors by rate class (1 when a class follows no SLM class); the gate holds them FACTORS_TTL_MS. */
  factors(): Promise<Record<string, number>>;
  factorsTtlMs?: Millis;
  now(): EpochMillis;
  /** Told when a limiter object could not answer (the request was admitted: the gate fails open). */
  onLimiterError?(className: string, error: unknown): void;
}

type Refill = { grant: LeaseGrant | null; limits: RateLimits };

/** Calls a request waits for before it makes its own (each covered the requests waiting when it went out). */
const MAX_WAIT_ROUNDS = 8;

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

/** How long the shaping factors the gate last read stay current (they change at most once per SLM evaluation, each second). */
export const FACTORS_TTL_MS: Millis = 5_000;

/** A lease call in flight; `ahead`: started in the background by a request that did not wait for it. */
type Call = { readonly promise: Promise<Refill>; readonly ahead: boolean };

/**
 * Why no request waits for a promise another request made unless that request waits for it too:
 * workerd runs a promise's continuations in the request that created it and cancels them once that
 * request has answered ("the creating request has already been completed"), waitUntil or not, and a
 * request left waiting on such a promise is then killed as hung. So a request whose lease is empty
 * while a call ahead is in flight makes its own call (others then wait for that one: its request
 * waits for it), and the shaping factors are a value the gate holds, refreshed in the background.
 */
export class RateGate {
  /** By class, then context key (two lookups, so the hit path builds no key string). */
  readonly #leases = new Map<string, Map<string, EdgeLease>>();
  /** At most one lease call in flight per lease that requests may wait for (see `Call`). */
  readonly #calls = new Map<EdgeLease, Call>();
  #factors: { value: Record<string, number>; at: EpochMillis } | null = null;
  #refreshingFactors = false;

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
    if (!this.#calls.has(lease) && lease.runningLow(now)) void this.#refill(lease, className, cls, context, false, waitUntil);
    return true;
  }

  /** The check when the lease could not admit: waits for a lease call another waiting request made, or makes one. */
  async admit(className: string, cls: RateClass, ref: RateClassRef, req: ContextRequest, waitUntil: WaitUntil): Promise<RateVerdict> {
    const context = contextKey({ context: ref.context ?? cls.context }, req);
    const lease = this.#lease(className, context);
    if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };

    // Wait for calls already in flight before leasing again ourselves (never for a call ahead, see
    // `Call`): a call covers the requests waiting when it went out, and a request that lost the race
    // for its tokens waits for the next one. One the limiter refused, or could not answer, ends the
    // wait: this request asks for itself (and is refused, or admitted as the gate fails open).
    lease.waiting++;
    try {
      for (let round = 0; round < MAX_WAIT_ROUNDS; round++) {
        const pending = this.#calls.get(lease);
        if (pending === undefined || pending.ahead) break;
        const { grant } = await pending.promise;
        if (lease.take(this.deps.now())) return { admitted: true, delayedMs: 0 };
        if (grant === null || grant.granted === 0) break;
      }
    } finally {
      lease.waiting--;
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
    for (const [context, lease] of byContext) if (lease.needsRefill(now) && !this.#calls.has(lease)) byContext.delete(context);
  }

  /**
   * Leases a batch for this isolate. The call goes out at once, from the request that makes it, with
   * the shaping factors the gate holds (only before the first answer does a request wait for them,
   * its own read). It is handed to that request's waitUntil, so it completes even when the request
   * answers first (a call ahead).
   */
  #refill(lease: EdgeLease, className: string, cls: RateClass, context: string, forRequest: boolean, waitUntil: WaitUntil): Promise<Refill> {
    const known = this.#knownFactors(waitUntil);
    const settled = known !== null ? this.#callLimiter(lease, className, cls, context, forRequest, known) : this.#readFactors().then((factors) => this.#callLimiter(lease, className, cls, context, forRequest, factors));
    const call: Call = {
      ahead: !forRequest,
      promise: settled.finally(() => {
        if (this.#calls.get(lease) === call) this.#calls.delete(lease);
      }),
    };
    this.#calls.set(lease, call);
    waitUntil(call.promise);
    return call.promise;
  }

  /**
   * One lease call, sized by the rate the lease saw since its last one. When a request is waiting for
   * it (`forRequest`), that request keeps one granted token whatever happens (it was booked for it,
   * even if the reply arrives after the hold); the rest go to the lease for the requests that follow.
   * Null grant: the limiter could not answer, or answered garbage, and the gate fails open.
   */
  async #callLimiter(lease: EdgeLease, className: string, cls: RateClass, context: string, forRequest: boolean, factors: Record<string, number>): Promise<Refill> {
    const limits = effectiveLimits({ perSecond: cls.perSecond, perMinute: cls.perMinute }, factors[className] ?? 1);
    const requestedAt = this.deps.now();
    const { observedPerMs, holdMs, surrender } = lease.beginRefill(requestedAt);
    // Enough for the requests waiting now as well (they arrived while the lease was empty).
    const want = Math.min(leaseCap(limits, holdMs), Math.max(leaseSize(limits, observedPerMs, holdMs), lease.waiting + 1));
    try {
      const limiter = this.deps.limiter(limiterObjectName(className, context, cls.spread));
      const grant = validGrant(await limiter.lease({ context, limits, want, holdMs, surrender }), want);
      if (grant === null) throw new Error("the limiter's answer is not a grant");
      lease.fill({ requestedAt, answeredAt: this.deps.now(), granted: grant.granted, holdMs, bookedAt: grant.bookedAt, size: want, usedAtOnce: forRequest ? 1 : 0 });
      return { grant, limits };
    } catch (error) {
      // Fail open: a limiter object that cannot answer (overloaded, restarting) must not turn into
      // errors for clients; the limit is briefly not enforced for this isolate instead.
      this.deps.onLimiterError?.(className, error);
      return { grant: null, limits };
    }
  }

  /** The shaping factors last read, refreshed in the background once stale; null before the first read answered. */
  #knownFactors(waitUntil: WaitUntil): Record<string, number> | null {
    const known = this.#factors;
    if (known === null) return null;
    if (this.deps.now() - known.at >= (this.deps.factorsTtlMs ?? FACTORS_TTL_MS) && !this.#refreshingFactors) {
      this.#refreshingFactors = true;
      waitUntil(this.#readFactors().finally(() => (this.#refreshingFactors = false)));
    }
    return known.value;
  }

  /** Reads the factors (kept for FACTORS_TTL_MS). Unreadable: the ones held, or none (every class at its configured limits). */
  #readFactors(): Promise<Record<string, number>> {
    const at = this.deps.now();
    return this.deps.factors().then(
      (value) => {
        this.#factors = { value, at };
        return value;
      },
      () => this.#factors?.value ?? {},
    );
  }
}

/** 429 for a request its rate class refused, with Retry-After in whole seconds (at least 1). */
export function tooManyRequests(className: string, retryAfterMs: Millis): Response {
  return new Response(`shardcache: rate class "${className}" is over its limit\n`, {
    status: 429,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}
