/**
 * Health monitoring depth on workerd: a body cut short fails the node in passive health, the connect
 * budget bounds the wait for headers, TCP connect monitors (`cloudflare:sockets`), monitors that start
 * as soon as a request sees a config with a new or changed monitor (no cron), and the verbose probe log.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ClusterEvent } from "../../src/events/events";
import { putConfig } from "../helpers/config";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";
const healthMonitor = () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));

async function failNode(prefix: string, mode: "cut" | "off"): Promise<void> {
  await fetch(`${originUrl}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
}

async function eventsFor(pool: string): Promise<ClusterEvent[]> {
  const all = await env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ limit: 1000 });
  return all.filter((e) => e.section === `pools/${pool}`);
}

/** A loopback port nothing listens on (the origin's port + 1 is not used by the test setup). */
const closedPortUrl = () => `http://127.0.0.1:${Number(new URL(originUrl).port) + 1}`;

describe("passive health: a body cut short", () => {
  it("counts as a node failure, so the node leaves rotation though its headers were fine", async () => {
    const a = uniquePath("cut-a");
    const b = uniquePath("cut-b");
    const pool = `cut-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/cutting/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [{ url: `${originUrl}${a}` }, { url: `${originUrl}${b}` }], algorithm: "round-robin", failuresToFail: 2, nodeFailTimeSeconds: 60, retries: 0 } },
    });
    await failNode(a, "cut");
    // Each cut response reaches the client with its 200 but an errored body.
    for (let i = 0; i < 8; i++) {
      const response = await SELF.fetch(`${BASE}/cutting/x`);
      await response.text().catch(() => "cut");
    }
    await failNode(a, "off");
    // Two cut bodies fail node A; afterwards only B is asked.
    expect(await originCount(`${a}/cutting/x`)).toBe(2);
    expect(await originCount(`${b}/cutting/x`)).toBe(6);
    expect(await eventually(async () => (await eventsFor(pool)).some((e) => e.tag === "nodefail" && e.text.includes("body cut short")), 2000)).toBe(true);
  });
});

describe("connect budget", () => {
  it("bounds the wait for headers by connectTimeoutMs + firstByteTimeoutMs, and says so in the failure reason", async () => {
    const a = uniquePath("slow-a");
    const pool = `slow-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/slowly/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [{ url: `${originUrl}${a}` }], connectTimeoutMs: 200, firstByteTimeoutMs: 300, failuresToFail: 1, retries: 0 } },
    });
    const started = Date.now();
    // The origin would answer after 10 s: an answer well before that was cut by the 500 ms budget, with
    // seconds of margin for a loaded machine (a 3 s origin against a 2.5 s bound left it half a second).
    const response = await SELF.fetch(`${BASE}/slowly/x?delay=10000`);
    const took = Date.now() - started;
    expect(response.status).toBe(504);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(8000);
    expect(await eventually(async () => (await eventsFor(pool)).some((e) => e.tag === "nodefail" && e.text.includes("500 ms (connect 200 + first byte 300)")), 2000)).toBe(true);
  });
});

describe("TCP connect monitors", () => {
  it("mark a node whose port refuses connections down, and a listening node up", async () => {
    const pool = `tcp-${Date.now()}`;
    const dead = closedPortUrl();
    await putConfig({
      pools: { [pool]: { nodes: [{ url: originUrl }, { url: dead }], monitors: ["connect"], connectTimeoutMs: 500 } },
      monitors: { connect: { type: "tcp", intervalSeconds: 1, failuresToMarkDown: 1, successesToMarkUp: 1 } },
    });
    await SELF.fetch(`${BASE}/anything`); // the request sees the new config and starts the monitors
    const down = await eventually(async () => (await healthMonitor().snapshot()).nodes[`${pool}|${dead}`]?.healthy === false, 3000);
    expect(down).toBe(true);
    const snapshot = await healthMonitor().snapshot();
    expect(snapshot.nodes[`${pool}|${dead}`]?.reason).toMatch(/monitor connect: monitor could not connect/);
    expect(snapshot.nodes[`${pool}|${originUrl}`]?.healthy).toBe(true);
  });

  it("rejects a body check or an HTTP port on the wrong monitor type", async () => {
    const { parseConfig } = await import("../../src/config/document");
    expect(parseConfig({ monitors: { m: { type: "tcp", bodyRegex: "ok" } } }).ok).toBe(false);
    expect(parseConfig({ monitors: { m: { type: "http", port: 80 } } }).ok).toBe(false);
    expect(parseConfig({ monitors: { m: { type: "tcp", port: 8080 } } }).ok).toBe(true);
  });
});

describe("monitors start when a config change is seen", () => {
  it("probes a new monitor within a second of the first request that sees it, and logs every probe in verbose mode", async () => {
    const node = uniquePath("plan");
    const pool = `plan-${Date.now()}`;
    const nodeUrl = `${originUrl}${node}`;
    const config = (path: string) => ({
      settings: { verbose: true },
      pools: { [pool]: { nodes: [{ url: nodeUrl }], monitors: ["web"] } },
      // An interval of an hour: only the re-plan can explain a second probe within the test.
      monitors: { web: { path, intervalSeconds: 3600 } },
    });
    await putConfig(config("/first"));
    await SELF.fetch(`${BASE}/anything`);
    expect(await eventually(async () => (await originCount(`${node}/first`)) === 1, 2000)).toBe(true);

    // Changing the monitor re-plans it: probed again at once although its interval is an hour.
    await putConfig(config("/second"));
    await SELF.fetch(`${BASE}/anything`);
    expect(await eventually(async () => (await originCount(`${node}/second`)) === 1, 2000)).toBe(true);

    // The probe's event is logged after the origin answered it: poll for it (bounded), as for any background write.
    const probes = async () => (await eventsFor(pool)).filter((e) => e.tag === "probe");
    await expect
      .poll(async () => (await probes()).map((e) => e.text), { timeout: 5_000, interval: 50 })
      .toEqual([expect.stringMatching(new RegExp(`^Probe web \\(http\\) of ${nodeUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ok in \\d+ ms: monitor got status 200$`)), expect.stringMatching(/^Probe web \(http\) of .*: ok in \d+ ms/)]);
    expect((await probes()).every((e) => e.level === "INFO")).toBe(true);
  });

  it("logs no probes without verbose", async () => {
    const node = uniquePath("quiet");
    const pool = `quiet-${Date.now()}`;
    await putConfig({ pools: { [pool]: { nodes: [{ url: `${originUrl}${node}` }], monitors: ["web"] } }, monitors: { web: { path: "/q", intervalSeconds: 3600 } } });
    await SELF.fetch(`${BASE}/anything`);
    expect(await eventually(async () => (await originCount(`${node}/q`)) === 1, 2000)).toBe(true);
    expect((await eventsFor(pool)).filter((e) => e.tag === "probe")).toEqual([]);
  });
});
