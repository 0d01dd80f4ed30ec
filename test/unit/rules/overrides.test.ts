import { describe, expect, it } from "vitest";
import { applyResponseHeaderActions, policyOverridesFrom } from "../../../src/rules/overrides";

describe("policyOverridesFrom", () => {
  it("maps ttl and the serve-stale windows, and nothing else", () => {
    expect(policyOverridesFrom({ ttl: 300, staleWhileRevalidate: 30, staleIfError: 600, edgeTtl: 10, pass: false })).toEqual({
      forcedTtlSeconds: 300,
      staleWhileRevalidateSeconds: 30,
      staleIfErrorSeconds: 600,
    });
    expect(policyOverridesFrom({ ttl: 0 })).toEqual({ forcedTtlSeconds: 0 });
    expect(policyOverridesFrom({})).toEqual({});
  });

  it("storeSetCookie: the rule's value, else the setting's; off is no override", () => {
    expect(policyOverridesFrom({}, "strip")).toEqual({ storeSetCookie: "strip" });
    expect(policyOverridesFrom({ storeSetCookie: "keep" }, "strip")).toEqual({ storeSetCookie: "keep" });
    expect(policyOverridesFrom({ storeSetCookie: "off" }, "keep")).toEqual({});
    expect(policyOverridesFrom({ storeSetCookie: "strip" })).toEqual({ storeSetCookie: "strip" });
  });
});

/** Set-Cookie fields one by one (iteration keeps them separate; the workers types lack getSetCookie). */
const setCookies = (headers: Headers): string[] => [...headers].filter(([name]) => name === "set-cookie").map(([, value]) => value);

describe("applyResponseHeaderActions", () => {
  it("removes then sets, on a copy", () => {
    const original = new Headers({ "cache-control": "private", "x-powered-by": "php", "x-keep": "1" });
    original.append("set-cookie", "a=1");
    original.append("set-cookie", "b=2");
    const edited = applyResponseHeaderActions(original, {
      removeResponseHeaders: ["Set-Cookie", "x-powered-by", "cache-control"],
      setResponseHeaders: { "Cache-Control": "public, max-age=60" },
    });
    expect(edited.get("cache-control")).toBe("public, max-age=60");
    expect(edited.has("x-powered-by")).toBe(false);
    expect(setCookies(edited)).toEqual([]);
    expect(edited.get("x-keep")).toBe("1");
    expect(original.get("cache-control")).toBe("private");
    expect(setCookies(original)).toEqual(["a=1", "b=2"]);
  });
  it("keeps multiple Set-Cookie fields intact when they are not removed", () => {
    const original = new Headers();
    original.append("set-cookie", "a=1; Path=/");
    original.append("set-cookie", "b=2");
    expect(setCookies(applyResponseHeaderActions(original, { setResponseHeaders: { "x-a": "1" } }))).toEqual(["a=1; Path=/", "b=2"]);
  });
});
