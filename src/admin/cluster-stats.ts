/**
 * Reading both tiers' counters for the admin API: the edge tier's from the MetricsCollector (this
 * isolate flushes its own pending counts first) and every shard's from its SQLite counters.
 */
import type { EdgeMinuteRow, EdgeTotalRow } from "../../durable/metrics-collector";
import type { ShardMinute } from "../../durable/shard-counters";
import { clusterFigures, clusterSeries, type ClusterFigures, type SeriesPoint } from "../observe/cluster";
import { minuteOf, RETAIN_MINUTES, type Minute } from "../observe/minute";
import type { EpochMillis } from "../lib/units";
import { answered, collectStats, type ShardStatsEntry, type ShardStatsReply, type StatsRow } from "./stats";

export interface ObservedDeps {
  shardNames: readonly string[];
  shardStats(name: string): Promise<ShardStatsReply>;
  shardMinutes(name: string, since: Minute): Promise<ShardMinute[]>;
  /** Flushes this isolate's pending edge counts, then reads the collector. */
  edgeCounters(since: Minute): Promise<{ totals: EdgeTotalRow[]; minutes: EdgeMinuteRow[] }>;
  now(): EpochMillis;
}

export interface ClusterStats {
  cluster: ClusterFigures;
  /** Edge requests and bytes by matched rule and outcome. */
  edge: { byRule: EdgeTotalRow[]; error?: string };
  shards: ShardStatsEntry[];
  total: StatsRow;
}

const EMPTY = { totals: [] as EdgeTotalRow[], minutes: [] as EdgeMinuteRow[] };

export async function clusterStats(deps: ObservedDeps): Promise<ClusterStats> {
  const [edge, shardStats] = await Promise.all([
    deps.edgeCounters(minuteOf(deps.now())).then(
      (e) => ({ ...e, error: undefined }),
      (error: unknown) => ({ ...EMPTY, error: error instanceof Error ? error.message : String(error) }),
    ),
    collectStats(deps.shardNames, (name) => deps.shardStats(name)),
  ]);
  const cluster = clusterFigures(edge.totals, answered(shardStats.shards));
  return { cluster, edge: { byRule: edge.totals, ...(edge.error !== undefined ? { error: edge.error } : {}) }, ...shardStats };
}

/** Per-minute cluster figures for the last `minutes` minutes (the dashboard's charts). */
export async function clusterSeriesFor(deps: ObservedDeps, minutes: number): Promise<{ from: Minute; to: Minute; points: SeriesPoint[] }> {
  const to = minuteOf(deps.now());
  const span = Math.max(1, Math.min(RETAIN_MINUTES, Math.floor(minutes)));
  const from = to - span + 1;
  const [edge, shards] = await Promise.all([deps.edgeCounters(from).catch(() => EMPTY), Promise.all(deps.shardNames.map(async (shard) => ({ shard, minutes: await deps.shardMinutes(shard, from).catch(() => []) })))]);
  return { from, to, points: clusterSeries(edge.minutes, shards, from, to) };
}
