/**
 * Counting time to first byte per SLM class in this isolate and sending the counts to the SlmMonitor
 * in batches (every second, or sooner once enough samples wait), so a busy edge adds about one call
 * a second rather than one per request.
 */
import type { EpochMillis, Millis } from "../lib/units";

export type SlmCounts = { cls: string; within: number; total: number }[];

const FLUSH_EVERY_MS: Millis = 1_000;
const FLUSH_AT_SAMPLES = 10;

export class SlmReporter {
  #counts = new Map<string, { within: number; total: number }>();
  #pending = 0;
  #lastFlush: EpochMillis = 0;

  /** Counts one response; returns the batch to send when it is time to flush, else null. */
  record(cls: string, ttfbMs: Millis, targetMs: Millis, now: EpochMillis): SlmCounts | null {
    const entry = this.#counts.get(cls) ?? { within: 0, total: 0 };
    entry.total += 1;
    if (ttfbMs <= targetMs) entry.within += 1;
    this.#counts.set(cls, entry);
    this.#pending += 1;
    if (this.#pending < FLUSH_AT_SAMPLES && now - this.#lastFlush < FLUSH_EVERY_MS) return null;
    const batch = [...this.#counts].map(([name, c]) => ({ cls: name, ...c }));
    this.#counts = new Map();
    this.#pending = 0;
    this.#lastFlush = now;
    return batch;
  }
}
