import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SlmWindow, evaluateTransition, nextSlmState, slmState, type SlmState, type SlmWindowJson } from "../../../src/slm/window";

const cls = { targetMs: 200, warningPercent: 95, seriousPercent: 80, windowSeconds: 10, minSamples: 10 };

/** A window holding `within` good and `total - within` slow samples, all at `now`. */
function windowWith(within: number, total: number, now = 5_000): SlmWindow {
  const w = new SlmWindow(cls);
  for (let i = 0; i < total; i++) w.record(now, i < within ? 150 : 250);
  return w;
}

describe("slmState thresholds", () => {
  it.each([
    [100, "ok"],
    [95, "ok"],
    [94.9, "warning"],
    [80, "warning"],
    [79.9, "serious"],
    [0, "serious"],
  ] as const)("%d%% → %s", (percent, state) => {
    expect(slmState(percent, cls)).toBe(state);
  });

  it("holds exactly at the boundaries when computed from counts", () => {
    expect(slmState(windowWith(950, 1000).conformance(5_000).percent!, cls)).toBe("ok");
    expect(slmState(windowWith(949, 1000).conformance(5_000).percent!, cls)).toBe("warning");
    expect(slmState(windowWith(800, 1000).conformance(5_000).percent!, cls)).toBe("warning");
    expect(slmState(windowWith(799, 1000).conformance(5_000).percent!, cls)).toBe("serious");
    expect(windowWith(19, 20).conformance(5_000).percent).toBe(95);
  });
});

describe("SlmWindow", () => {
  it("a response exactly at the target conforms", () => {
    const w = new SlmWindow({ ...cls, minSamples: 1 });
    w.record(0, 200);
    w.record(0, 200.5);
    expect(w.conformance(0)).toEqual({ percent: 50, samples: 2 });
  });

  it("gives no verdict below minSamples", () => {
    expect(windowWith(9, 9).conformance(5_000)).toEqual({ percent: null, samples: 9 });
    expect(windowWith(10, 10).conformance(5_000)).toEqual({ percent: 100, samples: 10 });
  });

  it("slides: samples older than windowSeconds drop out", () => {
    const w = new SlmWindow(cls);
    for (let i = 0; i < 10; i++) w.record(0, 500); // second 0: all slow
    for (let i = 0; i < 10; i++) w.record(9_999, 100); // second 9: all good
    expect(w.conformance(9_999)).toEqual({ percent: 50, samples: 20 });
    // At second 10, second 0 is out of the 10-second window.
    expect(w.conformance(10_000)).toEqual({ percent: 100, samples: 10 });
    expect(w.conformance(18_999)).toEqual({ percent: 100, samples: 10 });
    expect(w.conformance(19_000)).toEqual({ percent: null, samples: 0 });
  });

  it("a new second reuses its slot without inheriting the old counts", () => {
    const w = new SlmWindow({ ...cls, minSamples: 1 });
    w.record(3_000, 999);
    w.record(13_000, 1);
    expect(w.conformance(13_000)).toEqual({ percent: 100, samples: 1 });
  });

  it("ignores a late sample older than its slot, and invalid measurements", () => {
    const w = new SlmWindow({ ...cls, minSamples: 1 });
    w.record(13_000, 1);
    w.record(3_000, 999);
    w.record(13_000, Number.NaN);
    w.record(13_000, -1);
    w.record(Number.NaN, 1);
    expect(w.conformance(13_000)).toEqual({ percent: 100, samples: 1 });
  });

  it("takes pre-aggregated counts from an edge", () => {
    const w = new SlmWindow(cls);
    w.recordCounts(1_000, 45, 50);
    w.recordCounts(1_000, 60, 50); // impossible: ignored
    expect(w.conformance(1_000)).toEqual({ percent: 90, samples: 50 });
  });

  it("survives a JSON round trip, and a change of window length keeps what fits", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 0, max: 400 }))), fc.integer({ min: 0, max: 40_000 }), (samples, now) => {
        const w = new SlmWindow(cls);
        for (const [t, ttfb] of samples.sort((a, b) => a[0] - b[0])) w.record(t, ttfb);
        const copy = SlmWindow.fromJSON(cls, JSON.parse(JSON.stringify(w)));
        expect(copy.conformance(now)).toEqual(w.conformance(now));
      }),
    );
    const w = new SlmWindow(cls);
    w.record(1_000, 500);
    w.record(9_000, 100);
    const shorter = SlmWindow.fromJSON({ ...cls, windowSeconds: 5, minSamples: 1 }, w.toJSON());
    expect(shorter.conformance(9_000)).toEqual({ percent: 100, samples: 1 });
    expect(SlmWindow.fromJSON(cls, null).conformance(0).samples).toBe(0);
    const garbage = { seconds: [[1, 5, 3], "x", [1.5, 1, 1], [2, 1, 2]] } as unknown as SlmWindowJson;
    expect(SlmWindow.fromJSON({ ...cls, minSamples: 1 }, garbage).conformance(2_000)).toEqual({ percent: 50, samples: 2 });
  });
});

describe("state transitions", () => {
  it("one transition per state change, none while the state holds", () => {
    const states: SlmState[] = ["ok", "ok", "warning", "warning", "serious", "serious", "warning", "ok", "ok"];
    const transitions = states
      .slice(1)
      .map((s, i) => evaluateTransition(states[i]!, s))
      .filter((t) => t !== null);
    expect(transitions).toEqual([
      { from: "ok", to: "warning" },
      { from: "warning", to: "serious" },
      { from: "serious", to: "warning" },
      { from: "warning", to: "ok" },
    ]);
  });

  it("the state holds while there are too few samples", () => {
    expect(nextSlmState("serious", { percent: null, samples: 3 }, cls)).toBe("serious");
    expect(nextSlmState("serious", { percent: 99, samples: 30 }, cls)).toBe("ok");
  });
});

describe("window timings and quiet windows", () => {
  it("keeps min / max / mean / percentiles of the samples in the window, which slide out with them", () => {
    const w = new SlmWindow({ ...cls, windowSeconds: 2, minSamples: 1 });
    w.record(1_000, 100);
    w.record(1_500, 300);
    expect(w.timings(1_500)).toMatchObject({ samples: 2, minMs: 100, maxMs: 300, meanMs: 200 });
    w.record(2_100, 50);
    expect(w.timings(3_000)).toMatchObject({ samples: 1, minMs: 50, maxMs: 50 });
    expect(w.timings(10_000)).toBeNull();
    const copy = SlmWindow.fromJSON({ ...cls, windowSeconds: 2 }, JSON.parse(JSON.stringify(w)));
    expect(copy.timings(3_000)).toEqual(w.timings(3_000));
  });

  it("takes an edge batch's stats only when they match its counts", async () => {
    const { emptyStats, addSample } = await import("../../../src/slm/stats");
    const stats = emptyStats();
    addSample(stats, 40);
    addSample(stats, 60);
    const w = new SlmWindow({ ...cls, minSamples: 1 });
    w.recordCounts(1_000, 2, 2, stats);
    w.recordCounts(1_000, 1, 3, stats); // stats for 2 samples on a batch of 3: counts kept, stats dropped
    expect(w.conformance(1_000)).toEqual({ percent: 60, samples: 5 });
    expect(w.timings(1_000)).toMatchObject({ samples: 2, meanMs: 50 });
  });

  it("returns to ok when the window holds no sample at all, but holds on too few samples", () => {
    expect(nextSlmState("serious", { percent: null, samples: 0 }, cls)).toBe("ok");
    expect(nextSlmState("serious", { percent: null, samples: 3 }, cls)).toBe("serious");
  });
});
