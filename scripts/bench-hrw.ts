/** Benchmarks HRW routing (ns/key for rank(key, 1) and rank(key, 2) at 8, 64 and 256 shards) and measures its balance and minimal movement. */
import { pathToFileURL } from "node:url";
import type { Shard } from "../src/config/settings";
import { createHrw } from "../src/routing/hrw";

export interface HrwBenchOptions {
  /** Shard counts to time. Default [8, 64, 256]. */
  shardCounts?: readonly number[];
  /** Values of `count` passed to rank. Default [1, 2]. */
  rankCounts?: readonly number[];
  /** Distinct keys per timed pass. Default 100,000. */
  keys?: number;
  /** Timed passes per case; the median is reported. Default 5. */
  repeats?: number;
  /** Keys for the balance and movement measurements. Default 1,000,000. */
  balanceKeys?: number;
  /** Shards for the balance and movement measurements (movement adds one more). Default 64. */
  balanceShards?: number;
  /** Also time these shard counts with uneven weights (1, 2, 3, 4, …), which takes the logarithm path. Default [64]; [] to skip. */
  weightedShardCounts?: readonly number[];
}

export interface HrwRankTiming {
  shards: number;
  count: number;
  /** "equal": every weight 1 (no logarithm needed); "uneven": weights 1, 2, 3, 4 repeating. */
  weights: "equal" | "uneven";
  /** Median over the repeats of (pass time / keys in the pass). */
  nsPerKey: number;
  /** Every repeat's ns/key, in run order, so noise is visible. */
  samplesNsPerKey: number[];
}

export interface HrwBenchResult {
  rank: HrwRankTiming[];
  balance: { shards: number; keys: number; maxOverMean: number; minOverMean: number };
  movement: { fromShards: number; toShards: number; keys: number; moved: number; fraction: number; expected: number; allMovedToNewShard: boolean };
  totalMs: number;
}

export const equalShards = (n: number): Shard[] => Array.from({ length: n }, (_, i) => ({ name: `shard-${i}`, weight: 1 }));
const unevenShards = (n: number): Shard[] => Array.from({ length: n }, (_, i) => ({ name: `shard-${i}`, weight: 1 + (i % 4) }));

/** Cache-key-shaped strings (scheme, host, path, query), distinct per index and flattened up front so the timing is of hashing, not string building. */
export function benchKeys(count: number, offset = 0): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const id = i + offset;
    const key = `https://cdn.example.com/assets/${(id % 97).toString(36)}/app.${id.toString(36)}.js?v=${id % 13}`;
    key.charCodeAt(0); // flattens the concatenation now rather than inside the timed loop
    keys[i] = key;
  }
  return keys;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function timeRank(shardCount: number, count: number, weights: HrwRankTiming["weights"], keys: readonly string[], repeats: number): HrwRankTiming {
  const hrw = createHrw(weights === "equal" ? equalShards(shardCount) : unevenShards(shardCount));
  // The sink keeps the calls observable so they cannot be optimised away.
  let sink = 0;
  const pass = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < keys.length; i++) sink += hrw.rank(keys[i]!, count).length;
    return Number(process.hrtime.bigint() - start) / keys.length;
  };
  pass(); // warm-up: lets the JIT reach optimised code before anything is measured
  pass();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) samples.push(pass());
  if (sink < 0) console.log(sink);
  return { shards: shardCount, count, weights, nsPerKey: median(samples), samplesNsPerKey: samples };
}

function measureBalance(shardCount: number, keys: readonly string[]): HrwBenchResult["balance"] {
  const hrw = createHrw(equalShards(shardCount));
  const index = new Map(hrw.shards.map((s, i) => [s.name, i]));
  const load = new Array<number>(shardCount).fill(0);
  for (const key of keys) load[index.get(hrw.rank(key, 1)[0]!.name)!]!++;
  const mean = keys.length / shardCount;
  return { shards: shardCount, keys: keys.length, maxOverMean: Math.max(...load) / mean, minOverMean: Math.min(...load) / mean };
}

function measureMovement(shardCount: number, keys: readonly string[]): HrwBenchResult["movement"] {
  const before = createHrw(equalShards(shardCount));
  const after = createHrw(equalShards(shardCount + 1));
  const added = `shard-${shardCount}`;
  let moved = 0;
  let allMovedToNewShard = true;
  for (const key of keys) {
    const from = before.rank(key, 1)[0]!.name;
    const to = after.rank(key, 1)[0]!.name;
    if (from !== to) {
      moved++;
      if (to !== added) allMovedToNewShard = false;
    }
  }
  return { fromShards: shardCount, toShards: shardCount + 1, keys: keys.length, moved, fraction: moved / keys.length, expected: 1 / (shardCount + 1), allMovedToNewShard };
}

/** Runs every measurement and returns the numbers; prints nothing. */
export function runHrwBench(opts: HrwBenchOptions = {}): HrwBenchResult {
  const started = performance.now();
  const shardCounts = opts.shardCounts ?? [8, 64, 256];
  const rankCounts = opts.rankCounts ?? [1, 2];
  const repeats = Math.max(1, opts.repeats ?? 5);
  const timingKeys = benchKeys(opts.keys ?? 100_000);
  const rank: HrwRankTiming[] = [];
  for (const shards of shardCounts) for (const count of rankCounts) rank.push(timeRank(shards, count, "equal", timingKeys, repeats));
  for (const shards of opts.weightedShardCounts ?? [64]) for (const count of rankCounts) rank.push(timeRank(shards, count, "uneven", timingKeys, repeats));
  const balanceShards = opts.balanceShards ?? 64;
  const balanceKeys = benchKeys(opts.balanceKeys ?? 1_000_000, 1 << 24);
  return {
    rank,
    balance: measureBalance(balanceShards, balanceKeys),
    movement: measureMovement(balanceShards, balanceKeys),
    totalMs: performance.now() - started,
  };
}

function report(result: HrwBenchResult): string {
  const lines = ["HRW rank (median of repeats; per-repeat samples in brackets):"];
  for (const t of result.rank) {
    lines.push(`  ${String(t.shards).padStart(4)} shards, ${t.weights.padEnd(6)} weights  rank(key, ${t.count})  ${t.nsPerKey.toFixed(1).padStart(8)} ns/key   [${t.samplesNsPerKey.map((s) => s.toFixed(0)).join(", ")}]`);
  }
  const b = result.balance;
  lines.push(`balance: ${b.shards} shards × ${b.keys.toLocaleString("en")} keys → max/mean ${b.maxOverMean.toFixed(4)}, min/mean ${b.minOverMean.toFixed(4)}`);
  const m = result.movement;
  lines.push(
    `movement: ${m.fromShards} → ${m.toShards} shards moved ${m.moved.toLocaleString("en")} of ${m.keys.toLocaleString("en")} keys = ${(m.fraction * 100).toFixed(3)}% ` +
      `(ideal 1/${m.toShards} = ${(m.expected * 100).toFixed(3)}%, ratio ${(m.fraction / m.expected).toFixed(3)}), all to the new shard: ${m.allMovedToNewShard ? "yes" : "NO"}`,
  );
  lines.push(`total ${(result.totalMs / 1000).toFixed(1)} s`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(report(runHrwBench()));
}
