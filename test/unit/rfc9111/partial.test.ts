import { describe, expect, it } from "vitest";
import { combineParts, parseContentRange, partialAnswer, storedPart, type ContentRange } from "../../../src/rfc9111/partial";
import { HTTP_T0, req, res, stored } from "./fixtures";

describe("parseContentRange (RFC 9110 §14.4)", () => {
  it.each<[string | null, ContentRange | null]>([
    ["bytes 0-9/100", { start: 0, end: 9, complete: 100 }],
    ["bytes 90-99/100", { start: 90, end: 99, complete: 100 }],
    ["BYTES 5-5/*", { start: 5, end: 5, complete: null }],
    ["bytes 9-0/100", null],
    ["bytes 0-100/100", null],
    ["bytes */100", null],
    ["bytes 0-9", null],
    ["items 0-9/100", null],
    ["bytes -1-9/100", null],
    [null, null],
  ])("%j → %j", (value, expected) => {
    expect(parseContentRange(value)).toEqual(expected);
  });
});

describe("partialAnswer: a stored part answers only ranges wholly inside it (RFC 9111 §3.3)", () => {
  const part: ContentRange = { start: 10, end: 49, complete: 50 };
  it.each<[string, Record<string, string>, { start: number; end: number } | null]>([
    ["inside", { range: "bytes=10-19" }, { start: 10, end: 19 }],
    ["the whole part", { range: "bytes=10-49" }, { start: 10, end: 49 }],
    ["N- to the end (complete length known)", { range: "bytes=20-" }, { start: 20, end: 49 }],
    ["-n suffix inside the part", { range: "bytes=-5" }, { start: 45, end: 49 }],
    ["an end past the representation is clipped", { range: "bytes=40-999" }, { start: 40, end: 49 }],
    ["starts before the part", { range: "bytes=0-19" }, null],
    ["a suffix longer than the part", { range: "bytes=-45" }, null],
    ["no Range (the full representation)", {}, null],
    ["several ranges", { range: "bytes=10-11,20-21" }, null],
    ["If-Range (the origin decides)", { range: "bytes=10-19", "if-range": '"v"' }, null],
    ["an invalid range", { range: "bytes=19-10" }, null],
    ["-0", { range: "bytes=-0" }, null],
  ])("%s", (_name, headers, expected) => {
    expect(partialAnswer(part, req(headers))).toEqual(expected);
  });

  it("without a known complete length only closed ranges can be answered", () => {
    const open: ContentRange = { start: 0, end: 9, complete: null };
    expect(partialAnswer(open, req({ range: "bytes=0-4" }))).toEqual({ start: 0, end: 4 });
    expect(partialAnswer(open, req({ range: "bytes=5-" }))).toBeNull();
    expect(partialAnswer(open, req({ range: "bytes=-3" }))).toBeNull();
  });
});

describe("combineParts (RFC 9111 §3.4)", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const part206 = (range: string, etag = '"v1"') => stored(res(206, { date: HTTP_T0, "cache-control": "max-age=60", etag, "content-range": range }));
  const text = (b: Uint8Array) => new TextDecoder().decode(b);

  it.each<[string, string, string, string, string, string | null]>([
    // name, stored range, stored bytes, new range, new bytes, expected combined range (null = not combined; "200" = complete)
    ["adjacent parts join", "bytes 0-4/10", "abcde", "bytes 5-7/10", "fgh", "bytes 0-7/10"],
    ["overlapping parts join", "bytes 2-6/10", "cdefg", "bytes 5-8/10", "fghi", "bytes 2-8/10"],
    ["a new part before the stored one", "bytes 5-9/10", "fghij", "bytes 3-5/10", "def", "bytes 3-9/10"],
    ["covering the representation makes it complete", "bytes 0-4/10", "abcde", "bytes 5-9/10", "fghij", "200"],
    ["a gap: not combined (one part per variant)", "bytes 0-2/10", "abc", "bytes 5-7/10", "fgh", null],
  ])("%s", (_name, oldRange, oldBytes, newRange, newBytes, expected) => {
    const combined = combineParts({ meta: part206(oldRange), body: bytes(oldBytes) }, { meta: part206(newRange), body: bytes(newBytes) }, 1000);
    if (expected === null) return expect(combined).toBeNull();
    expect(combined).not.toBeNull();
    if (expected === "200") {
      expect(combined!.meta.status).toBe(200);
      expect(storedPart(combined!.meta)).toBeNull();
      expect(text(combined!.body)).toBe("abcdefghij");
    } else {
      expect(combined!.meta.status).toBe(206);
      expect(combined!.meta.headers.find(([n]) => n === "content-range")?.[1]).toBe(expected);
      expect(combined!.meta.bodyBytes).toBe(combined!.body.byteLength);
    }
  });

  it.each<[string, string, string]>([
    ["different strong validators", '"v1"', '"v2"'],
    ["weak validators", 'W/"v1"', 'W/"v1"'],
  ])("never combines with %s", (_name, oldTag, newTag) => {
    expect(combineParts({ meta: part206("bytes 0-4/10", oldTag), body: bytes("abcde") }, { meta: part206("bytes 5-9/10", newTag), body: bytes("fghij") }, 1000)).toBeNull();
  });

  it("never without validators, with another complete length, or beyond the byte bound", () => {
    const noTag = stored(res(206, { date: HTTP_T0, "cache-control": "max-age=60", "content-range": "bytes 0-4/10" }));
    expect(combineParts({ meta: noTag, body: bytes("abcde") }, { meta: noTag, body: bytes("abcde") }, 1000)).toBeNull();
    expect(combineParts({ meta: part206("bytes 0-4/10"), body: bytes("abcde") }, { meta: part206("bytes 5-9/11"), body: bytes("fghij") }, 1000)).toBeNull();
    expect(combineParts({ meta: part206("bytes 0-4/10"), body: bytes("abcde") }, { meta: part206("bytes 5-9/10"), body: bytes("fghij") }, 9)).toBeNull();
  });
});
