/**
 * Counting time to first byte per SLM class in this isolate and sending the counts to the SlmMonitor
 * in batches, so a busy edge adds about one call a second rather than one per request, and no
 * sample is lost: the first sample of an empty batch asks the caller to flush after
 * `FLUSH_EVERY_MS` (a timer kept alive by that request's `waitUntil`), a full batch asks for a flush
 * at once, and a batch whose send failed is put back to go with the next one.
 */
import type { EpochMillis, Millis } from "../lib/units";
import { addSample, emptyStats, mergeStats, type TtfbStats } from "../slm/stats";

export type SlmBatchEntry = { cls: string; within: number; total: number; stats: TtfbStats };
export type SlmCounts = SlmBatchEntry[];

/** What the caller does after `record`: send now, start the flush timer, or nothing (a timer or flush is already due). */
export type FlushStep = "flush-now" | "flush-later" | "none";

export const FLUSH_EVERY_MS: Millis = 1_000;
const FLUSH_AT_SAMPLES = 10;
/** A failed batch is kept at most this long (an SLM object down for minutes must not grow memory forever). */
const KEEP_FAILED_MS: Millis = 60_000;

export class SlmReporter {
  #counts = new Map<string, { within: number; total: number; stats: TtfbStats }>();
  #pending = 0;

  /** Counts one response; says whether and when to call `take` and send. */
  record(cls: string, ttfbMs: Millis, targetMs: Millis): FlushStep {
    const wasEmpty = this.#pending === 0;
    const entry = this.#entry(cls);
    entry.total += 1;
    if (ttfbMs <= targetMs) entry.within += 1;
    addSample(entry.stats, ttfbMs);
    this.#pending += 1;
    if (this.#pending >= FLUSH_AT_SAMPLES) return "flush-now";
    return wasEmpty ? "flush-later" : "none";
  }

  /** Everything counted so far, and the reporter emptied. */
  take(): SlmCounts {
    const batch = [...this.#counts].map(([cls, c]) => ({ cls, within: c.within, total: c.total, stats: c.stats }));
    this.#counts = new Map();
    this.#pending = 0;
    return batch;
  }

  /** Puts back a batch whose send failed, unless it is older than KEEP_FAILED_MS; returns the flush step for it. */
  restore(batch: SlmCounts, sentAt: EpochMillis, now: EpochMillis): FlushStep {
    if (batch.length === 0 || now - sentAt > KEEP_FAILED_MS) return "none";
    const wasEmpty = this.#pending === 0;
    for (const { cls, within, total, stats } of batch) {
      const entry = this.#entry(cls);
      entry.within += within;
      entry.total += total;
      mergeStats(entry.stats, stats);
      this.#pending += total;
    }
    return wasEmpty ? "flush-later" : "none";
  }

  get pending(): number {
    return this.#pending;
  }

  #entry(cls: string) {
    let entry = this.#counts.get(cls);
    if (entry === undefined) {
      entry = { within: 0, total: 0, stats: emptyStats() };
      this.#counts.set(cls, entry);
    }
    return entry;
  }
}
