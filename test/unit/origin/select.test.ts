/** Load-balancing algorithms: distributions, tie-breaks, eligibility and exclusion over node snapshots. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { lbAlgorithms, type LbAlgorithm } from "../../../src/config/pools";
import { createSelector, ewma, isEligible, nodeForClient, nodeToken, pinnedNode, priorityCandidates, type NodeView } from "../../../src/origin/select";
import { seededRandom as seeded } from "../../../src/lib/seeded-random";

const node = (id: string, over: Partial<NodeView> = {}): NodeView => ({
  id,
  weight: 1,
  state: "active",
  healthy: true,
  activeConnections: 0,
  ewmaResponseMs: null,
  ...over,
});

function counts(algorithm: LbAlgorithm, nodes: NodeView[], picks: number, random = seeded(42)): Map<string, number> {
  const selector = createSelector(algorithm, random);
  const tally = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const id = selector.pick(nodes)?.id ?? "null";
    tally.set(id, (tally.get(id) ?? 0) + 1);
  }
  return tally;
}

const sequence = (algorithm: LbAlgorithm, nodes: NodeView[], n: number) => {
  const selector = createSelector(algorithm, seeded(1));
  return Array.from({ length: n }, () => selector.pick(nodes)?.id ?? null);
};

describe("round robin", () => {
  it("rotates through the nodes in order", () => {
    expect(sequence("round-robin", [node("a"), node("b"), node("c")], 7)).toEqual(["a", "b", "c", "a", "b", "c", "a"]);
  });

  it("spreads picks evenly and ignores weights", () => {
    const tally = counts("round-robin", [node("a", { weight: 5 }), node("b"), node("c")], 9000);
    expect([...tally.values()]).toEqual([3000, 3000, 3000]);
  });

  it("keeps rotating fairly when a node leaves the snapshot", () => {
    const selector = createSelector("round-robin", seeded(1));
    const all = [node("a"), node("b"), node("c")];
    expect(selector.pick(all)?.id).toBe("a");
    expect(selector.pick(all)?.id).toBe("b");
    expect(selector.pick([all[0]!, all[2]!])?.id).toBe("c");
    expect(selector.pick([all[0]!, all[2]!])?.id).toBe("a");
  });
});

describe("weighted round robin", () => {
  it("interleaves picks the nginx way", () => {
    const nodes = [node("a", { weight: 5 }), node("b"), node("c")];
    expect(sequence("weighted-round-robin", nodes, 7)).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
  });

  it("respects weights exactly over every cycle and within 5% over 10,000 picks", () => {
    const nodes = [node("a", { weight: 5 }), node("b", { weight: 3 }), node("c", { weight: 2 })];
    const cycle = counts("weighted-round-robin", nodes, 10);
    expect(Object.fromEntries(cycle)).toEqual({ a: 5, b: 3, c: 2 });
    const tally = counts("weighted-round-robin", nodes, 10_000);
    for (const [id, share] of [
      ["a", 0.5],
      ["b", 0.3],
      ["c", 0.2],
    ] as const) {
      expect(Math.abs(tally.get(id)! / 10_000 - share)).toBeLessThan(share * 0.05);
    }
  });
});

describe("random", () => {
  it("follows weights within 5% over 10,000 picks", () => {
    const tally = counts("random", [node("a", { weight: 2 }), node("b", { weight: 5 }), node("c", { weight: 3 })], 10_000);
    for (const [id, share] of [
      ["a", 0.2],
      ["b", 0.5],
      ["c", 0.3],
    ] as const) {
      expect(Math.abs(tally.get(id)! / 10_000 - share)).toBeLessThan(share * 0.05);
    }
  });

  it("maps the random number onto cumulative weights and clamps a misbehaving source", () => {
    const nodes = [node("a", { weight: 2 }), node("b", { weight: 6 })];
    const pickWith = (r: number) => createSelector("random", () => r).pick(nodes)?.id;
    expect(pickWith(0)).toBe("a");
    expect(pickWith(0.24)).toBe("a");
    expect(pickWith(0.26)).toBe("b");
    expect(pickWith(1)).toBe("b");
    expect(pickWith(Number.NaN)).toBe("a");
    expect(pickWith(-3)).toBe("a");
  });
});

describe("least connections", () => {
  it("prefers the idle node", () => {
    const nodes = [node("a", { activeConnections: 4 }), node("b", { activeConnections: 0 }), node("c", { activeConnections: 2 })];
    expect(sequence("least-connections", nodes, 3)).toEqual(["b", "b", "b"]);
  });

  it("breaks ties by weight, then by rotation", () => {
    const heavier = [node("a", { activeConnections: 1 }), node("b", { activeConnections: 1, weight: 2 })];
    expect(sequence("least-connections", heavier, 2)).toEqual(["b", "b"]);
    const equal = [node("a", { activeConnections: 1 }), node("b", { activeConnections: 1 }), node("c", { activeConnections: 3 })];
    expect(sequence("least-connections", equal, 4)).toEqual(["a", "b", "a", "b"]);
  });
});

describe("fastest response time", () => {
  it("prefers the lowest EWMA", () => {
    const nodes = [node("a", { ewmaResponseMs: 80 }), node("b", { ewmaResponseMs: 20 }), node("c", { ewmaResponseMs: 50 })];
    expect(sequence("fastest-response-time", nodes, 3)).toEqual(["b", "b", "b"]);
  });

  it("tries nodes without a sample first, in rotation", () => {
    const nodes = [node("a", { ewmaResponseMs: 5 }), node("b"), node("c")];
    expect(sequence("fastest-response-time", nodes, 4)).toEqual(["b", "c", "b", "c"]);
  });
});

describe("every algorithm", () => {
  it.each(lbAlgorithms)("%s never picks draining, disabled or unhealthy nodes", (algorithm) => {
    const nodes = [
      node("draining", { state: "draining", activeConnections: -1, ewmaResponseMs: 0, weight: 100 }),
      node("disabled", { state: "disabled", ewmaResponseMs: 0, weight: 100 }),
      node("sick", { healthy: false, ewmaResponseMs: 0, weight: 100 }),
      node("ok", { activeConnections: 50, ewmaResponseMs: 900 }),
    ];
    expect([...counts(algorithm, nodes, 200).keys()]).toEqual(["ok"]);
  });

  it.each(lbAlgorithms)("%s honours exclude, so a retry goes to another node", (algorithm) => {
    const selector = createSelector(algorithm, seeded(7));
    const nodes = [node("a", { weight: 9, ewmaResponseMs: 1 }), node("b", { activeConnections: 3, ewmaResponseMs: 100 })];
    for (let i = 0; i < 50; i++) expect(selector.pick(nodes, new Set(["a"]))?.id).toBe("b");
    expect(selector.pick(nodes, new Set(["a", "b"]))).toBeNull();
  });

  it.each(lbAlgorithms)("%s returns null when every node is down", (algorithm) => {
    const selector = createSelector(algorithm, seeded(7));
    expect(selector.pick([node("a", { healthy: false }), node("b", { healthy: false })])).toBeNull();
    expect(selector.pick([])).toBeNull();
  });

  it("never returns an ineligible node, and returns null only when none is eligible (property)", () => {
    const nodeArb = fc.record({
      id: fc.constantFrom<string>("a", "b", "c", "d", "e"),
      weight: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.double({ min: 0.01, max: 10, noNaN: true })),
      state: fc.constantFrom("active", "draining", "disabled") as fc.Arbitrary<NodeView["state"]>,
      healthy: fc.boolean(),
      activeConnections: fc.nat(20),
      ewmaResponseMs: fc.option(fc.double({ min: 0, max: 1000, noNaN: true })),
    });
    const snapshot: fc.Arbitrary<NodeView[]> = fc.uniqueArray(nodeArb, { selector: (n) => n.id, maxLength: 5 });
    fc.assert(
      fc.property(fc.constantFrom(...lbAlgorithms), fc.array(fc.tuple(snapshot, fc.subarray(["a", "b", "c", "d", "e"])), { minLength: 1, maxLength: 20 }), fc.integer(), (algorithm, rounds, seed) => {
        const selector = createSelector(algorithm, seeded(seed));
        for (const [nodes, excluded] of rounds) {
          const exclude = new Set(excluded);
          const picked = selector.pick(nodes, exclude);
          const anyEligible = nodes.some((n) => isEligible(n, exclude));
          if (picked === null ? anyEligible : !nodes.includes(picked) || !isEligible(picked, exclude)) return false;
        }
        return true;
      }),
    );
  });
});

describe("ewma", () => {
  it("starts at the first sample and then moves by alpha towards each new one", () => {
    expect(ewma(null, 120)).toBe(120);
    expect(ewma(100, 200)).toBeCloseTo(130);
    expect(ewma(100, 200, 0.5)).toBe(150);
    expect(ewma(100, -5)).toBeCloseTo(70);
  });

  it("refuses an alpha outside (0, 1] and a non-finite sample", () => {
    expect(() => ewma(1, 1, 0)).toThrow(RangeError);
    expect(() => ewma(1, 1, 1.5)).toThrow(RangeError);
    expect(() => ewma(1, Number.NaN)).toThrow(RangeError);
  });
});

describe("priority groups and session persistence", () => {
  const n = (id: string, priority: number, extra: Partial<NodeView> = {}): NodeView => ({ id, weight: 1, state: "active", healthy: true, activeConnections: 0, ewmaResponseMs: null, priority, ...extra });

  it("uses only the highest priority group that works, adding lower groups until minNodes are in", () => {
    const nodes = [n("a", 3), n("b", 3), n("c", 2), n("d", 1)];
    expect(priorityCandidates(nodes, 1).map((x) => x.id)).toEqual(["a", "b"]);
    expect(priorityCandidates(nodes, 3).map((x) => x.id)).toEqual(["a", "b", "c"]);
    expect(priorityCandidates(nodes, 10).map((x) => x.id)).toEqual(["a", "b", "c", "d"]);
    const topDown = [n("a", 3, { healthy: false }), n("b", 3, { state: "draining" }), n("c", 2), n("d", 1)];
    expect(priorityCandidates(topDown, 1).map((x) => x.id)).toEqual(["c"]);
    expect(priorityCandidates(nodes, 1, new Set(["a", "b"])).map((x) => x.id)).toEqual(["c"]);
    expect(priorityCandidates([n("a", 1, { healthy: false })], 1)).toEqual([]);
  });

  it("a session token names a working node without revealing it; unknown, huge or stale tokens name none", () => {
    const nodes = [n("http://10.0.0.1", 1), n("http://10.0.0.2", 1, { healthy: false })];
    const token = nodeToken("http://10.0.0.1");
    expect(token).toMatch(/^[0-9a-z]{2,14}$/);
    expect(pinnedNode(nodes, token)?.id).toBe("http://10.0.0.1");
    expect(pinnedNode(nodes, nodeToken("http://10.0.0.2"))).toBeNull(); // its node is down
    for (const hostile of [null, "", "http://10.0.0.1", token + "x", "x".repeat(10_000)]) expect(pinnedNode(nodes, hostile)).toBeNull();
  });

  it("client-ip persistence: removing a node moves only that node's clients", () => {
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 3 }), (ips, gone) => {
        const all = ["a", "b", "c", "d"].map((id) => n(id, 1));
        const fewer = all.filter((_, i) => i !== gone);
        for (const ip of ips) {
          const before = nodeForClient(all, ip)!;
          const after = nodeForClient(fewer, ip)!;
          if (before.id !== all[gone]!.id) expect(after.id).toBe(before.id);
        }
      }),
    );
    expect(nodeForClient([], "1.2.3.4")).toBeNull();
  });
});
