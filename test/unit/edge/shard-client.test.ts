import { describe, expect, it } from "vitest";
import { attemptOrder, callShards } from "../../../src/edge/shard-client";

const shards = ["s0", "s1", "s2", "s3"].map((name) => ({ name, weight: 1 }));

describe("attemptOrder", () => {
  it("keeps the HRW order when there is one primary", () => {
    expect(attemptOrder(shards, 1, 0.7).map((s) => s.name)).toEqual(["s0", "s1", "s2", "s3"]);
  });

  it("starts from the picked primary, then the other primaries, then the fallbacks", () => {
    expect(attemptOrder(shards, 2, 1).map((s) => s.name)).toEqual(["s1", "s0", "s2", "s3"]);
    expect(attemptOrder(shards, 3, 2.5).map((s) => s.name)).toEqual(["s2", "s0", "s1", "s3"]);
  });
});

describe("callShards", () => {
  it("moves to the next shard when one throws or times out, recording each attempt", async () => {
    const result = await callShards(
      shards,
      async (shard) => {
        if (shard.name === "s0") throw new Error("boom");
        if (shard.name === "s1") return new Promise<Response>(() => {});
        return new Response(shard.name);
      },
      (answer) => (answer instanceof Response ? answer : null),
      30,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(await result.value.text()).toBe("s2");
    expect(result.attempts).toEqual([{ shard: "s0", error: "error" }, { shard: "s1", error: "timeout" }, { shard: "s2" }]);
  });

  it("reports failure when every shard fails", async () => {
    const result = await callShards(
      shards.slice(0, 2),
      async () => Promise.reject(new Error("down")),
      () => null,
      30,
    );
    expect(result).toEqual({
      ok: false,
      attempts: [
        { shard: "s0", error: "error" },
        { shard: "s1", error: "error" },
      ],
    });
  });

  it("counts an answer the check refuses (another version, the wrong shape) as that shard's error", async () => {
    const result = await callShards(
      shards.slice(0, 2),
      async (shard) => (shard.name === "s0" ? { v: 99 } : "fine"),
      (answer) => (answer === "fine" ? answer : null),
      30,
    );
    expect(result).toEqual({ ok: true, value: "fine", shard: "s1", attempts: [{ shard: "s0", error: "error" }, { shard: "s1" }] });
  });
});
