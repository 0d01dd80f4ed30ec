/** GET /pools: every configured origin pool and node (its configured state) with the HealthMonitor's view of it. */
import type { Pools } from "../config/pools";
import { nodeKey } from "../origin/pool-fetch";
import type { EpochMillis } from "../lib/units";

export interface NodeHealthDetail {
  /** `pool|url` (nodeKey). */
  key: string;
  healthy: boolean;
  reason: string;
  lastProbeAt: EpochMillis | null;
}

export interface PoolView {
  name: string;
  algorithm: string;
  nodes: { url: string; state: string; weight: number; healthy: boolean | null; reason: string | null; lastProbeAt: EpochMillis | null }[];
}

export function poolsView(pools: Pools, details: readonly NodeHealthDetail[]): PoolView[] {
  const byKey = new Map(details.map((d) => [d.key, d]));
  return Object.entries(pools).map(([name, pool]) => ({
    name,
    algorithm: pool.algorithm,
    nodes: pool.nodes.map((node) => {
      const health = byKey.get(nodeKey(name, node.url));
      return { url: node.url, state: node.state, weight: node.weight, healthy: health?.healthy ?? null, reason: health?.reason ?? null, lastProbeAt: health?.lastProbeAt ?? null };
    }),
  }));
}
