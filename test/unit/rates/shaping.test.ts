import { describe, expect, it } from "vitest";
import { effectiveLimits, nextFactor } from "../../../src/rates/shaping";
import type { SlmState } from "../../../src/slm/window";

const follow = { minFactor: 0.1, decreaseFactor: 0.5, recoverStep: 0.1 };
const run = (start: number, states: SlmState[]): number[] => {
  const factors: number[] = [];
  for (const s of states) factors.push(nextFactor(factors[factors.length - 1] ?? start, s, follow));
  return factors;
};

describe("nextFactor", () => {
  it("shrinks multiplicatively while serious, down to minFactor and no further", () => {
    expect(run(1, ["serious", "serious", "serious", "serious", "serious"])).toEqual([0.5, 0.25, 0.125, 0.1, 0.1]);
  });

  it("holds while warning", () => {
    expect(run(0.25, ["warning", "warning"])).toEqual([0.25, 0.25]);
  });

  it("recovers step by step while ok, up to exactly 1", () => {
    expect(run(0.1, Array<SlmState>(11).fill("ok"))).toEqual([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1]);
  });

  it("a serious spell in the middle of recovery shrinks again", () => {
    expect(run(0.5, ["ok", "serious", "warning", "ok"])).toEqual([0.6, 0.3, 0.3, 0.4]);
  });

  it("brings an out-of-range factor back into range", () => {
    expect(nextFactor(0.01, "warning", follow)).toBe(0.1);
    expect(nextFactor(3, "warning", follow)).toBe(1);
    expect(nextFactor(Number.NaN, "warning", follow)).toBe(1);
  });
});

describe("effectiveLimits", () => {
  it("scales each configured limit and leaves absent ones absent", () => {
    expect(effectiveLimits({ perSecond: 100, perMinute: 3000 }, 0.25)).toEqual({ perSecond: 25, perMinute: 750 });
    expect(effectiveLimits({ perSecond: 100 }, 0.5)).toEqual({ perSecond: 50, perMinute: undefined });
  });

  it("treats a factor outside (0, 1] as unshaped", () => {
    expect(effectiveLimits({ perSecond: 100 }, 0).perSecond).toBe(100);
    expect(effectiveLimits({ perSecond: 100 }, 2).perSecond).toBe(100);
  });
});
