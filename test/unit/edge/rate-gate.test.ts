import { beforeEach, describe, expect, it } from "vitest";
import { rateClassSchema } from "../../../src/config/rates";
import { FACTORS_TTL_MS, MAX_CONTEXTS_PER_CLASS, RateGate, type LimiterStub } from "../../../src/edge/rate-gate";
import type { LeaseRequest } from "../../../durable/rate-limiter";

const req = { url: new URL("http://x/a"), headers: new Headers(), clientIp: "192.0.2.1" };
const kept: Promise<unknown>[] = [];
const keep = (promise: Promise<unknown>) => void kept.push(promise);

function gate(limiter: LimiterStub, errors: string[] = []) {
  let now = 1_000;
  const g = new RateGate({ limiter: () => limiter, factors: async () => ({}), now: () => now, onLimiterError: (name) => void errors.push(name) });
  return { gate: g, advance: (ms: number) => void (now += ms) };
}

describe("RateGate", () => {
  beforeEach(() => void kept.splice(0));

  it("admits from one lease without calling the limiter again until it runs low", async () => {
    const calls: LeaseRequest[] = [];
    const limiter: LimiterStub = { lease: async (r) => (calls.push(r), { granted: Math.min(r.want, 8), retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 1000 });
    expect(g.admitFromLease("c", cls, { name: "c" }, req, keep)).toBe(false);
    expect(await g.admit("c", cls, { name: "c" }, req, keep)).toEqual({ admitted: true, delayedMs: 0 });
    expect(calls.map((c) => c.want)).toEqual([50]);
    // Seven tokens left of a batch of 50 asked: already low, so the first request from the lease asks for the next batch.
    const waits = kept.length;
    expect(g.admitFromLease("c", cls, { name: "c" }, req, keep)).toBe(true);
    expect(kept.length).toBe(waits + 1);
    // The call in flight is not repeated, and the lease goes on admitting meanwhile.
    for (let i = 0; i < 6; i++) expect(g.admitFromLease("c", cls, { name: "c" }, req, keep)).toBe(true);
    await Promise.all(kept);
    expect(calls).toHaveLength(2);
    // The batch asked for ahead is all the lease's (no request was waiting for it).
    for (let i = 0; i < 8; i++) expect(g.admitFromLease("c", cls, { name: "c" }, req, keep)).toBe(true);
  });

  it("asks for the next batch ahead, so a steady stream never finds its lease empty", async () => {
    let calls = 0;
    const limiter: LimiterStub = { lease: async (r) => (calls++, { granted: r.want, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g, advance } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 100_000 });
    await g.admit("c", cls, { name: "c" }, req, keep);
    let fromLease = 0;
    // 2 requests per ms for 1 s; each ms, the calls started in it complete before the next ms.
    for (let ms = 0; ms < 1000; ms++) {
      for (let i = 0; i < 2; i++) if (g.admitFromLease("c", cls, { name: "c" }, req, keep)) fromLease++;
      await Promise.all(kept.splice(0));
      advance(1);
    }
    expect(fromLease).toBe(2000);
    // Sized by the rate seen (2 per ms: 200 per batch), not one call per 64 requests.
    expect(calls).toBeLessThan(60);
  });

  it("never waits for a call ahead: a request finding its lease empty meanwhile makes its own call", async () => {
    // Calls answer only when the test says so.
    const pending: { want: number; answer: () => void }[] = [];
    const limiter: LimiterStub = {
      lease: (r) => new Promise((resolve) => pending.push({ want: r.want, answer: () => resolve({ granted: r.want, retryAfterMs: 0, bookedAt: 0 }) })),
      reserve: async () => ({ delayMs: 0 }),
    };
    const { gate: g } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 1000 });
    const first = g.admit("c", cls, { name: "c" }, req, keep);
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()!.answer();
    await first;
    // Use the lease up: the first request from it that finds it low starts a call ahead, which stays unanswered.
    while (g.admitFromLease("c", cls, { name: "c" }, req, keep));
    await new Promise((resolve) => setImmediate(resolve));
    expect(pending).toHaveLength(1);
    let settled = false;
    const waiting = g.admit("c", cls, { name: "c" }, req, keep).then((v) => ((settled = true), v));
    await new Promise((resolve) => setImmediate(resolve));
    // Its own call, not the call ahead.
    expect(pending).toHaveLength(2);
    pending[1]!.answer();
    expect(await waiting).toEqual({ admitted: true, delayedMs: 0 });
    expect(settled).toBe(true);
    pending[0]!.answer();
  });

  it("reads the shaping factors once per FACTORS_TTL_MS, and uses the held ones while it reads them again", async () => {
    let reads = 0;
    let factor = 0.5;
    const wants: number[] = [];
    const limiter: LimiterStub = { lease: async (r) => (wants.push(r.limits.perSecond!), { granted: 1, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    let now = 1_000;
    const g = new RateGate({ limiter: () => limiter, factors: async () => (reads++, { c: factor }), now: () => now });
    const cls = rateClassSchema.parse({ perSecond: 100 });
    for (let i = 0; i < 3; i++) await g.admit("c", cls, { name: "c" }, req, keep);
    expect(reads).toBe(1);
    now += FACTORS_TTL_MS;
    factor = 1;
    await g.admit("c", cls, { name: "c" }, req, keep);
    await Promise.all(kept);
    await g.admit("c", cls, { name: "c" }, req, keep);
    expect(reads).toBe(2);
    // Stale factors while the new read was in flight, the new ones after it.
    expect(wants).toEqual([50, 50, 50, 50, 100]);
  });

  it("refuses with the limiter's retry time in reject mode", async () => {
    const limiter: LimiterStub = { lease: async () => ({ granted: 0, retryAfterMs: 700, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    expect(await gate(limiter).gate.admit("c", rateClassSchema.parse({ perSecond: 1 }), { name: "c" }, req, keep)).toEqual({ admitted: false, retryAfterMs: 700 });
  });

  it("fails open, and says so, when the limiter object cannot answer", async () => {
    const errors: string[] = [];
    const limiter: LimiterStub = { lease: async () => Promise.reject(new Error("overloaded")), reserve: async () => Promise.reject(new Error("overloaded")) };
    expect(await gate(limiter, errors).gate.admit("c", rateClassSchema.parse({ perSecond: 1 }), { name: "c" }, req, keep)).toEqual({ admitted: true, delayedMs: 0 });
    expect(errors).toEqual(["c"]);
  });

  it.each([
    ["a negative count", { granted: -1, retryAfterMs: 0, bookedAt: 0 }],
    ["a fractional count", { granted: 2.5, retryAfterMs: 0, bookedAt: 0 }],
    ["more than was asked for", { granted: 1e9, retryAfterMs: 0, bookedAt: 0 }],
    ["NaN", { granted: Number.NaN, retryAfterMs: 0, bookedAt: 0 }],
    ["a string", { granted: "64", retryAfterMs: 0, bookedAt: 0 }],
    ["no booking instant", { granted: 3, retryAfterMs: 0 }],
    ["an infinite retry time", { granted: 0, retryAfterMs: Number.POSITIVE_INFINITY, bookedAt: 0 }],
    ["null", null],
  ])("fails open on a limiter that answers %s, and lends nothing from it", async (_, answer) => {
    const errors: string[] = [];
    const limiter = { lease: async () => answer, reserve: async () => ({ delayMs: 0 }) } as unknown as LimiterStub;
    const { gate: g } = gate(limiter, errors);
    const cls = rateClassSchema.parse({ perSecond: 1000, mode: "reject" });
    expect(await g.admit("c", cls, { name: "c" }, req, keep)).toEqual({ admitted: true, delayedMs: 0 });
    expect(errors).toEqual(["c"]);
    // Nothing from the garbage went into the lease: the next request asks the limiter again.
    expect(g.admitFromLease("c", cls, { name: "c" }, req, keep)).toBe(false);
  });

  it("forgets idle contexts, so a client sending a new context value each time cannot grow the isolate's memory", async () => {
    const limiter: LimiterStub = { lease: async (r) => ({ granted: r.want, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g, advance } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 1000, context: { header: "x-user" } });
    const user = (name: string) => ({ ...req, headers: new Headers({ "x-user": name }) });
    const contexts = MAX_CONTEXTS_PER_CLASS + 100;
    for (let i = 0; i < contexts; i++) {
      await g.admit("c", cls, { name: "c" }, user(`u${i}`), keep);
      advance(1);
    }
    // Leases whose hold ended were forgotten; the recent ones are kept, tokens and all.
    expect(g.contextsHeld("c")).toBeLessThanOrEqual(MAX_CONTEXTS_PER_CLASS);
    expect(g.admitFromLease("c", cls, { name: "c" }, user(`u${contexts - 1}`), keep)).toBe(true);
  });

  it("admits the request that leased a batch even when the reply comes after the lease's hold", async () => {
    let now = 1_000;
    const limiter: LimiterStub = { lease: async () => ((now += 500), { granted: 4, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const g = new RateGate({ limiter: () => limiter, factors: async () => ({}), now: () => now });
    expect(await g.admit("c", rateClassSchema.parse({ perSecond: 80 }), { name: "c" }, req, keep)).toEqual({ admitted: true, delayedMs: 0 });
  });

  it("shares one lease call among concurrent requests of the same context", async () => {
    let calls = 0;
    const limiter: LimiterStub = { lease: async () => (calls++, await new Promise((r) => setTimeout(r, 5)), { granted: 64, retryAfterMs: 0, bookedAt: 0 }), reserve: async () => ({ delayMs: 0 }) };
    const { gate: g } = gate(limiter);
    const cls = rateClassSchema.parse({ perSecond: 10_000 });
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => g.admit("c", cls, { name: "c" }, req, keep)));
    expect(verdicts.every((v) => v.admitted)).toBe(true);
    expect(calls).toBe(1);
  });
});
