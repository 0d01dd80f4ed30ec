/**
 * Cluster figures from the two tiers' counters. Every client request is counted once at the edge;
 * the requests an edge sent to a shard (edge `miss`) are counted again, by what the shard did, at the
 * shard tier. Cluster hit ratio = hits at either tier (edge hit, shard hit, shard stale) / cacheable
 * requests (edge hit + miss + origin, i.e. every GET/HEAD not passed by method or rule).
 */
import type { Minute } from "./minute";
import { EDGE_OUTCOMES, SHARD_OUTCOMES, type EdgeOutcome, type ShardOutcome } from "./outcomes";

export interface EdgeCount {
  outcome: EdgeOutcome;
  requests: number;
  bytes: number;
}

export interface ClusterFigures {
  /** Client requests (the edge counts every one). */
  requests: number;
  edge: Record<EdgeOutcome, number>;
  shard: Record<ShardOutcome, number>;
  hits: number;
  cacheable: number;
  /** null before any cacheable request. */
  hitRatio: number | null;
  originFetches: number;
  bytesServed: number;
}

export const zeroEdge = (): Record<EdgeOutcome, number> => Object.fromEntries(EDGE_OUTCOMES.map((o) => [o, 0])) as Record<EdgeOutcome, number>;
export const zeroShard = (): Record<ShardOutcome, number> => Object.fromEntries(SHARD_OUTCOMES.map((o) => [o, 0])) as Record<ShardOutcome, number>;

const hitsOf = (edge: Record<EdgeOutcome, number>, shard: Record<ShardOutcome, number>) => edge.hit + shard.hit + shard.stale;
const cacheableOf = (edge: Record<EdgeOutcome, number>) => edge.hit + edge.miss + edge.origin;
const ratio = (hits: number, cacheable: number) => (cacheable > 0 ? Math.min(1, hits / cacheable) : null);

export function clusterFigures(edgeCounts: readonly EdgeCount[], shards: readonly { requests: Record<ShardOutcome, number>; originFetches: number }[]): ClusterFigures {
  const edge = zeroEdge();
  let bytesServed = 0;
  for (const row of edgeCounts) {
    edge[row.outcome] += row.requests;
    bytesServed += row.bytes;
  }
  const shard = zeroShard();
  let originFetches = 0;
  for (const s of shards) {
    for (const outcome of SHARD_OUTCOMES) shard[outcome] += s.requests[outcome] ?? 0;
    originFetches += s.originFetches;
  }
  const requests = EDGE_OUTCOMES.reduce((sum, o) => sum + edge[o], 0);
  const hits = hitsOf(edge, shard);
  const cacheable = cacheableOf(edge);
  return { requests, edge, shard, hits, cacheable, hitRatio: ratio(hits, cacheable), originFetches, bytesServed };
}

export interface SeriesPoint {
  minute: Minute;
  requests: number;
  hits: number;
  originFetches: number;
  hitRatio: number | null;
  edge: Record<EdgeOutcome, number>;
  /** Requests each shard answered this minute, by shard name. */
  shards: Record<string, number>;
}

/** One point per minute from `from` to `to` (inclusive); minutes nobody counted are zeros. */
export function clusterSeries(
  edgeMinutes: readonly ({ minute: Minute } & EdgeCount)[],
  shardMinutes: readonly { shard: string; minutes: readonly { minute: Minute; requests: Record<ShardOutcome, number>; originFetches: number }[] }[],
  from: Minute,
  to: Minute,
): SeriesPoint[] {
  const points = new Map<Minute, { edge: Record<EdgeOutcome, number>; shard: Record<ShardOutcome, number>; originFetches: number; shards: Record<string, number> }>();
  const at = (minute: Minute) => {
    let p = points.get(minute);
    if (p === undefined) points.set(minute, (p = { edge: zeroEdge(), shard: zeroShard(), originFetches: 0, shards: {} }));
    return p;
  };
  for (const row of edgeMinutes) if (row.minute >= from && row.minute <= to) at(row.minute).edge[row.outcome] += row.requests;
  for (const { shard, minutes } of shardMinutes) {
    for (const m of minutes) {
      if (m.minute < from || m.minute > to) continue;
      const p = at(m.minute);
      let answered = 0;
      for (const outcome of SHARD_OUTCOMES) {
        p.shard[outcome] += m.requests[outcome] ?? 0;
        answered += m.requests[outcome] ?? 0;
      }
      p.originFetches += m.originFetches;
      p.shards[shard] = (p.shards[shard] ?? 0) + answered;
    }
  }
  const out: SeriesPoint[] = [];
  for (let minute = from; minute <= to; minute++) {
    const p = points.get(minute) ?? { edge: zeroEdge(), shard: zeroShard(), originFetches: 0, shards: {} };
    const hits = hitsOf(p.edge, p.shard);
    const cacheable = cacheableOf(p.edge);
    out.push({ minute, requests: EDGE_OUTCOMES.reduce((sum, o) => sum + p.edge[o], 0), hits, originFetches: p.originFetches, hitRatio: ratio(hits, cacheable), edge: p.edge, shards: p.shards });
  }
  return out;
}
