/** SlmReporter: every sample reaches a batch; the first of a batch arms a timer, a full batch flushes, a failed batch goes back. */
import { describe, expect, it } from "vitest";
import { SlmReporter } from "../../../src/edge/slm-reporter";

describe("SlmReporter", () => {
  it("arms a later flush on the first sample of a burst and loses none of a burst of 6 (the old reporter sent 1)", () => {
    const r = new SlmReporter();
    const steps = [300, 310, 320, 330, 340, 350].map((ms) => r.record("gold", ms, 250));
    expect(steps).toEqual(["flush-later", "none", "none", "none", "none", "none"]);
    const [batch] = r.take();
    expect(batch).toMatchObject({ cls: "gold", within: 0, total: 6, stats: { count: 6, minMs: 300, maxMs: 350 } });
    expect(r.take()).toEqual([]);
  });

  it("asks for an immediate flush once 10 samples wait", () => {
    const r = new SlmReporter();
    const steps = Array.from({ length: 10 }, (_, i) => r.record(i % 2 ? "a" : "b", 10, 250));
    expect(steps.at(-1)).toBe("flush-now");
    expect(r.take().reduce((n, e) => n + e.total, 0)).toBe(10);
  });

  it("puts a failed batch back so it goes with the next one, but drops one older than a minute", () => {
    const r = new SlmReporter();
    r.record("gold", 100, 250);
    const batch = r.take();
    expect(r.restore(batch, 1_000, 2_000)).toBe("flush-later");
    r.record("gold", 400, 250);
    expect(r.take()).toMatchObject([{ cls: "gold", within: 1, total: 2, stats: { count: 2 } }]);
    expect(r.restore(batch, 0, 61_001)).toBe("none");
    expect(r.pending).toBe(0);
  });
});
