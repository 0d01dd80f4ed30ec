/**
 * Fronting a whole site on workerd: WebSocket upgrades reach the origin or pool untouched and are
 * never cached; custom error pages per status from config.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { eventually } from "../helpers/wait";

const BASE = "http://cache.test";

/** Opens a WebSocket through the worker and collects the first `count` messages (waiting up to 3 s for them). */
async function openSocket(path: string, headers: Record<string, string> = {}): Promise<{ response: Response; messages: (count: number) => Promise<string[]>; socket: WebSocket | null }> {
  const response = await SELF.fetch(`${BASE}${path}`, { headers: { upgrade: "websocket", ...headers } });
  const socket = response.webSocket;
  const received: string[] = [];
  if (socket !== null) {
    socket.accept();
    socket.addEventListener("message", (event) => received.push(String(event.data)));
  }
  return {
    response,
    socket,
    messages: async (count) => {
      await eventually(() => received.length >= count, 3000);
      return received.slice(0, count);
    },
  };
}

describe("WebSocket pass-through", () => {
  it("passes the upgrade to the origin untouched, with its fields, and relays frames both ways; nothing is cached", async () => {
    await putConfig({});
    const path = uniquePath("ws");
    const first = await openSocket(path, { "x-probe": "p1" });
    expect(first.response.status).toBe(101);
    expect(await first.messages(1)).toEqual([`hello ${path} p1`]);
    first.socket!.send("ping");
    expect(await first.messages(2)).toEqual([`hello ${path} p1`, "echo ping"]);
    first.socket!.close();
    const second = await openSocket(path);
    expect(second.response.status).toBe(101);
    second.socket!.close();
    expect(await originCount(path)).toBe(2); // each upgrade reached the origin: none was served from a cache
  });

  it("goes to the rule's pool, and a hostile upgrade request (a POST, a bogus Upgrade token) is not treated as one", async () => {
    const node = uniquePath("ws-node");
    const pool = `ws-${Date.now()}`;
    await putConfig({ pools: { [pool]: { nodes: [{ url: `${originUrl}${node}` }] } }, rules: [{ match: { path: "/live/**" }, actions: { pool } }] });
    const viaPool = await openSocket("/live/feed");
    expect(viaPool.response.status).toBe(101);
    expect(await viaPool.messages(1)).toEqual([`hello ${node}/live/feed -`]);
    viaPool.socket!.close();

    const bogus = await SELF.fetch(`${BASE}/live/plain`, { headers: { upgrade: "h2c, websocketx" } });
    expect(bogus.status).toBe(200);
    expect(bogus.webSocket).toBeNull();
    await bogus.text();
  });

  it("answers a refused upgrade like a pass (the origin's own answer, not cached)", async () => {
    await putConfig({});
    const path = `${uniquePath("ws-refused")}?refuse=1`;
    const response = await SELF.fetch(`${BASE}${path}`, { headers: { upgrade: "websocket" } });
    expect(response.status).toBe(403);
    expect(response.webSocket).toBeNull();
    expect(response.headers.get("cache-status")).toMatch(/fwd=bypass/);
    expect(await response.text()).toBe("refused\n");
    // Its max-age=60 did not make it a cached object: the next upgrade reaches the origin again.
    await (await SELF.fetch(`${BASE}${path}`, { headers: { upgrade: "websocket" } })).text();
    expect(await originCount(path)).toBe(2);
  });
});

describe("custom error pages", () => {
  const pages = {
    "pool-down": { body: "<h1>Back soon</h1>" },
    "502": { body: "bad gateway page", contentType: "text/plain" },
    "429": { body: "<h1>Slow down</h1>" },
  };

  it("replaces the body of the cache's own pool-down 503 (pass-through and shard miss) and keeps status and Retry-After", async () => {
    const pool = `down-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool, errorPages: pages },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [{ url: `${originUrl}/x`, state: "disabled" }], nodeFailTimeSeconds: 30 } },
    });
    for (const path of ["/app/page", `${uniquePath("miss")}?cc=max-age%3D60`]) {
      const response = await SELF.fetch(`${BASE}${path}`);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("30");
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.text()).toBe("<h1>Back soon</h1>");
    }
  });

  it("uses the status page for an unreachable origin, and passes the origin's own 5xx untouched", async () => {
    const dead = `http://127.0.0.1:${Number(new URL(originUrl).port) + 1}`;
    await putConfig({ settings: { origin: dead, errorPages: pages } });
    const unreachable = await SELF.fetch(`${BASE}${uniquePath("dead")}`);
    expect(unreachable.status).toBe(502);
    expect(await unreachable.text()).toBe("bad gateway page");

    await putConfig({ settings: { errorPages: { "500": { body: "never shown" } } } });
    const own = await SELF.fetch(`${BASE}${uniquePath("own")}?status=500&cc=no-store`);
    expect(own.status).toBe(500);
    expect(await own.text()).toContain("demo origin");
  });

  it("uses the 429 page for a refused rate class", async () => {
    const cls = `page-${Date.now()}`;
    const prefix = uniquePath("limited-page");
    await putConfig({ settings: { errorPages: pages }, rateClasses: { [cls]: { perSecond: 1 } }, rules: [{ match: { path: `${prefix}/**` }, actions: { rateClass: { name: cls } } }] });
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await SELF.fetch(`${BASE}${prefix}/x?cc=no-store`);
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.text();
    }
    expect(statuses).toContain(429);
    expect(refused!.headers.get("retry-after")).not.toBeNull();
    expect(await refused!.text()).toBe("<h1>Slow down</h1>");
  });

  it("refuses a page for a status the cache never makes itself, and a huge page", async () => {
    const { parseConfig } = await import("../../src/config/document");
    expect(parseConfig({ settings: { errorPages: { "404": { body: "x" } } } }).ok).toBe(false);
    expect(parseConfig({ settings: { errorPages: { "503": { body: "x".repeat(70_000) } } } }).ok).toBe(false);
    expect(parseConfig({ settings: { errorPages: { "599": { body: "x" } } } }).ok).toBe(true);
  });
});
