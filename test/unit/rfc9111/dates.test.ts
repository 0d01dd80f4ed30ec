import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseHttpDate } from "../../../src/rfc9111";
import { formatHttpDate, parseAgeValue, parseDeltaSeconds } from "../../../src/rfc9111/dates";

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);

describe("parseHttpDate (RFC 9110 §5.6.7)", () => {
  it.each<[string | null, number | null]>([
    ["Sun, 06 Nov 1994 08:49:37 GMT", NOV_6_1994], // IMF-fixdate
    ["Sunday, 06-Nov-94 08:49:37 GMT", NOV_6_1994], // RFC 850
    ["Sun Nov  6 08:49:37 1994", NOV_6_1994], // asctime
    ["Sun Nov 06 08:49:37 1994", NOV_6_1994],
    ["  Sun, 06 Nov 1994 08:49:37 GMT  ", NOV_6_1994],
    ["sun, 06 nov 1994 08:49:37 gmt", NOV_6_1994],
    ["Thu, 01 Jan 1970 00:00:00 GMT", 0],
    ["Wednesday, 01-Jan-20 00:00:00 GMT", Date.UTC(2020, 0, 1)],
    ["Friday, 01-Jan-99 00:00:00 GMT", Date.UTC(1999, 0, 1)],
    ["Tue, 29 Feb 2000 12:00:00 GMT", Date.UTC(2000, 1, 29, 12)],
    ["Wed, 31 Dec 2014 23:59:60 GMT", Date.UTC(2015, 0, 1)], // leap second
    ["Thu, 29 Feb 2001 12:00:00 GMT", null],
    ["Sun, 31 Apr 1994 08:49:37 GMT", null],
    ["Sun, 06 Nov 1994 24:00:00 GMT", null],
    ["Sun, 06 Nov 1994 08:60:00 GMT", null],
    ["Sun, 06 Nov 1994 08:49:37 UTC", null],
    ["Sun, 06 Nov 1994 08:49:37 +0000", null],
    ["Sun, 06 Foo 1994 08:49:37 GMT", null],
    ["0", null],
    ["-1", null],
    ["", null],
    ["yesterday", null],
    ["Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", null],
    [null, null],
  ])("%j → %s", (value, expected) => {
    expect(parseHttpDate(value)).toBe(expected);
  });

  it("round-trips every formatted instant (whole seconds)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799 }), (s) => {
        expect(parseHttpDate(formatHttpDate(s * 1000))).toBe(s * 1000);
      }),
    );
  });

  it("never throws on arbitrary strings", () => {
    fc.assert(fc.property(fc.string(), (s) => void parseHttpDate(s)));
  });
});

describe("parseDeltaSeconds (RFC 9111 §1.2.2)", () => {
  it.each<[string, number | null]>([
    ["0", 0],
    ["60", 60],
    [" 60 ", 60],
    ["007", 7],
    ["2147483648", 2 ** 31],
    ["2147483649", 2 ** 31],
    ["99999999999999999999999", 2 ** 31],
    ["-1", null],
    ["+1", null],
    ["1.0", null],
    ["1e3", null],
    ["", null],
    ["abc", null],
  ])("%j → %s", (value, expected) => {
    expect(parseDeltaSeconds(value)).toBe(expected);
  });
});

describe("parseAgeValue (RFC 9111 §5.1: the first member; an invalid value is ignored)", () => {
  it.each<[string, string | null, number | null]>([
    ["absent", null, null],
    ["blank", "", null],
    ["zero", "0", 0],
    ["an integer", "120", 120],
    ["optional whitespace around it", " 120 ", 120],
    ["a list: the first member", "10, 300", 10],
    ["a list: the first member, even when smaller", "300, 10", 300],
    [
      "two field lines, joined by Headers",
      new Headers([
        ["age", "7200"],
        ["age", "10"],
      ]).get("age"),
      7200,
    ],
    ["a list whose first member is invalid: ignored", "abc, 10", null],
    ["a list whose later member is invalid: the first counts", "10, abc", 10],
    ["letters", "abc", null],
    ["a negative number", "-7200", null],
    ["a fraction", "7200.0", null],
    ["digits followed by junk", "7200abc", null],
    ["a sign", "+7200", null],
    ["too large to represent → 2^31 (§1.2.2)", "99999999999999", 2 ** 31],
  ])("%s: %j → %s", (_name, value, expected) => {
    expect(parseAgeValue(value)).toBe(expected);
  });
});
