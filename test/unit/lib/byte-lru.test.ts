import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ByteLru } from "../../../src/lib/byte-lru";

describe("ByteLru", () => {
  it("evicts the least recently used entry when over budget", () => {
    const lru = new ByteLru<string, string>(10);
    lru.set("a", "A", 4);
    lru.set("b", "B", 4);
    lru.get("a");
    lru.set("c", "C", 4);
    expect(lru.peek("b")).toBeUndefined();
    expect(lru.peek("a")).toBe("A");
    expect(lru.evictions).toBe(1);
  });

  it("does not keep a value larger than the whole budget", () => {
    const lru = new ByteLru<string, string>(10);
    lru.set("big", "x", 11);
    expect(lru.size).toBe(0);
  });

  it("keeps exactly the recency order of re-insert-on-use, for any sequence of operations (a hit on the newest entry skips the re-insert)", () => {
    type Op = { op: "get" | "set" | "delete" | "replace"; key: number; size: number } | { op: "resize"; size: number } | { op: "clear" };
    // Few keys and long runs, mostly gets and sets: the orders where skipping a re-insert could go wrong.
    const key = fc.integer({ min: 0, max: 3 });
    const size = fc.integer({ min: 0, max: 12 });
    const ops = fc.array(
      fc.oneof(
        { arbitrary: fc.record({ op: fc.constantFrom("get", "get", "set", "set", "delete", "replace"), key, size }) as fc.Arbitrary<Op>, weight: 20 },
        { arbitrary: fc.record({ op: fc.constant("resize"), size: fc.integer({ min: 0, max: 40 }) }) as fc.Arbitrary<Op>, weight: 1 },
        { arbitrary: fc.constant({ op: "clear" } as Op), weight: 1 },
      ),
      { minLength: 10, maxLength: 80 },
    );
    fc.assert(
      fc.property(ops, (sequence) => {
        const lru = new ByteLru<number, number>(30);
        // The definition: an array from least to most recently used, re-inserted on every use.
        let model: { key: number; value: number; bytes: number }[] = [];
        let budget = 30;
        const evict = () => {
          while (model.reduce((n, e) => n + e.bytes, 0) > budget) model.shift();
        };
        sequence.forEach((o, i) => {
          if (o.op === "get") {
            const at = model.findIndex((e) => e.key === o.key);
            expect(lru.get(o.key)).toBe(at < 0 ? undefined : model[at]!.value);
            if (at >= 0) model.push(...model.splice(at, 1));
          } else if (o.op === "set") {
            lru.set(o.key, i, o.size);
            model = model.filter((e) => e.key !== o.key);
            if (o.size <= budget) model.push({ key: o.key, value: i, bytes: o.size });
            evict();
          } else if (o.op === "delete") {
            lru.delete(o.key);
            model = model.filter((e) => e.key !== o.key);
          } else if (o.op === "replace") {
            const held = model.find((e) => e.key === o.key);
            expect(lru.replace(o.key, i, o.size)).toBe(held !== undefined);
            if (held !== undefined) Object.assign(held, { value: i, bytes: o.size });
            evict();
          } else if (o.op === "resize") {
            lru.resize(o.size);
            budget = o.size;
            evict();
          } else {
            lru.clear();
            model = [];
          }
          expect([...lru.keys()]).toEqual(model.map((e) => e.key));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("never holds more bytes than its budget", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 40 }))), fc.integer({ min: 0, max: 100 }), (ops, budget) => {
        const lru = new ByteLru<number, number>(budget);
        for (const [key, size] of ops) lru.set(key, key, size);
        let sum = 0;
        for (const _key of lru.keys()) sum += 1;
        return lru.bytes <= budget && sum === lru.size;
      }),
    );
  });

  it("tells onEvict of every entry dropped for the budget, not of deletes or of a value refused for its size", () => {
    const evicted: [string, string, number][] = [];
    const lru = new ByteLru<string, string>(10, (key, value, bytes) => evicted.push([key, value, bytes]));
    lru.set("a", "A", 4);
    lru.set("b", "B", 4);
    lru.delete("b");
    lru.set("big", "X", 11);
    lru.set("c", "C", 4);
    lru.set("d", "D", 4);
    lru.resize(4);
    expect(evicted).toEqual([
      ["a", "A", 4],
      ["c", "C", 4],
    ]);
    expect(lru.budgetBytes).toBe(4);
  });

  it("replace changes a held value and its size in place, without making it more recently used", () => {
    const lru = new ByteLru<string, string>(10);
    lru.set("a", "A", 4);
    lru.set("b", "B", 4);
    expect(lru.replace("a", "A2", 5)).toBe(true);
    expect(lru.bytes).toBe(9);
    expect(lru.replace("missing", "M", 1)).toBe(false);
    expect(lru.peek("missing")).toBeUndefined();
    lru.set("c", "C", 1);
    // "a" is still the least recently used: the next entry over budget evicts it, not "b".
    lru.set("d", "D", 1);
    expect(lru.peek("a")).toBeUndefined();
    expect(lru.peek("b")).toBe("B");
  });
});
