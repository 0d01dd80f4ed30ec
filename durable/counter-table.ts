/**
 * Counters in a Durable Object's SQLite storage, so they survive eviction and restarts: an all-time
 * total per series (what Prometheus scrapes: it never goes down) and per-minute buckets for charts,
 * pruned past `retainMinutes`. Series are opaque strings chosen by the owner; their number is
 * bounded by `maxSeries` (further series fold into OVERFLOW_SERIES). Schema: docs/storage-schema.md.
 */
import type { Minute } from "../src/observe/minute";

export const OVERFLOW_SERIES = "(overflow)";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS counter_totals (series TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counter_minutes (
  minute INTEGER NOT NULL, series TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (minute, series));
`;

/** One increment: `perMinute` false keeps it out of the minute buckets (totals only, e.g. per-rule detail). */
export interface CounterDelta {
  series: string;
  value: number;
  perMinute: boolean;
}

export interface MinuteRow {
  minute: Minute;
  series: string;
  value: number;
}

export class CounterTable {
  readonly #known: Set<string>;
  #prunedFor: Minute = -1;

  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: { retainMinutes: number; maxSeries: number },
  ) {
    sql.exec(SCHEMA);
    this.#known = new Set(
      sql
        .exec<{ series: string }>("SELECT series FROM counter_totals")
        .toArray()
        .map((r) => r.series),
    );
  }

  add(minute: Minute, deltas: Iterable<CounterDelta>): void {
    if (minute !== this.#prunedFor) {
      this.sql.exec("DELETE FROM counter_minutes WHERE minute < ?", minute - this.limits.retainMinutes);
      this.#prunedFor = minute;
    }
    for (const { series: wanted, value, perMinute } of deltas) {
      if (!(value > 0)) continue;
      const series = this.#bounded(wanted);
      this.sql.exec("INSERT INTO counter_totals (series, value) VALUES (?, ?) ON CONFLICT (series) DO UPDATE SET value = value + excluded.value", series, value);
      if (perMinute) this.sql.exec("INSERT INTO counter_minutes (minute, series, value) VALUES (?, ?, ?) ON CONFLICT (minute, series) DO UPDATE SET value = value + excluded.value", minute, series, value);
    }
  }

  /** All-time totals by series. */
  totals(): Map<string, number> {
    return new Map(
      this.sql
        .exec<{ series: string; value: number }>("SELECT series, value FROM counter_totals")
        .toArray()
        .map((r) => [r.series, r.value]),
    );
  }

  /** Minute buckets from `since` on (inclusive), oldest first. */
  minutes(since: Minute): MinuteRow[] {
    return this.sql.exec<{ minute: number; series: string; value: number }>("SELECT minute, series, value FROM counter_minutes WHERE minute >= ? ORDER BY minute", since).toArray();
  }

  #bounded(series: string): string {
    if (this.#known.has(series)) return series;
    if (this.#known.size >= this.limits.maxSeries) return OVERFLOW_SERIES;
    this.#known.add(series);
    return series;
  }
}
