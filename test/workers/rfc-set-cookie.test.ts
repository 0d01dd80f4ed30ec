/**
 * Set-Cookie (RFC 9111 §3 allows storing it; shardcache does not by default, deviation 16): the
 * `storeSetCookie` setting and rule action store such responses with the cookie stripped or kept.
 */
import { describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { fetchVia, isHit, members, withQuery } from "../helpers/http";
import { originCount, uniquePath } from "../helpers/origin";

const cookiePath = (name: string, prefix = "") => withQuery(`${prefix}${uniquePath(name)}`, { cc: "max-age=60", "h-set-cookie": "theme=dark; Path=/" });

describe("Set-Cookie storage (deviation 16, storeSetCookie)", () => {
  it("by default a response that sets a cookie is not stored", async () => {
    const path = cookiePath("cookie-default");
    const first = await fetchVia(path);
    expect(first.headers.get("set-cookie")).toBe("theme=dark; Path=/");
    expect(members(first).shard?.params.detail).toBe("set-cookie");
    await fetchVia(path);
    expect(await originCount(path)).toBe(2);
  });

  it('settings.storeSetCookie = "strip": stored, and no response from the stored copy carries the cookie', async () => {
    await putConfig({ settings: { storeSetCookie: "strip" } });
    const path = cookiePath("cookie-strip");
    const first = await fetchVia(path);
    expect(members(first).shard?.params.stored).toBe(true);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(hit.headers.get("set-cookie")).toBeNull();
    expect(await originCount(path)).toBe(1);
  });

  it('a rule\'s storeSetCookie = "keep" overrides the setting: stored with the cookie, which every hit carries', async () => {
    const prefix = uniquePath("cookie-rule");
    await putConfig({ settings: { storeSetCookie: "strip" }, rules: [{ match: { path: `${prefix}/**` }, actions: { storeSetCookie: "keep" } }] });
    const path = cookiePath("keep", prefix);
    await fetchVia(path);
    const hit = await fetchVia(path);
    expect(isHit(hit)).toBe(true);
    expect(hit.headers.get("set-cookie")).toBe("theme=dark; Path=/");
    expect(await originCount(path)).toBe(1);
    const other = cookiePath("strip-elsewhere");
    await fetchVia(other);
    const strippedHit = await fetchVia(other);
    expect(isHit(strippedHit)).toBe(true);
    expect(strippedHit.headers.get("set-cookie")).toBeNull();
  });

  it('a rule\'s storeSetCookie = "off" refuses again where the setting stores', async () => {
    const prefix = uniquePath("cookie-off");
    await putConfig({ settings: { storeSetCookie: "keep" }, rules: [{ match: { path: `${prefix}/**` }, actions: { storeSetCookie: "off" } }] });
    const path = cookiePath("off", prefix);
    await fetchVia(path);
    await fetchVia(path);
    expect(await originCount(path)).toBe(2);
  });
});
