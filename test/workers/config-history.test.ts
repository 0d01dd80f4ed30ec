/**
 * Config history, rollback, diff and per-resource edits through the real worker and its real KV:
 * every accepted document becomes a numbered version that last good agrees with, a rollback
 * restores a kept version as a new one, a diff compares a candidate with the stored document, and
 * draining a node through the API takes it out of rotation on the request path.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ClusterEvent } from "../../src/events/events";
import { ADMIN_TOKEN, admin } from "../helpers/admin";
import { originCount, originUrl, uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";
const actor = (name: string) => ({ "x-shardcache-actor": name });

async function put(doc: unknown, by = "alice"): Promise<{ status: number; body: any }> {
  const response = await SELF.fetch(`${BASE}/_shardcache/config`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...actor(by) }, body: JSON.stringify(doc) });
  return { status: response.status, body: await response.json() };
}

async function events(): Promise<ClusterEvent[]> {
  return env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")).list({ limit: 1000 });
}

describe("config history", () => {
  it("numbers every accepted document with who, when and a summary; last good is the newest version", async () => {
    expect((await put({ settings: { trace: true } }, "alice")).body).toMatchObject({ ok: true, number: 1 });
    expect((await put({ settings: { trace: false, verbose: false } }, "bob")).body).toMatchObject({ ok: true, number: 2, summary: "~settings.trace, +settings.verbose" });
    expect((await put({ settings: { shards: 0 } })).status).toBe(400); // refused: no version
    const { status, body } = await admin("GET", "/config/versions");
    expect(status).toBe(200);
    expect(body.latest).toBe(2);
    expect(body.versions.map((v: { version: number; by: string }) => [v.version, v.by])).toEqual([
      [2, "bob"],
      [1, "alice"],
    ]);
    expect(body.versions[0].summary).toBe("~settings.trace, +settings.verbose");
    expect(body.versions[0].at).toEqual(expect.any(Number));
    expect(body.active).toBe(body.versions[0].hash);
    expect(await env.CONFIG.get("config:last-good")).toBe(JSON.stringify({ settings: { trace: false, verbose: false } }));
    expect(JSON.parse((await env.CONFIG.get("config:version:1"))!).text).toBe(JSON.stringify({ settings: { trace: true } }));
  });

  it("rolls back to a kept version as a new version, and refuses unknown or malformed ones", async () => {
    await put({ settings: { trace: true } });
    await put({ settings: { trace: false } });
    const rolled = await admin("POST", "/config/rollback", { version: 1 });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ ok: true, version: 3, restored: 1 });
    expect(await env.CONFIG.get("config")).toBe(JSON.stringify({ settings: { trace: true } }));
    expect(await env.CONFIG.get("config:last-good")).toBe(JSON.stringify({ settings: { trace: true } }));
    const health = await admin("GET", "/health");
    expect(health.body.configVersion).toBe(rolled.body.hash);
    const history = await admin("GET", "/config/versions");
    expect(history.body.versions[0]).toMatchObject({ version: 3, summary: expect.stringMatching(/^rollback to version 1 /) });
    expect((await admin("POST", "/config/rollback", { version: 99 })).status).toBe(404);
    expect((await admin("POST", "/config/rollback", { version: "1" })).status).toBe(400);
    expect((await events()).some((e) => e.tag === "confchange" && /rollback to version 1/.test(e.text))).toBe(true);
  });

  it("refuses to roll back to a version the current schema rejects, writing nothing", async () => {
    await put({ settings: { trace: true } });
    // A record written by an older release whose schema allowed something this one does not.
    await env.CONFIG.put("config:version:1", JSON.stringify({ version: 1, at: 0, by: "old", summary: "", hash: "x", text: JSON.stringify({ settings: { colour: "blue" } }) }));
    const refused = await admin("POST", "/config/rollback", { version: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].path).toBe("settings.colour");
    expect(await env.CONFIG.get("config")).toBe(JSON.stringify({ settings: { trace: true } }));
  });

  it("diffs a candidate against the stored document without writing it", async () => {
    await put({ settings: { trace: true }, rules: [{ name: "static", match: { path: "/static/**" }, actions: { ttl: 300 } }] });
    const candidate = {
      settings: { trace: false },
      rules: [
        { name: "api", match: { path: "/api/**" }, actions: { pass: true } },
        { name: "static", match: { path: "/static/**" }, actions: { ttl: 600 } },
      ],
    };
    const { status, body } = await admin("POST", "/config/diff", candidate);
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
    expect(body.changes).toEqual([
      { op: "change", path: "settings.trace", before: true, after: false },
      { op: "change", path: "rules[name=static].actions.ttl", before: 300, after: 600 },
      { op: "add", path: "rules[name=api]", after: candidate.rules[0] },
    ]);
    const invalid = await admin("POST", "/config/diff", { settings: { shards: 0 } });
    expect(invalid.body).toMatchObject({ ok: false, valid: false, errors: [expect.objectContaining({ path: "settings.shards" })] });
    expect(JSON.parse((await env.CONFIG.get("config"))!).settings.trace).toBe(true);
    expect((await admin("GET", "/config/versions")).body.latest).toBe(1);
  });
});

describe("per-resource admin calls", () => {
  it("drains a node through the API: a new version, an event, and no new requests reach the node", async () => {
    const a = uniquePath("drain-a");
    const b = uniquePath("drain-b");
    const pool = "web";
    await put({ settings: { defaultPool: pool }, pools: { [pool]: { nodes: [{ url: `${originUrl}${a}` }, { url: `${originUrl}${b}` }], algorithm: "round-robin" } } });
    const node = encodeURIComponent(`${originUrl}${a}`);
    const drained = await admin("POST", `/pools/${pool}/nodes/${node}/drain`);
    expect(drained.status).toBe(200);
    expect(drained.body).toMatchObject({ ok: true, version: 2, summary: `drain node ${originUrl}${a} of pool web (was active)` });
    expect(JSON.parse((await env.CONFIG.get("config"))!).pools.web.nodes[0].state).toBe("draining");
    for (let i = 0; i < 6; i++) expect((await SELF.fetch(`${BASE}/item?cc=no-store`)).status).toBe(200);
    expect(await originCount(`${a}/item?cc=no-store`)).toBe(0);
    expect(await originCount(`${b}/item?cc=no-store`)).toBe(6);
    expect((await events()).some((e) => e.section === "pools/web" && e.tag === "nodedrain" && e.level === "WARNING")).toBe(true);
    expect((await admin("POST", `/pools/${pool}/nodes/${node}/drain`)).status).toBe(409); // already draining
    expect((await admin("POST", `/pools/${pool}/nodes/0/enable`)).body).toMatchObject({ ok: true, version: 3 });
    expect((await admin("POST", `/pools/${pool}/nodes/7/disable`)).status).toBe(404);
    expect((await admin("POST", "/pools/nope/nodes/0/disable")).status).toBe(404);
  });

  it("adds and removes one rule by name, each a new version; a rule that breaks the document is refused", async () => {
    await put({ rules: [{ name: "static", match: { path: "/static/**" }, actions: { ttl: 300 } }] });
    const added = await admin("POST", "/rules", { rule: { name: "api", match: { path: "/api/**" }, actions: { pass: true } }, position: 0 });
    expect(added.body).toMatchObject({ ok: true, version: 2, summary: "add rule api at position 0" });
    expect(JSON.parse((await env.CONFIG.get("config"))!).rules.map((r: { name: string }) => r.name)).toEqual(["api", "static"]);
    expect((await admin("POST", "/rules", { rule: { name: "api", match: {}, actions: {} } })).status).toBe(409);
    expect((await admin("POST", "/rules", { rule: { match: {}, actions: {} } })).status).toBe(400);
    const broken = await admin("POST", "/rules", { rule: { name: "bad", match: { path: "/x" }, actions: { ttl: -1 } } });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].path).toMatch(/^rules\[2\]\.actions\.ttl/);
    const removed = await admin("DELETE", "/rules/static");
    expect(removed.body).toMatchObject({ ok: true, version: 3 });
    expect(JSON.parse((await env.CONFIG.get("config"))!).rules.map((r: { name: string }) => r.name)).toEqual(["api"]);
    expect((await admin("DELETE", "/rules/static")).status).toBe(404);
    const tags = (await events()).map((e) => e.tag);
    expect(tags).toEqual(expect.arrayContaining(["ruleadd", "ruleremove", "confchange"]));
  });
});
