/**
 * A shard's counters, kept in its SQLite storage (durable/counter-table.ts) so they survive eviction
 * and restarts, written behind in one batch a second (a request only adds in memory): the ShardStats fields, and one request count per outcome (exactly one per request
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

const STAT_NAMES = Object.keys(newShardStats());
const emptyRequests = (): ShardRequests => ({ hit: 0, stale: 0, miss: 0, coalesced: 0, revalidated: 0, pass: 0, error: 0 });
/** Series names come back from SQLite: each is checked against the names this code writes, never cast. */
const isShardOutcome = (name: string): name is ShardOutcome => (SHARD_OUTCOMES as readonly string[]).includes(name);
const isStatName = (name: string): name is keyof ShardStats => STAT_NAMES.includes(name);

/** Counts wait in memory at most this long before one SQLite write (an object is only evicted after far longer idle). */
const FLUSH_AFTER_MS = 1_000;

export class ShardCounters {
  readonly #table: CounterTable;
  /** Counts not yet written, for `#pendingMinute`; every read writes them first. */
  #pending = new Map<ShardCounterName, number>();
  #pendingMinute: Minute = -1;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    sql: SqlStorage,
    private readonly now: () => EpochMillis,
  ) {
    this.#table = new CounterTable(sql, { retainMinutes: RETAIN_MINUTES, maxSeries: STAT_NAMES.length + SHARD_OUTCOMES.length });
  }

  /** Counts in memory (the request path); written to SQLite within FLUSH_AFTER_MS, or at once when the minute turns. */
  count(name: ShardCounterName, by = 1): void {
    const minute = minuteOf(this.now());
    if (minute !== this.#pendingMinute) this.flush();
    this.#pendingMinute = minute;
    this.#pending.set(name, (this.#pending.get(name) ?? 0) + by);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes pending counts in one batch. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.size === 0) return;
    const deltas = [...this.#pending].map(([series, value]) => ({ series, value, perMinute: true }));
    this.#pending = new Map();
    this.#table.add(this.#pendingMinute, deltas);
  }

  /** All-time totals. */
  totals(): ShardStats & { requests: ShardRequests } {
    this.flush();
    const stats = newShardStats();
    const requests = emptyRequests();
    for (const [series, value] of this.#table.totals()) {
      if (series.startsWith("requests.")) {
        const outcome = series.slice("requests.".length);
        if (isShardOutcome(outcome)) requests[outcome] = value;
      } else if (isStatName(series)) stats[series] = value;
    }
    return { ...stats, requests };
  }

  /** Per-minute request outcomes and origin fetches from `since` on, oldest first. */
  minutes(since: Minute): ShardMinute[] {
    this.flush();
    const byMinute = new Map<Minute, ShardMinute>();
    for (const { minute, series, value } of this.#table.minutes(since)) {
      let row = byMinute.get(minute);
      if (row === undefined) byMinute.set(minute, (row = { minute, requests: emptyRequests(), originFetches: 0 }));
      if (series === "originFetches") row.originFetches = value;
      else if (series.startsWith("requests.")) {
        const outcome = series.slice("requests.".length);
        if (isShardOutcome(outcome)) row.requests[outcome] = value;
      }
    }
    return [...byMinute.values()];
  }
}
