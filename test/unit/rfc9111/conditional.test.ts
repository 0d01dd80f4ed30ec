import { describe, expect, it } from "vitest";
import { clientConditionalMatches, notModifiedHeaders } from "../../../src/rfc9111";
import { parseEntityTag, parseEntityTagList } from "../../../src/rfc9111/entity-tags";
import { HTTP_T0, at, httpDate, req, res, stored, stored200 } from "./fixtures";

describe("entity-tag parsing (RFC 9110 §8.8.3)", () => {
  it.each<[string | null, ReturnType<typeof parseEntityTag>]>([
    ['"abc"', { weak: false, opaque: '"abc"' }],
    ['W/"abc"', { weak: true, opaque: '"abc"' }],
    ['  "a,b"  ', { weak: false, opaque: '"a,b"' }],
    ["abc", { weak: false, opaque: '"abc"' }],
    ['""', { weak: false, opaque: '""' }],
    ["", null],
    [null, null],
  ])("%j", (value, tag) => {
    expect(parseEntityTag(value)).toEqual(tag);
  });

  it.each<[string, string[] | "*"]>([
    ["*", "*"],
    ['"a", W/"b" ,"c"', ['"a"', '"b"', '"c"']],
    ['"a,b", "c"', ['"a,b"', '"c"']],
    ["a, b", ['"a"', '"b"']],
    ['"a", "unterminated', ['"a"']],
  ])("list %j", (value, opaques) => {
    const list = parseEntityTagList(value);
    expect(list === "*" ? "*" : list.map((t) => t.opaque)).toEqual(opaques);
  });
});

describe("clientConditionalMatches (RFC 9110 §13.2.2, RFC 9111 §4.3.2)", () => {
  const lastModified = httpDate(-3600);
  const meta = stored200({ "cache-control": "max-age=60", etag: '"v1"', "last-modified": lastModified });

  it.each<[string, Record<string, string>, boolean]>([
    ["matching If-None-Match", { "if-none-match": '"v1"' }, true],
    ["weak comparison", { "if-none-match": 'W/"v1"' }, true],
    ["one of a list", { "if-none-match": '"x", "v1"' }, true],
    ["*", { "if-none-match": "*" }, true],
    ["different tag", { "if-none-match": '"v2"' }, false],
    ["If-None-Match wins over a matching If-Modified-Since", { "if-none-match": '"v2"', "if-modified-since": httpDate(0) }, false],
    ["If-None-Match wins over a failing If-Modified-Since", { "if-none-match": '"v1"', "if-modified-since": httpDate(-7200) }, true],
    ["If-Modified-Since equal to Last-Modified", { "if-modified-since": lastModified }, true],
    ["If-Modified-Since after Last-Modified", { "if-modified-since": httpDate(0) }, true],
    ["If-Modified-Since before Last-Modified", { "if-modified-since": httpDate(-7200) }, false],
    ["invalid If-Modified-Since is ignored", { "if-modified-since": "yesterday" }, false],
    ["no conditional", {}, false],
  ])("%s", (_name, headers, matches) => {
    expect(clientConditionalMatches(meta, req(headers))).toBe(matches);
  });

  it.each<[string, string]>([
    ["POST", "POST"],
    ["PUT", "PUT"],
  ])("never for %s", (_name, method) => {
    expect(clientConditionalMatches(meta, req({ "if-none-match": '"v1"' }, method))).toBe(false);
  });

  it("HEAD is answered too", () => {
    expect(clientConditionalMatches(meta, req({ "if-none-match": '"v1"' }, "HEAD"))).toBe(true);
  });

  it.each([404, 301, 203])("never for a stored %i", (status) => {
    const m = stored(res(status, { date: HTTP_T0, "cache-control": "max-age=60", etag: '"v1"' }));
    expect(clientConditionalMatches(m, req({ "if-none-match": '"v1"' }))).toBe(false);
    expect(clientConditionalMatches(m, req({ "if-none-match": "*" }))).toBe(false);
  });

  it("without an ETag, If-None-Match only matches *", () => {
    const m = stored200({ "cache-control": "max-age=60" });
    expect(clientConditionalMatches(m, req({ "if-none-match": '"v1"' }))).toBe(false);
    expect(clientConditionalMatches(m, req({ "if-none-match": "*" }))).toBe(true);
  });

  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ["Date equal to the condition → 304", {}, { "if-modified-since": HTTP_T0 }, true],
    ["Date earlier than the condition → 304", {}, { "if-modified-since": httpDate(3600) }, true],
    ["Date later than the condition → 200", {}, { "if-modified-since": httpDate(-1) }, false],
    ["condition in RFC 850 form", {}, { "if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT" }, true],
    ["condition in asctime form", {}, { "if-modified-since": "Sun Nov  6 08:49:37 1994" }, true],
    ["an invalid condition is ignored", {}, { "if-modified-since": "not a date" }, false],
    ["Last-Modified, when present, is what counts", { "last-modified": httpDate(10) }, { "if-modified-since": HTTP_T0 }, false],
  ])("fresh stored response without Last-Modified (RFC 9110 §13.1.3, §13.2.2): %s", (_name, extra, conditional, matches) => {
    const m = stored200({ "cache-control": "max-age=60", ...extra });
    expect(clientConditionalMatches(m, req(conditional))).toBe(matches);
  });

  it("without Last-Modified, If-Modified-Since is compared with Date (§4.3.2)", () => {
    const m = stored200({ "cache-control": "max-age=60" });
    expect(clientConditionalMatches(m, req({ "if-modified-since": HTTP_T0 }))).toBe(true);
    expect(clientConditionalMatches(m, req({ "if-modified-since": httpDate(-1) }))).toBe(false);
  });
});

describe("notModifiedHeaders (RFC 9110 §15.4.5)", () => {
  it("carries the validator and cache fields plus Age, and no representation body fields", () => {
    const meta = stored200({
      "cache-control": "max-age=60",
      etag: '"v1"',
      "last-modified": httpDate(-10),
      expires: httpDate(60),
      vary: "Accept",
      "content-location": "/a.en",
      "content-type": "text/html",
      "content-length": "100",
      "x-other": "1",
    });
    const h = notModifiedHeaders(meta, at(12));
    expect(Object.fromEntries(h)).toEqual({
      "cache-control": "max-age=60",
      etag: '"v1"',
      "last-modified": httpDate(-10),
      expires: httpDate(60),
      vary: "Accept",
      "content-location": "/a.en",
      date: HTTP_T0,
      age: "12",
    });
  });
});
