/**
 * The edge tier's counters in one isolate: requests and bytes served per (minute, rule, outcome),
 * counted in memory on the request path (a Map lookup and two additions) and handed over in batches.
 * The isolate flushes a batch through `waitUntil` a few seconds after its first count, so the
 * collector sees one call per isolate per few seconds, never one per request.
 */
import type { EpochMillis } from "../lib/units";
import { minuteOf, type Minute } from "./minute";
import { EDGE_OUTCOMES, type EdgeOutcome } from "./outcomes";

/** One row of a batch: what one rule's requests did in one minute at this edge. */
export interface EdgeTallyRow {
  minute: Minute;
  rule: string;
  outcome: EdgeOutcome;
  requests: number;
  bytes: number;
}

/** Counts per rule: requests then bytes for each outcome, in EDGE_OUTCOMES order. */
type RuleCounts = number[];
const OUTCOME_INDEX: Record<EdgeOutcome, number> = Object.fromEntries(EDGE_OUTCOMES.map((o, i) => [o, i])) as Record<EdgeOutcome, number>;
const WIDTH = EDGE_OUTCOMES.length;

/** An isolate holds at most this many distinct rule labels per batch; more fold into "(other)" (rule names come from config, so this only bounds a pathological one). */
export const MAX_RULES_PER_BATCH = 500;
const OTHER_RULE = "(other)";
/** Minutes a batch holds at most (a collector that cannot be reached for an hour costs counts, not memory). */
export const MAX_BATCH_MINUTES = 60;

export class EdgeTally {
  #minute: Minute = -1;
  #rules = new Map<string, RuleCounts>();
  /** Minutes already closed in this batch (a batch spans a minute boundary now and then). */
  #closed: { minute: Minute; rules: Map<string, RuleCounts> }[] = [];
  #pending = false;

  /**
   * Counts one request. Returns true when this count opened a new batch: the caller then schedules
   * one flush (`drain`) a few seconds later.
   */
  count(rule: string, outcome: EdgeOutcome, bytes: number, now: EpochMillis): boolean {
    const minute = minuteOf(now);
    if (minute !== this.#minute) this.#turn(minute);
    let counts = this.#rules.get(rule);
    if (counts === undefined) {
      if (this.#rules.size >= MAX_RULES_PER_BATCH && rule !== OTHER_RULE) return this.count(OTHER_RULE, outcome, bytes, now);
      counts = new Array<number>(WIDTH * 2).fill(0);
      this.#rules.set(rule, counts);
    }
    const i = OUTCOME_INDEX[outcome];
    counts[i] = counts[i]! + 1;
    // biome-ignore lint/complexity/useMathMinMax: a NaN byte count must add 0, and Math.max(NaN, 0) is NaN
    counts[WIDTH + i] = counts[WIDTH + i]! + (bytes > 0 ? bytes : 0);
    const opened = !this.#pending;
    this.#pending = true;
    return opened;
  }

  /** Everything counted since the last drain, as rows; the tally starts a new batch. */
  drain(): EdgeTallyRow[] {
    const rows: EdgeTallyRow[] = [];
    for (const { minute, rules } of [...this.#closed, { minute: this.#minute, rules: this.#rules }]) {
      for (const [rule, counts] of rules) {
        for (let i = 0; i < WIDTH; i++) if (counts[i]! > 0) rows.push({ minute, rule, outcome: EDGE_OUTCOMES[i]!, requests: counts[i]!, bytes: counts[WIDTH + i]! });
      }
    }
    this.#closed = [];
    this.#rules = new Map();
    this.#pending = false;
    return rows;
  }

  /** True when counts wait for a flush. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Puts rows back after a flush failed (the collector could not be reached), so they go with the
   * next batch instead of being lost. Returns true when this opened a new batch (schedule a flush).
   */
  restore(rows: readonly EdgeTallyRow[]): boolean {
    if (rows.length === 0) return false;
    const byMinute = new Map<Minute, Map<string, RuleCounts>>();
    for (const row of rows) {
      let rules = byMinute.get(row.minute);
      if (rules === undefined) byMinute.set(row.minute, (rules = new Map()));
      let counts = rules.get(row.rule);
      if (counts === undefined) rules.set(row.rule, (counts = new Array<number>(WIDTH * 2).fill(0)));
      const i = OUTCOME_INDEX[row.outcome];
      counts[i] = counts[i]! + row.requests;
      counts[WIDTH + i] = counts[WIDTH + i]! + row.bytes;
    }
    for (const [minute, rules] of byMinute) this.#closed.push({ minute, rules });
    if (this.#closed.length > MAX_BATCH_MINUTES) this.#closed.splice(0, this.#closed.length - MAX_BATCH_MINUTES);
    const opened = !this.#pending;
    this.#pending = true;
    return opened;
  }

  #turn(minute: Minute): void {
    if (this.#rules.size > 0) this.#closed.push({ minute: this.#minute, rules: this.#rules });
    this.#rules = new Map();
    this.#minute = minute;
  }
}
