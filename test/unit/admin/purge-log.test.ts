import { describe, expect, it } from "vitest";
import { LIST_LIMIT, PurgeIndex, PurgeLogLoader, purgeRecordKey, readPurgeIndex, writePurgeRecord, type PurgeRecord } from "../../../src/edge/purge-log";

const copy = (key: string, storedAt: number, tags: string[] = []) => ({ key, storedAt, tags });

describe("PurgeIndex", () => {
  const index = new PurgeIndex([
    { at: 100, key: "https://a/x" },
    { at: 200, prefix: "https://a/img/" },
    { at: 300, tag: "blue" },
  ]);

  it("refuses copies stored before a matching purge, and only those", () => {
    expect(index.purges(copy("https://a/x", 99))).toBe(true);
    expect(index.purges(copy("https://a/x", 100))).toBe(false);
    expect(index.purges(copy("https://a/y", 50))).toBe(false);
    expect(index.purges(copy("https://a/img/1.png", 150))).toBe(true);
    expect(index.purges(copy("https://a/img/1.png", 250))).toBe(false);
    expect(index.purges(copy("https://a/imgs", 150))).toBe(false);
    expect(index.purges(copy("https://a/z", 250, ["red", "blue"]))).toBe(true);
    expect(index.purges(copy("https://a/z", 250, ["red"]))).toBe(false);
  });

  it("purge-all refuses everything older; the floor refuses everything at or before it", () => {
    expect(new PurgeIndex([{ at: 500, all: true }]).purges(copy("k", 499))).toBe(true);
    expect(new PurgeIndex([{ at: 500, all: true }]).purges(copy("k", 501))).toBe(false);
    expect(new PurgeIndex([], 700).purges(copy("k", 700))).toBe(true);
    expect(new PurgeIndex([], 700).purges(copy("k", 701))).toBe(false);
  });

  it("keeps the latest purge of a key", () => {
    const i = new PurgeIndex([
      { at: 900, key: "k" },
      { at: 100, key: "k" },
    ]);
    expect(i.purges(copy("k", 500))).toBe(true);
  });
});

describe("purgeRecordKey", () => {
  it("sorts newest first", () => {
    const keys = [purgeRecordKey(1_700_000_000_000, "a"), purgeRecordKey(1_700_000_000_001, "a"), purgeRecordKey(1_800_000_000_000, "a")];
    expect([...keys].sort()).toEqual([...keys].reverse());
  });
});

/** Just enough of KVNamespace for the purge log, in memory. */
function memoryKv(limitOverride?: number) {
  const store = new Map<string, { value: string; metadata: unknown; ttl: number | undefined }>();
  const kv = {
    async put(name: string, value: string, opts?: { expirationTtl?: number; metadata?: unknown }) {
      store.set(name, { value, metadata: opts?.metadata, ttl: opts?.expirationTtl });
    },
    async get(name: string) {
      return store.get(name)?.value ?? null;
    },
    async list(opts: { prefix: string; limit: number }) {
      const limit = limitOverride ?? opts.limit;
      const names = [...store.keys()].filter((k) => k.startsWith(opts.prefix)).sort();
      return { keys: names.slice(0, limit).map((name) => ({ name, metadata: store.get(name)!.metadata })), list_complete: names.length <= limit };
    },
  };
  return { kv: kv as unknown as KVNamespace, store };
}

describe("writePurgeRecord / readPurgeIndex", () => {
  it("round-trips records, long ones through the value, with an expiry longer than any edge TTL", async () => {
    const { kv, store } = memoryKv();
    const long: PurgeRecord = { at: 20, key: `https://a/${"x".repeat(2000)}` };
    await writePurgeRecord(kv, { at: 10, tag: "t" });
    await writePurgeRecord(kv, long);
    expect([...store.values()].every((e) => (e.ttl ?? 0) > 86_400)).toBe(true);
    const index = await readPurgeIndex(kv);
    expect(index.size).toBe(2);
    expect(index.floor).toBe(Number.NEGATIVE_INFINITY);
    expect(index.purges(copy(long.key as string, 19))).toBe(true);
    expect(index.purges(copy("https://a/q", 5, ["t"]))).toBe(true);
  });

  it("with more records than one page, everything older than the oldest record read counts as purged", async () => {
    const { kv } = memoryKv(3);
    for (const at of [10, 20, 30, 40, 50]) await writePurgeRecord(kv, { at, key: `k${at}` });
    const index = await readPurgeIndex(kv);
    expect(index.size).toBe(3);
    expect(index.floor).toBe(30);
    expect(index.purges(copy("unrelated", 25))).toBe(true);
    expect(index.purges(copy("unrelated", 31))).toBe(false);
    expect(index.purges(copy("k40", 35))).toBe(true);
    expect(LIST_LIMIT).toBeGreaterThanOrEqual(100);
  });
});

describe("readPurgeIndex with malformed records", () => {
  it.each([
    ["not JSON", "{not json"],
    ["JSON but not a record", '{"at":"yesterday","tag":7}'],
    ["a bare string", '"purge"'],
    ["null", "null"],
  ])("skips a record whose value is %s, reports its key, and keeps every other record", async (_name, value) => {
    const { kv, store } = memoryKv();
    await writePurgeRecord(kv, { at: 10, tag: "blue" });
    store.set(purgeRecordKey(20, "bad"), { value, metadata: undefined, ttl: undefined });
    await writePurgeRecord(kv, { at: 30, key: "k" });
    const index = await readPurgeIndex(kv);
    expect(index.size).toBe(2);
    expect(index.malformed).toEqual([purgeRecordKey(20, "bad")]);
    expect(index.purges(copy("x", 5, ["blue"]))).toBe(true);
    expect(index.purges(copy("k", 25))).toBe(true);
  });

  it("the loader reports the malformed records once, not on every read", async () => {
    const problems: string[] = [];
    const loader = new PurgeLogLoader(
      async () => new PurgeIndex([{ at: 1, tag: "t" }], Number.NEGATIVE_INFINITY, ["purge:x"]),
      0,
      (p) => problems.push(p),
    );
    for (let now = 0; now < 5; now++) expect((await loader.get(now)).size).toBe(1);
    expect(problems).toEqual(["purge log: skipped 1 malformed record(s): purge:x"]);
  });
});

describe("PurgeLogLoader", () => {
  it("reads at most once per memo period, keeps the last index on errors, and applies local notes at once", async () => {
    let reads = 0;
    let fail = false;
    const problems: string[] = [];
    const loader = new PurgeLogLoader(
      async () => {
        reads += 1;
        if (fail) throw new Error("kv down");
        return new PurgeIndex([{ at: 100, key: "k" }]);
      },
      1000,
      (p) => problems.push(p),
    );
    const first = await loader.get(0);
    await loader.get(500);
    expect(reads).toBe(1);
    expect(first.purges(copy("k", 50))).toBe(true);
    fail = true;
    const kept = await loader.get(1500);
    expect(reads).toBe(2);
    expect(kept.purges(copy("k", 50))).toBe(true);
    expect(problems[0]).toMatch(/kv down/);
    loader.note({ at: 2000, tag: "t" });
    expect((await loader.get(1600)).purges(copy("x", 1900, ["t"]))).toBe(true);
  });

  it("a request that arrives while another's read is in flight uses the index held at once, never that read", async () => {
    // See src/lib/cached-value.ts: on workerd that read dies with the request that started it.
    const reads: ((index: PurgeIndex) => void)[] = [];
    const loader = new PurgeLogLoader(
      () => new Promise((resolve) => reads.push(resolve)),
      1000,
      () => {},
    );
    const cold = loader.get(0);
    reads[0]!(new PurgeIndex([{ at: 100, key: "k" }]));
    await cold;
    void loader.get(1000); // the starter, then cancelled: its read never answers
    let answered: PurgeIndex | undefined;
    void loader.get(1001).then((index) => (answered = index));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(answered?.purges(copy("k", 50))).toBe(true);
    expect(reads).toHaveLength(2);
  });
});
