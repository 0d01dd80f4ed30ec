/**
 * SLM fidelity on workerd, without the cron: every sample of a burst reaches the SlmMonitor, whose
 * own alarm (run by the test) turns the class serious, with min / max / mean / percentiles of
 * the window; when traffic stops for a window (the clock moved) the alarm returns it to ok, one event each.
 */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { uniquePath } from "../helpers/origin";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";
const slmMonitor = () => env.SLM_MONITOR.get(env.SLM_MONITOR.idFromName("slm"));

describe("continuous SLM", () => {
  it("counts all 6 samples of a first slow burst, goes serious by its alarm, and back to ok when traffic stops", async () => {
    // From here every alarm the SlmMonitor sets lies a day past the wall clock: it runs only when the test runs it.
    await advanceTime(24 * 3600_000);
    const slm = `burst-${Date.now().toString(36)}`;
    const prefix = uniquePath("slm-burst");
    await putConfig({
      slmClasses: { [slm]: { targetMs: 100, minSamples: 5, windowSeconds: 5 } },
      rules: [{ match: { path: `${prefix}/**` }, actions: { slmClass: slm } }],
    });
    for (let i = 0; i < 6; i++) await (await SELF.fetch(`${BASE}${prefix}/slow?delay=${150 + i * 10}&cc=no-store`)).text();

    // No cron: the edge's delayed flush delivers the burst, the object's alarm evaluates it.
    const classes = { [slm]: { targetMs: 100, minSamples: 5, windowSeconds: 5, warningPercent: 95, seriousPercent: 80 } };
    const whole = async () => {
      const entry = (await slmMonitor().snapshot(classes)).states[slm];
      return entry?.state === "serious" && entry.samples === 6;
    };
    // The flush is the edge's timer (background work, polled for); the evaluation is the alarm's, run here.
    expect(await eventually(async () => (await runDurableObjectAlarm(slmMonitor()), whole()), 4000)).toBe(true);
    const { timings } = (await slmMonitor().snapshot(classes)).states[slm]!;
    expect(timings).toMatchObject({ samples: 6 });
    expect(timings!.minMs).toBeGreaterThanOrEqual(150);
    expect(timings!.maxMs).toBeGreaterThanOrEqual(200);
    expect(timings!.meanMs).toBeGreaterThan(timings!.minMs);
    expect(timings!.meanMs).toBeLessThan(timings!.maxMs);
    expect(timings!.p95Ms).toBeLessThanOrEqual(timings!.maxMs);

    // Nothing more is sent: once the 5 s window has emptied, the alarm returns the class to ok.
    await advanceTime(6_000);
    expect(await runDurableObjectAlarm(slmMonitor())).toBe(true);
    expect((await slmMonitor().snapshot()).states[slm]?.state).toBe("ok");
    const events = (await env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ limit: 1000 })).filter((e) => e.section === `slm/${slm}`);
    expect(events.map((e) => e.tag)).toEqual(["slmserious", "slmok"]);
    expect(events[0]!.text).toMatch(/0\.0% of [56] responses within 100 ms/); // the alarm may judge before the 6th arrives
    expect(events[1]!.text).toContain("no responses in the last 5 s");
  });
});
