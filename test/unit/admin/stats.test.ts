import { describe, expect, it } from "vitest";
import { zeroShard } from "../../../src/observe/cluster";
import { collectStats, STAT_FIELDS, statsRow, sumStats } from "../../../src/admin/stats";

const reply = (n: number) => ({
  calls: 20 * n,
  hits: n,
  misses: 2 * n,
  coalesced: 3,
  originFetches: 4,
  passes: 5,
  stores: 6,
  storeFailures: 0,
  revalidations: 7,
  staleServed: 8,
  objects: n,
  storedBytes: 1000 * n,
  storageBudgetBytes: 5000,
  storageEvictions: 10 * n,
  storageEvictedBytes: 100 * n,
  storageRefusals: 0,
  memoryEvictions: 9,
  inFlight: 0,
  requests: { ...zeroShard(), hit: n, miss: 1 },
});

describe("stats", () => {
  it("maps a shard's reply to the admin fields (memory evictions as evictions)", () => {
    const row = statsRow(reply(1));
    expect(Object.keys(row).sort()).toEqual([...STAT_FIELDS].sort());
    expect(row.evictions).toBe(9);
    expect(row.storedBytes).toBe(1000);
  });

  it("sums the shards that answered and lists the ones that failed", async () => {
    const result = await collectStats(["a", "b", "c"], async (name) => (name === "b" ? Promise.reject(new Error("gone")) : reply(name === "a" ? 1 : 2)));
    expect(result.shards[1]).toEqual({ shard: "b", error: "gone" });
    expect(result.total).toEqual(sumStats([statsRow(reply(1)), statsRow(reply(2))]));
    expect(result.total.hits).toBe(3);
    expect(result.total.storedBytes).toBe(3000);
    expect(result.total.evictions).toBe(18);
    expect(result.total.storageEvictions).toBe(30);
    expect(result.total.objects).toBe(3);
    expect(result.shards[2]).toMatchObject({ shard: "c", requests: { hit: 2, miss: 1, stale: 0 } });
  });
});
