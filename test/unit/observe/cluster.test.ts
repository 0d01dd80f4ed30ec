import { describe, expect, it } from "vitest";
import { clusterFigures, clusterSeries, zeroShard } from "../../../src/observe/cluster";

describe("clusterFigures", () => {
  it("hit ratio = hits at either tier (edge hit, shard hit, shard stale) / cacheable requests (edge hit + miss + origin)", () => {
    const figures = clusterFigures(
      [
        { outcome: "hit", requests: 70, bytes: 700 },
        { outcome: "miss", requests: 20, bytes: 200 },
        { outcome: "pass", requests: 5, bytes: 0 },
        { outcome: "origin", requests: 10, bytes: 0 },
      ],
      [
        { requests: { ...zeroShard(), hit: 8, stale: 2, miss: 6 }, originFetches: 6 },
        { requests: { ...zeroShard(), pass: 4 }, originFetches: 4 },
      ],
    );
    expect(figures.requests).toBe(105);
    expect(figures.hits).toBe(80);
    expect(figures.cacheable).toBe(100);
    expect(figures.hitRatio).toBe(0.8);
    expect(figures.originFetches).toBe(10);
    expect(figures.bytesServed).toBe(900);
  });

  it("has no hit ratio before any cacheable request", () => {
    expect(clusterFigures([{ outcome: "pass", requests: 3, bytes: 0 }], []).hitRatio).toBeNull();
  });
});

describe("clusterSeries", () => {
  it("has one point per minute, zeros where nothing was counted, and each shard's load", () => {
    const points = clusterSeries(
      [
        { minute: 10, outcome: "hit", requests: 3, bytes: 0 },
        { minute: 10, outcome: "miss", requests: 1, bytes: 0 },
        { minute: 9, outcome: "hit", requests: 100, bytes: 0 },
      ],
      [
        {
          shard: "s0",
          minutes: [
            { minute: 10, requests: { ...zeroShard(), hit: 1 }, originFetches: 0 },
            { minute: 12, requests: { ...zeroShard(), miss: 2 }, originFetches: 2 },
          ],
        },
      ],
      10,
      12,
    );
    expect(points.map((p) => p.minute)).toEqual([10, 11, 12]);
    expect(points[0]).toMatchObject({ requests: 4, hits: 4, hitRatio: 1, shards: { s0: 1 } });
    expect(points[1]).toMatchObject({ requests: 0, hitRatio: null, shards: {} });
    expect(points[2]).toMatchObject({ originFetches: 2, shards: { s0: 2 } });
  });
});
