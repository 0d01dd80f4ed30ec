/** One-resource edits of a raw config document: a node's state, a rule added or removed by name. */
import { describe, expect, it } from "vitest";
import { addRule, removeRule, setNodeState } from "../../../src/config/edit";

const doc = { settings: { trace: true }, pools: { web: { nodes: [{ url: "https://a.example" }, { url: "https://b.example", state: "draining" }] } }, rules: [{ name: "a" }, { name: "b" }] };

describe("setNodeState", () => {
  it("sets one node's state by URL or index and leaves everything else as written", () => {
    const byUrl = setNodeState(doc, "web", "https://a.example", "disabled");
    expect(byUrl).toEqual({ ok: true, value: { doc: { ...doc, pools: { web: { nodes: [{ url: "https://a.example", state: "disabled" }, doc.pools.web.nodes[1]] } } }, url: "https://a.example", was: "active" } });
    const byIndex = setNodeState(doc, "web", "1", "active");
    expect(byIndex.ok && byIndex.value.was).toBe("draining");
    expect(doc.pools.web.nodes[0]).toEqual({ url: "https://a.example" }); // input untouched
  });

  it.each([
    ["unknown pool", { doc, pool: "api", node: "0" }, 404, /no pool "api" \(pools: web\)/],
    ["unknown node", { doc, pool: "web", node: "https://c.example" }, 404, /has no node https:\/\/c\.example \(nodes: 0=https:\/\/a\.example, 1=https:\/\/b\.example\)/],
    ["index out of range", { doc, pool: "web", node: "2" }, 404, /has no node 2/],
    ["no pools at all", { doc: {}, pool: "web", node: "0" }, 404, /pools: none/],
    ["already in that state", { doc, pool: "web", node: "1", state: "draining" as const }, 409, /already draining/],
    ["not an object", { doc: [], pool: "web", node: "0" }, 409, /not a JSON object/],
  ])("refuses %s", (_name, c, status, message) => {
    const result = setNodeState(c.doc, c.pool, c.node, "state" in c ? c.state : "disabled");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.status).toBe(status);
      expect(result.error.message).toMatch(message);
    }
  });
});

describe("addRule / removeRule", () => {
  it("adds a named rule last or at a position, and removes one by name", () => {
    const last = addRule(doc, { name: "c" });
    expect(last.ok && last.value.doc.rules).toEqual([{ name: "a" }, { name: "b" }, { name: "c" }]);
    const first = addRule(doc, { name: "c" }, 0);
    expect(first.ok && first.value.doc.rules).toEqual([{ name: "c" }, { name: "a" }, { name: "b" }]);
    const empty = addRule({}, { name: "c" });
    expect(empty.ok && empty.value.doc.rules).toEqual([{ name: "c" }]);
    const removed = removeRule(doc, "a");
    expect(removed).toEqual({ ok: true, value: { doc: { ...doc, rules: [{ name: "b" }] }, position: 0 } });
  });

  it("refuses an unnamed or duplicate rule, a bad position, and an unknown name", () => {
    const status = (r: { ok: boolean; error?: { status: number } }) => (r.ok ? 200 : r.error!.status);
    expect(status(addRule(doc, { match: {} }))).toBe(400);
    expect(status(addRule(doc, { name: "a" }))).toBe(409);
    expect(status(addRule(doc, { name: "c" }, 3))).toBe(400);
    expect(status(addRule(doc, { name: "c" }, 1.5))).toBe(400);
    expect(status(addRule({ rules: {} }, { name: "c" }))).toBe(409);
    expect(status(removeRule(doc, "zzz"))).toBe(404);
  });
});
