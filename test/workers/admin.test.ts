/**
 * The admin API on workerd through the real worker: bearer-token gate, config get/put/validate
 * against the real KV binding, health, and stats read from the real CacheShard objects.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { admin, ADMIN_TOKEN } from "../helpers/admin";
import { originCount, uniquePath } from "../helpers/origin";
import { primaryShardOf, untilIdle } from "../helpers/shards";

const BASE = "http://cache.test";

describe("admin API authentication", () => {
  it("answers 401 JSON without a token, with a wrong token, and with a token of another length", async () => {
    for (const token of [null, "test-admin-token-0123456789abcdefghiX", "nope", "test-admin-token-0123456789abcdefghij-and-more"]) {
      const { status, body, response } = await admin("GET", "/health", undefined, token);
      expect(status, String(token)).toBe(401);
      expect(response.headers.get("content-type")).toMatch(/application\/json/);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(body.ok).toBe(false);
    }
  });

  it("never lets an admin request reach the origin, even unauthenticated", async () => {
    const path = `/_shardcache${uniquePath("probe")}`;
    const response = await SELF.fetch(`${BASE}${path}`);
    expect(response.status).toBe(401);
    expect(await originCount(path)).toBe(0);
  });

  it("answers 405 with Allow for a wrong method on a known endpoint", async () => {
    const { status, body, response } = await admin("POST", "/stats");
    expect(status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
    expect(body.ok).toBe(false);
  });

  it("answers 404 JSON for an unknown endpoint", async () => {
    const { status, body } = await admin("GET", "/nope");
    expect(status).toBe(404);
    expect(body.error).toMatch(/no admin endpoint GET \/_shardcache\/nope/);
  });
});

describe("GET /health", () => {
  it("reports the config version in use and the shard count", async () => {
    const before = await admin("GET", "/health");
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ ok: true, configVersion: "default", configSource: "default", shards: 16 });
    expect(typeof before.body.shardHealth).toBe("object");
    await putConfig({ settings: { shards: 4 } });
    const after = await admin("GET", "/health");
    expect(after.body.configSource).toBe("kv");
    expect(after.body.configVersion).toMatch(/^[0-9a-f]{8}$/);
    expect(after.body.shards).toBe(4);
  });
});

describe("config endpoints", () => {
  const invalid = {
    settings: { primaries: 0, edgeTtlCapSeconds: "long", colour: "blue" },
    rules: [{ match: { path: "/a" }, actions: { edgeTtl: -5 } }],
  };

  it("refuses an invalid document with every error and its JSON path, and leaves the stored config alone", async () => {
    const good = { settings: { verbose: true } };
    await putConfig(good);
    const { status, body } = await admin("PUT", "/config", invalid);
    expect(status).toBe(400);
    const paths = (body.errors as { path: string; message: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["settings.primaries", "settings.edgeTtlCapSeconds", "settings.colour", "rules[0].actions.edgeTtl"]));
    expect(paths.length).toBeGreaterThanOrEqual(4);
    for (const error of body.errors) expect(error.message).toEqual(expect.any(String));
    expect(await env.CONFIG.get("config")).toBe(JSON.stringify(good));
  });

  it("refuses a body that is not JSON with a root error, writing nothing", async () => {
    const { status, body } = await admin("PUT", "/config", "{ not json");
    expect(status).toBe(400);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].path).toBe("(root)");
    expect(body.errors[0].message).toMatch(/not valid JSON/);
    expect(await env.CONFIG.get("config")).toBeNull();
  });

  it("validates without writing", async () => {
    const ok = await admin("POST", "/config/validate", { settings: { trace: true } });
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    const bad = await admin("POST", "/config/validate", invalid);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.length).toBeGreaterThanOrEqual(4);
    expect(await env.CONFIG.get("config")).toBeNull();
  });

  it("GET answers the defaults when nothing is stored", async () => {
    const { status, body } = await admin("GET", "/config");
    expect(status).toBe(200);
    expect(body.source).toBe("default");
    expect(body.config.settings.shards).toBe(16);
    expect(body.config.rules).toEqual([]);
  });

  it("a valid PUT round-trips through GET and takes effect on the next request", async () => {
    const path = uniquePath("after-put");
    const before = await SELF.fetch(`${BASE}${path}`);
    await before.arrayBuffer();
    expect(before.headers.get("x-cluster-trace")).toBeNull();

    const doc = { version: "t1", settings: { trace: true, verbose: true } };
    const put = await admin("PUT", "/config", doc);
    expect(put.status).toBe(200);
    expect(put.body.version).toMatch(/^[0-9a-f]{8}$/);

    const got = await admin("GET", "/config");
    expect(got.body).toMatchObject({ source: "kv", version: put.body.version, inUse: true, config: doc });

    const after = await SELF.fetch(`${BASE}${path}`);
    await after.arrayBuffer();
    expect(after.headers.get("x-cluster-trace")).toMatch(/^edge:/);
    const health = await admin("GET", "/health");
    expect(health.body.configVersion).toBe(put.body.version);
  });

  it("moves the admin API to settings.adminPrefix", async () => {
    await admin("PUT", "/config", { settings: { adminPrefix: "/ops/admin" } });
    const moved = await SELF.fetch(`${BASE}/ops/admin/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { ok: boolean }).ok).toBe(true);
    // The old prefix is an ordinary path now: it goes through the cache to the origin.
    const old = await SELF.fetch(`${BASE}/_shardcache/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await old.arrayBuffer();
    expect(old.headers.get("cache-status")).toMatch(/shardcache-edge/);
  });
});

describe("GET /stats", () => {
  type Row = Record<"calls" | "hits" | "misses" | "coalesced" | "originFetches" | "passes" | "stores" | "storedBytes" | "evictions", number>;
  const stats = async () => (await admin("GET", "/stats")).body as { shards: ({ shard: string } & Row)[]; total: Row };

  it("lists every configured shard and sums their counters, which move with traffic", async () => {
    const before = await stats();
    expect(before.shards.map((s) => s.shard)).toEqual(Array.from({ length: 16 }, (_, i) => `shard-${i}`));
    const path = `${uniquePath("stats")}?size=1000`;
    const herd = await Promise.all(Array.from({ length: 5 }, () => SELF.fetch(`${BASE}${path}&delay=200`)));
    await Promise.all(herd.map((r) => r.arrayBuffer()));
    const uncacheable = await SELF.fetch(`${BASE}${uniquePath("stats-pass")}?cc=no-store`);
    await uncacheable.arrayBuffer();
    await untilIdle(primaryShardOf(`${path}&delay=200`)); // the herd's store write follows its body

    const after = await stats();
    const delta = (field: keyof Row) => after.total[field] - before.total[field];
    expect(delta("misses")).toBe(1);
    // The edge's single-flight shares the herd leader's call: its four followers never reach a shard.
    expect(delta("calls")).toBe(2);
    expect(delta("coalesced")).toBe(0);
    expect(delta("originFetches")).toBe(2);
    expect(delta("passes")).toBe(1);
    expect(delta("stores")).toBe(1);
    // Accounted bytes: the 1000-byte body plus its metadata, key and row overhead.
    expect(delta("storedBytes")).toBeGreaterThan(1000 + 256);
    expect(delta("storedBytes")).toBeLessThan(1000 + 4096);
    for (const field of ["calls", "hits", "misses", "coalesced", "originFetches", "passes", "stores", "storedBytes", "evictions"] as const) {
      expect(after.total[field], field).toBe(after.shards.reduce((sum, s) => sum + s[field], 0));
    }
  });
});
