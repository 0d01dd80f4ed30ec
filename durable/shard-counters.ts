/**
 * A shard's counters, kept in its SQLite storage (durable/counter-table.ts) so they survive eviction
 * and restarts: the ShardStats fields, and one request count per outcome (exactly one per request
 * that reached the shard), each as an all-time total and per-minute buckets.
 */
import type { EpochMillis } from "../src/lib/units";
import { minuteOf, RETAIN_MINUTES, type Minute } from "../src/observe/minute";
import { SHARD_OUTCOMES, type ShardOutcome } from "../src/observe/outcomes";
import { CounterTable } from "./counter-table";
import { newShardStats, type ShardStats } from "./shard-stats";

export type ShardRequests = Record<ShardOutcome, number>;
export type ShardCounterName = keyof ShardStats | `requests.${ShardOutcome}`;

/** One minute of one shard: its request outcomes and origin fetches. */
export interface ShardMinute {
  minute: Minute;
  requests: ShardRequests;
  originFetches: number;
}

const STAT_NAMES = Object.keys(newShardStats()) as (keyof ShardStats)[];
const emptyRequests = (): ShardRequests => Object.fromEntries(SHARD_OUTCOMES.map((o) => [o, 0])) as ShardRequests;

export class ShardCounters {
  readonly #table: CounterTable;

  constructor(
    sql: SqlStorage,
    private readonly now: () => EpochMillis,
  ) {
    this.#table = new CounterTable(sql, { retainMinutes: RETAIN_MINUTES, maxSeries: STAT_NAMES.length + SHARD_OUTCOMES.length });
  }

  count(name: ShardCounterName, by = 1): void {
    this.#table.add(minuteOf(this.now()), [{ series: name, value: by, perMinute: true }]);
  }

  /** All-time totals. */
  totals(): ShardStats & { requests: ShardRequests } {
    const stats = newShardStats();
    const requests = emptyRequests();
    for (const [series, value] of this.#table.totals()) {
      if (series.startsWith("requests.")) {
        const outcome = series.slice("requests.".length) as ShardOutcome;
        if (outcome in requests) requests[outcome] = value;
      } else if (series in stats) stats[series as keyof ShardStats] = value;
    }
    return { ...stats, requests };
  }

  /** Per-minute request outcomes and origin fetches from `since` on, oldest first. */
  minutes(since: Minute): ShardMinute[] {
    const byMinute = new Map<Minute, ShardMinute>();
    for (const { minute, series, value } of this.#table.minutes(since)) {
      let row = byMinute.get(minute);
      if (row === undefined) byMinute.set(minute, (row = { minute, requests: emptyRequests(), originFetches: 0 }));
      if (series === "originFetches") row.originFetches = value;
      else if (series.startsWith("requests.")) {
        const outcome = series.slice("requests.".length) as ShardOutcome;
        if (outcome in row.requests) row.requests[outcome] = value;
      }
    }
    return [...byMinute.values()];
  }
}
