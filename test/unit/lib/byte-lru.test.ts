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
});
