import { describe, expect, it } from "vitest";
import type { PurgeTarget } from "../../../durable/shard-purge";
import { parseConfig } from "../../../src/config/document";
import { parsePurgeRequest, runPurge, type PurgeDeps } from "../../../src/admin/purge";
import type { PurgeRecord } from "../../../src/edge/purge-log";
import type { ZonePurger } from "../../../src/edge/zone-purge";
import { createHrw } from "../../../src/routing/hrw";

function config(doc: unknown = {}) {
  const parsed = parseConfig(doc);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

describe("parsePurgeRequest", () => {
  it("accepts exactly one selector, soft defaulting to false", () => {
    expect(parsePurgeRequest({ url: "https://a.test/x" })).toEqual({ ok: true, value: { selector: { url: "https://a.test/x" }, soft: false } });
    expect(parsePurgeRequest({ tag: "t", soft: true })).toEqual({ ok: true, value: { selector: { tag: "t" }, soft: true } });
    expect(parsePurgeRequest({ all: true })).toEqual({ ok: true, value: { selector: { all: true }, soft: false } });
    expect(parsePurgeRequest({ prefix: "https://a.test/img/" })).toMatchObject({ ok: true });
    expect(parsePurgeRequest({ key: "https://a.test/x#h:accept=1" })).toMatchObject({ ok: true });
  });
  it("refuses none, several, unknown keys and bad values, with paths", () => {
    const errors = (raw: unknown) => {
      const r = parsePurgeRequest(raw);
      return r.ok ? [] : r.error.map((e) => `${e.path}: ${e.message}`);
    };
    expect(errors({})).toEqual(["(root): give exactly one of url, key, prefix, tag, all"]);
    expect(errors({ tag: "a", all: true })[0]).toMatch(/exactly one .*got tag, all/);
    expect(errors({ url: "ftp://x/y" })[0]).toMatch(/^url: /);
    expect(errors({ prefix: "/img/" })[0]).toMatch(/^prefix: .*scheme/);
    expect(errors({ all: false })[0]).toMatch(/^all: /);
    expect(errors({ tag: "" })[0]).toMatch(/^tag: /);
    expect(errors({ tag: "x", extra: 1 })).toEqual(["extra: unknown key"]);
    expect(errors(null).length).toBe(1);
  });
});

function fakeDeps(overrides: Partial<PurgeDeps> = {}) {
  const calls: string[] = [];
  const records: PurgeRecord[] = [];
  const cfg = config({ settings: { shards: 6, primaries: 1, fallback: 1 } });
  let clock = 1000;
  const deps: PurgeDeps = {
    config: cfg,
    hrw: createHrw(cfg.settings.shards),
    shard: (name) => ({
      purge: async (target: PurgeTarget, soft: boolean) => {
        calls.push(`shard ${name} ${JSON.stringify(target)} ${soft}`);
        clock += 5;
        return { purged: 1 };
      },
    }),
    writeRecord: async (record) => {
      calls.push("record");
      records.push(record);
    },
    noteLocally: () => calls.push("note"),
    deleteLocalEdgeCopy: async (key) => void calls.push(`edge-delete ${key}`),
    zone: null,
    now: () => clock,
    ...overrides,
  };
  return { deps, calls, records };
}

describe("runPurge", () => {
  it("purges a URL's key on its owner and fallback shards, then records the purge after they finished", async () => {
    const { deps, calls, records } = fakeDeps();
    const result = await runPurge({ selector: { url: "https://a.test/x?b=1&a=2" }, soft: false }, deps);
    const key = "https://a.test/x?a=2&b=1";
    const owners = deps.hrw.rank(key, 2).map((s) => s.name);
    expect(calls.filter((c) => c.startsWith("shard")).map((c) => c.split(" ")[1])).toEqual(owners);
    expect(calls.indexOf("record")).toBeGreaterThan(calls.lastIndexOf(`shard ${owners[1]} {"keys":["${key}"]} false`));
    expect(calls).toContain(`edge-delete ${key}`);
    expect(records).toEqual([{ at: 1010, key, url: "https://a.test/x?b=1&a=2" }]);
    expect(result).toMatchObject({ ok: true, at: 1010, key, shards: { purged: 2, failed: 0 }, edge: { logged: true, zone: { status: "skipped" } } });
  });

  it("sends prefix, tag and all purges to every configured shard, soft flag included", async () => {
    for (const selector of [{ prefix: "https://a.test/img/" }, { tag: "t" }, { all: true as const }]) {
      const { deps, calls, records } = fakeDeps();
      const result = await runPurge({ selector, soft: true }, deps);
      expect(calls.filter((c) => c.startsWith("shard")).length).toBe(6);
      expect(calls.every((c) => !c.startsWith("shard") || c.endsWith(" true"))).toBe(true);
      expect(records[0]).toEqual({ at: 1030, ...selector, soft: true });
      expect(result.shards.purged).toBe(6);
    }
  });

  it("reports failing shards and a failed log write as not ok, and still purges the rest", async () => {
    const { deps } = fakeDeps({
      shard: (name) => ({ purge: async () => (name === "shard-2" ? Promise.reject(new Error("overloaded")) : { purged: 3 }) }),
      writeRecord: async () => Promise.reject(new Error("kv down")),
    });
    const result = await runPurge({ selector: { tag: "t" }, soft: false }, deps);
    expect(result.ok).toBe(false);
    expect(result.shards).toMatchObject({ purged: 15, failed: 1 });
    expect(result.shards.each).toContainEqual({ shard: "shard-2", error: "overloaded" });
    expect(result.edge).toMatchObject({ logged: false, logError: "kv down" });
  });

  it("calls the zone purger only when one is configured", async () => {
    const seen: unknown[] = [];
    const zone: ZonePurger = { purge: async (match) => (seen.push(match), { status: "purged" }) };
    const { deps } = fakeDeps({ zone });
    const result = await runPurge({ selector: { tag: "t" }, soft: false }, deps);
    expect(seen).toEqual([{ tag: "t" }]);
    expect(result.edge.zone).toEqual({ status: "purged" });
  });
});
