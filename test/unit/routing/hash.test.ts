/** Tests for the routing hash: stability (pinned vectors), 64-bit spread, the (0, 1) mixer's range, uniformity and avalanche. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashString, mixHashes, mixToUnit } from "../../../src/routing/hash";

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
/** Any UTF-16 code units, lone surrogates included (cheaper to generate than fast-check's "binary" unit). */
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 }).map((units) => String.fromCharCode(...units));

describe("hashString", () => {
  it("matches pinned values, because every edge isolate and every release must route a key alike", () => {
    // Changing these means re-sharding every cached object in a deployed cluster: do it on purpose only.
    expect(hashString("")).toEqual({ hi: 178635339, lo: 4274982749 });
    expect(hashString("a")).toEqual({ hi: 2702951210, lo: 3134290440 });
    expect(hashString("shard-0")).toEqual({ hi: 1750334076, lo: 2584784752 });
    expect(hashString("https://cache.test/a?b=1")).toEqual({ hi: 3990629495, lo: 987491426 });
    expect(hashString("😀é")).toEqual({ hi: 3347857629, lo: 1354025190 });
    expect(hashString("shard-0", 42)).toEqual({ hi: 3099748040, lo: 2264582941 });
  });

  it("is deterministic and returns two unsigned 32-bit halves", () => {
    fc.assert(
      fc.property(codeUnits, uint32, (s, seed) => {
        const h = hashString(s, seed);
        const again = hashString(s, seed);
        const isUint32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
        return again.hi === h.hi && again.lo === h.lo && isUint32(h.hi) && isUint32(h.lo);
      }),
    );
  });

  it("treats the default seed as 0 and gives other seeds different values", () => {
    expect(hashString("key")).toEqual(hashString("key", 0));
    expect(hashString("key", 1)).not.toEqual(hashString("key", 0));
  });

  it("separates strings that differ only in length, order, trailing NULs or surrogate halves", () => {
    const tricky = ["", "\0", "\0\0", "a", "a\0", "a\0\0", "ab", "ba", "ab\0", "abc", "acb", "\ud83d", "\ude00", "\ud83d\ude00", "\ude00\ud83d", "ÿ", "\u0100", "\uffff"];
    const seen = new Set(
      tricky.map((s) => {
        const h = hashString(s);
        return `${h.hi}:${h.lo}`;
      }),
    );
    expect(seen.size).toBe(tricky.length);
  });

  it("has no 64-bit collision over 300,000 near-identical keys", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300_000; i++) {
      const h = hashString(`https://cache.test/p/${i}`);
      seen.add(`${h.hi}:${h.lo}`);
    }
    expect(seen.size).toBe(300_000);
  });

  it("avalanches: one flipped input bit flips about half of the 64 output bits, each with probability ≈ 1/2", () => {
    const trials = 4000;
    const flips = new Array<number>(64).fill(0);
    for (let t = 0; t < trials; t++) {
      const base = `/assets/${t}/app.js`;
      const pos = t % base.length;
      const bit = t % 7; // ASCII bits, the ones URLs actually vary in
      const flipped = base.slice(0, pos) + String.fromCharCode(base.charCodeAt(pos) ^ (1 << bit)) + base.slice(pos + 1);
      const a = hashString(base);
      const b = hashString(flipped);
      for (let o = 0; o < 32; o++) {
        flips[o]! += ((a.hi ^ b.hi) >>> o) & 1;
        flips[32 + o]! += ((a.lo ^ b.lo) >>> o) & 1;
      }
    }
    // 4000 trials: σ ≈ 0.008 per bit, so 0.05 is > 6σ for any single bit.
    for (const f of flips) expect(Math.abs(f / trials - 0.5)).toBeLessThan(0.05);
  });
});

describe("mixHashes / mixToUnit", () => {
  it("returns 52-bit values strictly inside (0, 1), even at the extremes", () => {
    fc.assert(
      fc.property(uint32, uint32, uint32, uint32, (aHi, aLo, bHi, bLo) => {
        const u = mixToUnit(aHi, aLo, bHi, bLo);
        expect(u).toBeGreaterThan(0);
        expect(u).toBeLessThan(1);
        const scaled = u * 2 ** 52 - 0.5; // exact: u is (integer + 1/2) / 2^52
        expect(Number.isInteger(scaled)).toBe(true);
        expect(Math.log(u)).toBeLessThan(0);
        expect(Number.isFinite(-1 / Math.log(u))).toBe(true);
      }),
    );
    for (const v of [0, 0xffffffff, 0x80000000, 1]) {
      const u = mixToUnit(v, v, 0, 0);
      expect(u > 0 && u < 1).toBe(true);
    }
  });

  it("boxes and unboxes alike, and is deterministic", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (x, y) => {
        const a = hashString(x);
        const b = hashString(y);
        expect(mixHashes(a, b)).toBe(mixToUnit(a.hi, a.lo, b.hi, b.lo));
        expect(mixHashes(a, b)).toBe(mixHashes(a, b));
      }),
    );
  });

  it("is uniform over (0, 1) for related (shard, key) pairs: χ² over 64 buckets", () => {
    const shard = hashString("shard-7");
    const buckets = new Array<number>(64).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) buckets[Math.floor(mixHashes(shard, hashString(`k${i}`)) * 64)]!++;
    const expected = n / 64;
    const chi2 = buckets.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 63 degrees of freedom: p = 0.0001 at χ² ≈ 110.
    expect(chi2).toBeLessThan(110);
  });

  it("avalanches: flipping any one of the 64 key-hash bits flips each output bit with probability ≈ 1/2", () => {
    const trials = 600;
    let state = 0x2545f491;
    const next = (): number => (state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0) >>> 0;
    let worst = 0;
    for (let bit = 0; bit < 64; bit++) {
      const flips = new Array<number>(52).fill(0);
      for (let t = 0; t < trials; t++) {
        const [aHi, aLo, bHi, bLo] = [next(), next(), next(), next()];
        const x = mixToUnit(aHi, aLo, bHi, bLo) * 2 ** 52 - 0.5;
        const fHi = bit < 32 ? (bHi ^ (1 << bit)) >>> 0 : bHi;
        const fLo = bit >= 32 ? (bLo ^ (1 << (bit - 32))) >>> 0 : bLo;
        const y = mixToUnit(aHi, aLo, fHi, fLo) * 2 ** 52 - 0.5;
        // Compare the 52 bits as two integer halves (26 + 26) to stay within 32-bit operators.
        const d1 = (Math.floor(x / 2 ** 26) ^ Math.floor(y / 2 ** 26)) >>> 0;
        const d0 = ((x % 2 ** 26) ^ (y % 2 ** 26)) >>> 0;
        for (let o = 0; o < 26; o++) {
          flips[o]! += (d0 >>> o) & 1;
          flips[26 + o]! += (d1 >>> o) & 1;
        }
      }
      for (const f of flips) worst = Math.max(worst, Math.abs(f / trials - 0.5));
    }
    // 600 trials: σ ≈ 0.02 per cell; over 3,328 cells the largest deviation of a good mixer is ≈ 4σ.
    expect(worst).toBeLessThan(0.1);
  });
});
