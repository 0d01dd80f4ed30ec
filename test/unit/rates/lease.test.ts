import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EdgeLease, FIRST_LEASE_SIZE, LEASE_TTL_MS, MAX_HOLD_MS, MAX_LEASE_SIZE, holdFor, leaseCap, leaseSize } from "../../../src/rates/lease";

/** A grant of the minimal hold, answered at once. */
const fill = (lease: EdgeLease, requestedAt: number, granted: number, bookedAt: number, size = granted, answeredAt = requestedAt) => lease.fill({ requestedAt, answeredAt, granted, holdMs: LEASE_TTL_MS, bookedAt, size, usedAtOnce: 0 });

describe("an edge lease", () => {
  it("a batch expires at the end of its hold, measured from the request", () => {
    const lease = new EdgeLease();
    expect(lease.needsRefill(0)).toBe(true);
    fill(lease, 1000, 3, 1060);
    expect(lease.take(1010)).toBe(true);
    expect(lease.remaining(1010)).toBe(2);
    expect(lease.needsRefill(1049)).toBe(false);
    expect(lease.take(1000 + LEASE_TTL_MS)).toBe(false);
    expect(lease.needsRefill(1000 + LEASE_TTL_MS)).toBe(true);
    expect(lease.remaining(5000)).toBe(0);
  });

  it("holds a batch asked for ahead beside the one in use, and uses the older one first", () => {
    const lease = new EdgeLease();
    fill(lease, 0, 2, 50);
    fill(lease, 30, 3, 80);
    expect(lease.remaining(31)).toBe(5);
    expect([lease.take(31), lease.take(32)]).toEqual([true, true]);
    // The first batch is used up; the second one goes on until its own hold ends.
    expect(lease.remaining(60)).toBe(3);
    expect([lease.take(60), lease.take(61), lease.take(62), lease.take(63)]).toEqual([true, true, true, false]);
  });

  it("never uses a token of an expired batch, even when a later batch is live", () => {
    const lease = new EdgeLease();
    fill(lease, 0, 5, 50);
    fill(lease, 40, 1, 90);
    expect([lease.take(LEASE_TTL_MS), lease.take(LEASE_TTL_MS + 1)]).toEqual([true, false]);
  });

  it("surrenders the unused tokens of expired batches once, and keeps the live ones", () => {
    const lease = new EdgeLease();
    fill(lease, 0, 4, 50);
    lease.take(1);
    fill(lease, 30, 6, 80);
    expect(lease.beginRefill(60).surrender).toEqual([{ bookedAt: 50, unused: 3 }]);
    expect(lease.beginRefill(61).surrender).toEqual([]);
    expect(lease.remaining(61)).toBe(6);
  });

  it("measures the rate it admitted at over at least 25 ms, however close together its calls are", () => {
    const lease = new EdgeLease();
    expect(lease.beginRefill(0).observedPerMs).toBeNull();
    fill(lease, 0, 100, 50);
    for (let i = 0; i < 20; i++) lease.take(i / 2);
    // 10 ms in: too short a window to measure (a call right after another would see no requests at all).
    expect(lease.beginRefill(10).observedPerMs).toBeNull();
    for (let i = 20; i < 60; i++) lease.take(i / 2);
    expect(lease.beginRefill(30).observedPerMs).toBe(2);
    expect(lease.beginRefill(31).observedPerMs).toBe(2);
  });

  it("lengthens the hold with the round trip it sees to the limiter, within bounds", () => {
    expect(holdFor(null)).toBe(LEASE_TTL_MS);
    expect(holdFor(2)).toBe(LEASE_TTL_MS);
    expect(holdFor(30)).toBe(120);
    expect(holdFor(10_000)).toBe(MAX_HOLD_MS);
    const lease = new EdgeLease();
    expect(lease.beginRefill(0).holdMs).toBe(LEASE_TTL_MS);
    fill(lease, 0, 10, 50, 10, 40);
    // One slow answer (40 ms): the next batch is asked for with a hold long enough to outlast its round trip.
    expect(lease.beginRefill(41).holdMs).toBe(160);
  });

  it("counts the token the waiting request used at once, and never lends it again", () => {
    const lease = new EdgeLease();
    lease.fill({ requestedAt: 0, answeredAt: 1, granted: 3, holdMs: LEASE_TTL_MS, bookedAt: 50, size: 3, usedAtOnce: 1 });
    expect(lease.remaining(1)).toBe(2);
    lease.fill({ requestedAt: 1, answeredAt: 2, granted: 0, holdMs: LEASE_TTL_MS, bookedAt: 51, size: 3, usedAtOnce: 1 });
    expect(lease.remaining(2)).toBe(2);
  });

  it("runs low at half of its latest batch, or at half of its hold", () => {
    const lease = new EdgeLease();
    expect(lease.runningLow(0)).toBe(true);
    fill(lease, 0, 10, 50, 10);
    expect(lease.runningLow(1)).toBe(false);
    for (let i = 0; i < 4; i++) lease.take(1);
    expect(lease.runningLow(1)).toBe(false);
    lease.take(1);
    expect(lease.runningLow(1)).toBe(true);
    const timed = new EdgeLease();
    fill(timed, 0, 10, 50, 10);
    expect(timed.runningLow(LEASE_TTL_MS / 2 - 1)).toBe(false);
    expect(timed.runningLow(LEASE_TTL_MS / 2)).toBe(true);
  });
});

describe("lease sizes", () => {
  it("caps a batch at what the class admits in one hold, at least 1, at most MAX_LEASE_SIZE", () => {
    expect(leaseCap({ perSecond: 10 })).toBe(1);
    expect(leaseCap({ perSecond: 200 })).toBe(10);
    expect(leaseCap({ perMinute: 60 * 200 })).toBe(10);
    expect(leaseCap({ perSecond: 1000, perMinute: 600 })).toBe(1);
    expect(leaseCap({ perSecond: 1e6 })).toBe(MAX_LEASE_SIZE);
  });

  it("asks for two holds of the observed rate, within the cap; the first batch before any rate is seen", () => {
    expect(leaseSize({ perSecond: 1e6 }, null)).toBe(FIRST_LEASE_SIZE);
    expect(leaseSize({ perSecond: 200 }, null)).toBe(10);
    expect(leaseSize({ perSecond: 1e6 }, 5)).toBe(5 * LEASE_TTL_MS * 2);
    expect(leaseSize({ perSecond: 1e6 }, 0)).toBe(1);
    expect(leaseSize({ perSecond: 1e6 }, 1e6)).toBe(MAX_LEASE_SIZE);
    expect(leaseSize({ perSecond: 200 }, 5)).toBe(10);
  });

  it("never asks for more than the cap or less than one token, whatever the observed rate", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.option(fc.double({ min: 0, max: 1e9, noNaN: true })), (perSecond, observed) => {
        const size = leaseSize({ perSecond }, observed);
        return Number.isInteger(size) && size >= 1 && size <= leaseCap({ perSecond });
      }),
    );
  });
});
