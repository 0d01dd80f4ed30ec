/**
 * EdgeShardGate: the isolate's ShardHealth bound to one config version's policy and the clock, each
 * state change raised as one event kept alive by the request's waitUntil (it lived in src/index.ts).
 */
import { describe, expect, it } from "vitest";
import { EdgeShardGate } from "../../../src/edge/shard-gate";
import type { NewEvent } from "../../../src/events/events";
import { ShardHealth } from "../../../src/health/shard-health";

function harness() {
  let now = 10_000;
  const events: Omit<NewEvent, "time">[] = [];
  const kept: Promise<unknown>[] = [];
  const health = new ShardHealth();
  const gate = new EdgeShardGate(health, { shardFailuresToSkip: 2, shardSkipSeconds: 5 }, { now: () => now }, async (event) => void events.push(event));
  return { gate, health, events, kept, waitUntil: (p: Promise<unknown>) => kept.push(p), advance: (ms: number) => (now += ms) };
}

describe("EdgeShardGate", () => {
  it("skips a shard after the version's failuresToSkip, raising one WARNING", () => {
    const h = harness();
    h.gate.record("shard-1", "error", h.waitUntil);
    expect(h.gate.admit("shard-1")).toBe("try");
    expect(h.events).toEqual([]);
    h.gate.record("shard-1", "timeout", h.waitUntil);
    expect(h.gate.admit("shard-1")).toBe("skip");
    expect(h.events).toEqual([{ level: "WARNING", section: "shards/shard-1", tag: "shardfail", text: "Shard shard-1 skipped by this edge isolate for 5 s after 2 consecutive failures" }]);
    expect(h.kept.length).toBe(1);
    expect(h.gate.admit("shard-2")).toBe("try");
  });

  it("probes once after skipSeconds on the clock it was given, and a success raises one INFO", () => {
    const h = harness();
    h.gate.record("shard-1", "error", h.waitUntil);
    h.gate.record("shard-1", "error", h.waitUntil);
    h.advance(4_999);
    expect(h.gate.admit("shard-1")).toBe("skip");
    h.advance(1);
    expect(h.gate.admit("shard-1")).toBe("probe");
    expect(h.gate.admit("shard-1")).toBe("skip");
    h.gate.record("shard-1", "ok", h.waitUntil);
    expect(h.gate.admit("shard-1")).toBe("try");
    expect(h.events.map((e) => [e.level, e.tag])).toEqual([
      ["WARNING", "shardfail"],
      ["INFO", "shardok"],
    ]);
    expect(h.kept.length).toBe(2);
  });

  it("a gate built for another config version keeps the isolate's health but applies its own policy", () => {
    const h = harness();
    h.gate.record("shard-1", "error", h.waitUntil);
    const stricter = new EdgeShardGate(h.health, { shardFailuresToSkip: 1, shardSkipSeconds: 5 }, { now: () => 10_000 }, async () => {});
    stricter.record("shard-1", "error", h.waitUntil);
    expect(stricter.admit("shard-1")).toBe("skip");
    expect(h.gate.admit("shard-1")).toBe("skip");
  });
});
