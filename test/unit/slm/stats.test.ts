/** TTFB stats: exact min / max / mean, histogram percentiles within one bucket of the truth, lossless merging, checked input. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addSample, bucketOf, bucketUpperMs, emptyStats, HISTOGRAM_BUCKETS, HISTOGRAM_RATIO, mergeStats, percentileMs, summarize, validStats } from "../../../src/slm/stats";

const statsOf = (samples: number[]) => {
  const s = emptyStats();
  for (const x of samples) addSample(s, x);
  return s;
};

describe("TTFB stats", () => {
  it("keeps exact min, max and mean, and reads percentiles from the histogram", () => {
    expect(summarize(statsOf([100, 200, 300, 400]))).toMatchObject({ samples: 4, minMs: 100, maxMs: 400, meanMs: 250 });
    expect(summarize(emptyStats())).toBeNull();
    expect(percentileMs(statsOf([5, 5, 5]), 0.99)).toBe(5); // clamped to what was seen
  });

  it("a percentile is never below the true one nor more than one bucket ratio above it, and within [min, max]", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.9, 0.95, 0.99, 1), (samples, q) => {
        const sorted = [...samples].sort((a, b) => a - b);
        const truth = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
        const got = percentileMs(statsOf(samples), q)!;
        expect(got).toBeGreaterThanOrEqual(truth - 1e-9);
        expect(got).toBeLessThanOrEqual(Math.max(truth * HISTOGRAM_RATIO, 1) + 1e-9);
        expect(got).toBeGreaterThanOrEqual(sorted[0]!);
        expect(got).toBeLessThanOrEqual(sorted[sorted.length - 1]!);
      }),
    );
  });

  it("merging batches gives exactly the stats of all their samples together (nothing lost in batching)", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 60_000 }), { maxLength: 20 }), { maxLength: 10 }), (batches) => {
        const merged = emptyStats();
        for (const b of batches) mergeStats(merged, statsOf(b));
        expect(merged).toEqual(statsOf(batches.flat()));
      }),
    );
  });

  it("puts a sample in the bucket whose bounds hold it; huge values go to the last bucket", () => {
    for (const ms of [0, 1, 1.2, 2, 999, 30_000]) {
      const i = bucketOf(ms);
      expect(ms).toBeLessThanOrEqual(bucketUpperMs(i) + 1e-9);
      if (i > 0) expect(ms).toBeGreaterThan(bucketUpperMs(i - 1) - 1e-9);
    }
    expect(bucketOf(1e12)).toBe(HISTOGRAM_BUCKETS - 1);
  });

  it("ignores invalid measurements and refuses stats that do not add up (a hostile or broken edge batch)", () => {
    expect(statsOf([Number.NaN, -1, Number.POSITIVE_INFINITY]).count).toBe(0);
    const good = statsOf([10, 20]);
    expect(validStats(JSON.parse(JSON.stringify(good)))).toEqual(good);
    for (const bad of [null, "x", { ...good, count: 3 }, { ...good, minMs: 30 }, { ...good, sumMs: -1 }, { ...good, buckets: { 999: 2 } }, { ...good, buckets: { 1: 1.5, 2: 0.5 } }]) {
      expect(validStats(bad)).toBeNull();
    }
  });
});
