/**
 * The edge reads a request's fields through RequestFields (src/edge/request-fields.ts), which answers
 * for an absent recorded field from the record incoming.ts makes while it reads every name. It must
 * answer exactly what the Headers would, for any set of fields, any name asked (in any case), and
 * after incoming.ts has dropped the client's internal fields or a GET's body framing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normaliseIncoming } from "../../../src/edge/incoming";
import { recordedBit, RequestFields } from "../../../src/edge/request-fields";

/** Recorded names, names the edge reads that are not recorded, internal and framing fields, and noise. */
const NAMES = [
  "cache-control",
  "pragma",
  "if-none-match",
  "if-modified-since",
  "if-match",
  "if-unmodified-since",
  "if-range",
  "range",
  "upgrade",
  "authorization",
  "cookie",
  "cf-connecting-ip",
  "accept-encoding",
  "x-device",
  "x-cluster-trace",
  "x-cluster-token",
  "content-length",
  "transfer-encoding",
  "host",
];
const spellings = (name: string) => [name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())];

const fieldSets = fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z0-9=,;]{0,8}$/)), { selector: ([name]) => name, maxLength: 10 });

function sameAnswers(reader: RequestFields, truth: Headers): void {
  for (const name of NAMES)
    for (const asked of spellings(name)) {
      expect(reader.has(asked), `has(${asked})`).toBe(truth.has(asked));
      expect(reader.get(asked), `get(${asked})`).toBe(truth.get(asked));
    }
}

describe("RequestFields answers as the Headers it stands for", () => {
  it("built from the Headers itself", () => {
    fc.assert(
      fc.property(fieldSets, (fields) => {
        const headers = new Headers(fields);
        sameAnswers(RequestFields.of(headers), headers);
      }),
    );
  });

  it("built by incoming.ts, for the request it hands on (internal fields and a GET's framing dropped)", () => {
    fc.assert(
      fc.property(fieldSets, fc.constantFrom("GET", "HEAD", "POST"), fc.boolean(), (fields, method, trusted) => {
        const sent = new Headers(fields.filter(([name]) => name !== "transfer-encoding" && name !== "content-length"));
        if (trusted) sent.set("x-cluster-token", "secret");
        const body = method === "POST" ? "payload" : null;
        const arrived = normaliseIncoming(new Request("https://a.test/x", { method, headers: sent, body }), "secret");
        sameAnswers(arrived.headers, arrived.request.headers);
      }),
    );
  });

  it("asks the Headers nothing for an absent recorded field, and reads a present one from it", () => {
    const headers = new Headers({ range: "bytes=0-1" });
    let reads = 0;
    const counting = new Proxy(headers, {
      get(target, prop) {
        if (prop === "get" || prop === "has") reads++;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const reader = RequestFields.of(headers);
    const viaProxy = new RequestFields(counting, recordedBit("range"));
    expect(reader.has("if-none-match")).toBe(false);
    expect(viaProxy.get("if-none-match")).toBeNull();
    expect(viaProxy.has("cache-control")).toBe(false);
    expect(reads).toBe(0);
    expect(viaProxy.get("range")).toBe("bytes=0-1");
    expect(viaProxy.get("x-device")).toBeNull();
    expect(reads).toBe(2);
  });
});
