/**
 * Event handlers on workerd: several webhooks, each receiving only the events its filter selects,
 * the legacy `eventsWebhook` still receiving everything, a failing handler backing off without
 * holding up the others (its retries run by alarm, time moved), and the admin test event. Webhooks are sinks on the test origin
 * (POST /__hook/<name>, read back with GET).
 */
import { createExecutionContext, createScheduledController, env, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { admin } from "../helpers/admin";
import { advanceTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { originUrl, uniquePath } from "../helpers/origin";

const POLL = { timeout: 5_000, interval: 100 };
const eventLog = () => env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events"));

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Runs the EventLog's alarm until nothing is due now (bounded). */
async function deliver(): Promise<void> {
  for (let i = 0; i < 5; i++) if (!(await runDurableObjectAlarm(eventLog()))) return;
}

async function received(hook: string): Promise<{ tag: string; level: string; section: string }[]> {
  const bodies = (await (await fetch(`${originUrl}/__hook${hook}`)).json()) as { events: { tag: string; level: string; section: string }[] }[];
  return bodies.flatMap((b) => b.events);
}

const hooks = () => ({ pager: uniquePath("pager"), chat: uniquePath("chat"), all: uniquePath("all"), broken: uniquePath("broken") });

describe("event handlers", () => {
  it("routes each event to the handlers whose level, section and tag filters select it", async () => {
    const h = hooks();
    await putConfig({
      settings: {
        eventsWebhook: `${originUrl}/__hook${h.all}`,
        eventHandlers: [
          { name: "pager", url: `${originUrl}/__hook${h.pager}`, levels: ["SERIOUS", "FATAL"], sections: ["pools"] },
          { name: "chat", url: `${originUrl}/__hook${h.chat}`, tags: ["confchange", "test"] },
        ],
      },
    });
    await runCron();
    await eventLog().append([
      { time: 1, level: "SERIOUS", section: "pools/web", tag: "pooldied", text: "Pool web has no back-end nodes responding" },
      { time: 2, level: "WARNING", section: "pools/web", tag: "nodefail", text: "Node failed" },
      { time: 3, level: "SERIOUS", section: "slm/checkout", tag: "slmserious", text: "SLM serious" },
    ]);
    expect((await admin("POST", "/events/test", { level: "INFO", tag: "test" })).status).toBe(200);
    await deliver();
    // workerd may also run the alarm on its own, so delivery can still be in flight: poll (bounded).
    await expect.poll(async () => (await received(h.all)).map((e) => e.tag), POLL).toEqual(["pooldied", "nodefail", "slmserious", "test"]);
    expect((await received(h.pager)).map((e) => e.tag)).toEqual(["pooldied"]);
    expect((await received(h.chat)).map((e) => e.tag)).toEqual(["test"]);
  });

  it("backs off a failing handler without holding up the others, and resumes where it stopped", async () => {
    const h = hooks();
    const handlers = (fail: boolean) => [
      { name: "broken", url: `${originUrl}/__hook${h.broken}${fail ? "?fail=1" : ""}` },
      { name: "chat", url: `${originUrl}/__hook${h.chat}` },
    ];
    await putConfig({ settings: { eventHandlers: handlers(true) } });
    await runCron();
    await admin("POST", "/events/test", { text: "first" });
    await deliver();
    await expect.poll(async () => (await received(h.chat)).map((e) => e.tag), POLL).toEqual(["test"]);
    await expect.poll(async () => (await eventLog().deliveries()).find((d) => d.name === "broken")?.attempts, POLL).toBe(1);
    const state = await eventLog().deliveries();
    expect(state.find((d) => d.name === "chat")).toMatchObject({ attempts: 0 });
    expect(await received(h.broken)).toEqual([]);
  });

  it("retries a failing handler only once its backoff has passed, the delay doubling each time", async () => {
    // From here every alarm the EventLog sets lies a day past the wall clock: it runs only when the test runs it.
    await advanceTime(24 * 3600_000);
    const h = hooks();
    await putConfig({ settings: { eventHandlers: [{ name: "broken", url: `${originUrl}/__hook${h.broken}?fail=1` }] } });
    await runCron();
    const attempts = async () => (await eventLog().deliveries()).find((d) => d.name === "broken")?.attempts;
    await admin("POST", "/events/test", { text: "retried" });
    expect(await runDurableObjectAlarm(eventLog())).toBe(true);
    expect(await attempts()).toBe(1);
    // The first retry is due 1 s after the failure, the next 2 s after that one (src/events/events.ts nextRetryDelayMs).
    // The test clock is the wall clock plus what the test moves it, so each check keeps half a delay of margin.
    for (const [moveMs, after] of [
      [500, 1],
      [600, 2],
      [1000, 2],
      [1100, 3],
    ] as const) {
      await advanceTime(moveMs);
      expect(await runDurableObjectAlarm(eventLog())).toBe(true);
      expect(await attempts()).toBe(after);
    }
  });

  it("posts a batch once when a second alarm runs while the first is still posting it", async () => {
    // From here the EventLog's own alarms lie a day ahead: only the alarms this test runs deliver.
    await advanceTime(24 * 3600_000);
    const h = hooks();
    await putConfig({ settings: { eventHandlers: [{ name: "chat", url: `${originUrl}/__hook${h.chat}` }] } });
    await runCron();
    await admin("POST", "/events/test", { text: "once" });
    // Two alarm() calls at once: the second starts while the first awaits the webhook (the input gate is open).
    await runInDurableObject(eventLog(), (log) => Promise.all([log.alarm(), log.alarm()]));
    await deliver();
    expect((await received(h.chat)).map((e) => e.tag)).toEqual(["test"]);
  });

  it("refuses a malformed test event and handler settings with their paths", async () => {
    const bad = await admin("POST", "/events/test", { level: "LOUD" });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe("level");
    const refused = await admin("PUT", "/config", {
      settings: {
        eventHandlers: [
          { name: "a", url: "ftp://x" },
          { name: "a", url: "https://x.example", levels: [] },
        ],
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(["settings.eventHandlers[0].url", "settings.eventHandlers[1].levels"]));
  });
});
