/**
 * RFC 9111 §4.3 end to end: a stale entry with a validator is revalidated with a conditional request;
 * a 304 freshens it and updates its stored header fields (§4.3.4, §3.2) on the shard AND in the edge
 * tier's copy; a 200 replaces it (§4.3.3). A cache-key rule that ignores the origin-shaping query
 * parameters lets one entry see different origin answers over time.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

/** One cache entry for every URL under `base`, whatever the origin-shaping parameters say. */
async function keyIgnoring(base: string, params: string[], settings: Record<string, unknown> = {}): Promise<void> {
  await putConfig({ settings: { verbose: true, ...settings }, rules: [{ match: { path: base }, actions: { cacheKey: { query: { exclude: params } } } }] });
}

describe("RFC 9111 §4.3: revalidation", () => {
  it("stale + ETag → conditional request → origin 304 → served with fwd=stale;fwd-status=304, then fresh again", async () => {
    await putConfig({ settings: { verbose: true } });
    // max-age=2: the 304's Date has whole seconds, so the freshened entry may start up to 1 s old; the
    // check right after it must not race the last second of a 1 s lifetime on a loaded machine.
    const path = withQuery(uniquePath("reval"), { cc: "max-age=2", etag: '"v1"' });
    const first = await fetchVia(path);
    await advanceTime(2300);
    const revalidated = await fetchVia(path);
    expect(revalidated.status).toBe(200);
    expect(revalidated.text_).toBe(first.text_);
    expect(members(revalidated).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 304, detail: "revalidated" });
    expect(revalidated.headers.get("x-cache-info")).toBe("cached; revalidated with origin (304)");
    expect(Number(revalidated.headers.get("age"))).toBeLessThanOrEqual(1);
    const fresh = await fetchVia(path);
    expect(isHit(fresh)).toBe(true);
    expect(fresh.text_).toBe(first.text_);
    expect(await originCount(path)).toBe(2);
  });

  it("stale + Last-Modified only → If-Modified-Since; the demo origin has no IMS support and answers 200, which replaces the entry", async () => {
    // max-age=2: the third request must come while the replaced entry is fresh, with room for a loaded machine.
    const path = withQuery(uniquePath("reval-lm"), { cc: "max-age=2", lm: new Date(Date.now() - 86_400_000).toUTCString() });
    const first = await fetchVia(path);
    await advanceTime(2300);
    const second = await fetchVia(path);
    expect(members(second).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 200, stored: true });
    expect(second.text_).not.toBe(first.text_);
    const third = await fetchVia(path);
    expect(isHit(third)).toBe(true);
    expect(third.text_).toBe(second.text_);
  });

  for (const tier of ["edge", "shard"] as const) {
    it(`the 304's header fields update the stored response (${tier} tier): a new X-Version appears afterwards`, async () => {
      const base = uniquePath(`reval-update-${tier}`);
      // With the edge tier off (cap 0) every hit below comes from the shard's own stored copy.
      await keyIgnoring(base, ["h-X-Version", "cc"], tier === "shard" ? { edgeTtlCapSeconds: 0 } : {});
      const v1 = withQuery(base, { cc: "max-age=1", etag: '"u1"', "h-X-Version": "1" });
      // The 304 also brings a longer freshness, so the updated entry is fresh (and kept by the edge) afterwards.
      const v2 = withQuery(base, { cc: "max-age=60", etag: '"u1"', "h-X-Version": "2" });
      const first = await fetchVia(v1);
      expect(first.headers.get("x-version")).toBe("1");
      await advanceTime(1300);
      const revalidated = await fetchVia(v2);
      expect(members(revalidated).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 304 });
      expect(revalidated.headers.get("x-version")).toBe("2");
      expect(revalidated.headers.get("cache-control")).toBe("max-age=60");
      expect(revalidated.text_).toBe(first.text_);
      // Asked with the first URL (same key), the updated fields come back from cache.
      const hit = await fetchVia(v1);
      expect(members(hit)[tier]?.params.hit).toBe(true);
      expect(hit.headers.get("x-version")).toBe("2");
      expect(hit.text_).toBe(first.text_);
      expect(await originCount(v1)).toBe(1);
      expect(await originCount(v2)).toBe(1);
    });
  }

  it("a 304 that brings a shorter freshness is obeyed by the edge copy too (it never outlives freshness)", async () => {
    const base = uniquePath("reval-shorter");
    await keyIgnoring(base, ["cc"]);
    const long = withQuery(base, { cc: "max-age=1", etag: '"s1"' });
    await fetchVia(long);
    await advanceTime(1300);
    // Revalidated: the 304 says max-age=2 now.
    const short = withQuery(base, { cc: "max-age=2", etag: '"s1"' });
    const revalidated = await fetchVia(short);
    expect(members(revalidated).shard?.params["fwd-status"]).toBe(304);
    expect(isHit(await fetchVia(long))).toBe(true);
    await advanceTime(2300);
    const after = await fetchVia(long);
    expect(isHit(after)).toBe(false);
    expect(members(after).shard?.params.fwd).toBe("stale");
  });

  it("a 200 answer to the conditional request replaces the stored entry", async () => {
    const base = uniquePath("reval-replace");
    await keyIgnoring(base, ["etag", "cc"]);
    const old = withQuery(base, { cc: "max-age=1", etag: '"old"' });
    const fresh = withQuery(base, { cc: "max-age=60", etag: '"new"' });
    const first = await fetchVia(old);
    await advanceTime(1300);
    const replaced = await fetchVia(fresh);
    expect(replaced.status).toBe(200);
    expect(members(replaced).shard?.params).toMatchObject({ fwd: "stale", "fwd-status": 200, stored: true });
    expect(replaced.text_).not.toBe(first.text_);
    expect(replaced.headers.get("etag")).toBe('"new"');
    const after = await fetchVia(old);
    expect(isHit(after)).toBe(true);
    expect(after.headers.get("etag")).toBe('"new"');
    expect(after.text_).toBe(replaced.text_);
  });
});
