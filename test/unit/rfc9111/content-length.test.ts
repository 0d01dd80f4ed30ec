import { describe, expect, it } from "vitest";
import { declaredLength } from "../../../src/rfc9111";

describe("declaredLength (RFC 9110 §8.6)", () => {
  it.each<[string, string | null, number | null]>([
    ["absent", null, null],
    ["zero", "0", 0],
    ["digits", "3000", 3000],
    ["optional whitespace", " 42 ", 42],
    ["a list of identical values (MAY be accepted as one)", "42, 42", 42],
    ["differing values", "42, 43", null],
    ["a sign", "+42", null],
    ["negative", "-1", null],
    ["a fraction", "4.2", null],
    ["junk after digits", "42abc", null],
    ["blank", "", null],
    ["more than 15 digits", "1234567890123456", null],
  ])("%s: %j → %s", (_name, value, expected) => {
    expect(declaredLength(new Headers(value === null ? {} : { "content-length": value }))).toBe(expected);
  });
});
