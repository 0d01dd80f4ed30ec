/**
 * Time-to-first-byte statistics that merge without loss: count, sum, min, max and a log-bucketed
 * histogram. An edge batches them, the SLM object adds batches into one-second slots, and a window
 * merges its slots, so min / max / mean are exact and percentiles are read from the histogram.
 *
 * Histogram: bucket 0 holds samples ≤ 1 ms, bucket i > 0 holds (1.25^(i-1), 1.25^i] ms, the last
 * bucket everything above. A percentile is the upper bound of the bucket it falls in, clamped to
 * [min, max]: at most 25 % above the true value, never outside what was seen. Memory per slot is
 * bounded by the bucket count (64), whatever the request rate.
 */

export const HISTOGRAM_RATIO = 1.25;
export const HISTOGRAM_BUCKETS = 64;

export interface TtfbStats {
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  /** Sparse histogram: bucket index → samples. */
  buckets: Record<number, number>;
}

export interface TtfbSummary {
  samples: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export const emptyStats = (): TtfbStats => ({ count: 0, sumMs: 0, minMs: Number.POSITIVE_INFINITY, maxMs: 0, buckets: {} });

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.ceil(Math.log(ms) / Math.log(HISTOGRAM_RATIO) - 1e-9));
}

/** The largest value bucket `i` holds (the last bucket is open-ended: its bound is the max seen). */
export function bucketUpperMs(i: number): number {
  return i === 0 ? 1 : HISTOGRAM_RATIO ** i;
}

/** Adds one sample in place. Invalid measurements (NaN, negative, infinite) are ignored. */
export function addSample(stats: TtfbStats, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  stats.count += 1;
  stats.sumMs += ms;
  stats.minMs = Math.min(stats.minMs, ms);
  stats.maxMs = Math.max(stats.maxMs, ms);
  const b = bucketOf(ms);
  stats.buckets[b] = (stats.buckets[b] ?? 0) + 1;
}

/** Adds `other` into `into` in place. */
export function mergeStats(into: TtfbStats, other: TtfbStats): void {
  if (other.count === 0) return;
  into.count += other.count;
  into.sumMs += other.sumMs;
  into.minMs = Math.min(into.minMs, other.minMs);
  into.maxMs = Math.max(into.maxMs, other.maxMs);
  for (const [b, n] of Object.entries(other.buckets)) into.buckets[Number(b)] = (into.buckets[Number(b)] ?? 0) + n;
}

/** The q-quantile (0 < q ≤ 1) as described in the module comment, or null with no samples. */
export function percentileMs(stats: TtfbStats, q: number): number | null {
  if (stats.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * stats.count));
  let seen = 0;
  const indices = Object.keys(stats.buckets)
    .map(Number)
    .sort((a, b) => a - b);
  for (const i of indices) {
    seen += stats.buckets[i]!;
    if (seen >= rank) return Math.min(stats.maxMs, Math.max(stats.minMs, i === HISTOGRAM_BUCKETS - 1 ? stats.maxMs : bucketUpperMs(i)));
  }
  return stats.maxMs;
}

export function summarize(stats: TtfbStats): TtfbSummary | null {
  if (stats.count === 0) return null;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    samples: stats.count,
    minMs: round(stats.minMs),
    maxMs: round(stats.maxMs),
    meanMs: round(stats.sumMs / stats.count),
    p50Ms: round(percentileMs(stats, 0.5)!),
    p95Ms: round(percentileMs(stats, 0.95)!),
    p99Ms: round(percentileMs(stats, 0.99)!),
  };
}

/**
 * Checks stats that crossed a trust boundary (an RPC from an edge, or storage) and returns a clean
 * copy, or null when they do not add up: a broken batch must not distort the window.
 */
export function validStats(raw: unknown): TtfbStats | null {
  if (typeof raw !== "object" || raw === null) return null;
  const s = raw as Partial<TtfbStats>;
  const { count, sumMs, minMs, maxMs, buckets } = s;
  if (!Number.isInteger(count) || count! <= 0 || !Number.isFinite(sumMs) || sumMs! < 0) return null;
  if (!Number.isFinite(minMs) || !Number.isFinite(maxMs) || minMs! < 0 || minMs! > maxMs!) return null;
  if (typeof buckets !== "object" || buckets === null) return null;
  const clean: Record<number, number> = {};
  let total = 0;
  for (const [key, n] of Object.entries(buckets)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= HISTOGRAM_BUCKETS || !Number.isInteger(n) || n <= 0) return null;
    clean[i] = n;
    total += n;
  }
  if (total !== count) return null;
  return { count: count!, sumMs: sumMs!, minMs: minMs!, maxMs: maxMs!, buckets: clean };
}
