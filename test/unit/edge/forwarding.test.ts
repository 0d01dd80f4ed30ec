/**
 * src/edge/forwarding.ts: the request past the edge deletes only the unkeyed fields it carries, with the
 * names to drop built once per unkeyed list and keyed set. Held equal, for any request fields and any
 * lists, to the plain definition: copy every field, delete each unkeyed name the rule does not key.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_UNKEYED_REQUEST_HEADERS } from "../../../src/config/settings";
import { forwardedField, keyedHeaderNames, requestForUpstream } from "../../../src/edge/forwarding";

const NAMES = [...DEFAULT_UNKEYED_REQUEST_HEADERS, "accept", "cookie", "x-custom", "X-Forwarded-Host", "Accept-Language", "forwarded", "x-cluster-trace", "X-Cluster-Debug", "x-cluster-token"];
const caseOf = (name: string) =>
  fc.constantFrom(
    name,
    name.toUpperCase(),
    name.replace(/^./, (c) => c.toUpperCase()),
  );
const anyName = fc.constantFrom(...NAMES).chain(caseOf);
const value = fc.stringMatching(/^[!-~]([ -~]{0,8}[!-~])?$/);

/**
 * The general path: the definition, one delete per unkeyed name; and the client's X-Cluster-* fields
 * gone unless it is trusted, the token itself always.
 */
function reference(request: Request, unkeyed: readonly string[], keyed: ReadonlySet<string>, clientIp: string | null, trusted: boolean): Headers {
  const headers = new Headers(request.headers);
  for (const name of unkeyed) if (!keyed.has(name.toLowerCase())) headers.delete(name);
  for (const [name] of request.headers) if (name.startsWith("x-cluster-") && (!trusted || name === "x-cluster-token")) headers.delete(name);
  const url = new URL(request.url);
  headers.set("forwarded", forwardedField(url, clientIp));
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
  return headers;
}

describe("requestForUpstream", () => {
  it("sends what the plain definition sends, for any fields, unkeyed list and keyed headers", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyName, value), { maxLength: 12 }),
        fc.array(anyName, { maxLength: 16 }),
        fc.array(anyName, { maxLength: 3 }),
        fc.option(fc.constantFrom("192.0.2.1", "2001:db8::1"), { nil: null }),
        fc.boolean(),
        (fields, unkeyed, keyedNames, clientIp, trusted) => {
          const request = new Request("https://shop.example:8443/a?b=1", { headers: fields });
          const keyed = keyedHeaderNames({ headers: keyedNames });
          const sent = requestForUpstream(request, { unkeyed, keyed, clientIp, trusted });
          expect([...sent.headers]).toEqual([...reference(request, unkeyed, keyed, clientIp, trusted)]);
          expect([sent.method, sent.url]).toEqual([request.method, request.url]);
        },
      ),
    );
  });

  it("builds a spec's keyed names once, and the same names for an equal spec", () => {
    const spec = { headers: ["X-Device", "accept"] };
    expect(keyedHeaderNames(spec)).toBe(keyedHeaderNames(spec));
    expect([...keyedHeaderNames(spec)]).toEqual([...keyedHeaderNames({ headers: ["X-Device", "accept"] })]);
    expect([...keyedHeaderNames(undefined)]).toEqual([]);
  });
});
