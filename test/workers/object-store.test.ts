/**
 * The ObjectStore contract (test/helpers/object-store-contract.ts) against each store, on workerd: the
 * memory store, the SQLite store in a real Durable Object's storage (each test in its own CacheShard
 * object, reached with runInDurableObject), and the shard's composition of the two. Then what only
 * the composition promises: memory stays a cache of the tables.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MemoryObjectStore } from "../../durable/memory-object-store";
import { ShardStore } from "../../durable/shard-store";
import { SqliteObjectStore } from "../../durable/sqlite-object-store";
import { objectStoreContract } from "../helpers/object-store-contract";
import { storedMeta } from "../helpers/stored-meta";
import { uniquePath } from "../helpers/origin";

const MiB = 1024 * 1024;

/** Runs `test` with the SQLite storage of a CacheShard object no other test uses. */
async function inFreshObject(test: (sql: SqlStorage) => void | Promise<void>): Promise<void> {
  const stub = env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(uniquePath("store")));
  await runInDurableObject(stub, async (_instance, state) => test(state.storage.sql));
}

function damage(sql: SqlStorage, row: { key: string; variant: string }, text: string): void {
  sql.exec("UPDATE entries SET meta = ? WHERE key = ? AND variant = ?", text, row.key, row.variant);
}

describe("MemoryObjectStore", () => {
  objectStoreContract({ keepsText: false, open: async (budgetBytes, test) => test({ store: new MemoryObjectStore(budgetBytes) }) });
});

describe("SqliteObjectStore", () => {
  objectStoreContract({
    keepsText: true,
    open: (budgetBytes, test) =>
      inFreshObject((sql) =>
        test({
          store: new SqliteObjectStore(sql, { budgetBytes }),
          corrupt: (row, text) => (damage(sql, row, text), new SqliteObjectStore(sql, { budgetBytes })),
        }),
      ),
  });
});

describe("ShardStore (memory in front of SQLite)", () => {
  objectStoreContract({
    keepsText: true,
    open: (budgetBytes, test) =>
      inFreshObject((sql) =>
        test({
          store: new ShardStore(sql, { memoryBytes: 64 * MiB, storageBytes: budgetBytes }),
          corrupt: (row, text) => (damage(sql, row, text), new ShardStore(sql, { memoryBytes: 64 * MiB, storageBytes: budgetBytes })),
        }),
      ),
  });

  const put = (store: ShardStore, key: string, size: number, now: number) => store.put(key, { meta: storedMeta(key, { bodyBytes: size }), chunks: [new Uint8Array(size)] }, { maxVariants: 4, now });

  it("answers a key it holds from memory, without reading SQLite", async () => {
    await inFreshObject((sql) => {
      const store = new ShardStore(sql, { memoryBytes: MiB, storageBytes: 64 * MiB });
      put(store, "k", 100, 1);
      damage(sql, { key: "k", variant: "" }, "not json");
      expect(store.variants("k", 2)).toHaveLength(1);
      // A cold memory (a restarted object) reads the damaged row: a miss.
      expect(new ShardStore(sql, { memoryBytes: MiB, storageBytes: 64 * MiB }).variants("k", 3)).toEqual([]);
    });
  });

  it("drops its memory copy of whatever SQLite evicts or sweeps, so memory never answers for a row that is gone", async () => {
    await inFreshObject((sql) => {
      const store = new ShardStore(sql, { memoryBytes: 64 * MiB, storageBytes: 64 * MiB });
      put(store, "old", 10_000, 1);
      put(store, "new", 10_000, 2);
      expect(store.variants("old", 3)).toHaveLength(1);
      // Only the storage budget shrinks: SQLite evicts "old" (least recently used), memory must follow.
      store.setBudgets(64 * MiB, 15_000);
      expect(store.variants("old", 4)).toEqual([]);
      expect(store.variants("new", 4)).toHaveLength(1);
      expect(store.sweep(storedMeta("new").expireAt).deleted).toBe(1);
      expect(store.variants("new", 5)).toEqual([]);
      expect(store.memoryEvictions).toBe(0);
    });
  });

  it("still answers from SQLite what memory evicted", async () => {
    await inFreshObject((sql) => {
      const store = new ShardStore(sql, { memoryBytes: 15_000, storageBytes: 64 * MiB });
      put(store, "a", 10_000, 1);
      put(store, "b", 10_000, 2);
      expect(store.memoryEvictions).toBe(1);
      expect(store.variants("a", 3)).toHaveLength(1);
      expect(store.evictions.storageEvictions).toBe(0);
      expect(store.objectCount()).toBe(2);
    });
  });
});

describe("SqliteObjectStore over a database of the first schema", () => {
  it("adds row_bytes and used_at, accounts the old rows, and reads them", async () => {
    await inFreshObject((sql) => {
      sql.exec("DROP TABLE entries; DROP TABLE chunks; DROP TABLE tags;");
      // The tables as the first release created them (docs/storage-schema.md), with one stored object.
      sql.exec(`CREATE TABLE entries (key TEXT NOT NULL, variant TEXT NOT NULL, meta TEXT NOT NULL, body_bytes INTEGER NOT NULL,
        chunk_count INTEGER NOT NULL, stored_at INTEGER NOT NULL, sweep_at INTEGER NOT NULL, PRIMARY KEY (key, variant));
        CREATE TABLE chunks (key TEXT NOT NULL, variant TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, variant, seq));
        CREATE TABLE tags (tag TEXT NOT NULL, key TEXT NOT NULL, variant TEXT NOT NULL, PRIMARY KEY (tag, key, variant));`);
      const meta = storedMeta("old", { bodyBytes: 5, tags: ["t"] });
      sql.exec("INSERT INTO entries VALUES (?, '', ?, 5, 1, ?, ?)", "old", JSON.stringify(meta), meta.responseTime, meta.expireAt);
      sql.exec("INSERT INTO chunks VALUES ('old', '', 0, ?)", new Uint8Array([1, 2, 3, 4, 5]));
      sql.exec("INSERT INTO tags VALUES ('t', 'old', '')");
      const store = new SqliteObjectStore(sql, { budgetBytes: MiB });
      expect(store.storedBytes()).toBeGreaterThan(5);
      expect(store.storedBytes()).toBe(sql.exec<{ total: number }>("SELECT SUM(row_bytes) AS total FROM entries").one().total);
      const [object] = store.variants("old", meta.responseTime);
      expect(object!.meta).toEqual(meta);
      expect([...object!.body.raw!]).toEqual([1, 2, 3, 4, 5]);
      expect(store.purge({ tag: "t" }, false)).toBe(1);
      expect(store.storedBytes()).toBe(0);
    });
  });
});
