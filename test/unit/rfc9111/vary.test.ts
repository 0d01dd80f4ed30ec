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

describe("normaliseSelectingValue by field (RFC 9111 §4.1, the SEMANTIC_NORMALISERS table)", () => {
  it.each<[string, string, string | null, string | null]>([
    ["order of equal weights", "accept-language", "fr, en", "en, fr"],
    ["case of the language range", "accept-language", "EN-us, Fr", "en-us, fr"],
    ["whitespace around members and parameters", "accept-language", " en ;  q = 0.8 ,fr", "fr, en;q=0.8"],
    ["weights sort before names", "accept-language", "de;q=0.5, fr;q=0.9, en", "en, fr;q=0.9, de;q=0.5"],
    ["q=1 is the default weight", "accept-language", "en;q=1, fr;q=1.000", "en, fr"],
    ["a weight's spelling", "accept-language", "en;q=0.50", "en;q=0.5"],
    ["duplicates", "accept-language", "en, EN, en", "en"],
    ["an invalid weight is kept as written, not merged", "accept-language", "en;q=2", "en;q=2"],
    ["empty members", "accept-language", "en,,fr,", "en, fr"],
    ["Accept-Encoding codings are case-insensitive", "accept-encoding", "GZIP, br", "br, gzip"],
    ["Accept-Encoding q=0 keeps its meaning", "accept-encoding", "identity;q=0, gzip", "gzip, identity;q=0"],
    ["absent stays absent", "accept-language", null, null],
    ["empty stays empty", "accept-language", "", ""],
    ["a field outside the table keeps order and case", "accept", "text/html, APPLICATION/json", "text/html, APPLICATION/json"],
  ])("%s: %s %j → %j", (_name, field, value, expected) => {
    expect(normaliseSelectingValue(value, field)).toBe(expected);
  });

  it("variants: Accept-Language values differing only in order, case or whitespace share one key and match", () => {
    const key = (v: string) => variantKeyFor(["Accept-Language"], new Headers({ "accept-language": v }));
    expect(key("en-US, fr;q=0.8")).toBe(key("fr;q=0.8 ,EN-us"));
    expect(key("en, fr")).not.toBe(key("en, fr;q=0.5"));
    const meta = stored(res(200, { date: HTTP_T0, "cache-control": "max-age=60", vary: "Accept-Language" }), { request: req({ "accept-language": "en, fr" }) });
    expect(selectVariant([{ meta }], req({ "accept-language": "FR,en" }))).toBeDefined();
    expect(selectVariant([{ meta }], req({ "accept-language": "de" }))).toBeUndefined();
  });
});

describe("variantKeyFor", () => {
  it.each<[string[], Record<string, string>, string]>([
    [[], { "accept-encoding": "gzip" }, ""],
    [["accept-encoding"], { "accept-encoding": "gzip" }, "accept-encoding=gzip"],
    [["Accept-Encoding"], { "accept-encoding": "gzip ,br" }, "accept-encoding=br%2C%20gzip"], // normalised by meaning (table)
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
    expect(meta.vary).toEqual({ names: ["accept-encoding", "accept"], values: ["br, gzip", null] });
    expect(meta.variantKey).toBe("accept&accept-encoding=br%2C%20gzip");
  });
});
