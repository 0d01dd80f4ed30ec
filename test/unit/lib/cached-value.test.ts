/**
 * The rule CachedValue (src/lib/cached-value.ts) keeps: no caller is handed a promise another caller's
 * load created; only the caller that starts a load awaits it. On workerd that promise's continuations
 * belong to the request that started the load and are cancelled when it ends or is cancelled, so a
 * caller left awaiting it is killed as hung (test/workers/cross-request-loads.test.ts shows it on the
 * runtime). Here each load is a promise the test settles, or never settles (its request was cancelled),
 * and every case asks whether a caller's answer depends on a load some other caller started.
 */
import { describe, expect, it } from "vitest";
import { CachedValue, LOAD_LOST_AFTER_MS, cachedValue } from "../../../src/lib/cached-value";

type Load = { resolve(value: string): void; reject(error: Error): void };

/** A CachedValue whose every load waits for the test: `loads[i]` settles the i-th. */
function harness(ttlMs = 1_000) {
  const loads: Load[] = [];
  const cached = new CachedValue<string>(
    () =>
      new Promise<string>((resolve, reject) => {
        loads.push({ resolve, reject });
      }),
    ttlMs,
  );
  return { cached, loads };
}

/** Whether `promise` has settled once pending callbacks have run (no timers: nothing here waits for time). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
}

/** Loads once at `now` and answers it with `value`. */
async function loadOnce(h: ReturnType<typeof harness>, now: number, value: string): Promise<void> {
  const first = h.cached.get(now);
  h.loads.at(-1)!.resolve(value);
  expect(await first).toBe(value);
}

describe("CachedValue: no caller waits for a load another caller started", () => {
  it("within the period every caller gets the held value, with no load", async () => {
    const h = harness();
    await loadOnce(h, 0, "v1");
    expect(await h.cached.get(999)).toBe("v1");
    expect(h.cached.isFresh(999)).toBe(true);
    expect(h.cached.isFresh(1_000)).toBe(false);
    expect(h.loads).toHaveLength(1);
  });

  it("after the period the caller that starts the refresh awaits it and gets what it read", async () => {
    const h = harness();
    await loadOnce(h, 0, "v1");
    const starter = h.cached.get(1_000);
    expect(h.loads).toHaveLength(2);
    expect(await settled(starter)).toBe(false);
    h.loads[1]!.resolve("v2");
    expect(await starter).toBe("v2");
    expect(await h.cached.get(1_500)).toBe("v2");
  });

  it("callers that arrive while another's refresh is in flight get the held value at once, even if that refresh never settles", async () => {
    const h = harness();
    await loadOnce(h, 0, "v1");
    const starter = h.cached.get(1_000); // its request is then cancelled: load 1 never settles
    const others = [h.cached.get(1_001), h.cached.get(2_000), h.cached.get(1_000 + LOAD_LOST_AFTER_MS - 1)];
    for (const other of others) expect(await settled(other)).toBe(true);
    expect(await Promise.all(others)).toEqual(["v1", "v1", "v1"]);
    expect(h.loads).toHaveLength(2);
    expect(await settled(starter)).toBe(false);
  });

  it("a refresh unsettled for LOAD_LOST_AFTER_MS counts as lost: the next caller loads (and awaits) its own", async () => {
    const h = harness();
    await loadOnce(h, 0, "v1");
    void h.cached.get(1_000); // lost
    const next = h.cached.get(1_000 + LOAD_LOST_AFTER_MS);
    expect(h.loads).toHaveLength(3);
    h.loads[2]!.resolve("v3");
    expect(await next).toBe("v3");
    expect(await h.cached.get(1_000 + LOAD_LOST_AFTER_MS + 1)).toBe("v3");
  });

  it("while nothing has been loaded each caller waits on a load of its own, answered by it alone", async () => {
    const h = harness();
    const first = h.cached.get(0); // never settles (its request was cancelled)
    const second = h.cached.get(1);
    expect(h.loads).toHaveLength(2);
    h.loads[1]!.resolve("mine");
    expect(await second).toBe("mine");
    expect(await settled(first)).toBe(false);
    // Now a value is held: later callers within the period need no load.
    expect(await h.cached.get(2)).toBe("mine");
    expect(h.loads).toHaveLength(2);
  });

  it("a failed load is not held: its caller gets the error, the others the held value, and the next caller loads again", async () => {
    const h = harness();
    await loadOnce(h, 0, "v1");
    const starter = h.cached.get(1_000);
    const other = h.cached.get(1_001);
    h.loads[1]!.reject(new Error("kv down"));
    await expect(starter).rejects.toThrow("kv down");
    expect(await other).toBe("v1");
    const retry = h.cached.get(1_002);
    expect(h.loads).toHaveLength(3);
    h.loads[2]!.resolve("v2");
    expect(await retry).toBe("v2");
  });

  it("a failed first load leaves nothing held: the next caller loads its own", async () => {
    const h = harness();
    const first = h.cached.get(0);
    h.loads[0]!.reject(new Error("kv down"));
    await expect(first).rejects.toThrow("kv down");
    expect(h.cached.held).toBeNull();
    const second = h.cached.get(0);
    expect(h.loads).toHaveLength(2);
    h.loads[1]!.resolve("v1");
    expect(await second).toBe("v1");
  });

  it("of two overlapping loads, the one started last is held, whichever answers last", async () => {
    const h = harness();
    const older = h.cached.get(0);
    const newer = h.cached.get(10);
    h.loads[1]!.resolve("newer");
    h.loads[0]!.resolve("older");
    expect([await older, await newer]).toEqual(["older", "newer"]);
    expect(h.cached.held).toEqual({ value: "newer" });
  });

  it("a local update changes the held value without counting as a load", async () => {
    const h = harness();
    h.cached.update((held) => `${held?.value ?? "none"}+note`);
    expect(h.cached.held).toEqual({ value: "none+note" });
    expect(h.cached.isFresh(0)).toBe(false);
    const first = h.cached.get(0); // nothing loaded yet: this caller loads (and waits for) its own
    expect(h.loads).toHaveLength(1);
    h.loads[0]!.resolve("v1");
    expect(await first).toBe("v1");
    h.cached.update((held) => `${held!.value}+note`);
    expect(await h.cached.get(1)).toBe("v1+note");
  });

  it("a period of 0 holds nothing for anyone: every caller loads its own, concurrent ones included", async () => {
    const h = harness(0);
    await loadOnce(h, 0, "v1");
    const starter = h.cached.get(0);
    const other = h.cached.get(0);
    expect(h.loads).toHaveLength(3);
    h.loads[2]!.resolve("v2");
    expect(await other).toBe("v2");
    expect(await settled(starter)).toBe(false);
  });

  it("cachedValue: the getter over the clock keeps the same rule", async () => {
    let t = 0;
    const loads: Load[] = [];
    const get = cachedValue(
      () => new Promise<string>((resolve, reject) => loads.push({ resolve, reject })),
      2_000,
      () => t,
    );
    const first = get();
    loads[0]!.resolve("s1");
    expect(await first).toBe("s1");
    t = 2_000;
    void get(); // the starter, then cancelled
    const other = get();
    expect(await settled(other)).toBe(true);
    expect(await other).toBe("s1");
  });
});
