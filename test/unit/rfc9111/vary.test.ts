import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { selectVariant, variantKeyFor, type StoredMeta } from "../../../src/rfc9111";
import { normaliseSelectingValue, parseVary } from "../../../src/rfc9111/vary";
import { HTTP_T0, req, res, stored } from "./fixtures";

describe("parseVary (RFC 9110 §12.5.5)", () => {
  it.each<[string | null, string[]]>([
    [null, []],
    ["", []],
    ["Accept-Encoding", ["accept-encoding"]],
    ["accept-encoding, ACCEPT-ENCODING,  Accept-Language ", ["accept-encoding", "accept-language"]],
    ["Accept, *", ["accept", "*"]],
    [",,Origin,", ["origin"]],
  ])("%j → %j", (value, names) => {
    expect(parseVary(value)).toEqual(names);
  });
});

describe("normaliseSelectingValue (RFC 9111 §4.1)", () => {
  it.each<[string | null, string | null]>([
    [null, null],
    ["", ""],
    ["  gzip  ", "gzip"],
    ["gzip,deflate", "gzip, deflate"],
    ["gzip ,  deflate", "gzip, deflate"],
    ["gzip,\tdeflate", "gzip, deflate"],
    ["text/html;  q=0.9", "text/html; q=0.9"],
    ["GZIP", "GZIP"],
  ])("%j → %j", (value, expected) => {
    expect(normaliseSelectingValue(value)).toBe(expected);
  });
});

describe("variantKeyFor", () => {
  it.each<[string[], Record<string, string>, string]>([
    [[], { "accept-encoding": "gzip" }, ""],
    [["accept-encoding"], { "accept-encoding": "gzip" }, "accept-encoding=gzip"],
    [["Accept-Encoding"], { "accept-encoding": "gzip ,br" }, "accept-encoding=gzip%2C%20br"],
    [["accept-encoding"], {}, "accept-encoding"],
    [["accept-encoding"], { "accept-encoding": "" }, "accept-encoding="],
    [["b", "a"], { a: "1", b: "2" }, "a=1&b=2"],
    [["a", "b"], { a: "1", b: "2" }, "a=1&b=2"],
    [["a", "A"], { a: "x&y=z" }, "a=x%26y%3Dz"],
  ])("%j with %j → %j", (names, headers, key) => {
    expect(variantKeyFor(names, new Headers(headers))).toBe(key);
  });

  it("absent and empty differ; equal normalised values agree", () => {
    const key = (h: Record<string, string>) => variantKeyFor(["accept"], new Headers(h));
    expect(key({})).not.toBe(key({ accept: "" }));
    expect(key({ accept: "a,b" })).toBe(key({ accept: " a , b " }));
    expect(key({ accept: "a" })).not.toBe(key({ accept: "A" }));
  });

  it("is deterministic and injective over one field's values", () => {
    const value = fc.option(fc.string({ unit: fc.constantFrom("a", "b", ",", " ", "=", "&", "%"), maxLength: 8 }));
    fc.assert(
      fc.property(value, value, (a, b) => {
        const h = (v: string | null) => new Headers(v === null ? {} : { x: v });
        const same = normaliseSelectingValue(a) === normaliseSelectingValue(b);
        expect(variantKeyFor(["x"], h(a)) === variantKeyFor(["x"], h(b))).toBe(same);
      }),
    );
  });
});

describe("selectVariant (RFC 9111 §4.1)", () => {
  const variant = (vary: string | null, reqHeaders: Record<string, string>, tag: string) => ({
    tag,
    meta: stored(res(200, { date: HTTP_T0, "cache-control": "max-age=60", ...(vary === null ? {} : { vary }) }), { request: req(reqHeaders) }),
  });

  it.each<[string, Record<string, string>, string | undefined]>([
    ["gzip", { "accept-encoding": "gzip" }, "gzip"],
    ["differently spaced", { "accept-encoding": "gzip,  br" }, "gzip-br"],
    ["header absent", {}, "absent"],
    ["empty header is not absent", { "accept-encoding": "" }, "empty"],
    ["no stored variant matches", { "accept-encoding": "zstd" }, undefined],
    ["field name case is irrelevant", { "ACCEPT-ENCODING": "gzip" }, "gzip"],
  ])("%s", (_name, headers, tag) => {
    const variants = [
      variant("Accept-Encoding", { "accept-encoding": "gzip" }, "gzip"),
      variant("accept-encoding", { "accept-encoding": "gzip, br" }, "gzip-br"),
      variant("Accept-Encoding", {}, "absent"),
      variant("Accept-Encoding", { "accept-encoding": "" }, "empty"),
    ];
    expect(selectVariant(variants, req(headers))?.tag).toBe(tag);
  });

  it("returns the first match (callers pass newest first)", () => {
    const variants = [variant("Accept", { accept: "a" }, "new"), variant("Accept", { accept: "a" }, "old")];
    expect(selectVariant(variants, req({ accept: "a" }))?.tag).toBe("new");
  });

  it("a response without Vary matches any request", () => {
    expect(selectVariant([variant(null, {}, "plain")], req({ accept: "x" }))?.tag).toBe("plain");
  });

  it("every selecting field must match", () => {
    const v = variant("Accept, Accept-Language", { accept: "a", "accept-language": "en" }, "both");
    expect(selectVariant([v], req({ accept: "a", "accept-language": "en" }))?.tag).toBe("both");
    expect(selectVariant([v], req({ accept: "a", "accept-language": "de" }))).toBeUndefined();
    expect(selectVariant([v], req({ accept: "a" }))).toBeUndefined();
  });

  it("Vary: * never matches, even an identical request", () => {
    const meta = stored(res(200, { date: HTTP_T0, "cache-control": "max-age=60" }));
    const star: StoredMeta = { ...meta, vary: { names: ["*"], values: [null] } };
    expect(selectVariant([{ meta: star }], req())).toBeUndefined();
  });

  it("records the captured values and the key on the stored meta", () => {
    const meta = variant("Accept-Encoding, Accept", { "accept-encoding": "gzip,br" }, "x").meta;
    expect(meta.vary).toEqual({ names: ["accept-encoding", "accept"], values: ["gzip, br", null] });
    expect(meta.variantKey).toBe("accept&accept-encoding=gzip%2C%20br");
  });
});
