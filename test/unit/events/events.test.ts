/** Cluster events: the bounded ring, its filters and persistence, webhook retry delays and health event texts. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EventRing, healthChangeEvent, nextRetryDelayMs, poolStateEvent, webhookPayload, type EventLevel, type NewEvent } from "../../../src/events/events";

const T0 = 1_700_000_000_000;
const ev = (text: string, level: EventLevel = "INFO"): NewEvent => ({ time: T0, level, section: "config", tag: "confchange", text });

function ringWith(capacity: number, levels: EventLevel[]): EventRing {
  const ring = new EventRing(capacity);
  levels.forEach((level, i) => ring.append(ev(`e${i + 1}`, level)));
  return ring;
}

describe("EventRing", () => {
  it("assigns increasing ids starting at 1", () => {
    const ring = new EventRing(10);
    expect(ring.append(ev("a")).id).toBe(1);
    expect(ring.append(ev("b")).id).toBe(2);
    expect(ring.lastId).toBe(2);
  });

  it("holds at most its capacity, dropping the oldest", () => {
    const ring = ringWith(3, ["INFO", "INFO", "INFO", "INFO", "INFO"]);
    expect(ring.size).toBe(3);
    expect(ring.all().map((e) => e.id)).toEqual([3, 4, 5]);
    expect(ring.all().map((e) => e.text)).toEqual(["e3", "e4", "e5"]);
  });

  it("keeps the newest min(capacity, n) events with consecutive ids (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.nat(60), (capacity, n) => {
        const ring = ringWith(capacity, Array<EventLevel>(n).fill("INFO"));
        const ids = ring.all().map((e) => e.id);
        const kept = Math.min(capacity, n);
        return ring.size === kept && ids.length === kept && ids.every((id, i) => id === n - kept + 1 + i);
      }),
    );
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new EventRing(0)).toThrow(RangeError);
    expect(() => new EventRing(2.5)).toThrow(RangeError);
  });

  it("filters by sinceId and minimum level", () => {
    const ring = ringWith(10, ["INFO", "WARNING", "SERIOUS", "INFO", "FATAL"]);
    expect(ring.list({ sinceId: 3 }).map((e) => e.id)).toEqual([4, 5]);
    expect(ring.list({ minLevel: "WARNING" }).map((e) => e.id)).toEqual([2, 3, 5]);
    expect(ring.list({ minLevel: "SERIOUS", sinceId: 3 }).map((e) => e.id)).toEqual([5]);
  });

  it("limits to the newest without sinceId and to the oldest after sinceId, so paging loses nothing", () => {
    const ring = ringWith(10, ["INFO", "INFO", "INFO", "INFO", "INFO"]);
    expect(ring.list({ limit: 2 }).map((e) => e.id)).toEqual([4, 5]);
    expect(ring.list({ sinceId: 1, limit: 2 }).map((e) => e.id)).toEqual([2, 3]);
    expect(ring.list({ sinceId: 3, limit: 2 }).map((e) => e.id)).toEqual([4, 5]);
    expect(ring.list({ limit: 0 })).toEqual([]);
  });

  it("round-trips through JSON, and ids keep increasing after a restore", () => {
    const ring = ringWith(3, ["INFO", "WARNING", "SERIOUS", "FATAL"]);
    const restored = EventRing.fromJSON(JSON.parse(JSON.stringify(ring)));
    if (!restored.ok) throw new Error(restored.error);
    expect(restored.value.capacity).toBe(3);
    expect(restored.value.all()).toEqual(ring.all());
    expect(restored.value.append(ev("next")).id).toBe(5);
    expect(restored.value.all().map((e) => e.id)).toEqual([3, 4, 5]);
  });

  it("keeps the newest events and the id counter when restored with a smaller capacity", () => {
    const ring = ringWith(5, ["INFO", "INFO", "INFO", "INFO", "INFO"]);
    const restored = EventRing.fromJSON(ring.toJSON(), 2);
    if (!restored.ok) throw new Error(restored.error);
    expect(restored.value.all().map((e) => e.id)).toEqual([4, 5]);
    expect(restored.value.lastId).toBe(5);
  });

  it("never reuses an id, even when the stored log holds no events", () => {
    const restored = EventRing.fromJSON({ capacity: 3, lastId: 41, events: [] });
    if (!restored.ok) throw new Error(restored.error);
    expect(restored.value.append(ev("after")).id).toBe(42);
  });

  it("returns an error for stored data of the wrong shape or with ids out of order", () => {
    expect(EventRing.fromJSON({ capacity: 3 }).ok).toBe(false);
    expect(EventRing.fromJSON("nonsense").ok).toBe(false);
    const good = ringWith(3, ["INFO", "INFO"]).toJSON();
    expect(EventRing.fromJSON({ ...good, events: [...good.events].reverse() }).ok).toBe(false);
    expect(EventRing.fromJSON({ ...good, lastId: 1 }).ok).toBe(false);
  });
});

describe("webhookPayload", () => {
  it("carries the events with a readable timestamp", () => {
    const event = { ...ev("hello"), id: 7 };
    expect(webhookPayload([event])).toEqual({ source: "shardcache", events: [{ ...event, isoTime: new Date(T0).toISOString() }] });
  });
});

describe("nextRetryDelayMs", () => {
  it("doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4].map((a) => nextRetryDelayMs(a))).toEqual([1000, 2000, 4000, 8000]);
    expect(nextRetryDelayMs(9)).toBe(256_000);
    expect(nextRetryDelayMs(10)).toBe(300_000);
    expect(nextRetryDelayMs(10_000)).toBe(300_000);
    expect(nextRetryDelayMs(3, { baseMs: 100, capMs: 250 })).toBe(250);
  });

  it("is never decreasing, never above the cap, and treats nonsense attempts as the first (property)", () => {
    fc.assert(fc.property(fc.integer({ min: -5, max: 2000 }), (a) => nextRetryDelayMs(a) <= nextRetryDelayMs(a + 1) && nextRetryDelayMs(a) <= 300_000));
    expect(nextRetryDelayMs(Number.NaN)).toBe(1000);
    expect(nextRetryDelayMs(0)).toBe(1000);
  });
});

describe("health events", () => {
  it("reports a failed node as WARNING nodefail and a working one as INFO nodeok", () => {
    expect(healthChangeEvent("web", "https://a.example", "failed", "3 consecutive failures", T0)).toEqual({
      time: T0,
      level: "WARNING",
      section: "pools/web",
      tag: "nodefail",
      text: "Node https://a.example has failed: 3 consecutive failures",
    });
    expect(healthChangeEvent("web", "n", "down", "monitor timed out", T0)).toMatchObject({ level: "WARNING", tag: "nodefail" });
    expect(healthChangeEvent("web", "n", "recovered", "request succeeded", T0)).toMatchObject({ level: "INFO", tag: "nodeok" });
    expect(healthChangeEvent("web", "n", "up", "monitor ok", T0)).toMatchObject({ level: "INFO", tag: "nodeok", section: "pools/web" });
  });

  it("reports a dead pool as SERIOUS pooldied and its return as INFO poolok", () => {
    expect(poolStateEvent("web", true, T0)).toMatchObject({ level: "SERIOUS", tag: "pooldied", section: "pools/web", time: T0 });
    expect(poolStateEvent("web", false, T0)).toMatchObject({ level: "INFO", tag: "poolok", section: "pools/web", time: T0 });
  });
});
