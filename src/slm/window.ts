/**
 * Service level monitoring: a rolling window of time-to-first-byte samples bucketed per second,
 * the conformance it yields, the ok / warning / serious state and the transitions between states.
 */
import type { EpochMillis } from "../lib/units";
import type { SlmClass } from "../config/rates";
import { addSample, emptyStats, mergeStats, summarize, validStats, type TtfbStats, type TtfbSummary } from "./stats";

export type SlmState = "ok" | "warning" | "serious";

export interface Conformance {
  /** Share of samples within the target, 0..100; null below minSamples (too little evidence). */
  readonly percent: number | null;
  readonly samples: number;
}

export type SlmWindowParams = Pick<SlmClass, "targetMs" | "windowSeconds" | "minSamples">;

/**
 * The serialised window: one [epoch second, samples within target, all samples, timing stats] per
 * non-empty second (the stats are absent in windows stored before they were kept).
 */
export interface SlmWindowJson {
  readonly seconds: readonly (readonly [second: number, within: number, total: number, stats?: TtfbStats])[];
}

/**
 * A ring of `windowSeconds` one-second buckets: memory and work stay constant at any request rate.
 * Mutable, because it lives in one Durable Object's memory; `toJSON` / `fromJSON` persist it.
 */
export class SlmWindow {
  readonly #params: SlmWindowParams;
  readonly #second: number[];
  readonly #within: number[];
  readonly #total: number[];
  readonly #stats: TtfbStats[];

  constructor(params: SlmWindowParams) {
    this.#params = params;
    const n = Math.max(1, Math.floor(params.windowSeconds));
    this.#second = new Array<number>(n).fill(-Infinity);
    this.#within = new Array<number>(n).fill(0);
    this.#total = new Array<number>(n).fill(0);
    this.#stats = Array.from({ length: n }, emptyStats);
  }

  /** Restores a window; a saved window of another length or with bad entries loses only what no longer fits. */
  static fromJSON(params: SlmWindowParams, json: SlmWindowJson | null | undefined): SlmWindow {
    const w = new SlmWindow(params);
    const entries = (Array.isArray(json?.seconds) ? json.seconds : []).filter((e): e is readonly [number, number, number, TtfbStats?] => Array.isArray(e) && Number.isInteger(e[0]) && e[1] >= 0 && e[2] >= e[1] && Number.isFinite(e[2]));
    for (const [second, within, total, stats] of [...entries].sort((a, b) => a[0] - b[0])) {
      const timing = validStats(stats);
      // A slot may mix timed and untimed batches, so its stats may count fewer samples, never more.
      w.#add(second, within, total, timing !== null && timing.count <= total ? timing : null);
    }
    return w;
  }

  /** One response's time to first byte. Invalid measurements are ignored: a broken timer must not trigger shaping. */
  record(now: EpochMillis, ttfbMs: number): void {
    if (!Number.isFinite(ttfbMs) || ttfbMs < 0) return;
    const stats = emptyStats();
    addSample(stats, ttfbMs);
    this.recordCounts(now, ttfbMs <= this.#params.targetMs ? 1 : 0, 1, stats);
  }

  /**
   * Pre-aggregated samples (an edge's batch since its last report), all counted at `now`, with
   * their timing stats when the edge sent them. Stats that do not match the counts are dropped
   * (the counts still count), so a broken batch cannot skew min / max / mean.
   */
  recordCounts(now: EpochMillis, within: number, total: number, stats?: TtfbStats | null): void {
    if (!Number.isFinite(now) || !(total > 0) || !(within >= 0) || within > total) return;
    const timing = stats === undefined || stats === null ? null : validStats(stats);
    this.#add(Math.floor(now / 1000), within, total, timing !== null && timing.count === total ? timing : null);
  }

  /** Min / max / mean / p50 / p95 / p99 time to first byte over the window, or null when no timed sample is in it. */
  timings(now: EpochMillis): TtfbSummary | null {
    const current = Math.floor(now / 1000);
    const merged = emptyStats();
    for (let i = 0; i < this.#second.length; i++) {
      const age = current - this.#second[i]!;
      if (age >= 0 && age < this.#second.length) mergeStats(merged, this.#stats[i]!);
    }
    return summarize(merged);
  }

  /** Conformance over the last windowSeconds seconds, the current one included. */
  conformance(now: EpochMillis): Conformance {
    const current = Math.floor(now / 1000);
    let within = 0;
    let total = 0;
    for (let i = 0; i < this.#second.length; i++) {
      const age = current - this.#second[i]!;
      if (age >= 0 && age < this.#second.length) {
        within += this.#within[i]!;
        total += this.#total[i]!;
      }
    }
    // (within * 100) / total divides exact integers, so 95 of 100 is exactly 95, not 94.99999….
    return { percent: total >= this.#params.minSamples && total > 0 ? (within * 100) / total : null, samples: total };
  }

  toJSON(): SlmWindowJson {
    const seconds: [number, number, number, TtfbStats?][] = [];
    for (let i = 0; i < this.#second.length; i++) {
      if (this.#total[i]! === 0) continue;
      const stats = this.#stats[i]!;
      seconds.push(stats.count > 0 ? [this.#second[i]!, this.#within[i]!, this.#total[i]!, stats] : [this.#second[i]!, this.#within[i]!, this.#total[i]!]);
    }
    return { seconds: seconds.sort((a, b) => a[0] - b[0]) };
  }

  #add(second: number, within: number, total: number, stats: TtfbStats | null): void {
    const n = this.#second.length;
    const slot = ((second % n) + n) % n;
    const held = this.#second[slot]!;
    if (second < held) return; // older than the window already is: it would overwrite a newer second
    if (second > held) {
      this.#second[slot] = second;
      this.#within[slot] = 0;
      this.#total[slot] = 0;
      this.#stats[slot] = emptyStats();
    }
    this.#within[slot]! += within;
    this.#total[slot]! += total;
    if (stats !== null) mergeStats(this.#stats[slot]!, stats);
  }
}

/** The state for a conformance percentage: below seriousPercent is serious, below warningPercent is warning. */
export function slmState(percent: number, cls: Pick<SlmClass, "warningPercent" | "seriousPercent">): SlmState {
  if (percent < cls.seriousPercent) return "serious";
  if (percent < cls.warningPercent) return "warning";
  return "ok";
}

/**
 * The state after an evaluation. No sample at all in the window means no traffic is being served
 * badly, so the class returns to `ok` (and a rate class following it recovers); some samples but
 * fewer than `minSamples` are too little evidence either way, so the state holds.
 */
export function nextSlmState(prev: SlmState, conformance: Conformance, cls: Pick<SlmClass, "warningPercent" | "seriousPercent">): SlmState {
  if (conformance.samples === 0) return "ok";
  return conformance.percent === null ? prev : slmState(conformance.percent, cls);
}

/** A state change, or null when there is none. Detection only: the caller raises one event per transition. */
export function evaluateTransition(prev: SlmState, next: SlmState): { from: SlmState; to: SlmState } | null {
  return prev === next ? null : { from: prev, to: next };
}
