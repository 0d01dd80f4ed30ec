import { describe, expect, it } from "vitest";
import { policyOverridesFrom } from "../../../src/rules/overrides";

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
