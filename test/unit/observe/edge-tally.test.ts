import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EdgeTally, MAX_RULES_PER_BATCH, type EdgeTallyRow } from "../../../src/observe/edge-tally";
import { MINUTE_MS } from "../../../src/observe/minute";
import { EDGE_OUTCOMES } from "../../../src/observe/outcomes";

const T0 = 1_000 * MINUTE_MS;
const total = (rows: EdgeTallyRow[]) => rows.reduce((sum, r) => sum + r.requests, 0);

describe("EdgeTally", () => {
  it("asks for one flush per batch: only the first count of a batch opens it", () => {
    const tally = new EdgeTally();
    expect(tally.count("r", "hit", 10, T0)).toBe(true);
    expect(tally.count("r", "hit", 10, T0 + 1)).toBe(false);
    expect(tally.count("s", "miss", 5, T0 + 2)).toBe(false);
    expect(tally.drain()).toEqual([
      { minute: 1000, rule: "r", outcome: "hit", requests: 2, bytes: 20 },
      { minute: 1000, rule: "s", outcome: "miss", requests: 1, bytes: 5 },
    ]);
    expect(tally.pending).toBe(false);
    expect(tally.drain()).toEqual([]);
    expect(tally.count("r", "hit", 1, T0 + 3)).toBe(true);
  });

  it("keeps minutes apart when a batch spans a minute boundary", () => {
    const tally = new EdgeTally();
    tally.count("r", "hit", 1, T0 + MINUTE_MS - 1);
    tally.count("r", "hit", 1, T0 + MINUTE_MS);
    expect(tally.drain().map((r) => [r.minute, r.requests])).toEqual([
      [1000, 1],
      [1001, 1],
    ]);
  });

  it("puts rows of a failed flush back, to be sent with the next batch", () => {
    const tally = new EdgeTally();
    tally.count("r", "hit", 3, T0);
    const rows = tally.drain();
    expect(tally.restore(rows)).toBe(true);
    tally.count("r", "hit", 3, T0 + 1);
    expect(total(tally.drain())).toBe(2);
  });

  it("folds rule labels past the bound into (other), counting every request", () => {
    const tally = new EdgeTally();
    for (let i = 0; i < MAX_RULES_PER_BATCH + 10; i++) tally.count(`rule-${i}`, "hit", 0, T0);
    const rows = tally.drain();
    expect(total(rows)).toBe(MAX_RULES_PER_BATCH + 10);
    expect(rows.find((r) => r.rule === "(other)")?.requests).toBe(10);
  });

  it("loses and invents no request or byte (property)", () => {
    const event = fc.record({ rule: fc.constantFrom("a", "b", "c"), outcome: fc.constantFrom(...EDGE_OUTCOMES), bytes: fc.nat(10_000), dt: fc.nat(40_000), drain: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 200 }), (events) => {
        const tally = new EdgeTally();
        let now = T0;
        const rows: EdgeTallyRow[] = [];
        for (const e of events) {
          now += e.dt;
          tally.count(e.rule, e.outcome, e.bytes, now);
          if (e.drain) rows.push(...tally.drain());
        }
        rows.push(...tally.drain());
        expect(total(rows)).toBe(events.length);
        expect(rows.reduce((s, r) => s + r.bytes, 0)).toBe(events.reduce((s, e) => s + e.bytes, 0));
      }),
    );
  });
});
