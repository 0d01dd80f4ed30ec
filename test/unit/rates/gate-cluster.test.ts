/**
 * The real RateGate on several edges against one limiter, in simulated time: every lease call is a
 * round trip of random latency to a limiter that runs the pure limiter (src/rates/limiter.ts) at the
 * instant the call reaches it. Checks the bound stated in src/rates/lease.ts (no window ever admits
 * more than the limit, with refills ahead in flight), that the leases do not starve the class, and
 * that a steady stream under a roomy limit never waits for a refill (refill ahead).
 */
import { describe, expect, it } from "vitest";
import { rateClassSchema } from "../../../src/config/rates";
import { RateGate, type LimiterStub } from "../../../src/edge/rate-gate";
import { seededRandom } from "../../../src/lib/seeded-random";
import { emptyLimiterState, release, tryAcquire, type LimiterState } from "../../../src/rates/limiter";
import { maxInWindow } from "../../helpers/windows";

const req = { url: new URL("http://x/a"), headers: new Headers(), clientIp: "192.0.2.1" };
/** Lets every promise that can settle now settle (the gate's awaits are a few microtasks deep). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

interface SimResult {
  /** Instant of every admission. */
  admitted: number[];
  /** Arrivals the lease could not admit at once (they waited for a refill). */
  waited: { at: number }[];
  refused: number;
  leaseCalls: number;
}

async function simulate(opts: { edges: number; perSecond: number; perEdgeRate: number; durationMs: number; seed: number; latencyMs: [number, number]; burst?: number }): Promise<SimResult> {
  const r = seededRandom(opts.seed);
  let now = 0;
  const timers: { at: number; run: () => void }[] = [];
  const at = (when: number, run: () => void) => {
    let i = timers.length;
    while (i > 0 && timers[i - 1]!.at > when) i--;
    timers.splice(i, 0, { at: when, run });
  };
  let state: LimiterState = emptyLimiterState;
  let leaseCalls = 0;
  const latency = () => opts.latencyMs[0] + r() * (opts.latencyMs[1] - opts.latencyMs[0]);
  const limiter: LimiterStub = {
    lease: (request) =>
      new Promise((resolve) => {
        leaseCalls++;
        const oneWay = latency();
        at(now + oneWay, () => {
          for (const given of request.surrender) state = release(state, given.bookedAt, given.unused);
          const grant = tryAcquire(state, now, request.want, request.limits, request.holdMs);
          state = grant.state;
          at(now + oneWay, () => resolve({ granted: grant.granted, retryAfterMs: grant.retryAfterMs, bookedAt: grant.bookedAt }));
        });
      }),
    reserve: async () => ({ delayMs: 0 }),
  };
  const cls = rateClassSchema.parse({ perSecond: opts.perSecond, mode: "reject" });
  const gates = Array.from({ length: opts.edges }, () => new RateGate({ limiter: () => limiter, factors: async () => ({}), now: () => now }));
  const result: SimResult = { admitted: [], waited: [], refused: 0, leaseCalls: 0 };
  // Arrivals are many and known up front: kept apart from the few timers of calls in flight.
  const arrivals: { at: number; gate: RateGate }[] = [];
  const burst = opts.burst ?? 1;
  for (const gate of gates) for (let t = r() * 5; t < opts.durationMs; t += -Math.log(1 - r()) * ((1000 * burst) / opts.perEdgeRate)) for (let i = 0; i < burst; i++) arrivals.push({ at: t, gate });
  arrivals.sort((a, b) => a.at - b.at);
  const arrive = (gate: RateGate) => {
    if (gate.admitFromLease("c", cls, { name: "c" }, req, () => {})) return void result.admitted.push(now);
    result.waited.push({ at: now });
    void gate.admit("c", cls, { name: "c" }, req, () => {}).then((verdict) => (verdict.admitted ? result.admitted.push(now) : result.refused++));
  };
  let next = 0;
  while (next < arrivals.length || timers.length > 0) {
    if (timers.length === 0 || (next < arrivals.length && arrivals[next]!.at < timers[0]!.at)) {
      const arrival = arrivals[next++]!;
      now = arrival.at;
      arrive(arrival.gate);
    } else {
      const timer = timers.shift()!;
      now = timer.at;
      timer.run();
    }
    await settle();
  }
  result.leaseCalls = leaseCalls;
  return result;
}

describe("the rate gate on several edges against one limiter", () => {
  it.each([1, 2, 3])("never admits more than the limit in any one-second window, offered 2.5× the limit (seed %i)", async (seed) => {
    const { admitted, refused } = await simulate({ edges: 5, perSecond: 200, perEdgeRate: 100, durationMs: 3000, seed, latencyMs: [1, 5] });
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(200);
    expect(refused).toBeGreaterThan(0);
    // The leases must not starve the class either (booked tokens that expire unused are under-admission).
    expect(admitted.length).toBeGreaterThanOrEqual(200 * 3 * 0.85);
  });

  it("holds the bound for a busy class with large batches and slow round trips", async () => {
    const { admitted } = await simulate({ edges: 4, perSecond: 5000, perEdgeRate: 2000, durationMs: 2500, seed: 7, latencyMs: [2, 15] });
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(5000);
    expect(admitted.length).toBeGreaterThanOrEqual(5000 * 2.5 * 0.8);
  });

  it("holds the bound at a limit of a few requests per second", async () => {
    const { admitted } = await simulate({ edges: 3, perSecond: 5, perEdgeRate: 20, durationMs: 4000, seed: 11, latencyMs: [1, 10] });
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(5);
    expect(admitted.length).toBeGreaterThanOrEqual(5 * 4 * 0.75);
  });

  it("a slow limiter (round trips longer than the shortest hold) lengthens the hold instead of making every request wait", async () => {
    const { admitted, waited, leaseCalls } = await simulate({ edges: 1, perSecond: 1_000_000, perEdgeRate: 4000, durationMs: 2000, seed: 5, latencyMs: [10, 40] });
    expect(admitted.length).toBeGreaterThan(7500);
    // The first batches, held for the shortest hold before a round trip was seen, expire on the way;
    // after that, hardly a request waits (with the shortest hold every one of them did).
    expect(waited.filter((w) => w.at > 300).length).toBeLessThan(admitted.length / 100);
    expect(leaseCalls).toBeLessThan(100);
  });

  it("holds the bound with a slow limiter and bursts of requests at once", async () => {
    const { admitted } = await simulate({ edges: 3, perSecond: 2000, perEdgeRate: 1500, durationMs: 3000, seed: 13, latencyMs: [10, 40], burst: 16 });
    expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(2000);
    expect(admitted.length).toBeGreaterThanOrEqual(2000 * 3 * 0.7);
  });

  it("a steady stream under a roomy limit never waits for a refill once its lease is warm", async () => {
    const { admitted, waited, refused, leaseCalls } = await simulate({ edges: 2, perSecond: 1_000_000, perEdgeRate: 5000, durationMs: 2000, seed: 3, latencyMs: [1, 10] });
    expect(refused).toBe(0);
    expect(admitted.length).toBeGreaterThan(19_000);
    // Only the ramp-up (the first lease, sized before the edge has seen its rate) may wait.
    expect(waited.filter((w) => w.at > 200)).toEqual([]);
    // Sized by the observed rate: a few calls per hold, not one per 64 requests.
    expect(leaseCalls).toBeLessThan(admitted.length / 100);
  });
});
