/**
 * This isolate's edge counters and their flush: counts go into an EdgeTally in memory; the first
 * count of a batch schedules one flush `flushAfterMs` later through the request's waitUntil, which
 * sends the whole batch to the MetricsCollector in one call. A failed send puts the rows back.
 */
import type { EpochMillis, Millis } from "../lib/units";
import { EdgeTally, type EdgeTallyRow } from "../observe/edge-tally";
import type { EdgeOutcome } from "../observe/outcomes";

export const EDGE_FLUSH_AFTER_MS = 5_000;

export class EdgeCounter {
  readonly #tally = new EdgeTally();

  constructor(
    private readonly send: (rows: EdgeTallyRow[]) => Promise<unknown>,
    private readonly flushAfterMs: Millis = EDGE_FLUSH_AFTER_MS,
  ) {}

  count(rule: string, outcome: EdgeOutcome, bytes: number, now: EpochMillis, waitUntil: (promise: Promise<unknown>) => void): void {
    if (this.#tally.count(rule, outcome, bytes, now)) waitUntil(this.#flushLater());
  }

  /** Sends what is pending now (an admin read does this first, so this isolate's latest counts are in). */
  async flush(): Promise<void> {
    if (!this.#tally.pending) return;
    const rows = this.#tally.drain();
    try {
      await this.send(rows);
    } catch {
      // Kept for the next batch; its first count schedules the next flush.
      this.#tally.restore(rows);
    }
  }

  async #flushLater(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.flushAfterMs));
    await this.flush();
  }
}
