/**
 * RFC 9110 §9.3.3 / RFC 9111 §4.4, §3: a POST response with explicit freshness and Content-Location
 * equal to the POST's target URI is stored as that URI's representation and reused for a later GET.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { fetchSettled, fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";
import { primaryShardOf, shardStub } from "../helpers/shards";

/**
 * The POST's response is stored after it has been sent (invalidation first, then the store, in the
 * request's waitUntil), so the POST resolves only once that background work has finished: then a
 * response that must be stored is, and one that must not be never will be.
 */
async function post(path: string) {
  return fetchSettled(path, { method: "POST", body: "payload" });
}

describe("RFC 9110 §9.3.3: POST responses reused for a later GET", () => {
  it("Content-Location = target URI + max-age: the next GET is a hit with the POST's body", async () => {
    const path = withQuery(uniquePath("post-reuse"), { "cl-self": "1", cc: "max-age=60" });
    const posted = await post(path);
    expect(posted.status).toBe(200);
    expect(posted.text_).toMatch(/^demo origin: /);
    expect(posted.headers.get("content-location")).toBe(path);
    const get = await fetchVia(path);
    expect(isHit(get)).toBe(true);
    expect(get.text_).toBe(posted.text_);
    expect(get.headers.get("content-length")).toBe(String(posted.text_.length));
    expect(await originCount(path)).toBe(1);
  });

  it("the POST replaces a stored GET (invalidated first, then the new representation stored)", async () => {
    const path = withQuery(uniquePath("post-replace"), { "cl-self": "1", cc: "max-age=60" });
    const before = await fetchVia(path);
    expect(isHit(await fetchVia(path))).toBe(true);
    const posted = await post(path);
    expect(posted.text_).not.toBe(before.text_);
    const after = await fetchVia(path);
    expect(isHit(after)).toBe(true);
    expect(after.text_).toBe(posted.text_);
    expect(await originCount(path)).toBe(2);
  });

  it.each([
    ["without Content-Location", { cc: "max-age=60" }],
    ["without explicit freshness", { "cl-self": "1", cc: "" }],
    ["with no-store", { "cl-self": "1", cc: "max-age=60, no-store" }],
    ["with private", { "cl-self": "1", cc: "private, max-age=60" }],
  ])("%s: not reused, the GET goes to the origin", async (_name, query) => {
    const path = withQuery(uniquePath("post-no-reuse"), query);
    await post(path);
    const get = await fetchVia(path);
    expect(isHit(get)).toBe(false);
    expect(await originCount(path)).toBe(2);
  });

  it("a Content-Location naming another URI is not stored for either", async () => {
    const other = uniquePath("post-other-target");
    const path = withQuery(uniquePath("post-other"), { cc: "max-age=60", "h-content-location": other });
    await post(path);
    expect(isHit(await fetchVia(path))).toBe(false);
    const otherGet = await fetchVia(other);
    expect(members(otherGet).shard?.params.hit).toBeUndefined();
  });

  it("a GET rule that passes keeps the POST response out of the cache", async () => {
    const prefix = uniquePath("post-pass");
    await putConfig({ rules: [{ match: { path: `${prefix}/**`, method: "GET" }, actions: { pass: true } }] });
    const path = withQuery(`${prefix}/x`, { "cl-self": "1", cc: "max-age=60" });
    // The GET passes whatever is stored, so the owner's store count shows whether the POST's response was kept.
    const owner = shardStub(primaryShardOf(path));
    const storesBefore = (await owner.stats()).stores;
    await post(path);
    expect((await owner.stats()).stores).toBe(storesBefore);
    await fetchVia(path);
    expect(await originCount(path)).toBe(2);
  });
});
