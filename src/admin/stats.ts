/** The admin API's stats: each shard's counters (its `stats()` RPC) and their sum over the configured shards. */
import type { ShardStatsReply } from "../../durable/shard-stats";

export const STAT_FIELDS = ["calls", "hits", "misses", "coalesced", "originFetches", "passes", "stores", "storedBytes", "evictions", "storageEvictions", "storageEvictedBytes", "revalidations", "staleServed"] as const;
export type StatField = (typeof STAT_FIELDS)[number];
export type StatsRow = Record<StatField, number>;

export type { ShardStatsReply };

export function statsRow(reply: ShardStatsReply): StatsRow {
  const row = {} as StatsRow;
  for (const field of STAT_FIELDS) row[field] = field === "evictions" ? reply.memoryEvictions : reply[field];
  return row;
}

export function sumStats(rows: readonly StatsRow[]): StatsRow {
  const total = {} as StatsRow;
  for (const field of STAT_FIELDS) total[field] = rows.reduce((sum, row) => sum + (Number.isFinite(row[field]) ? row[field] : 0), 0);
  return total;
}

export type ShardStatsEntry = ({ shard: string } & StatsRow) | { shard: string; error: string };

/** Asks every shard (in parallel); a shard that fails is listed with its error and left out of the total. */
export async function collectStats(names: readonly string[], stats: (name: string) => Promise<ShardStatsReply>): Promise<{ shards: ShardStatsEntry[]; total: StatsRow }> {
  const shards = await Promise.all(
    names.map(async (shard): Promise<ShardStatsEntry> => {
      try {
        return { shard, ...statsRow(await stats(shard)) };
      } catch (error) {
        return { shard, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const rows = shards.filter((s): s is { shard: string } & StatsRow => !("error" in s));
  return { shards, total: sumStats(rows) };
}
