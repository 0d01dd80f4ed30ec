/** The admin router in Node with fake dependencies: the auth stage, the catch stage and routing under a prefix. */
import { timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LoginThrottle } from "../../../src/admin/login-throttle";
import { handleAdminRequest, isAdminPath, type AdminDeps } from "../../../src/admin/router";
import { defaultConfigDocument, parseConfig } from "../../../src/config/document";
import type { NewEvent } from "../../../src/events/events";
import { createHrw } from "../../../src/routing/hrw";

function memoryKv() {
  const data = new Map<string, string>();
  return { get: async (key: string) => data.get(key) ?? null, put: async (key: string, value: string) => void data.set(key, value), delete: async (key: string) => void data.delete(key) };
}

function deps(overrides: Partial<AdminDeps> = {}): AdminDeps {
  return {
    adminToken: "tok",
    localDev: true,
    timingSafeEqual: (a, b) => timingSafeEqual(new Uint8Array(a instanceof ArrayBuffer ? a : a.buffer), new Uint8Array(b instanceof ArrayBuffer ? b : b.buffer)),
    clientAddress: "192.0.2.1",
    loginThrottle: new LoginThrottle(),
    config: defaultConfigDocument,
    configVersion: "default",
    configSource: "default",
    hrw: createHrw(defaultConfigDocument.settings.shards),
    shard: () => ({ purge: async () => ({ purged: 0 }), stats: async () => Promise.reject(new Error("unused")), minutes: async () => [] }),
    readStoredConfig: async () => null,
    writeStoredConfig: async () => {},
    history: memoryKv(),
    writePurgeRecord: async () => {},
    notePurge: () => {},
    deleteLocalEdgeCopy: async () => {},
    zone: null,
    now: () => 0,
    events: { list: async () => [], append: async () => {} },
    rateStatus: async () => [],
    slmSnapshot: async () => ({ states: {}, factors: {} }),
    edgeCounters: async () => ({ totals: [], minutes: [] }),
    healthSnapshot: async () => ({ at: 0, nodes: {} }),
    healthDetails: async () => [],
    ...overrides,
  };
}

const call = (path: string, d: AdminDeps, init: RequestInit = {}, prefix = "/_shardcache") =>
  handleAdminRequest(new Request(`http://x${path}`, { ...init, headers: { authorization: "Bearer tok", ...(init.headers as Record<string, string>) } }), prefix, d);

describe("admin router", () => {
  it("answers 503 'admin API disabled' when no token is configured", async () => {
    const response = await call("/_shardcache/health", deps({ adminToken: undefined }));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, error: expect.stringMatching(/admin API disabled/) });
  });

  it("turns a throwing handler into one JSON 500", async () => {
    const response = await call("/_shardcache/config", deps({ readStoredConfig: async () => Promise.reject(new Error("kv exploded")) }));
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toMatch(/json/);
    expect(await response.json()).toEqual({ ok: false, error: "internal error", message: "kv exploded" });
  });

  it("answers 405 with Allow for a known path and a wrong method, 404 for an unknown path", async () => {
    const wrong = await call("/_shardcache/config", deps(), { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PUT");
    expect(await wrong.json()).toMatchObject({ ok: false, error: expect.stringMatching(/DELETE is not allowed on \/_shardcache\/config/) });
    const purge = await call("/_shardcache/purge", deps(), { method: "GET" });
    expect(purge.status).toBe(405);
    expect(purge.headers.get("allow")).toBe("POST");
    const unknown = await call("/_shardcache/nope", deps(), { method: "DELETE" });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("allow")).toBeNull();
  });

  it("routes under any prefix", async () => {
    const response = await call("/ops/x/health", deps(), {}, "/ops/x");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, shards: 16 });
  });

  it("writes a valid PUT /config as sent, and nothing for an invalid one", async () => {
    const written: string[] = [];
    const d = deps({ writeStoredConfig: async (t) => void written.push(t) });
    const bad = await call("/_shardcache/config", d, { method: "PUT", body: '{"settings":{"shards":0},"rules":{}}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["settings.shards", "rules"]);
    expect(written).toEqual([]);
    const text = '{ "settings": { "trace": true } }';
    const good = await call("/_shardcache/config", d, { method: "PUT", body: text });
    expect(good.status).toBe(200);
    expect(written).toEqual([text]);
  });

  it("knows which paths are admin paths", () => {
    expect(isAdminPath("/_shardcache", "/_shardcache")).toBe(true);
    expect(isAdminPath("/_shardcache/health", "/_shardcache")).toBe(true);
    expect(isAdminPath("/_shardcachex/health", "/_shardcache")).toBe(false);
    expect(isAdminPath("/", "/_shardcache")).toBe(false);
  });

  it("records a confchange event when a valid config is stored, and none for an invalid one", async () => {
    const appended: NewEvent[][] = [];
    const d = deps({ events: { list: async () => [], append: async (events) => void appended.push(events) } });
    expect((await call("/_shardcache/config", d, { method: "PUT", body: JSON.stringify({ settings: { shards: "x" } }) })).status).toBe(400);
    expect(appended).toEqual([]);
    expect((await call("/_shardcache/config", d, { method: "PUT", body: JSON.stringify({ settings: { trace: true } }) })).status).toBe(200);
    expect(appended).toEqual([[expect.objectContaining({ level: "INFO", section: "config", tag: "confchange", text: "Configuration version 1 (fdcf58b3, was default) by admin API: +settings" })]]);
  });

  it("lists events with the query's filters", async () => {
    const seen: unknown[] = [];
    const d = deps({ events: { list: async (options) => (seen.push(options), []), append: async () => {} } });
    const response = await call("/_shardcache/events?sinceId=5&limit=20&minLevel=warning&bogus=1", d);
    expect(await response.json()).toEqual({ events: [] });
    expect(seen).toEqual([{ sinceId: 5, limit: 20, minLevel: "WARNING" }]);
  });

  it("shows each rate class's rate, backlog and shaping, summed over the objects it is spread over", async () => {
    const parsed = parseConfig({ rateClasses: { api: { perSecond: 10, spread: 2, mode: "queue" } } });
    if (!parsed.ok) throw new Error("fixture config must be valid");
    const asked: string[] = [];
    const d = deps({
      config: parsed.value,
      rateStatus: async (name) => (asked.push(name), [{ context: name, perSecond: 3, perMinute: 30, backlog: 1 }]),
      slmSnapshot: async () => ({ states: { gold: { state: "serious", percent: 50, samples: 20 } }, factors: { api: 0.5 } }),
    });
    const body = (await (await call("/_shardcache/rates", d)).json()) as { rateClasses: Record<string, unknown>; slmClasses: unknown };
    expect(asked.sort()).toEqual(["rate:api:0", "rate:api:1"]);
    expect(body.rateClasses.api).toMatchObject({ factor: 0.5, effectiveLimits: { perSecond: 5 }, mode: "queue", perSecond: 6, perMinute: 60, backlog: 2, contexts: 2 });
    expect(body.slmClasses).toEqual({ gold: { state: "serious", percent: 50, samples: 20 } });
  });
});
