/**
 * The ObjectStore contract (durable/object-store.ts) as one suite: `objectStoreContract(harness)` registers
 * its tests in the calling `describe`, against the stores `harness.open` makes. test/workers/object-store.test.ts
 * runs it for the memory store, the SQLite store and the shard's composition of the two. Every instant
 * is given (`now`), so nothing here waits.
 */
import { expect, it } from "vitest";
import type { ObjectStore, StoredObject } from "../../durable/object-store";
import { softPurgedMeta } from "../../durable/shard-purge";
import { CHUNK_BYTES, TOUCH_INTERVAL_MS } from "../../durable/sqlite-object-store";
import type { StoredMeta } from "../../src/rfc9111/types";
import { storedMeta, T0 } from "./stored-meta";

export interface StoreUnderTest {
  /** A new, empty store. */
  store: ObjectStore;
  /**
   * Writes `text` over the stored record of `key`'s `variant` and returns a store reading it as after a
   * restart. Absent for a store that holds its records decoded (there is no text to damage).
   */
  corrupt?: (row: { key: string; variant: string }, text: string) => ObjectStore;
}

export interface StoreHarness {
  /** Makes a new, empty store with `budgetBytes`, runs `test` against it, and cleans up. */
  open(budgetBytes: number, test: (under: StoreUnderTest) => void | Promise<void>): Promise<void>;
  /** Whether the store keeps records as text (so `corrupt` is given and the garbage test runs). */
  keepsText: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const LARGE = 64 * MiB;

/** `length` bytes that differ with `seed`, so a body from the wrong variant or chunk order shows. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 20)) & 255;
  return out;
}

async function bodyOf(object: StoredObject | undefined): Promise<Uint8Array> {
  if (object === undefined) throw new Error("no such variant");
  return new Uint8Array(await new Response(object.body.stream()).arrayBuffer());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Stores a `size`-byte body under `key` (variant and record fields from `over`), at `now`. */
function putBody(store: ObjectStore, key: string, size: number, over: Partial<StoredMeta> & { at?: number; lifetimeSeconds?: number; now?: number; maxVariants?: number } = {}): boolean {
  const { now = over.at ?? T0, maxVariants = 4, ...fields } = over;
  const meta = storedMeta(key, { ...fields, bodyBytes: size });
  return store.put(key, { meta, chunks: [bytes(size, key.length + meta.variantKey.length)] }, { maxVariants, now });
}

const variantKeys = (store: ObjectStore, key: string, now = T0) => store.variants(key, now).map((o) => o.meta.variantKey);

/**
 * What one `size`-byte body under a 2-character key costs against the budget in this store: the
 * budget tests are written in these units, so they hold for any store's accounting.
 */
function unitCost(store: ObjectStore, size: number): number {
  const before = store.storedBytes();
  putBody(store, "zz", size);
  const cost = store.storedBytes() - before;
  store.delete("zz");
  return cost;
}

export function objectStoreContract(harness: StoreHarness): void {
  it("returns the record and the body it was given, a body of several chunks included", async () => {
    await harness.open(LARGE, async ({ store }) => {
      const size = 2 * CHUNK_BYTES + 123;
      const meta = storedMeta("big", { bodyBytes: size, etag: '"v1"', tags: ["t"] });
      const body = bytes(size, 5);
      const half = CHUNK_BYTES + 7;
      expect(store.put("big", { meta, chunks: [body.subarray(0, half), body.subarray(half)] }, { maxVariants: 4, now: T0 })).toBe(true);
      const [object, ...more] = store.variants("big", T0 + 1);
      expect(more).toHaveLength(0);
      expect(object!.meta).toEqual(meta);
      expect(object!.body.bytes).toBe(size);
      expect(sameBytes(await bodyOf(object), body)).toBe(true);
      expect(store.variants("other", T0)).toEqual([]);
      expect(store.objectCount()).toBe(1);
      expect(store.storedBytes()).toBeGreaterThan(size);
    });
  });

  it("keeps each Vary variant, newest stored first, and replaces a variant stored again", async () => {
    await harness.open(LARGE, async ({ store }) => {
      putBody(store, "k", 100, { variantKey: "gzip", at: T0 });
      putBody(store, "k", 200, { variantKey: "br", at: T0 + 1 });
      expect(variantKeys(store, "k")).toEqual(["br", "gzip"]);
      putBody(store, "k", 300, { variantKey: "gzip", at: T0 + 2 });
      const variants = store.variants("k", T0 + 3);
      expect(variants.map((o) => [o.meta.variantKey, o.meta.bodyBytes])).toEqual([
        ["gzip", 300],
        ["br", 200],
      ]);
      expect((await bodyOf(variants[0])).byteLength).toBe(300);
      expect(store.objectCount()).toBe(2);
    });
  });

  it("keeps at most maxVariants per key, dropping the oldest stored", async () => {
    await harness.open(LARGE, ({ store }) => {
      for (const [i, variant] of ["a", "b", "c"].entries()) putBody(store, "k", 10, { variantKey: variant, at: T0 + i, maxVariants: 2 });
      expect(variantKeys(store, "k", T0 + 5)).toEqual(["c", "b"]);
      expect(store.objectCount()).toBe(2);
    });
  });

  it("updateMeta replaces the record and keeps the body; a variant not stored stays absent", async () => {
    await harness.open(LARGE, async ({ store }) => {
      putBody(store, "k", 50, { variantKey: "x" });
      const [before] = store.variants("k", T0);
      const revalidated = { ...before!.meta, etag: '"v2"', staleAt: T0 + 120_000, expireAt: T0 + 120_000, headers: [...before!.meta.headers, ["x-extra", "1"]] as [string, string][] };
      store.updateMeta("k", revalidated);
      const [after] = store.variants("k", T0 + 1);
      expect(after!.meta).toEqual(revalidated);
      expect(sameBytes(await bodyOf(after), await bodyOf(before))).toBe(true);
      store.updateMeta("k", { ...revalidated, variantKey: "y" });
      store.updateMeta("missing", storedMeta("missing"));
      expect(variantKeys(store, "k", T0 + 2)).toEqual(["x"]);
      expect(store.variants("missing", T0)).toEqual([]);
      expect(store.objectCount()).toBe(1);
    });
  });

  it("delete removes every variant of its key and nothing else", async () => {
    await harness.open(LARGE, ({ store }) => {
      putBody(store, "k", 10, { variantKey: "a" });
      putBody(store, "k", 10, { variantKey: "b", at: T0 + 1 });
      putBody(store, "other", 10);
      expect(store.delete("k")).toBe(2);
      expect(store.variants("k", T0)).toEqual([]);
      expect(store.delete("k")).toBe(0);
      expect(variantKeys(store, "other")).toEqual([""]);
      expect(store.objectCount()).toBe(1);
    });
  });

  it("a hard purge deletes what its target selects: keys, a prefix, a tag, everything", async () => {
    await harness.open(LARGE, ({ store }) => {
      putBody(store, "/a/1", 10, { tags: ["red"] });
      putBody(store, "/a/2", 10, { variantKey: "v", tags: ["blue"] });
      putBody(store, "/a/2", 10, { variantKey: "w", at: T0 + 1 });
      putBody(store, "/b/1", 10, { tags: ["red", "blue"] });
      putBody(store, "/c/1", 10);
      expect(store.purge({ keys: ["/c/1", "/none"] }, false)).toBe(1);
      expect(store.variants("/c/1", T0)).toEqual([]);
      expect(store.purge({ tag: "blue" }, false)).toBe(2);
      expect(variantKeys(store, "/a/2")).toEqual(["w"]);
      expect(store.variants("/b/1", T0)).toEqual([]);
      putBody(store, "/a", 10);
      putBody(store, "/b/2", 10);
      expect(store.purge({ prefix: "/a/" }, false)).toBe(2);
      expect(store.variants("/a/1", T0)).toEqual([]);
      expect(variantKeys(store, "/a")).toEqual([""]);
      expect(variantKeys(store, "/b/2")).toEqual([""]);
      expect(store.purge({ keys: ["/a", "/b/2"] }, false)).toBe(2);
      expect(store.objectCount()).toBe(0);
      putBody(store, "/d/1", 10);
      putBody(store, "/d/2", 10);
      expect(store.purge({ all: true }, false)).toBe(2);
      expect(store.objectCount()).toBe(0);
      expect(store.storedBytes()).toBe(0);
    });
  });

  it("a soft purge keeps the variants it selects, stale at once, with their bodies", async () => {
    await harness.open(LARGE, async ({ store }) => {
      putBody(store, "k", 40, { tags: ["t"], etag: '"e"', lifetimeSeconds: 3600, staleIfErrorUntil: T0 + 7200_000, expireAt: T0 + 7200_000 });
      putBody(store, "untagged", 40, { lifetimeSeconds: 3600 });
      const [before] = store.variants("k", T0);
      expect(store.purge({ tag: "t" }, true)).toBe(1);
      const [after] = store.variants("k", T0 + 1);
      expect(after!.meta).toEqual(softPurgedMeta(before!.meta));
      expect(after!.meta.staleAt).toBeLessThanOrEqual(T0);
      expect(sameBytes(await bodyOf(after), await bodyOf(before))).toBe(true);
      expect(store.variants("untagged", T0)[0]!.meta.staleAt).toBe(T0 + 3600_000);
      expect(store.purge({ all: true }, true)).toBe(2);
      expect(store.objectCount()).toBe(2);
    });
  });

  it("sweep deletes what nothing can use, keeping validators a day and grace as set, and names the next sweep", async () => {
    await harness.open(LARGE, ({ store }) => {
      putBody(store, "done", 10, { lifetimeSeconds: 60 });
      putBody(store, "validator", 10, { lifetimeSeconds: 60, etag: '"e"' });
      putBody(store, "fresh", 10, { lifetimeSeconds: 600 });
      expect(store.sweep(T0 + 59_000)).toEqual({ deleted: 0, next: T0 + 60_000 });
      expect(store.sweep(T0 + 60_000)).toEqual({ deleted: 1, next: T0 + 600_000 });
      expect(store.variants("done", T0)).toEqual([]);
      expect(store.sweep(T0 + 600_000)).toEqual({ deleted: 1, next: T0 + 60_000 + 24 * 3600_000 });
      expect(variantKeys(store, "validator")).toEqual([""]);
      expect(store.sweep(T0 + 60_000 + 24 * 3600_000)).toEqual({ deleted: 1, next: null });
      store.setGraceSeconds(120);
      putBody(store, "graced", 10, { lifetimeSeconds: 60 });
      expect(store.sweep(T0 + 179_999).deleted).toBe(0);
      expect(store.sweep(T0 + 180_000).deleted).toBe(1);
      expect(store.objectCount()).toBe(0);
    });
  });

  it("sweep deletes at most `limit` at a time and then says more is due", async () => {
    await harness.open(LARGE, ({ store }) => {
      for (const key of ["k1", "k2", "k3"]) putBody(store, key, 10, { lifetimeSeconds: 1 });
      const first = store.sweep(T0 + 5000, 2);
      expect(first.deleted).toBe(2);
      expect(first.next).toBeLessThanOrEqual(T0 + 5000);
      expect(store.sweep(T0 + 5000, 2)).toEqual({ deleted: 1, next: null });
    });
  });

  it("never holds more than its budget, evicting the least recently stored first", async () => {
    await harness.open(LARGE, ({ store }) => {
      const size = 20 * KiB;
      const cost = unitCost(store, size);
      const budget = Math.floor(3.5 * cost);
      store.setBudget(budget);
      expect(store.budgetBytes).toBe(budget);
      const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
      for (const [i, key] of keys.entries()) {
        expect(putBody(store, key, size, { now: T0 + i })).toBe(true);
        expect(store.storedBytes()).toBeLessThanOrEqual(budget);
      }
      expect(store.objectCount()).toBe(3);
      expect(store.counts.evictions).toBe(5);
      expect(store.counts.evictedBytes).toBe(5 * cost);
      expect(keys.filter((key) => store.variants(key, T0 + 10).length > 0)).toEqual(["k5", "k6", "k7"]);
    });
  });

  it("evicts the idle key and keeps the one read again (reads count at the touch interval)", async () => {
    await harness.open(LARGE, ({ store }) => {
      const cost = unitCost(store, 20 * KiB);
      store.setBudget(Math.floor(3.5 * cost));
      putBody(store, "ka", 20 * KiB, { now: T0 });
      putBody(store, "kb", 20 * KiB, { now: T0 + 1 });
      putBody(store, "kc", 20 * KiB, { now: T0 + 2 });
      const later = T0 + TOUCH_INTERVAL_MS + 10;
      expect(store.variants("ka", later)).toHaveLength(1);
      putBody(store, "kd", 20 * KiB, { now: later + 1 });
      expect(store.variants("kb", later + 2)).toEqual([]);
      for (const key of ["ka", "kc", "kd"]) expect(store.variants(key, later + 2)).toHaveLength(1);
      expect(store.counts.evictions).toBe(1);
    });
  });

  it("refuses a variant larger than the whole budget, keeping what it had", async () => {
    await harness.open(LARGE, async ({ store }) => {
      const cost = unitCost(store, 20 * KiB);
      const budget = Math.floor(3.5 * cost);
      store.setBudget(budget);
      putBody(store, "ka", 20 * KiB);
      putBody(store, "kb", 20 * KiB);
      const stored = store.storedBytes();
      expect(putBody(store, "ka", budget)).toBe(false);
      expect(store.counts.refusals).toBe(1);
      expect(store.counts.evictions).toBe(0);
      expect(store.storedBytes()).toBe(stored);
      expect((await bodyOf(store.variants("ka", T0)[0])).byteLength).toBe(20 * KiB);
      expect(store.variants("kb", T0)).toHaveLength(1);
    });
  });

  it("a smaller budget evicts at once, least recently used first", async () => {
    await harness.open(LARGE, ({ store }) => {
      const cost = unitCost(store, 10 * KiB);
      for (const [i, key] of ["ka", "kb", "kc", "kd"].entries()) putBody(store, key, 10 * KiB, { now: T0 + i });
      store.setBudget(Math.floor(2.5 * cost));
      expect(store.storedBytes()).toBeLessThanOrEqual(Math.floor(2.5 * cost));
      expect(store.counts.evictions).toBe(2);
      expect(store.variants("ka", T0 + 10)).toEqual([]);
      expect(store.variants("kd", T0 + 10)).toHaveLength(1);
    });
  });

  it("stays within the budget when one key's variants alone pass it, keeping the one just stored", async () => {
    await harness.open(LARGE, ({ store }) => {
      const cost = unitCost(store, 20 * KiB);
      const budget = Math.floor(2.5 * cost);
      store.setBudget(budget);
      for (const [i, variant] of ["a", "b", "c"].entries()) {
        expect(putBody(store, "kk", 20 * KiB, { variantKey: variant, at: T0 + i, maxVariants: 10 })).toBe(true);
        expect(store.storedBytes()).toBeLessThanOrEqual(budget);
      }
      expect(variantKeys(store, "kk", T0 + 5)).toEqual(["c", "b"]);
      expect(store.counts.evictions).toBe(1);
    });
  });

  // A store that holds its records decoded (the memory store) has no stored text to damage.
  it.skipIf(!harness.keepsText)("reads a record that does not decode as a miss, never a throw, and stores over it", async () => {
    await harness.open(LARGE, async ({ store, corrupt }) => {
      let current = store;
      for (const [i, text] of ["not json", JSON.stringify({ ...storedMeta("k"), v: 2 }), JSON.stringify({ ...storedMeta("k"), headers: [["x-cluster-trace", "forged"]] })].entries()) {
        putBody(current, "k", 30, { variantKey: "g" });
        putBody(current, "k", 30, { variantKey: "h", at: T0 + 1 });
        current = corrupt!({ key: "k", variant: "g" }, text);
        expect(variantKeys(current, "k", T0 + 2), `garbage ${i}`).toEqual(["h"]);
        expect(current.purge({ keys: ["k"] }, true)).toBe(1);
        expect(putBody(current, "k", 30, { variantKey: "g", at: T0 + 3 })).toBe(true);
        expect(variantKeys(current, "k", T0 + 4)).toEqual(["g", "h"]);
        expect((await bodyOf(current.variants("k", T0 + 4)[0])).byteLength).toBe(30);
        current.purge({ all: true }, false);
        expect(current.storedBytes()).toBe(0);
      }
    });
  });
}
