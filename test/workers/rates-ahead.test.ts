/**
 * Refill ahead on workerd: the request that notices its isolate's lease running low starts the next
 * lease call and answers without waiting for it, so the call must outlive that request (its
 * waitUntil keeps it). A call cut off with its request would leave the lease's call in flight forever
 * and every later request of the context waiting on it.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { limiterObjectName } from "../../src/rates/context";
import { advanceTime, holdingTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";
const unique = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

describe("rate classes, refill ahead", () => {
  it("a lease call started by a request that has already answered completes, and the next requests use its tokens", async () => {
    const cls = unique("ahead");
    const prefix = uniquePath("ahead");
    await putConfig({ rateClasses: { [cls]: { perSecond: 1_000_000, spread: 1 } }, rules: [{ match: { path: `${prefix}/**` }, actions: { rateClass: { name: cls } } }] });
    const statuses: number[] = [];
    // One at a time, 5 ms apart on the worker's clock, for twelve holds: each lease call ahead is
    // started by a request that answers before the call does.
    await holdingTime(async () => {
      for (let i = 0; i < 120; i++) {
        const response = await SELF.fetch(`${BASE}${prefix}/hot`);
        await response.arrayBuffer();
        statuses.push(response.status);
        await advanceTime(5);
      }
    });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // More than one batch was leased (the first holds at most 64 tokens): the calls ahead were made and answered.
    const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterObjectName(cls, "*", 1)));
    const [status] = await limiter.status();
    expect(status?.perMinute).toBeGreaterThan(64);
  });

  it("requests that find the lease empty while a call ahead is in flight are all answered", async () => {
    // Bursts of concurrent requests, each its own request on workerd: a burst uses the lease up past
    // the point where a call ahead starts, and the rest of it finds the lease empty meanwhile. Had they
    // waited on that call (its request answered already), workerd would cancel them as hung.
    const cls = unique("burst");
    const prefix = uniquePath("burst");
    await putConfig({ rateClasses: { [cls]: { perSecond: 1_000_000, spread: 1 } }, rules: [{ match: { path: `${prefix}/**` }, actions: { rateClass: { name: cls } } }] });
    const statuses: number[] = [];
    for (let round = 0; round < 2; round++) {
      const responses = await Promise.all(Array.from({ length: 80 }, () => SELF.fetch(`${BASE}${prefix}/hot`)));
      for (const response of responses) {
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    }
    expect(statuses).toHaveLength(160);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
