import { describe, expect, it } from "vitest";
import { EdgeLease, LEASE_TTL_MS, MAX_LEASE_SIZE, leaseSize } from "../../../src/rates/lease";
import { emptyLimiterState, release, tryAcquire, type LimiterState, type RateLimits } from "../../../src/rates/limiter";
import { seededRandom as rng } from "../../../src/lib/seeded-random";
import { maxInWindow } from "../../helpers/windows";

type SimEvent = { at: number; kind: "arrival"; edge: number } | { at: number; kind: "reply"; edge: number; sentAt: number; granted: number; bookedAt: number };

/**
 * A discrete-event cluster: E edges with their own request streams; a refill is one round trip to
 * the limiter object (latency each way), and requests arriving meanwhile wait for it. Returns the
 * instants at which requests were admitted.
 */
function simulate(opts: { edges: number; limits: RateLimits; durationMs: number; perEdgeRate: number; seed: number; surrender: boolean }): number[] {
  const r = rng(opts.seed);
  const events: SimEvent[] = [];
  const push = (e: SimEvent) => {
    let i = events.length;
    while (i > 0 && events[i - 1]!.at > e.at) i--;
    events.splice(i, 0, e);
  };
  for (let edge = 0; edge < opts.edges; edge++) {
    for (let t = r() * 20; t < opts.durationMs; t += -Math.log(1 - r()) * (1000 / opts.perEdgeRate)) push({ at: t, kind: "arrival", edge });
  }
  const leases = Array.from({ length: opts.edges }, () => new EdgeLease());
  const waiting: number[][] = Array.from({ length: opts.edges }, () => []);
  const inFlight = new Array<boolean>(opts.edges).fill(false);
  let limiter: LimiterState = emptyLimiterState;
  const admitted: number[] = [];
  const size = leaseSize(opts.limits);

  const refill = (edge: number, now: number) => {
    inFlight[edge] = true;
    const latency = 2 + r() * 8;
    const given = opts.surrender ? leases[edge]!.surrender() : null;
    if (given !== null) limiter = release(limiter, given.bookedAt, given.unused);
    const grant = tryAcquire(limiter, now + latency, size, opts.limits, LEASE_TTL_MS);
    limiter = grant.state;
    push({ at: now + 2 * latency, kind: "reply", edge, sentAt: now, granted: grant.granted, bookedAt: grant.bookedAt });
  };

  while (events.length > 0) {
    const e = events.shift()!;
    const lease = leases[e.edge]!;
    if (e.kind === "arrival") {
      if (!inFlight[e.edge] && lease.take(e.at)) admitted.push(e.at);
      else {
        waiting[e.edge]!.push(e.at);
        if (!inFlight[e.edge]) refill(e.edge, e.at);
      }
      continue;
    }
    inFlight[e.edge] = false;
    lease.fill(e.sentAt, e.granted, LEASE_TTL_MS, e.bookedAt);
    // Waiters are served from the new lease; those it cannot cover are rejected (reject mode).
    for (const _ of waiting[e.edge]!.splice(0)) if (lease.take(e.at)) admitted.push(e.at);
  }
  return admitted;
}

describe("edge leases against one limiter", () => {
  it.each([1, 2, 3, 4, 5])("5 edges over 3 s stay within the limit in every window (seed %i)", (seed) => {
    const limits = { perSecond: 200 };
    const admitted = simulate({ edges: 5, limits, durationMs: 3000, perEdgeRate: 100, seed, surrender: true });
    expect(admitted.length).toBeLessThanOrEqual(200 * 3 * 1.05);
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(200);
    // Offered 500/s against 200/s: the leases must not starve the class either.
    expect(admitted.length).toBeGreaterThanOrEqual(200 * 3 * 0.85);
  });

  it("holds the bound without surrendering unused tokens, at a low limit", () => {
    const admitted = simulate({ edges: 5, limits: { perSecond: 10 }, durationMs: 3000, perEdgeRate: 20, seed: 9, surrender: false });
    expect(admitted.length).toBeLessThanOrEqual(31);
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(10);
    expect(admitted.length).toBeGreaterThanOrEqual(25);
  });

  it("a lease expires at the end of its hold, measured from the request", () => {
    const lease = new EdgeLease();
    expect(lease.needsRefill(0)).toBe(true);
    lease.fill(1000, 3, LEASE_TTL_MS, 1060);
    expect(lease.take(1010)).toBe(true);
    expect(lease.remaining(1010)).toBe(2);
    expect(lease.needsRefill(1049)).toBe(false);
    expect(lease.take(1000 + LEASE_TTL_MS)).toBe(false);
    expect(lease.needsRefill(1000 + LEASE_TTL_MS)).toBe(true);
    expect(lease.remaining(5000)).toBe(0);
  });

  it("tokens do not pile up: a new lease replaces the old one", () => {
    const lease = new EdgeLease();
    lease.fill(0, 5, LEASE_TTL_MS, 50);
    lease.fill(40, 2, LEASE_TTL_MS, 90);
    expect([lease.take(41), lease.take(42), lease.take(43)]).toEqual([true, true, false]);
  });

  it("surrender hands back the unused tokens once", () => {
    const lease = new EdgeLease();
    lease.fill(0, 4, LEASE_TTL_MS, 50);
    lease.take(1);
    expect(lease.surrender()).toEqual({ bookedAt: 50, unused: 3 });
    expect(lease.surrender()).toBeNull();
    expect(lease.take(2)).toBe(false);
  });

  it("sizes batches at a twentieth of the per-second rate, at least 1, capped", () => {
    expect(leaseSize({ perSecond: 10 })).toBe(1);
    expect(leaseSize({ perSecond: 200 })).toBe(10);
    expect(leaseSize({ perMinute: 60 * 200 })).toBe(10);
    expect(leaseSize({ perSecond: 1000, perMinute: 600 })).toBe(1);
    expect(leaseSize({ perSecond: 1e6 })).toBe(MAX_LEASE_SIZE);
  });
});
