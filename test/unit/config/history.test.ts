/** Config history (numbered versions in KV, last good kept in step) and the structural config diff, in Node on an in-memory KV. */
import { describe, expect, it } from "vitest";
import { diffConfig, summariseChanges } from "../../../src/config/diff";
import { appendToIndex, HISTORY_INDEX_KV_KEY, type HistoryKv, readVersion, readVersionIndex, recordVersion, versionKvKey } from "../../../src/config/history";
import { LAST_GOOD_KV_KEY } from "../../../src/config/last-good";
import { versionOf } from "../../../src/config/load";

function memoryKv(): HistoryKv & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (key) => data.get(key) ?? null,
    put: async (key, value) => void data.set(key, value),
    delete: async (key) => void data.delete(key),
  };
}

describe("config history", () => {
  it("numbers accepted documents from 1, keeps who/when/summary/hash, and makes each one last good", async () => {
    const kv = memoryKv();
    const one = await recordVersion(kv, { text: '{"rules":[]}', by: "alice", summary: "first", at: 1000 });
    const two = await recordVersion(kv, { text: '{"settings":{"trace":true}}', by: "bob", summary: "+settings", at: 2000 });
    expect(one).toEqual({ version: 1, at: 1000, by: "alice", summary: "first", hash: versionOf('{"rules":[]}') });
    expect(two.version).toBe(2);
    expect((await readVersionIndex(kv)).versions.map((v) => [v.version, v.by])).toEqual([
      [1, "alice"],
      [2, "bob"],
    ]);
    expect((await readVersion(kv, 1))?.text).toBe('{"rules":[]}');
    expect(kv.data.get(LAST_GOOD_KV_KEY)).toBe('{"settings":{"trace":true}}');
  });

  it("keeps only the newest N versions and deletes the records that fall off", async () => {
    const { index, dropped } = appendToIndex({ latest: 3, versions: [1, 2, 3].map((v) => ({ version: v, at: v, by: "x", summary: "", hash: "h" })) }, { version: 4, at: 4, by: "x", summary: "", hash: "h" }, 2);
    expect(index.versions.map((v) => v.version)).toEqual([3, 4]);
    expect(dropped).toEqual([1, 2]);
    const kv = memoryKv();
    for (let i = 1; i <= 52; i++) await recordVersion(kv, { text: `{"version":${i}}`, by: "x", summary: "", at: i });
    const stored = await readVersionIndex(kv);
    expect(stored.latest).toBe(52);
    expect(stored.versions).toHaveLength(50);
    expect(stored.versions[0]!.version).toBe(3);
    expect(kv.data.has(versionKvKey(2))).toBe(false);
    expect(await readVersion(kv, 3)).not.toBeNull();
  });

  it("reads garbage in KV as no history (numbering restarts) and a garbage record as missing", async () => {
    const kv = memoryKv();
    kv.data.set(HISTORY_INDEX_KV_KEY, "{not json");
    kv.data.set(versionKvKey(7), JSON.stringify({ version: 8, at: 0, by: "", summary: "", hash: "", text: "{}" }));
    expect(await readVersionIndex(kv)).toEqual({ latest: 0, versions: [] });
    expect(await readVersion(kv, 7)).toBeNull();
    expect((await recordVersion(kv, { text: "{}", by: "x", summary: "", at: 0 })).version).toBe(1);
  });
});

describe("diffConfig", () => {
  const rule = (name: string, ttl: number) => ({ name, match: { path: `/${name}/**` }, actions: { ttl } });

  it("compares rules by name when every rule has a unique one: an insertion is one added rule", () => {
    const before = { rules: [rule("a", 1), rule("b", 2)] };
    const after = { rules: [rule("new", 9), rule("a", 1), rule("b", 3)] };
    expect(diffConfig(before, after)).toEqual([
      { op: "change", path: "rules[name=b].actions.ttl", before: 2, after: 3 },
      { op: "add", path: "rules[name=new]", after: rule("new", 9) },
    ]);
  });

  it("falls back to positions when names are missing or repeated", () => {
    const changes = diffConfig({ rules: [{ match: {} }] }, { rules: [{ match: {} }, { match: { path: "/x" } }] });
    expect(changes).toEqual([{ op: "add", path: "rules[1]", after: { match: { path: "/x" } } }]);
  });

  it("reports settings, pools and removed sections with config-error paths", () => {
    const before = { settings: { trace: true }, pools: { web: { nodes: [{ url: "https://a.example", state: "active" }] } } };
    const after = { settings: { trace: false, verbose: false }, pools: { web: { nodes: [{ url: "https://a.example", state: "draining" }] } }, rules: [] };
    expect(diffConfig(before, after)).toEqual([
      { op: "change", path: "settings.trace", before: true, after: false },
      { op: "add", path: "settings.verbose", after: false },
      { op: "change", path: "pools.web.nodes[0].state", before: "active", after: "draining" },
      { op: "add", path: "rules", after: [] },
    ]);
    expect(diffConfig(after, after)).toEqual([]);
  });

  it("summarises a change list in one line", () => {
    expect(summariseChanges([])).toBe("no changes");
    const many = Array.from({ length: 7 }, (_, i) => ({ op: "add" as const, path: `settings.s${i}`, after: i }));
    expect(summariseChanges(many, 2)).toBe("+settings.s0, +settings.s1 and 5 more");
    expect(
      summariseChanges([
        { op: "remove", path: "rules[name=a]", before: {} },
        { op: "change", path: "settings.trace", before: 1, after: 2 },
      ]),
    ).toBe("-rules[name=a], ~settings.trace");
  });
});
