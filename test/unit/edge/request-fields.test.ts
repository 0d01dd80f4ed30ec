/**
 * The gate every reader at the edge sees a client's fields through (src/edge/request-fields.ts): it
 * answers exactly what the Headers would, except that a client's X-Cluster-* fields read as absent
 * unless the request carries the cluster token, and the token itself always does, for any set of
 * fields and any spelling of the name asked. The fields that leave the edge follow the same rule
 * (test/unit/edge/forwarding.test.ts; test/workers/edge-incoming.test.ts through the worker).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normaliseIncoming } from "../../../src/edge/incoming";
import { isInternalName, RequestFields } from "../../../src/edge/request-fields";

const TOKEN = "s3cret";
const NAMES = ["cache-control", "if-none-match", "range", "upgrade", "cookie", "cf-connecting-ip", "x-device", "x-cluster-trace", "x-cluster-debug", "x-cluster-token", "x-clusterish", "x-cluster", "host"];
const spellings = (name: string) => [name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())];
const fieldSets = fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES.filter((n) => n !== "x-cluster-token")), fc.stringMatching(/^[a-z0-9=,;]{0,8}$/)), { selector: ([name]) => name, maxLength: 10 });
const tokens = fc.constantFrom<string | null>(null, TOKEN, "wrong", "");

/** What a reader at the edge may see of `name`: hidden when internal, unless trusted (the token never). */
function expected(headers: Headers, name: string, trusted: boolean): string | null {
  const lower = name.toLowerCase();
  if (lower.startsWith("x-cluster-") && (!trusted || lower === "x-cluster-token")) return null;
  return headers.get(name);
}

function sameAnswers(reader: RequestFields, truth: Headers, trusted: boolean): void {
  for (const name of NAMES)
    for (const asked of spellings(name)) {
      expect(reader.get(asked), `get(${asked})`).toBe(expected(truth, asked, trusted));
      expect(reader.has(asked), `has(${asked})`).toBe(expected(truth, asked, trusted) !== null);
    }
}

describe("RequestFields: a client's fields as the edge reads them", () => {
  it("answers as the Headers, with the client's internal fields hidden unless it carried the token", () => {
    fc.assert(
      fc.property(fieldSets, tokens, fc.constantFrom<string | undefined>(TOKEN, undefined, ""), (fields, sent, configured) => {
        const headers = new Headers(fields);
        if (sent !== null) headers.set("x-cluster-token", sent);
        const reader = new RequestFields(headers, configured);
        const trusted = configured !== undefined && configured !== "" && sent === configured;
        expect(reader.trusted).toBe(trusted);
        sameAnswers(reader, headers, trusted);
        // A rule's request actions make new fields: the same gate, the same trust.
        const changed = new Headers(headers);
        changed.set("x-cluster-extra", "1");
        sameAnswers(reader.over(changed), changed, trusted);
      }),
    );
  });

  it("is what normaliseIncoming hands the edge, for any method, body and fields", () => {
    fc.assert(
      fc.property(fieldSets, fc.constantFrom("GET", "HEAD", "POST"), tokens, (fields, method, sent) => {
        const headers = new Headers(fields);
        if (sent !== null) headers.set("x-cluster-token", sent);
        const arrived = normaliseIncoming(new Request("https://a.test/x", { method, headers, body: method === "POST" ? "payload" : null }), TOKEN);
        sameAnswers(arrived.headers, arrived.request.headers, sent === TOKEN);
        // The admin API gets the request with the hidden fields removed.
        const admin = [...arrived.forAdmin().headers.keys()].filter((name) => name.startsWith("x-cluster-"));
        expect(admin).toEqual(sent === TOKEN ? [...arrived.request.headers.keys()].filter((n) => n.startsWith("x-cluster-") && n !== "x-cluster-token") : []);
      }),
    );
  });

  it("reads the token only when an internal field is asked for", () => {
    const headers = new Headers({ "x-cluster-token": TOKEN, "if-none-match": '"a"' });
    const asked: string[] = [];
    const watched = new Proxy(headers, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "get") return (name: string) => (asked.push(name), target.get(name));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const reader = new RequestFields(watched, TOKEN);
    expect(reader.get("if-none-match")).toBe('"a"');
    expect(reader.get("range")).toBeNull();
    expect(asked).toEqual(["if-none-match", "range"]);
    expect(reader.get("x-cluster-token")).toBeNull();
    expect(asked).toEqual(["if-none-match", "range", "x-cluster-token"]);
  });

  it.each([
    ["x-cluster-trace", true],
    ["X-Cluster-Trace", true],
    ["x-cluster-", true],
    ["x-clusterish", false],
    ["x-custom", false],
    ["cache-control", false],
  ])("isInternalName(%s) is %s", (name, internal) => {
    expect(isInternalName(name)).toBe(internal);
  });
});
