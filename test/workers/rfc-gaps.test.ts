/**
 * The RFC 9111 gaps of issue 14, end to end through the worker (edge tier → shard → demo origin):
 * invalid Age values (§5.1), a stale 204 (§4.2), Transfer-Encoding (§3.1), Vary normalisation (§4.1)
 * and If-Modified-Since against a stored response without Last-Modified (RFC 9110 §13.1.3).
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { advanceTime } from "../helpers/clock";
import { fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

describe("RFC 9111 §5.1: an invalid Age does not make a fresh response unusable", () => {
  it.each(["abc", "-7200", "7200.0", "7200abc"])("Age: %s is ignored: stored, then a hit with a small Age", async (age) => {
    const path = withQuery(uniquePath("age-invalid"), { cc: "max-age=3600", "h-age": age });
    const first = await fetchVia(path);
    expect(members(first).shard?.params.stored).toBe(true);
    const again = await fetchVia(path);
    expect(isHit(again)).toBe(true);
    expect(Number(again.headers.get("age"))).toBeLessThan(5);
    expect(await originCount(path)).toBe(1);
  });

  it("Age over two field lines: the first member counts (10 → reused; 7200 first → already expired)", async () => {
    const reused = withQuery(uniquePath("age-two-lines"), { cc: "max-age=3600" }) + "&h-age=10&h-age=7200";
    await fetchVia(reused);
    const hit = await fetchVia(reused);
    expect(isHit(hit)).toBe(true);
    expect(Number(hit.headers.get("age"))).toBeGreaterThanOrEqual(10);
    expect(Number(hit.headers.get("age"))).toBeLessThan(100);
    expect(await originCount(reused)).toBe(1);

    const expired = withQuery(uniquePath("age-two-lines-old"), { cc: "max-age=3600" }) + "&h-age=7200&h-age=10";
    const first = await fetchVia(expired);
    expect(members(first).shard?.params.stored).toBe(false);
  });
});

describe("RFC 9111 §4.2: a stored 204 with explicit freshness is not reused once stale", () => {
  it("reused while fresh, fetched again once stale", async () => {
    const path = withQuery(uniquePath("stale-204"), { cc: "max-age=1", status: "204" });
    const first = await fetchVia(path);
    expect(first.status).toBe(204);
    const fresh = await fetchVia(path);
    // A hit at the shard, or at the edge when its copy got a whole second of max-age=1 (the edge's and
    // the shard's clock reading the same millisecond): either tier reusing it is the point.
    expect(isHit(fresh)).toBe(true);
    expect(await originCount(path)).toBe(1);
    await advanceTime(1200);
    const stale = await fetchVia(path);
    expect(stale.status).toBe(204);
    expect(isHit(stale)).toBe(false);
    expect(members(stale).shard?.params.fwd).toBe("stale");
    expect(await originCount(path)).toBe(2);
  });
});

describe("RFC 9111 §3.1 / RFC 9110 §7.6.1: Transfer-Encoding is framing, never stored", () => {
  it("an origin response naming Transfer-Encoding (with Content-Length too) is served and stored without it", async () => {
    const path = withQuery(uniquePath("te"), { cc: "max-age=60", "h-transfer-encoding": "chunked" });
    const first = await fetchVia(path);
    expect(first.status).toBe(200);
    expect(first.text_).toContain("demo origin");
    expect(members(first).shard?.params.stored).toBe(true);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(hit.headers.get("transfer-encoding")).toBeNull();
    expect(hit.text_).toBe(first.text_);
    expect(await originCount(path)).toBe(1);
  });
});

describe("RFC 9111 §4.1: Vary normalisation by field (Accept-Language, Accept-Encoding)", () => {
  it("Accept-Language values differing only in order, case or whitespace share one variant", async () => {
    const path = withQuery(uniquePath("vary-lang"), { vary: "Accept-Language", cc: "max-age=60" });
    const first = await fetchVia(path, { headers: { "accept-language": "en-US, fr;q=0.8, de;q=0.5" } });
    for (const same of ["fr;q=0.8 ,EN-us,de;q=0.50", "EN-US,  DE;Q=0.5, FR;q=0.8"]) {
      const again = await fetchVia(path, { headers: { "accept-language": same } });
      expect(isHit(again)).toBe(true);
      expect(again.text_).toBe(first.text_);
    }
    const other = await fetchVia(path, { headers: { "accept-language": "en-US, fr;q=0.9" } });
    expect(isHit(other)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("Accept-Encoding codings are case-insensitive and unordered at equal weight", async () => {
    const path = withQuery(uniquePath("vary-enc"), { vary: "Accept-Encoding", cc: "max-age=60" });
    await fetchVia(path, { headers: { "accept-encoding": "gzip, br" } });
    const again = await fetchVia(path, { headers: { "accept-encoding": "BR,gzip" } });
    expect(isHit(again)).toBe(true);
    expect(await originCount(path)).toBe(1);
  });
});

describe("RFC 9110 §13.1.3 / §13.2.2: If-Modified-Since against a fresh stored response without Last-Modified", () => {
  const check = async (tier: "edge" | "shard") => {
    const path = withQuery(uniquePath(`ims-${tier}`), { cc: "max-age=600" });
    const first = await fetchVia(path);
    const date = first.headers.get("date") ?? "";
    const notModified = await fetchVia(path, { headers: { "if-modified-since": date } });
    expect(notModified.status).toBe(304);
    expect(members(notModified)[tier]?.params.hit).toBe(true);
    const later = await fetchVia(path, { headers: { "if-modified-since": new Date(Date.parse(date) + 3_600_000).toUTCString() } });
    expect(later.status).toBe(304);
    const earlier = await fetchVia(path, { headers: { "if-modified-since": new Date(Date.parse(date) - 3_600_000).toUTCString() } });
    expect(earlier.status).toBe(200);
    expect(earlier.text_).toBe(first.text_);
    const head = await fetchVia(path, { method: "HEAD", headers: { "if-modified-since": date } });
    expect(head.status).toBe(304);
    expect(await originCount(path)).toBe(1);
  };

  it("on an edge hit", () => check("edge"));

  it("on a shard hit (edge tier disabled)", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    await check("shard");
  });
});
