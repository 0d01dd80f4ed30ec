/** Weighted rendezvous (highest-random-weight) hashing: which shards own a cache key, best first. */
import type { Shard } from "../config/settings";
import { hashString as importedHashString, mixToUnit as importedMixToUnit } from "./hash";

// Module-local aliases of the imports: when this module runs unbundled (tsx, vitest), calling the
// imported binding in the shard loop measured ~3× slower per shard than calling a local constant,
// which V8 inlines (no call, no boxed float result). In a bundled worker the aliases cost nothing.
const hashString = importedHashString;
const mixToUnit = importedMixToUnit;

export interface Hrw {
  /** The shards this instance routes over, in the order given (frozen copies). */
  readonly shards: readonly Shard[];
  /**
   * The `count` highest-scoring shards for `key`, best first; all shards when `count` is at least
   * the number of shards, none when it is below 1. Fractional counts are rounded down.
   */
  rank(key: string, count: number): Shard[];
}

/**
 * Above this many requested shards the ranking sorts every score instead of keeping a small sorted
 * window: insertion into the window costs O(count) per accepted shard, a sort O(n log n) overall.
 */
const WINDOW_MAX = 16;

/**
 * Relative margin for skipping a shard's logarithm (see `rankWindow`). Scores computed with Math.log are
 * within a few ulps (~1e-16) of the exact value; a margin far larger than that keeps the skip from
 * ever rejecting a shard that the computed score would have accepted, so the result does not depend
 * on which shards happened to be skipped, i.e. on the order of the shard list.
 */
const SKIP_MARGIN = 1 - 2 ** -30;

/**
 * Builds a router over `shards`. Each shard's name hash is computed once here, so ranking a key
 * costs one hash of the key plus one cheap mix per shard. Scores depend only on (name, weight, key),
 * never on list position, so reordering the configuration does not move any key, and adding or
 * removing a shard only moves keys to or from that shard.
 *
 * Throws on an empty list, a duplicate name or a weight that is not a positive finite number: these
 * are programmer errors here, since config validation refuses them before a router is built.
 */
export function createHrw(shards: readonly Shard[]): Hrw {
  if (shards.length === 0) throw new Error("createHrw: the shard list is empty; at least one shard is required");
  const seen = new Set<string>();
  for (const shard of shards) {
    if (typeof shard.name !== "string") throw new Error(`createHrw: shard name must be a string, got ${typeof shard.name}`);
    if (seen.has(shard.name)) throw new Error(`createHrw: duplicate shard name "${shard.name}"; names must be unique`);
    seen.add(shard.name);
    if (typeof shard.weight !== "number" || !Number.isFinite(shard.weight) || shard.weight <= 0) {
      throw new Error(`createHrw: shard "${shard.name}" has weight ${String(shard.weight)}; weights must be positive finite numbers`);
    }
  }

  const n = shards.length;
  // Frozen copies: a caller mutating its config objects later must not desynchronise the hashes.
  const list: readonly Shard[] = Object.freeze(shards.map((s) => Object.freeze({ name: s.name, weight: s.weight })));
  const names = list.map((s) => s.name);
  const weights = new Float64Array(n);
  const hashHi = new Int32Array(n);
  const hashLo = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const h = hashString(list[i]!.name);
    hashHi[i] = h.hi;
    hashLo[i] = h.lo;
    weights[i] = list[i]!.weight;
  }
  // With equal weights -w/ln(u) is strictly increasing in u, so u itself orders the shards exactly
  // and no logarithm is needed: the common case (`shards: 16`) pays only for the mix.
  const uniform = weights.every((w) => w === weights[0]);

  // Scratch reused across calls: rank is synchronous, so no two calls can interleave.
  const scores = new Float64Array(n);
  const winIdx = new Int32Array(Math.min(n, WINDOW_MAX));
  const winScore = new Float64Array(Math.min(n, WINDOW_MAX));

  /** Score of shard i for the key hash (kHi, kLo); higher wins. */
  const score = (i: number, kHi: number, kLo: number): number => {
    const u = mixToUnit(hashHi[i]!, hashLo[i]!, kHi, kLo);
    return uniform ? u : -weights[i]! / Math.log(u);
  };

  /** Total order: higher score first; on an exact tie (p ≈ 2^-52) the smaller name, so still list-order independent. */
  const before = (sa: number, a: number, sb: number, b: number): boolean => sa > sb || (sa === sb && names[a]! < names[b]!);

  function rankAll(kHi: number, kLo: number, count: number): Shard[] {
    const order = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      scores[i] = score(i, kHi, kLo);
      order[i] = i;
    }
    order.sort((a, b) => (before(scores[a]!, a, scores[b]!, b) ? -1 : before(scores[b]!, b, scores[a]!, a) ? 1 : 0));
    const out = new Array<Shard>(count);
    for (let j = 0; j < count; j++) out[j] = list[order[j]!]!;
    return out;
  }

  /** Inserts shard i with score s into the sorted window of `filled` entries (capacity `count`); returns the new fill. */
  function insert(s: number, i: number, filled: number, count: number): number {
    let j = filled < count ? filled++ : count - 1;
    while (j > 0 && before(s, i, winScore[j - 1]!, winIdx[j - 1]!)) {
      winScore[j] = winScore[j - 1]!;
      winIdx[j] = winIdx[j - 1]!;
      j--;
    }
    winScore[j] = s;
    winIdx[j] = i;
    return filled;
  }

  /** The top `count` by a window kept sorted by insertion: O(n) mixes plus O(count) per shard that enters. */
  function rankWindow(kHi: number, kLo: number, count: number): Shard[] {
    let filled = 0;
    // The worst score in a full window; -Infinity until full, so every shard enters at first.
    let floor = -Infinity;
    if (uniform) {
      for (let i = 0; i < n; i++) {
        const u = mixToUnit(hashHi[i]!, hashLo[i]!, kHi, kLo);
        if (u < floor || (u === floor && !before(u, i, floor, winIdx[count - 1]!))) continue;
        filled = insert(u, i, filled, count);
        if (filled === count) floor = winScore[count - 1]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const u = mixToUnit(hashHi[i]!, hashLo[i]!, kHi, kLo);
        const w = weights[i]!;
        // -ln(u) = v + v²/2 + v³/3 + … ≥ v(1 + v/2) with v = 1 - u (exact here), so w / (v(1 + v/2))
        // bounds the score from above. Most shards fall below the window's floor on that bound alone
        // and skip the logarithm, which dominates the cost of a weighted score.
        const v = 1 - u;
        if (w < floor * v * (1 + 0.5 * v) * SKIP_MARGIN) continue;
        const s = -w / Math.log(u);
        if (s < floor || (s === floor && !before(s, i, floor, winIdx[count - 1]!))) continue;
        filled = insert(s, i, filled, count);
        if (filled === count) floor = winScore[count - 1]!;
      }
    }
    const out = new Array<Shard>(count);
    for (let j = 0; j < count; j++) out[j] = list[winIdx[j]!]!;
    return out;
  }

  return {
    shards: list,
    rank(key: string, count: number): Shard[] {
      const k = Math.min(Math.floor(count), n);
      if (!(k >= 1)) return [];
      const h = hashString(key);
      return k > WINDOW_MAX ? rankAll(h.hi | 0, h.lo | 0, k) : rankWindow(h.hi | 0, h.lo | 0, k);
    },
  };
}
