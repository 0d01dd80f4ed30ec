import { describe, expect, it } from "vitest";
import { rateClassSchema } from "../../../src/config/rates";
import { RateGate, type LimiterStub } from "../../../src/edge/rate-gate";

const req = { url: new URL("http://x/a"), headers: new Headers(), clientIp: "192.0.2.1" };

function gate(limiter: LimiterStub, errors: string[] = []) {
  let now = 1_000;
  const g = new RateGate({ limiter: () => limiter, factors: async () => ({}), now: () => now, onLimiterError: (name) => void errors.push(name) });
  return { gate: g, advance: (ms: number) => void (now += ms) };
}

describe("RateGate", () => {
  it("admits from one lease without calling the limiter again until its tokens are used", async () => {
    let calls = 0;
    const limiter: LimiterStub = { lease: async () => (calls++, { granted: 3, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 100 });
    expect(g.admitFromLease("c", cls, { name: "c" }, req)).toBe(false);
    expect(await g.admit("c", cls, { name: "c" }, req)).toEqual({ admitted: true, delayedMs: 0 });
    // The two tokens left in the lease admit synchronously, then the lease is empty again.
    expect(g.admitFromLease("c", cls, { name: "c" }, req)).toBe(true);
    expect(g.admitFromLease("c", cls, { name: "c" }, req)).toBe(true);
    expect(g.admitFromLease("c", cls, { name: "c" }, req)).toBe(false);
    expect(calls).toBe(1);
    await g.admit("c", cls, { name: "c" }, req);
    expect(calls).toBe(2);
  });

  it("refuses with the limiter's retry time in reject mode", async () => {
    const limiter: LimiterStub = { lease: async () => ({ granted: 0, retryAfterMs: 700, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    expect(await gate(limiter).gate.admit("c", rateClassSchema.parse({ perSecond: 1 }), { name: "c" }, req)).toEqual({ admitted: false, retryAfterMs: 700 });
  });

  it("fails open, and says so, when the limiter object cannot answer", async () => {
    const errors: string[] = [];
    const limiter: LimiterStub = { lease: async () => Promise.reject(new Error("overloaded")), reserve: async () => Promise.reject(new Error("overloaded")) };
    expect(await gate(limiter, errors).gate.admit("c", rateClassSchema.parse({ perSecond: 1 }), { name: "c" }, req)).toEqual({ admitted: true, delayedMs: 0 });
    expect(errors).toEqual(["c"]);
  });

  it("admits the request that leased a batch even when the reply comes after the lease's hold", async () => {
    let now = 1_000;
    const limiter: LimiterStub = { lease: async () => ((now += 500), { granted: 4, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const g = new RateGate({ limiter: () => limiter, factors: async () => ({}), now: () => now });
    expect(await g.admit("c", rateClassSchema.parse({ perSecond: 80 }), { name: "c" }, req)).toEqual({ admitted: true, delayedMs: 0 });
  });

  it("shares one lease call among concurrent requests of the same context", async () => {
    let calls = 0;
    const limiter: LimiterStub = { lease: async () => (calls++, await new Promise((r) => setTimeout(r, 5)), { granted: 64, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 10_000 });
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => g.admit("c", cls, { name: "c" }, req)));
    expect(verdicts.every((v) => v.admitted)).toBe(true);
    expect(calls).toBe(1);
  });
});
