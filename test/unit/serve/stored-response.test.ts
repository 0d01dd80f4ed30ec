/**
 * wholeStoredFields: the whole-body answer's fields as a list (the shard's inline answer) hold exactly
 * what respondFromStored's full answer holds, for any stored field list, status, size and age.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyFromBytes, nullBodyStatus, respondFromStored, wholeStoredFields } from "../../../src/serve/stored-response";
import { storedMeta, T0 } from "../../helpers/stored-meta";

// Names a stored list may hold, repeated ones and the fields the answer sets among them.
const NAME = fc.constantFrom("content-type", "content-length", "age", "cache-status", "x-cache-info", "set-cookie", "etag", "vary", "cache-control", "x-custom");
const VALUE = fc.stringMatching(/^[!-~]([ !-~]{0,12}[!-~])?$/);

describe("wholeStoredFields", () => {
  it("lists the fields of respondFromStored's whole answer to a plain GET", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(NAME, VALUE), { maxLength: 8 }), fc.constantFrom(200, 203, 204, 300, 301, 404, 410), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 100_000 }), (headers, status, size, elapsedMs) => {
        const meta = storedMeta("https://cache.test/x", { status, headers, bodyBytes: size });
        const now = T0 + elapsedMs;
        const bytes = new Uint8Array(nullBodyStatus(status) ? 0 : size);
        const answer = respondFromStored(meta, bodyFromBytes(bytes), { method: "GET", url: meta.url, headers: new Headers() }, now);
        expect([...new Headers(wholeStoredFields(meta, bytes.byteLength, now))]).toEqual([...answer.headers]);
        expect(answer.status).toBe(status);
      }),
    );
  });

  it("sets Age from the record and the body's own length, whatever the stored list says", () => {
    const meta = storedMeta("https://cache.test/x", {
      headers: [
        ["content-length", "999"],
        ["content-type", "text/plain"],
      ],
      initialAgeSeconds: 5,
    });
    const fields = new Headers(wholeStoredFields(meta, 12, T0 + 3_000));
    expect([fields.get("age"), fields.get("content-length"), fields.get("content-type")]).toEqual(["8", "12", "text/plain"]);
  });
});
