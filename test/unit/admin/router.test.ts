/** The admin router in Node with fake dependencies: the auth stage, the catch stage and routing under a prefix. */
import { describe, expect, it } from "vitest";
import { handleAdminRequest, isAdminPath, type AdminDeps } from "../../../src/admin/router";
import { defaultConfigDocument } from "../../../src/config/document";
import { createHrw } from "../../../src/routing/hrw";

function deps(overrides: Partial<AdminDeps> = {}): AdminDeps {
  return {
    adminToken: "tok",
    config: defaultConfigDocument,
    configVersion: "default",
    configSource: "default",
    hrw: createHrw(defaultConfigDocument.settings.shards),
    shard: () => ({ purge: async () => ({ purged: 0 }), stats: async () => Promise.reject(new Error("unused")) }),
    readStoredConfig: async () => null,
    writeStoredConfig: async () => {},
    writePurgeRecord: async () => {},
    notePurge: () => {},
    deleteLocalEdgeCopy: async () => {},
    zone: null,
    now: () => 0,
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
});
