import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkStoredMeta, decodeStoredMeta, encodeStoredMeta } from "../../../src/rfc9111/stored-record";
import { checkShardResult } from "../../../src/serve/shard-protocol";
import { HTTP_T0, res, stored, stored200 } from "./fixtures";

const record = stored200({ date: HTTP_T0, "cache-control": "max-age=60", etag: '"v1"', vary: "accept-encoding" });

describe("the stored record's one encoder and checked decoder", () => {
  it("round-trips every record buildStoredMeta makes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(200, 203, 204, 301, 404, 410, 500, 503),
        fc.integer({ min: 0, max: 86_400 }),
        fc.constantFrom("", "public", "must-revalidate", "no-cache", 'private="set-cookie"'),
        fc.string(),
        (status, maxAge, extra, tag) => {
          const cc = [`max-age=${maxAge}`, extra].filter((s) => s !== "").join(", ");
          const meta = stored(res(status, { date: HTTP_T0, "cache-control": cc, etag: '"v"', "x-note": tag.replace(/[\r\n\0]/g, "") }));
          expect(decodeStoredMeta(encodeStoredMeta(meta))).toEqual(meta);
        },
      ),
    );
  });

  it.each<[string, unknown]>([
    ["another version", { ...record, v: 2 }],
    ["no version", { ...record, v: undefined }],
    ["a missing field", { ...record, staleAt: undefined }],
    ["an unknown field", { ...record, injected: true }],
    ["a non-final status (206 needs range handling; 304 is not a representation)", { ...record, status: 99 }],
    ["a status that is not a number", { ...record, status: "200" }],
    ["a NaN instant", { ...record, staleAt: Number.NaN }],
    ["a negative body length", { ...record, bodyBytes: -1 }],
    ["a header pair of three", { ...record, headers: [["a", "b", "c"]] }],
    ["a header name with upper case or spaces", { ...record, headers: [["Bad Name", "x"]] }],
    ["a header value with CR LF", { ...record, headers: [["x-a", "1\r\nset-cookie: stolen"]] }],
    ["a cluster-internal header field", { ...record, headers: [["x-cluster-edge-meta", "{}"]] }],
    ["null", null],
    ["an array", [record]],
  ])("refuses %s", (_what, value) => {
    expect(checkStoredMeta(value)).toBeNull();
    expect(decodeStoredMeta(JSON.stringify(value) ?? "")).toBeNull();
  });

  it("refuses text that is not JSON instead of throwing", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => decodeStoredMeta(text)).not.toThrow();
      }),
    );
    expect(decodeStoredMeta("{garbage")).toBeNull();
  });
});

describe("checkShardResult", () => {
  const response = new Response("body");
  const member = { hit: false };
  const typed = { outcome: "miss", origin: "origin.example" };

  it("accepts this version's envelope and keeps a valid edge copy", () => {
    expect(checkShardResult({ v: 1, response, trace: "shard-0->MISS", member, ...typed, edgeCopy: record })).toMatchObject({ trace: "shard-0->MISS", outcome: "miss", origin: "origin.example", edgeCopy: record });
    expect(checkShardResult({ v: 1, response, trace: "shard-0->PASS", member, outcome: "pass", origin: null })?.edgeCopy).toBeNull();
  });

  it("drops an edge copy whose record does not check, keeping the response", () => {
    const checked = checkShardResult({ v: 1, response, trace: "t", member, ...typed, edgeCopy: { ...record, v: 2 } });
    expect(checked?.response).toBe(response);
    expect(checked?.edgeCopy).toBeNull();
  });

  it.each<[string, unknown]>([
    ["another version", { v: 2, response, trace: "t", member, ...typed }],
    ["a bare Response (the old header contract)", response],
    ["no response", { v: 1, trace: "t", member, ...typed }],
    ["a trace that is not text", { v: 1, response, trace: 3, member, ...typed }],
    ["no member", { v: 1, response, trace: "t", ...typed }],
    ["an outcome the counters do not know", { v: 1, response, trace: "t", member, outcome: "bogus", origin: null }],
    ["an origin that is not text", { v: 1, response, trace: "t", member, outcome: "hit", origin: 7 }],
  ])("refuses %s", (_what, value) => {
    expect(checkShardResult(value)).toBeNull();
  });
});
