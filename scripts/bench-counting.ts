/**
 * What counting costs on the edge hit path, in Node (`npx tsx scripts/bench-counting.ts`): the work
 * `finish` adds per answer (outcome from the Cache-Status member, the rule label, one EdgeTally
 * count), in ns per request, median of several repeats after a warm-up. `npm run bench` also
 * measures it end to end (edge hit with and without counting in the same run) and relates this
 * figure to the edge hit's time per request.
 */
import { pathToFileURL } from "node:url";
import { EdgeTally } from "../src/observe/edge-tally";
import { edgeOutcomeOf, ruleLabel } from "../src/observe/outcomes";

export interface CountingBench {
  nsPerCount: number;
  iterations: number;
  repeats: number;
}

export function runCountingBench(opts: { iterations: number; repeats: number }): CountingBench {
  const tally = new EdgeTally();
  const matched = [["static"], ["api"], [], ["static", "tagged"]];
  const members = [
    { hit: true, ttlSeconds: 30 },
    { hit: false, fwd: "uri-miss" as const, stored: true },
  ];
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < opts.repeats + 1; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < opts.iterations; i++) {
      // Mostly hits on one rule, as on a hot edge; the clock advances so minutes turn now and then.
      const member = members[i % 16 === 0 ? 1 : 0]!;
      if (tally.count(ruleLabel(matched[i & 3]!), edgeOutcomeOf(member), 2048, 1_700_000_000_000 + i)) sink += 1;
    }
    const ns = Number(process.hrtime.bigint() - start) / opts.iterations;
    if (r > 0) samples.push(ns); // the first run is the warm-up
    sink += tally.drain().length;
  }
  if (sink < 0) console.log(sink);
  samples.sort((a, b) => a - b);
  return { nsPerCount: samples[Math.floor(samples.length / 2)]!, iterations: opts.iterations, repeats: opts.repeats };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = runCountingBench({ iterations: 1_000_000, repeats: 5 });
  console.log(`edge counting: ${result.nsPerCount.toFixed(1)} ns per request (median of ${result.repeats} × ${result.iterations.toLocaleString("en")})`);
}
