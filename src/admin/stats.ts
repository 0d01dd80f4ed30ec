/** The admin API's stats: each shard's counters (its `stats()` RPC) and their sum over the configured shards. */
import type { ShardStatsReply } from "../../durable/shard-stats";
import { zeroShard } from "../observe/cluster";
import type { ShardOutcome } from "../observe/outcomes";

export const STAT_FIELDS = ["calls", "hits", "misses", "coalesced", "originFetches", "passes", "stores", "objects", "storedBytes", "evictions", "storageEvictions", "storageEvictedBytes", "revalidations", "staleServed"] as const;
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

export type AnsweredShard = { shard: string; requests: Record<ShardOutcome, number> } & StatsRow;
export type ShardStatsEntry = AnsweredShard | { shard: string; error: string };

export const answered = (entries: readonly ShardStatsEntry[]): AnsweredShard[] => entries.filter((s): s is AnsweredShard => !("error" in s));

/** Asks every shard (in parallel); a shard that fails is listed with its error and left out of the total. */
export async function collectStats(names: readonly string[], stats: (name: string) => Promise<ShardStatsReply>): Promise<{ shards: ShardStatsEntry[]; total: StatsRow }> {
  const shards = await Promise.all(
    names.map(async (shard): Promise<ShardStatsEntry> => {
      try {
        const reply = await stats(shard);
        return { shard, ...statsRow(reply), requests: { ...zeroShard(), ...reply.requests } };
      } catch (error) {
        return { shard, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return { shards, total: sumStats(answered(shards)) };
}
