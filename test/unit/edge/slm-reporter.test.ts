/** SlmReporter: every sample reaches a batch; the first of a batch arms a timer, a full batch flushes, a failed batch goes back. */
import { describe, expect, it } from "vitest";
import { FLUSH_EVERY_MS, SlmReporter, SlmReports, type SlmConfig } from "../../../src/edge/slm-reporter";

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

/**
 * SlmReports: the flush loop around the reporter (it lived in src/index.ts). Time is the test's:
 * the clock is a variable, the flush timer a promise the test resolves.
 */
describe("SlmReports", () => {
  const config: SlmConfig = { slmClasses: { gold: { targetMs: 250 } as SlmConfig["slmClasses"][string] }, rateClasses: {} };
  /** Lets every promise chain that can move, move (one macrotask). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  /** What each send does: succeed, fail, or fail after a minute and a second (an SLM object that hangs). */
  function harness(sendResults: ("ok" | "fail" | "fail-after-61s")[]) {
    let now = 1_000;
    const timers: (() => void)[] = [];
    const sent: { total: number; config: SlmConfig }[] = [];
    const kept: Promise<unknown>[] = [];
    const reports = new SlmReports(
      async (batch, cfg) => {
        sent.push({ total: batch.reduce((n, e) => n + e.total, 0), config: cfg });
        const result = sendResults.shift() ?? "ok";
        if (result === "fail-after-61s") now += 61_000;
        if (result !== "ok") throw new Error("slm monitor down");
      },
      { now: () => now },
      (ms) => {
        expect(ms).toBe(FLUSH_EVERY_MS);
        return new Promise<void>((resolve) => timers.push(resolve));
      },
    );
    /** Fires the flush timers armed so far. */
    const fireTimers = async () => {
      for (const fire of timers.splice(0)) fire();
      await settle();
    };
    return { reports, sent, kept, timers, fireTimers, waitUntil: (p: Promise<unknown>) => kept.push(p) };
  }

  it("sends the first sample of a batch one period later, with the config it was counted under", async () => {
    const h = harness([]);
    h.reports.report("gold", 100, config, h.waitUntil);
    h.reports.report("gold", 300, config, h.waitUntil);
    await settle();
    expect(h.sent).toEqual([]);
    expect(h.kept.length).toBe(1);
    await h.fireTimers();
    expect(h.sent).toEqual([{ total: 2, config }]);
    expect(h.reports.pending).toBe(0);
  });

  it("sends a full batch at once, without waiting for the timer", async () => {
    const h = harness([]);
    for (let i = 0; i < 10; i++) h.reports.report("gold", 100, config, h.waitUntil);
    await settle();
    expect(h.sent.map((s) => s.total)).toEqual([10]);
    expect(h.kept.length).toBe(2);
  });

  it("puts a failed batch back and sends it again a period later", async () => {
    const h = harness(["fail", "ok"]);
    h.reports.report("gold", 100, config, h.waitUntil);
    await h.fireTimers();
    expect(h.sent.map((s) => s.total)).toEqual([1]);
    expect(h.reports.pending).toBe(1);
    expect(h.timers.length).toBe(1);
    await h.fireTimers();
    expect(h.sent.map((s) => s.total)).toEqual([1, 1]);
    expect(h.reports.pending).toBe(0);
    // Kept alive by the one waitUntil of the request that started it.
    expect(h.kept.length).toBe(1);
  });

  it("drops a failed batch older than a minute instead of trying again", async () => {
    const h = harness(["fail-after-61s"]);
    h.reports.report("gold", 100, config, h.waitUntil);
    await h.fireTimers();
    expect(h.sent.length).toBe(1);
    expect(h.reports.pending).toBe(0);
    expect(h.timers.length).toBe(0);
  });

  it("counts nothing for a class the config does not define", () => {
    const h = harness([]);
    h.reports.report("silver", 100, config, h.waitUntil);
    expect(h.reports.pending).toBe(0);
    expect(h.kept).toEqual([]);
  });
});
