/**
 * One hop-by-hop list for every path a header field takes through the cluster: forwarded to the
 * origin (buildOriginRequest), stored (the stored record's header list), taken from a 304
 * (freshenWithNotModified). The same table runs through all three, so two lists that disagree on
 * any field (as the forwarding and storage copies once did on Proxy-Authorization and Proxy-*) fail here.
 */
import { describe, expect, it } from "vitest";
import { buildOriginRequest } from "../../../src/origin/fetch-origin";
import { freshenWithNotModified } from "../../../src/rfc9111";
import { storableHeaderList } from "../../../src/rfc9111/headers";
import { LIMITS, at, res, stored200 } from "./fixtures";

/** Every field is sent with Connection naming x-named; true = hop-by-hop (must never pass). */
const FIELDS: [name: string, hopByHop: boolean][] = [
  // RFC 9110 §7.6.1
  ["connection", true],
  ["proxy-connection", true],
  ["keep-alive", true],
  ["te", true],
  ["transfer-encoding", true],
  ["upgrade", true],
  ["x-named", true],
  // RFC 9111 §3.1: specific to the proxy a cache forwards through
  ["proxy-authenticate", true],
  ["proxy-authentication-info", true],
  ["proxy-authorization", true],
  // announces trailers the re-framed body never carries
  ["trailer", true],
  // end-to-end fields, whatever their name looks like
  ["proxy-status", false],
  ["x-keep", false],
  ["cache-control", false],
  ["etag", false],
];

const VALUES: Record<string, string> = { connection: "close, X-Named", te: "trailers", "transfer-encoding": "chunked", upgrade: "h2c", "cache-control": "max-age=60", etag: '"v2"' };
const fieldsSent = (): Record<string, string> => Object.fromEntries(FIELDS.map(([name]) => [name, VALUES[name] ?? "1"]));

/** The names each path lets through, from the same fields sent. */
const paths: [string, () => Set<string>][] = [
  [
    "forwarded to the origin",
    () => {
      const forwarded = buildOriginRequest(new Request("https://cache.test/a", { headers: fieldsSent() }), { origin: "https://origin.test", firstByteTimeoutMs: 1_000 });
      return new Set([...forwarded.headers.keys()]);
    },
  ],
  ["stored from a response", () => new Set(storableHeaderList(new Headers(fieldsSent()), []).map(([name]) => name))],
  [
    "taken from a 304",
    () => {
      const meta = freshenWithNotModified(stored200({ "cache-control": "max-age=60" }), res(304, fieldsSent()), { requestTime: at(10), responseTime: at(10) }, { limits: LIMITS });
      return new Set(meta.headers.map(([name]) => name));
    },
  ],
];

describe("the hop-by-hop list (RFC 9110 §7.6.1, RFC 9111 §3.1)", () => {
  describe.each(paths)("%s", (_path, passed) => {
    it.each(FIELDS)("%s: hop-by-hop %s", (name, hopByHop) => {
      expect(passed().has(name)).toBe(!hopByHop);
    });
  });

  it("every path lets exactly the same fields through", () => {
    const [first, ...rest] = paths.map(([, passed]) => [...passed()].filter((name) => FIELDS.some(([n]) => n === name)).sort());
    for (const other of rest) expect(other).toEqual(first);
  });
});
