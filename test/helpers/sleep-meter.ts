/**
 * How long the workers tests sleep: `SLEEP_METER=1 npx vitest run --project workers` adds this setup
 * file (vitest.config.ts). It records every timer that test code (a frame under test/) sets, and prints
 * one line per file: `sleep-meter <file> fixed=<ms> polling=<ms>`, each the wall time during which at
 * least one such timer was pending (timers that overlap count once). "polling" is the bounded
 * poll-until-done helper (test/helpers/wait.ts: waiting for background work to finish); "fixed" is
 * every other wait. Timers the worker sets for itself (origin timeouts, flush delays) are not counted.
 * Sum: `… | grep -o 'fixed=[0-9]*' | cut -d= -f2 | paste -sd+ | bc`.
 */
import { afterAll, beforeEach, expect } from "vitest";

const realSetTimeout = globalThis.setTimeout;
const intervals = { fixed: [] as [number, number][], polling: [] as [number, number][] };

/** The first stack frame outside this file that names a source file. */
function caller(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  return frames.find((frame) => /\/(test|src|durable|scripts|node_modules)\//.test(frame) && !frame.includes("sleep-meter")) ?? "";
}

globalThis.setTimeout = ((handler: Parameters<typeof setTimeout>[0], ms?: number, ...args: unknown[]) => {
  const from = caller();
  const start = performance.now();
  const span: [number, number] = [start, start + Math.max(0, Number(ms) || 0)];
  if (from.includes("/test/helpers/wait.ts")) intervals.polling.push(span);
  else if (from.includes("/test/")) intervals.fixed.push(span);
  return realSetTimeout(handler as never, ms, ...(args as []));
}) as typeof setTimeout;

/** Length of the union of the intervals. */
function covered(spans: [number, number][]): number {
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

let file = "?";
beforeEach(() => {
  file = expect.getState().testPath ?? file;
});

afterAll(() => {
  console.log(`sleep-meter ${file.replace(/^.*\/test\//, "test/")} fixed=${Math.round(covered(intervals.fixed))} polling=${Math.round(covered(intervals.polling))}`);
});
