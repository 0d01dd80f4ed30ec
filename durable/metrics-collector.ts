/**
 * MetricsCollector: the one object (named "metrics") that edge isolates flush their counters to, a
 * batch every few seconds per isolate (src/observe/edge-tally.ts). It keeps all-time totals per rule
 * and outcome, and per-minute buckets per outcome for the dashboard, in SQLite (durable/counter-table.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { EdgeTallyRow } from "../src/observe/edge-tally";
import { RETAIN_MINUTES, type Minute } from "../src/observe/minute";
import { EDGE_OUTCOMES, type EdgeOutcome } from "../src/observe/outcomes";
import { CounterTable, type CounterDelta } from "./counter-table";

/** Rules × outcomes × 2 kinds fit many times over; a document cannot make the table grow without bound. */
const MAX_SERIES = 20_000;
const MAX_RULE_LABEL = 200;

export interface EdgeTotalRow {
  rule: string;
  outcome: EdgeOutcome;
  requests: number;
  bytes: number;
}

export interface EdgeMinuteRow {
  minute: Minute;
  outcome: EdgeOutcome;
  requests: number;
  bytes: number;
}

type Kind = "requests" | "bytes";
/** Series names are JSON arrays, so no rule name can be mistaken for a separator. */
const totalSeries = (kind: Kind, rule: string, outcome: EdgeOutcome) => JSON.stringify([kind, rule, outcome]);
const minuteSeries = (kind: Kind, outcome: EdgeOutcome) => JSON.stringify([kind, outcome]);

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const isOutcome = (o: unknown): o is EdgeOutcome => (EDGE_OUTCOMES as readonly unknown[]).includes(o);

/** A row from an isolate, checked: the RPC boundary is ours, but a garbage row must not poison the totals. */
export function validRow(row: unknown): row is EdgeTallyRow {
  if (typeof row !== "object" || row === null) return false;
  const r = row as Record<string, unknown>;
  return isCount(r.minute) && typeof r.rule === "string" && r.rule.length <= MAX_RULE_LABEL && isOutcome(r.outcome) && isCount(r.requests) && isCount(r.bytes);
}

function parseSeries(series: string): unknown[] | null {
  try {
    const parsed: unknown = JSON.parse(series);
    return Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export class MetricsCollector extends DurableObject<Env> {
  readonly #table: CounterTable;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#table = new CounterTable(ctx.storage.sql, { retainMinutes: RETAIN_MINUTES, maxSeries: MAX_SERIES });
  }

  /** One isolate's batch. Returns how many rows were taken (invalid rows are dropped). */
  async add(rows: unknown[]): Promise<number> {
    const byMinute = new Map<Minute, CounterDelta[]>();
    let taken = 0;
    for (const row of Array.isArray(rows) ? rows : []) {
      if (!validRow(row)) continue;
      taken += 1;
      let deltas = byMinute.get(row.minute);
      if (deltas === undefined) byMinute.set(row.minute, (deltas = []));
      deltas.push(
        { series: totalSeries("requests", row.rule, row.outcome), value: row.requests, perMinute: false },
        { series: totalSeries("bytes", row.rule, row.outcome), value: row.bytes, perMinute: false },
        { series: minuteSeries("requests", row.outcome), value: row.requests, perMinute: true },
        { series: minuteSeries("bytes", row.outcome), value: row.bytes, perMinute: true },
      );
    }
    // Oldest minute first, so pruning never drops a bucket this batch still adds to.
    for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) this.#table.add(minute, byMinute.get(minute)!);
    return taken;
  }

  /** All-time totals per rule and outcome, and per-minute buckets per outcome from `since` on. */
  async read(since: Minute): Promise<{ totals: EdgeTotalRow[]; minutes: EdgeMinuteRow[] }> {
    const totals = new Map<string, EdgeTotalRow>();
    for (const [series, value] of this.#table.totals()) {
      const parts = parseSeries(series);
      if (parts === null || parts.length !== 3 || typeof parts[1] !== "string" || !isOutcome(parts[2])) continue;
      const key = JSON.stringify([parts[1], parts[2]]);
      const row = totals.get(key) ?? { rule: parts[1], outcome: parts[2], requests: 0, bytes: 0 };
      if (parts[0] === "requests") row.requests += value;
      else if (parts[0] === "bytes") row.bytes += value;
      totals.set(key, row);
    }
    const minutes = new Map<string, EdgeMinuteRow>();
    for (const { minute, series, value } of this.#table.minutes(since)) {
      const parts = parseSeries(series);
      if (parts === null || parts.length !== 2 || !isOutcome(parts[1])) continue;
      const key = `${minute}:${parts[1]}`;
      const row = minutes.get(key) ?? { minute, outcome: parts[1], requests: 0, bytes: 0 };
      if (parts[0] === "requests") row.requests += value;
      else if (parts[0] === "bytes") row.bytes += value;
      minutes.set(key, row);
    }
    return { totals: [...totals.values()], minutes: [...minutes.values()] };
  }
}
