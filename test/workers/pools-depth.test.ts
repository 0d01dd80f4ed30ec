/**
 * Pools for whole-site fronting on workerd: session persistence for pass-through traffic (cookie
 * and client-ip), priority groups that fail over to lower groups, and a failpool for a dead pool.
 * Nodes are path prefixes of the demo origin, which can be told to fail one prefix at a time.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { originCount, originUrl, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";

async function failNode(prefix: string, mode: "503" | "reset" | "off"): Promise<void> {
  await fetch(`${originUrl}/__fail?mode=${mode}&prefix=${encodeURIComponent(prefix)}`, { method: "POST" });
}

function three(name: string) {
  const [a, b, c] = ["a", "b", "c"].map((n) => uniquePath(`${name}-${n}`)) as [string, string, string];
  return { a, b, c };
}

/** Which node prefix answered (the demo origin's body names the path it was asked for). */
async function servedBy(response: Response, prefixes: string[]): Promise<string | undefined> {
  const body = await response.text();
  return prefixes.find((p) => body.includes(`${p}/`));
}

describe("session persistence", () => {
  it("cookie mode: sets an opaque cookie naming the node and keeps the client there; an unknown or hostile cookie is ignored", async () => {
    const { a, b, c } = three("sticky");
    const pool = `sticky-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [a, b, c].map((p) => ({ url: `${originUrl}${p}` })), sessionPersistence: { mode: "cookie", cookieName: "sc_node" } } },
    });
    const first = await SELF.fetch(`${BASE}/app/page`);
    const setCookie = first.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^sc_node=[0-9a-z]+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toContain("127.0.0.1"); // the back-end address is never revealed
    const node = await servedBy(first, [a, b, c]);
    const cookie = setCookie.split(";")[0]!;
    for (let i = 0; i < 6; i++) {
      const again = await SELF.fetch(`${BASE}/app/page`, { headers: { cookie } });
      expect(again.headers.get("set-cookie")).toBeNull(); // already pinned: nothing new to set
      expect(await servedBy(again, [a, b, c])).toBe(node);
    }
    // Hostile cookies: garbage, huge, encoded, or the URL of a node: round robin decides, and a fresh cookie is set.
    for (const value of ["zzz", "x".repeat(8000), "%2e%2e%2f", encodeURIComponent(`${originUrl}${a}`)]) {
      const response = await SELF.fetch(`${BASE}/app/page`, { headers: { cookie: `sc_node=${value}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("set-cookie")).toMatch(/^sc_node=[0-9a-z]+;/);
      await response.text();
    }
  });

  it("cookie mode: moves the session when its node fails, and says so with a new cookie", async () => {
    const { a, b } = three("move");
    const pool = `move-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [a, b].map((p) => ({ url: `${originUrl}${p}` })), sessionPersistence: { mode: "cookie" }, failuresToFail: 1, retries: 1 } },
    });
    const first = await SELF.fetch(`${BASE}/app/x`);
    const node = await servedBy(first, [a, b]);
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    expect(cookie.startsWith("shardcache_node=")).toBe(true);
    await failNode(node!, "503");
    const moved = await SELF.fetch(`${BASE}/app/x`, { headers: { cookie } });
    expect(await servedBy(moved, [a, b])).toBe(node === a ? b : a);
    expect(moved.headers.get("set-cookie")).not.toBe(null);
    expect(moved.headers.get("set-cookie")!.split(";")[0]).not.toBe(cookie);
    await failNode(node!, "off");
  });

  it("client-ip mode: one client address always reaches the same node; many addresses spread over the nodes", async () => {
    const { a, b, c } = three("ip");
    const pool = `ip-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: { [pool]: { nodes: [a, b, c].map((p) => ({ url: `${originUrl}${p}` })), sessionPersistence: { mode: "client-ip" } } },
    });
    const nodeFor = async (ip: string) => servedBy(await SELF.fetch(`${BASE}/app/y`, { headers: { "cf-connecting-ip": ip } }), [a, b, c]);
    const home = await nodeFor("203.0.113.7");
    for (let i = 0; i < 5; i++) expect(await nodeFor("203.0.113.7")).toBe(home);
    const spread = new Set<string | undefined>();
    for (let i = 1; i <= 30; i++) spread.add(await nodeFor(`198.51.100.${i}`));
    expect(spread.size).toBe(3);
  });
});

describe("priority groups and failpool", () => {
  it("sends everything to the highest priority group while it works, and to the next group when it does not", async () => {
    const { a, b, c } = three("prio");
    const pool = `prio-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: pool },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: {
        [pool]: {
          nodes: [
            { url: `${originUrl}${a}`, priority: 2 },
            { url: `${originUrl}${b}`, priority: 2 },
            { url: `${originUrl}${c}`, priority: 1 },
          ],
          failuresToFail: 1,
          retries: 2,
          nodeFailTimeSeconds: 60,
        },
      },
    });
    for (let i = 0; i < 6; i++) await (await SELF.fetch(`${BASE}/app/z`)).text();
    expect(await originCount(`${c}/app/z`)).toBe(0);
    expect((await originCount(`${a}/app/z`)) + (await originCount(`${b}/app/z`))).toBe(6);
    await failNode(a, "503");
    await failNode(b, "503");
    for (let i = 0; i < 4; i++) expect((await SELF.fetch(`${BASE}/app/z`)).status).toBe(200);
    expect(await originCount(`${c}/app/z`)).toBe(4);
    await failNode(a, "off");
    await failNode(b, "off");
  });

  it("a pool with no working node hands its traffic to its failpool, shard misses and pass-through alike", async () => {
    const { a, b } = three("failpool");
    const main = `main-${Date.now()}`;
    const spare = `spare-${Date.now()}`;
    await putConfig({
      settings: { defaultPool: main },
      rules: [{ match: { path: "/app/**" }, actions: { pass: true } }],
      pools: {
        [main]: { nodes: [{ url: `${originUrl}${a}`, state: "disabled" }], failpool: spare },
        [spare]: { nodes: [{ url: `${originUrl}${b}` }] },
      },
    });
    const passed = await SELF.fetch(`${BASE}/app/p`);
    expect(passed.status).toBe(200);
    expect(await servedBy(passed, [a, b])).toBe(b);
    const cached = await SELF.fetch(`${BASE}/cached-${Date.now()}?cc=max-age%3D60`);
    expect(cached.status).toBe(200);
    expect(await cached.text()).toContain(b);
    expect(await originCount(`${a}/app/p`)).toBe(0);
  });

  it("refuses a failpool that does not exist or loops", async () => {
    const { parseConfig } = await import("../../src/config/document");
    const node = { nodes: [{ url: "http://a.example" }] };
    const loop = parseConfig({ pools: { x: { ...node, failpool: "y" }, y: { ...node, failpool: "x" } } });
    expect(loop.ok).toBe(false);
    expect(JSON.stringify(loop)).toContain("comes back to a pool already in it");
    expect(parseConfig({ pools: { x: { ...node, failpool: "nope" } } }).ok).toBe(false);
    expect(parseConfig({ pools: { x: { ...node, failpool: "x" } } }).ok).toBe(false);
  });
});
