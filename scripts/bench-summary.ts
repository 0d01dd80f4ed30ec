/**
 * `npx tsx scripts/bench-summary.ts bench/results/A.json bench/results/B.json …`: the hit-path figures
 * of several `npm run bench` runs side by side, and their median. On a shared machine one run's
 * ratios swing with whatever else runs; the median over runs (each interleaved in itself) is what
 * the docs quote, beside every run's load average.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { HitResults } from "./bench-hits";
import { fmt, markdownTable, median } from "./lib/stats";

/** A run's hit results; runs from before the adjacent pairs have no `paired` (their rows show "–"). */
type Hits = Omit<HitResults, "paired"> & Partial<Pick<HitResults, "paired">>;
type Row = { label: string; value: (h: Hits) => number | null; show: (v: number) => string };

const us = (v: number) => `${v.toFixed(0)} µs`;
const ROWS: Row[] = [
  { label: "bare worker req/s", value: (h) => h.closed.bare.rps, show: fmt.int },
  { label: "bare CPU / request (closed loop)", value: (h) => h.closed.bare.cpuUsPerRequest, show: us },
  { label: "control: the same bare script twice (adjacent pairs; 1.00× by construction)", value: (h) => (h.paired as Partial<HitResults["paired"]> | undefined)?.control?.ratio ?? null, show: fmt.ratio },
  { label: "edge hit (production config) × bare (adjacent pairs: the goal)", value: (h) => h.paired?.edgeProd.ratio ?? null, show: fmt.ratio },
  { label: "edge hit (production config) × bare (rounds)", value: (h) => h.ratios.edgeProd, show: fmt.ratio },
  { label: "edge hit × bare answering its answer (adjacent pairs)", value: (h) => h.paired?.edgeOverBareAnswer.ratio ?? null, show: fmt.ratio },
  { label: "edge hit (dev config) × bare", value: (h) => h.ratios.edgeDev, show: fmt.ratio },
  { label: "edge hit CPU / request (closed loop)", value: (h) => h.closed.edgeProd.cpuUsPerRequest, show: us },
  { label: "edge hit CPU × bare (closed loop)", value: (h) => ratio(h.closed.edgeProd.cpuUsPerRequest, h.closed.bare.cpuUsPerRequest), show: fmt.ratio },
  { label: "edge hit CPU × bare (fixed rate)", value: (h) => h.fixed.edgeCpuRatio, show: fmt.ratio },
  { label: "edge hit p99 × bare (fixed rate)", value: (h) => h.fixed.edgeP99Ratio, show: fmt.ratio },
  { label: "counting: share of edge throughput", value: (h) => h.ratios.countingCost, show: fmt.pct },
  { label: "counting: share of edge CPU (closed loop)", value: (h) => share(h.closed.edgeProd.cpuUsPerRequest, h.closed.edgeUncounted.cpuUsPerRequest), show: fmt.pct },
  { label: "counting: share of edge throughput (alternating pairs)", value: (h) => h.countingPaired?.throughputCost ?? null, show: fmt.pct },
  { label: "counting: share of edge CPU (alternating pairs)", value: (h) => h.countingPaired?.cpuCost ?? null, show: fmt.pct },
  { label: "rate-class check: share of edge throughput (adjacent pairs: the goal)", value: (h) => (h.paired === undefined ? null : 1 - h.paired.rated.ratio), show: fmt.pct },
  { label: "rate-class check: share of edge throughput (rounds)", value: (h) => h.ratios.rateCheckCost, show: fmt.pct },
  { label: "shard hit × bare DO round trip", value: (h) => h.ratios.shardOverBareDo, show: fmt.ratio },
  { label: "shard hit, own shard call each × bare DO (adjacent pairs: the goal)", value: (h) => h.paired?.shardCall.ratio ?? null, show: fmt.ratio },
  { label: "shard hit, own shard call each × bare DO (rounds)", value: (h) => h.ratios.shardCallOverBareDo, show: fmt.ratio },
  { label: "shard hit × bare", value: (h) => h.ratios.shardOverBare, show: fmt.ratio },
  { label: "bare DO round trip CPU / request", value: (h) => h.closed.bareDo.cpuUsPerRequest, show: us },
  { label: "shard hit CPU / request", value: (h) => h.closed.shard.cpuUsPerRequest, show: us },
  { label: "fixed rate (req/s)", value: (h) => h.fixed.rate, show: fmt.int },
];

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || !(b > 0) ? null : a / b;
}
/** What counting adds, as a share of the counted edge hit's CPU. */
function share(counted: number | null, uncounted: number | null): number | null {
  return counted === null || uncounted === null || !(counted > 0) ? null : 1 - uncounted / counted;
}

const files = process.argv.slice(2).filter((a) => a.endsWith(".json"));
if (files.length === 0) {
  console.log("usage: npx tsx scripts/bench-summary.ts bench/results/<run>.json …");
  process.exit(1);
}
const runs = files.map((file) => ({ file, r: JSON.parse(readFileSync(file, "utf8")) as { date: string; hits: Hits | null } })).filter((x) => x.r.hits !== null);
const header = ["figure", ...runs.map((x) => `${basename(x.file, ".json").slice(11, 19).replace(/-/g, ":")} (load ${x.r.hits!.loadAverage.before[0]}→${x.r.hits!.loadAverage.after[0]})`), "median"];
const rows = ROWS.map((row) => {
  const values = runs.map((x) => row.value(x.r.hits!));
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return [row.label, ...values.map((v) => (v === null || !Number.isFinite(v) ? "–" : row.show(v))), known.length === 0 ? "–" : row.show(median(known))];
});
console.log(markdownTable(header, rows));
