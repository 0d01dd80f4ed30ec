/**
 * RFC 9111 §4.4 end to end: a non-error response to an unsafe method invalidates the target URI and
 * the same-origin URIs in Location / Content-Location, on the shard and in the edge tier; cross-origin
 * ones and error responses invalidate nothing.
 */
import { describe, expect, it } from "vitest";
import { BASE, fetchSettled, fetchVia, isHit, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

/** Stores `path` (one origin request) and checks the next request is a hit. */
async function stored(path: string, base = BASE): Promise<void> {
  await fetchVia(path, { base });
  expect(isHit(await fetchVia(path, { base }))).toBe(true);
}

/**
 * Invalidation runs after the response (waitUntil): each unsafe request resolves only once its
 * background work has finished (fetchSettled), so afterwards an invalidation has either happened or
 * never will.
 */
describe("RFC 9111 §4.4: invalidation after unsafe methods", () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    it(`a successful ${method} invalidates the target URI`, async () => {
      const path = uniquePath(`inv-${method.toLowerCase()}`);
      await stored(path);
      const unsafe = await fetchSettled(path, { method, body: method === "DELETE" ? null : "x" });
      expect(unsafe.status).toBe(200);
      expect(unsafe.headers.get("cache-status")).toMatch(/fwd=method/);
      const after = await fetchVia(path);
      expect(isHit(after)).toBe(false);
      expect(await originCount(path)).toBe(3);
    });
  }

  it("an error response (5xx) to POST does not invalidate", async () => {
    // A 500 with explicit freshness is storable (RFC 9111 §3), so the same URI can be stored and POSTed to.
    const path = withQuery(uniquePath("inv-error"), { status: "500", cc: "max-age=60" });
    await stored(path);
    const post = await fetchSettled(path, { method: "POST", body: "x" });
    expect(post.status).toBe(500);
    expect(isHit(await fetchVia(path))).toBe(true);
    expect(await originCount(path)).toBe(2);
  });

  it("Location and Content-Location of the same origin are invalidated too", async () => {
    const other = uniquePath("inv-loc-other");
    const described = uniquePath("inv-cloc-other");
    await stored(other);
    await stored(described);
    const target = withQuery(uniquePath("inv-loc"), { "h-Location": other, "h-Content-Location": `${BASE}${described}` });
    const post = await fetchSettled(target, { method: "POST", body: "x" });
    expect(post.status).toBe(200);
    expect(isHit(await fetchVia(other))).toBe(false);
    expect(isHit(await fetchVia(described))).toBe(false);
    expect(await originCount(other)).toBe(2);
    expect(await originCount(described)).toBe(2);
  });

  it("a Location spelled another way (%7E, a run of slashes) invalidates the entry its normal form is stored under", async () => {
    const other = `${uniquePath("inv-spelling")}/~x`;
    await stored(other);
    const spelled = other.replace("/~x", "//%7Ex");
    const post = await fetchSettled(withQuery(uniquePath("inv-spelled"), { "h-Location": spelled }), { method: "POST", body: "x" });
    expect(post.status).toBe(200);
    expect(isHit(await fetchVia(other))).toBe(false);
    expect(await originCount(other)).toBe(2);
  });

  it("cross-origin Location / Content-Location are not invalidated", async () => {
    const foreignBase = "http://other.test";
    const foreign = uniquePath("inv-foreign");
    await stored(foreign, foreignBase);
    const target = withQuery(uniquePath("inv-cross"), { "h-Location": `${foreignBase}${foreign}`, "h-Content-Location": `${foreignBase}${foreign}` });
    await fetchSettled(target, { method: "POST", body: "x" });
    expect(isHit(await fetchVia(foreign, { base: foreignBase }))).toBe(true);
    expect(await originCount(foreign)).toBe(1);
  });

  it("all variants of an invalidated URI go (Vary)", async () => {
    const path = withQuery(uniquePath("inv-vary"), { vary: "Accept-Language" });
    for (const language of ["en", "fr"]) await fetchVia(path, { headers: { "accept-language": language } });
    await fetchSettled(path, { method: "POST", body: "x" });
    for (const language of ["en", "fr"]) expect(isHit(await fetchVia(path, { headers: { "accept-language": language } }))).toBe(false);
    expect(await originCount(path)).toBe(5);
  });
});
