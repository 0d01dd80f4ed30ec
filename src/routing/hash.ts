/** A stable, synchronous 64-bit string hash and a cheap hash-pair mixer, built from two 32-bit Math.imul lanes for rendezvous routing. */

/**
 * A 64-bit hash as two unsigned 32-bit halves. Two plain numbers rather than a BigInt, because
 * BigInt arithmetic allocates and is an order of magnitude slower on the routing hot path.
 */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

// Odd multipliers from xxHash32 and MurmurHash3: chosen there for full-period, well-spread products.
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;
// MurmurHash3 fmix32 multipliers, for the finalising avalanche.
const F1 = 0x85ebca6b;
const F2 = 0xc2b2ae35;

/** 2^-52: the weight of the lowest of the 52 bits that make up a unit-interval value. */
const TWO_POW_MINUS_52 = 2 ** -52;
/** 2^20: shifts the 32 high bits above the 20 bits taken from the low lane. */
const TWO_POW_20 = 2 ** 20;

/**
 * Hashes the UTF-16 code units of `s`, two per step (code units are 16-bit, so two pack losslessly
 * into one 32-bit word and halve the loop). Both lanes see every word but combine it differently
 * (xor vs add, different rotations and multipliers), so a collision needs both to cancel at once;
 * the finaliser then avalanches across lanes so every output bit depends on every input bit.
 * Stable across runtimes and releases: only 32-bit integer arithmetic, no engine-dependent calls.
 * `seed` is taken as a 32-bit unsigned integer (ToUint32), so different seeds give independent
 * hash families.
 */
export function hashString(s: string, seed = 0): Hash64 {
  const len = s.length;
  let h1 = (seed ^ P5) | 0;
  let h2 = Math.imul(seed ^ P4, P1) ^ len;
  const even = len & ~1;
  let i = 0;
  for (; i < even; i += 2) {
    const k = Math.imul(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16), P1);
    const a = h1 ^ k;
    h1 = Math.imul((a << 13) | (a >>> 19), P2);
    const b = (h2 + k) | 0;
    h2 = Math.imul((b << 17) | (b >>> 15), P3);
  }
  if (i < len) {
    // The odd last code unit alone; the length folded in below keeps "a" and "a\0" apart.
    const k = Math.imul(s.charCodeAt(i), P1);
    const a = h1 ^ k;
    h1 = Math.imul((a << 13) | (a >>> 19), P2);
    const b = (h2 + k) | 0;
    h2 = Math.imul((b << 17) | (b >>> 15), P3);
  }
  h1 ^= Math.imul(len, P3);

  // Same avalanche as mixToUnit below, kept inline: returning two lanes from a helper would allocate.
  h1 = Math.imul(h1 ^ (h1 >>> 16), F1);
  h2 = Math.imul(h2 ^ (h2 >>> 16), F2);
  h1 ^= (h2 >>> 13) | (h2 << 19);
  h2 ^= (h1 >>> 17) | (h1 << 15);
  h1 = Math.imul(h1 ^ (h1 >>> 15), P2);
  h2 = Math.imul(h2 ^ (h2 >>> 13), P3);
  h1 ^= h2 >>> 16;
  h2 ^= h1 >>> 16;
  return { hi: h1 >>> 0, lo: h2 >>> 0 };
}

/**
 * Combines two 64-bit hashes, given as 32-bit halves, into a uniform number strictly inside (0, 1)
 * with 52 random bits. The inputs are xored (so one side can be precomputed) and then avalanched,
 * because xor alone would make the outputs of related pairs related. The avalanche is a Feistel-like
 * chain of invertible steps, so distinct inputs give distinct 64-bit states before truncation.
 * Exported in this unboxed form for the routing loop, which keeps its shard hashes in typed arrays.
 */
export function mixToUnit(aHi: number, aLo: number, bHi: number, bLo: number): number {
  let x = aHi ^ bHi;
  let y = aLo ^ bLo;
  x = Math.imul(x ^ (x >>> 16), F1);
  y = Math.imul(y ^ (y >>> 16), F2);
  x ^= (y >>> 13) | (y << 19);
  y ^= (x >>> 17) | (x << 15);
  x = Math.imul(x ^ (x >>> 15), P2);
  y = Math.imul(y ^ (y >>> 13), P3);
  x ^= y >>> 16;
  y ^= x >>> 16;
  // 32 + 20 = 52 bits, plus one half: the result is never 0 or 1 (ln(u) is finite and negative)
  // and the sum stays below 2^52, where halves are exactly representable.
  return ((x >>> 0) * TWO_POW_20 + (y >>> 12) + 0.5) * TWO_POW_MINUS_52;
}

/** `mixToUnit` for boxed hashes: a uniform value in (0, 1) for the pair (a, b), e.g. (shard, key). */
export function mixHashes(a: Hash64, b: Hash64): number {
  return mixToUnit(a.hi, a.lo, b.hi, b.lo);
}
