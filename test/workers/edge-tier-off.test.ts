/**
 * An edge that keeps no copies (edgeTtlCapSeconds 0, or a rule's edgeTtl 0) does not look in
 * caches.default on the way to the shard: what it finds there is from an earlier config. The control
 * (same planted copy, the edge tier on) shows the plant is a copy the edge would otherwise serve.
 */
import { describe, expect, it } from "vitest";
import { EdgeTier } from "../../src/edge/edge-tier";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { putConfig } from "../helpers/config";
import { BASE, fetchVia, members } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { storedMeta } from "../helpers/stored-meta";

const PLANTED = new TextEncoder().encode("planted edge copy\n");

/** A valid edge copy of `path` in caches.default, fresh for a minute (through a tier of the test's own, so the worker's memory has none). */
async function plant(path: string): Promise<void> {
  const url = `${BASE}${path}`;
  const now = Date.now();
  const meta = storedMeta(url, { at: now, lifetimeSeconds: 600, bodyBytes: PLANTED.byteLength });
  await new EdgeTier(1_000_000, caches.default).store(defaultCacheKey(new URL(url)), meta, PLANTED, 60, now);
}

describe("the edge tier off: no caches.default lookup", () => {
  it("with edgeTtlCapSeconds > 0 a planted copy answers (the control)", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 60 } });
    const path = uniquePath("edge-on-planted");
    await plant(path);
    const response = await fetchVia(path);
    expect(response.text_).toBe("planted edge copy\n");
    expect(members(response).edge?.params.hit).toBe(true);
    expect(await originCount(path)).toBe(0);
  });

  it("with edgeTtlCapSeconds 0 the request goes to the shard, not to the planted copy", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = uniquePath("edge-off-planted");
    await plant(path);
    const response = await fetchVia(path);
    expect(response.text_).toContain(path);
    expect(members(response).shard).toBeDefined();
    expect(await originCount(path)).toBe(1);
  });

  it("with a rule's edgeTtl 0 the same", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 60 }, rules: [{ name: "no-edge", match: { path: "/edge-rule-off/**" }, actions: { edgeTtl: 0 } }] });
    const path = `/edge-rule-off${uniquePath("x")}`;
    await plant(path);
    const response = await fetchVia(path);
    expect(response.text_).toContain(path);
    expect(members(response).shard).toBeDefined();
  });
});
