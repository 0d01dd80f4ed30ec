import { describe, expect, it } from "vitest";
import { OffsetClock } from "../../../src/lib/clock";

describe("OffsetClock", () => {
  const base = (start: number) => {
    let t = start;
    return { clock: { now: () => t }, tick: (ms: number) => (t += ms) };
  };

  it("reads its base plus the time moved, and follows the base as it runs", () => {
    const { clock, tick } = base(1_000);
    const moved = new OffsetClock(clock);
    expect(moved.now()).toBe(1_000);
    moved.advance(60_000);
    moved.advance(5);
    expect(moved.now()).toBe(61_005);
    expect(moved.offsetMs).toBe(60_005);
    tick(10);
    expect(moved.now()).toBe(61_015);
  });

  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses to move by %s and stays where it was", (ms) => {
    const moved = new OffsetClock(base(0).clock);
    moved.advance(7);
    expect(() => moved.advance(ms)).toThrow(RangeError);
    expect(moved.offsetMs).toBe(7);
  });

  it("held, stands still but for advance; released, runs on from its base without going back", () => {
    const { clock, tick } = base(1_000);
    const moved = new OffsetClock(clock);
    moved.advance(500);
    moved.hold();
    tick(300);
    expect(moved.now()).toBe(1_500);
    moved.advance(20);
    tick(300);
    expect(moved.now()).toBe(1_520);
    moved.release();
    expect(moved.now()).toBe(2_120);
    expect(moved.offsetMs).toBe(520);
    moved.hold();
    moved.hold(); // a second hold keeps the first instant
    tick(5);
    expect(moved.now()).toBe(2_120);
  });
});
