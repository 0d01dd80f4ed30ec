/**
 * Origin pools on workerd: node choice, passive failure and recovery, retries only for idempotent
 * requests, active monitors driven by the HealthMonitor, the all-down fallback, and one event per
 * state change. Each pool's nodes are path prefixes of the demo origin (`/node-a-…`, `/node-b-…`),
 * which can be told to fail one prefix at a time.
 */
import { createExecutionContext, createScheduledController, env, runDurableObjectAlarm, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { ClusterEvent } from "../../src/events/events";
import { advanceTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";

/** Two node prefixes no other test uses, and a switch to make one of them fail. */
function nodes(name: string) {
  const a = uniquePath(`node-a-${name}`);
  const b = uniquePath(`node-b-${name}`);
  return { a, b, urlA: `${originUrl}${a}`, urlB: `${originUrl}${b}` };
}

async function failNode(prefix: string, mode: "reset" | "503" | "off"): Promise<void> {
  await fetch(`${originUrl}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
}

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const healthMonitor = () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));

async function eventsFor(pool: string): Promise<ClusterEvent[]> {
  const all = await env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ limit: 1000 });
  return all.filter((e) => e.section === `pools/${pool}`);
}

describe("origin pools", () => {
  it("fails a node after N consecutive failures, retries idempotent requests on another node, and recovers it", async () => {
    const { a, b, urlA, urlB } = nodes("passive");
    const pool = `passive-${Date.now()}`;
    const config = {
      settings: { defaultPool: pool },
      pools: { [pool]: { nodes: [{ url: urlA }, { url: urlB }], algorithm: "round-robin", failuresToFail: 3, nodeFailTimeSeconds: 1, retries: 1 } },
    };
    await putConfig(config);
    await runCron();
    await failNode(a, "503");
    const path = "/item?cc=no-store";
    for (let i = 0; i < 10; i++) {
      const response = await SELF.fetch(`${BASE}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(b);
    }
    // Three failures mark node A failed; after that it gets no traffic until its fail time is over.
    expect(await originCount(`${a}${path}`)).toBe(3);

    await failNode(a, "off");
    await advanceTime(1100);
    for (let i = 0; i < 4; i++) await (await SELF.fetch(`${BASE}${path}`)).text();
    expect(await originCount(`${a}${path}`)).toBeGreaterThanOrEqual(4);

    // The events are appended in the background (waitUntil).
    await eventually(async () => (await eventsFor(pool)).some((e) => e.tag === "nodeok"));
    const events = await eventsFor(pool);
    expect(events.filter((e) => e.tag === "nodefail").map((e) => e.text)).toEqual([expect.stringContaining(urlA)]);
    expect(events.filter((e) => e.tag === "nodeok").map((e) => e.text)).toEqual([expect.stringContaining(urlA)]);
  });

  it("never repeats a non-idempotent request, while a GET is retried on another node", async () => {
    const { a, b, urlA, urlB } = nodes("retry");
    const pool = `retry-${Date.now()}`;
    await putConfig({ settings: { defaultPool: pool }, pools: { [pool]: { nodes: [{ url: urlA }, { url: urlB }], retries: 3, failuresToFail: 100 } } });
    await failNode(a, "reset");
    await failNode(b, "reset");
    const post = await SELF.fetch(`${BASE}/__echo/order`, { method: "POST", body: "one order" });
    expect(post.status).toBe(502);
    expect((await originCount(`${a}/__echo/order`)) + (await originCount(`${b}/__echo/order`))).toBe(1);

    const get = await SELF.fetch(`${BASE}/page?cc=no-store`);
    expect(get.status).toBe(502);
    // One attempt per node: a retry never goes back to a node this request already tried.
    expect((await originCount(`${a}/page?cc=no-store`)) + (await originCount(`${b}/page?cc=no-store`))).toBe(2);
    await failNode(a, "off");
    await failNode(b, "off");
  });

  it("spreads requests over the nodes by weight", async () => {
    const { a, b, urlA, urlB } = nodes("weights");
    const pool = `weights-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      pools: {
        [pool]: {
          nodes: [
            { url: urlA, weight: 3 },
            { url: urlB, weight: 1 },
          ],
          algorithm: "weighted-round-robin",
        },
      },
    });
    const path = "/w?cc=no-store";
    for (let i = 0; i < 40; i++) await (await SELF.fetch(`${BASE}${path}`)).text();
    expect(await originCount(`${a}${path}`)).toBe(30);
    expect(await originCount(`${b}${path}`)).toBe(10);
  });

  it("serves a stale copy when the whole pool is down, and 503 with Retry-After when there is none", async () => {
    const { a, urlA } = nodes("down");
    const pool = `down-${Date.now()}`;
    const path = `${uniquePath("obj")}?cc=${encodeURIComponent("public, max-age=1")}`;
    await putConfig({ settings: { defaultPool: pool, edgeTtlCapSeconds: 0 }, pools: { [pool]: { nodes: [{ url: urlA }] } } });
    const fresh = await SELF.fetch(`${BASE}${path}`);
    const body = await fresh.text();
    expect(body).toContain(a);

    await putConfig({ settings: { defaultPool: pool, edgeTtlCapSeconds: 0, verbose: true }, pools: { [pool]: { nodes: [{ url: urlA, state: "disabled" }], nodeFailTimeSeconds: 30 } } });
    await advanceTime(1100);
    const stale = await SELF.fetch(`${BASE}${path}`);
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(body);
    expect(stale.headers.get("x-cache-info")).toBe("cached; stale, origin failed");

    const missing = await SELF.fetch(`${BASE}${uniquePath("never-stored")}`);
    expect(missing.status).toBe(503);
    expect(missing.headers.get("retry-after")).toBe("30");
    expect(await missing.text()).toContain(`no origin server in pool "${pool}" is available`);
  });
});

describe("active monitors", () => {
  it("mark a dead node down within interval × failures, back up after recovery, one event each", async () => {
    const { a, urlA, urlB } = nodes("active");
    const pool = `active-${Date.now()}`;
    // From here every alarm the HealthMonitor sets lies a day past the wall clock: it runs only when the test runs it.
    await advanceTime(24 * 3600_000);
    await putConfig({
      settings: { defaultPool: pool },
      pools: { [pool]: { nodes: [{ url: urlA }, { url: urlB }], monitors: ["ping"] } },
      monitors: { ping: { path: "/health", intervalSeconds: 1, failuresToMarkDown: 2, successesToMarkUp: 1, timeoutMs: 500 } },
    });
    await runCron();
    const key = `${pool}|${urlA}`;
    expect((await healthMonitor().snapshot()).nodes[key]?.healthy).toBe(true);

    await failNode(a, "503");
    for (let probe = 0; probe < 2; probe++) {
      await advanceTime(1000);
      expect(await runDurableObjectAlarm(healthMonitor())).toBe(true);
    }
    expect((await healthMonitor().snapshot()).nodes[key]).toMatchObject({ healthy: false, reason: expect.stringContaining("ping") });

    await failNode(a, "off");
    await advanceTime(1000);
    expect(await runDurableObjectAlarm(healthMonitor())).toBe(true);
    expect((await healthMonitor().snapshot()).nodes[key]?.healthy).toBe(true);

    const events = await eventsFor(pool);
    expect(events.filter((e) => e.tag === "nodefail")).toHaveLength(1);
    expect(events.filter((e) => e.tag === "nodeok")).toHaveLength(1);
    expect(events.filter((e) => e.tag === "pooldied")).toHaveLength(0);
  });
});
