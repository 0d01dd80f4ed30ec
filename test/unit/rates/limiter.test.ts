import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { backlog, currentRate, emptyLimiterState, release, reserve, spacingMs, tryAcquire, type LimiterState, type RateLimits } from "../../../src/rates/limiter";
import { seededRandom as rng } from "../../../src/lib/seeded-random";
import { maxInWindow } from "../../helpers/windows";

const arrivals = (seed: number, count: number, spanMs: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: count }, () => r() * spanMs).sort((a, b) => a - b);
};

function runReject(times: readonly number[], limits: RateLimits): number[] {
  let state: LimiterState = emptyLimiterState;
  const admitted: number[] = [];
  for (const t of times) {
    const r = tryAcquire(state, t, 1, limits);
    state = r.state;
    if (r.granted === 1) admitted.push(t);
  }
  return admitted;
}

function runQueue(times: readonly number[], limits: RateLimits, maxWaitMs: number) {
  let state: LimiterState = emptyLimiterState;
  const admitted: { arrival: number; at: number }[] = [];
  const rejected: { arrival: number; retryAfterMs: number; state: LimiterState }[] = [];
  for (const t of times) {
    const r = reserve(state, t, limits, maxWaitMs);
    if ("rejected" in r) rejected.push({ arrival: t, retryAfterMs: r.retryAfterMs, state: r.state });
    else admitted.push({ arrival: t, at: t + r.delayMs });
    state = r.state;
  }
  return { admitted, rejected, state };
}

describe("reject mode: 10 req/s, 100 requests at random instants over 2 s", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])("admits exactly 20 (seed %i)", (seed) => {
    const admitted = runReject(arrivals(seed, 100, 2000), { perSecond: 10 });
    expect(admitted).toHaveLength(20);
    expect(maxInWindow(admitted, 1000)).toBe(10);
  });

  it("admits a burst up to the limit, then nothing until the oldest admission leaves the window", () => {
    let state = emptyLimiterState;
    for (let i = 0; i < 10; i++) {
      const r = tryAcquire(state, 0, 1, { perSecond: 10 });
      expect(r.granted).toBe(1);
      state = r.state;
    }
    const refused = tryAcquire(state, 500, 1, { perSecond: 10 });
    expect(refused.granted).toBe(0);
    // Booked in the 10 ms bucket [0, 10): free once that whole bucket is out of the window.
    expect(refused.retryAfterMs).toBe(510);
    expect(tryAcquire(refused.state, 1009, 1, { perSecond: 10 }).granted).toBe(0);
    expect(tryAcquire(refused.state, 1010, 1, { perSecond: 10 }).granted).toBe(1);
  });

  it("grants fewer than asked near the limit (the lease primitive)", () => {
    const first = tryAcquire(emptyLimiterState, 0, 7, { perSecond: 10 });
    expect(first.granted).toBe(7);
    const second = tryAcquire(first.state, 1, 7, { perSecond: 10 });
    expect(second.granted).toBe(3);
    expect(second.retryAfterMs).toBeGreaterThan(0);
    expect(tryAcquire(second.state, 2, 1, { perSecond: 10 }).granted).toBe(0);
  });

  it("enforces per-minute: at most 30 in any 60 s under a steady 10 req/s", () => {
    const times = Array.from({ length: 1800 }, (_, i) => i * 100);
    const admitted = runReject(times, { perMinute: 30 });
    expect(maxInWindow(admitted, 60_000)).toBe(30);
    expect(admitted.length).toBeGreaterThanOrEqual(88);
    expect(admitted.length).toBeLessThanOrEqual(90);
  });

  it("books a leased token at the end of its hold, so a later grant cannot share a window with its use", () => {
    const lease = tryAcquire(emptyLimiterState, 0, 1, { perSecond: 1 }, 200);
    expect(lease.bookedAt).toBe(200);
    // Used at 199, the token shares [199, 1199) with anything granted before 1199.
    expect(tryAcquire(lease.state, 1190, 1, { perSecond: 1 }).granted).toBe(0);
    expect(tryAcquire(lease.state, 1210, 1, { perSecond: 1 }).granted).toBe(1);
  });

  it("a released grant frees its tokens", () => {
    const grant = tryAcquire(emptyLimiterState, 0, 10, { perSecond: 10 }, 50);
    expect(tryAcquire(grant.state, 10, 1, { perSecond: 10 }).granted).toBe(0);
    const freed = release(grant.state, grant.bookedAt, 4);
    expect(tryAcquire(freed, 10, 9, { perSecond: 10 }).granted).toBe(4);
  });

  it("reports the current rate", () => {
    let s = emptyLimiterState;
    for (const t of [0, 100, 200, 30_000]) s = tryAcquire(s, t, 1, { perSecond: 10 }).state;
    expect(currentRate(s, 30_000)).toEqual({ perSecond: 1, perMinute: 4 });
  });

  it("a limit below 1 (shaped down) admits one request per window / limit", () => {
    const admitted = runReject(
      Array.from({ length: 1000 }, (_, i) => i * 10),
      { perSecond: 0.5 },
    );
    // 2 s apart, plus the one 10 ms bucket that conservative counting adds.
    expect(admitted).toEqual([0, 2010, 4020, 6030, 8040]);
  });

  it("a fractional limit rounds down, never up", () => {
    expect(
      runReject(
        Array.from({ length: 10 }, () => 0),
        { perSecond: 2.9 },
      ),
    ).toHaveLength(2);
  });

  it("rejects a non-positive limit as a programmer error", () => {
    expect(() => tryAcquire(emptyLimiterState, 0, 1, { perSecond: 0 })).toThrow(RangeError);
  });
});

describe("queue mode: 10 req/s, maxWait 1000 ms, 100 requests over 2 s", () => {
  it.each([1, 2, 3, 4, 5])("spaces admissions at the rate within maxWait and rejects the rest (seed %i)", (seed) => {
    const times = arrivals(seed, 100, 2000);
    const { admitted, rejected } = runQueue(times, { perSecond: 10 }, 1000);
    expect(admitted.length + rejected.length).toBe(100);
    for (const a of admitted) expect(a.at - a.arrival).toBeLessThanOrEqual(1000);
    const at = admitted.map((a) => a.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(maxInWindow(at, 1000)).toBeLessThanOrEqual(10);
    // Work-conserving: the queue runs at the rate from the first arrival until the last request's wait is used up.
    expect(admitted.length).toBeGreaterThanOrEqual(Math.floor((times[times.length - 1]! + 1000 - times[0]!) / 100) - 1);
    // Rejected only when the queue was genuinely full.
    for (const r of rejected) expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it("a rejected request that waits retryAfterMs fits", () => {
    const { rejected } = runQueue(
      Array.from({ length: 30 }, () => 0),
      { perSecond: 10 },
      1000,
    );
    const first = rejected[0]!;
    const retry = reserve(first.state, first.arrival + first.retryAfterMs, { perSecond: 10 }, 1000);
    expect("delayMs" in retry && retry.delayMs).toBe(1000);
    expect("rejected" in reserve(first.state, first.arrival + first.retryAfterMs - 1, { perSecond: 10 }, 1000)).toBe(true);
  });

  it("counts queued reservations as backlog until they are admitted, and leases wait for the queue", () => {
    const { state, admitted } = runQueue(
      Array.from({ length: 5 }, () => 0),
      { perSecond: 10 },
      1000,
    );
    expect(admitted.map((a) => a.at)).toEqual([0, 100, 200, 300, 400]);
    expect(backlog(state, 0)).toBe(4);
    expect(backlog(state, 250)).toBe(2);
    expect(backlog(state, 400)).toBe(0);
    const lease = tryAcquire(state, 150, 1, { perSecond: 10 });
    expect(lease.granted).toBe(0);
    expect(lease.retryAfterMs).toBe(250);
  });

  it("spaces at the slower of the two limits", () => {
    expect(spacingMs({ perSecond: 10, perMinute: 60 })).toBe(1000);
    expect(spacingMs({ perSecond: 10 })).toBe(100);
  });
});

describe("window invariants over any arrival sequence", () => {
  // Short spans stress the per-second window, long ones the per-minute window.
  const sequence = fc.oneof(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 250 }), fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 250 })).map((xs) => xs.sort((a, b) => a - b));
  const limitsArb = fc.record({ perSecond: fc.integer({ min: 1, max: 20 }), perMinute: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }) });

  it("reject mode: never more than perSecond in any 1 s or perMinute in any 60 s", () => {
    fc.assert(
      fc.property(sequence, limitsArb, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1 }), (times, limits, asks) => {
        let state: LimiterState = emptyLimiterState;
        const admitted: number[] = [];
        times.forEach((t, i) => {
          const r = tryAcquire(state, t, asks[i % asks.length]!, limits);
          state = r.state;
          for (let k = 0; k < r.granted; k++) admitted.push(t);
        });
        expect(maxInWindow(admitted, 1000)).toBeLessThanOrEqual(limits.perSecond);
        if (limits.perMinute !== undefined) expect(maxInWindow(admitted, 60_000)).toBeLessThanOrEqual(limits.perMinute);
      }),
    );
  });

  it("queue mode: the same bound on admission instants, and no wait beyond maxWait", () => {
    fc.assert(
      fc.property(sequence, limitsArb, fc.integer({ min: 0, max: 3000 }), (times, limits, maxWaitMs) => {
        const { admitted } = runQueue(times, limits, maxWaitMs);
        const at = admitted.map((a) => a.at);
        expect(maxInWindow(at, 1000)).toBeLessThanOrEqual(limits.perSecond);
        if (limits.perMinute !== undefined) expect(maxInWindow(at, 60_000)).toBeLessThanOrEqual(limits.perMinute);
        for (const a of admitted) expect(a.at - a.arrival).toBeLessThanOrEqual(maxWaitMs);
      }),
    );
  });

  it("leased tokens used anywhere within their hold never exceed the limit", () => {
    fc.assert(
      fc.property(sequence, limitsArb, fc.integer({ min: 0, max: 200 }), fc.array(fc.oneof(fc.constantFrom(0, 0.999), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1 }), (times, limits, holdMs, spots) => {
        let state: LimiterState = emptyLimiterState;
        const used: number[] = [];
        times.forEach((t, i) => {
          const r = tryAcquire(state, t, 3, limits, holdMs);
          state = r.state;
          // Each token is used at an arbitrary instant of its hold, as an edge would.
          for (let k = 0; k < r.granted; k++) used.push(t + spots[(i + k) % spots.length]! * holdMs);
        });
        expect(maxInWindow(used, 1000)).toBeLessThanOrEqual(limits.perSecond);
        if (limits.perMinute !== undefined) expect(maxInWindow(used, 60_000)).toBeLessThanOrEqual(limits.perMinute);
      }),
      { numRuns: 300 },
    );
  });

  it("the state survives a JSON round trip mid-stream", () => {
    fc.assert(
      fc.property(sequence, (times) => {
        let a: LimiterState = emptyLimiterState;
        let b: LimiterState = emptyLimiterState;
        for (const t of times) {
          const ra = tryAcquire(a, t, 1, { perSecond: 5 });
          const rb = tryAcquire(JSON.parse(JSON.stringify(b)) as LimiterState, t, 1, { perSecond: 5 });
          expect(rb.granted).toBe(ra.granted);
          a = ra.state;
          b = rb.state;
        }
      }),
    );
  });
});
