import { describe, expect, it } from "vitest";
import { LoginThrottle } from "../../../src/admin/login-throttle";

const options = { freeFailures: 3, baseLockMs: 1_000, maxLockMs: 8_000, maxAddresses: 4 };

describe("LoginThrottle", () => {
  it("lets the first failures through, then locks for a time that doubles per failure up to the cap", () => {
    const throttle = new LoginThrottle(options);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      throttle.recordFailure("a", 0);
      waits.push(throttle.retryAfterMs("a", 0));
    }
    expect(waits).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(throttle.retryAfterMs("a", 7_999)).toBe(1);
    expect(throttle.retryAfterMs("a", 8_000)).toBe(0);
  });

  it("keeps addresses apart and forgets one on success", () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 4; i++) throttle.recordFailure("a", 0);
    expect(throttle.retryAfterMs("b", 0)).toBe(0);
    expect(throttle.retryAfterMs("a", 0)).toBeGreaterThan(0);
    throttle.recordSuccess("a");
    expect(throttle.retryAfterMs("a", 0)).toBe(0);
  });

  it("remembers at most maxAddresses, dropping the longest unseen", () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 4; i++) throttle.recordFailure("old", 0);
    for (const address of ["b", "c", "d", "e"]) throttle.recordFailure(address, 0);
    expect(throttle.size).toBe(4);
    expect(throttle.retryAfterMs("old", 0)).toBe(0);
  });
});
