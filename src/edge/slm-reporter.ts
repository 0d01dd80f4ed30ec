/**
 * Counting time to first byte per SLM class in this isolate and sending the counts to the SlmMonitor
 * in batches, so a busy edge adds about one call a second rather than one per request, and no
 * sample is lost: the first sample of an empty batch asks the caller to flush after
 * `FLUSH_EVERY_MS` (a timer kept alive by that request's `waitUntil`), a full batch asks for a flush
 * at once, and a batch whose send failed is put back to go with the next one.
 */
import type { RateClasses, SlmClasses } from "../config/rates";
import type { Clock } from "../lib/clock";
import type { EpochMillis, Millis } from "../lib/units";
import { addSample, emptyStats, mergeStats, type TtfbStats } from "../slm/stats";
import type { WaitUntil } from "./shard-client";

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

/** The classes a batch is judged by: the config in use when its send was scheduled. */
export interface SlmConfig {
  slmClasses: SlmClasses;
  rateClasses: RateClasses;
}

/** Sends one batch to the SlmMonitor object. */
export type SendSlmBatch = (batch: SlmCounts, config: SlmConfig) => Promise<void>;

const sleep = (ms: Millis) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * This isolate's SLM reporting: counts each response into the SlmReporter and sends when it says so,
 * at once for a full batch, after FLUSH_EVERY_MS for the first sample of a new one (so the last
 * samples of a burst are sent even if no request follows). A failed send puts the batch back and tries
 * again a period later, while the reporter keeps it (KEEP_FAILED_MS).
 */
export class SlmReports {
  readonly #reporter = new SlmReporter();

  constructor(
    private readonly send: SendSlmBatch,
    private readonly clock: Clock,
    /** The flush timer (a test passes its own). */
    private readonly wait: (ms: Millis) => Promise<void> = sleep,
  ) {}

  /** Counts one response's time to first byte for `slmClass`; a class the config does not define is not counted. */
  report(slmClass: string, ttfbMs: Millis, config: SlmConfig, waitUntil: WaitUntil): void {
    const cls = config.slmClasses[slmClass];
    if (cls === undefined) return;
    const step = this.#reporter.record(slmClass, ttfbMs, cls.targetMs);
    if (step === "none") return;
    const send = this.#sender(config);
    waitUntil(step === "flush-now" ? send() : this.wait(FLUSH_EVERY_MS).then(send));
  }

  /** Samples counted and not yet sent. */
  get pending(): number {
    return this.#reporter.pending;
  }

  #sender(config: SlmConfig): () => Promise<void> {
    const send = async (): Promise<void> => {
      const batch = this.#reporter.take();
      if (batch.length === 0) return;
      const sentAt = this.clock.now();
      try {
        await this.send(batch, config);
      } catch {
        if (this.#reporter.restore(batch, sentAt, this.clock.now()) !== "none") await this.wait(FLUSH_EVERY_MS).then(send);
      }
    };
    return send;
  }
}
