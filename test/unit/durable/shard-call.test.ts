/**
 * The shard's answer dressing (durable/shard-call.ts): a stored hit is dressed in place, with the
 * Cache-Status member of a fresh hit written without the structured-fields serializer. Held equal,
 * for any outcome a stored copy is served with and any ttl, to the general path: the renderer's
 * member through renderCacheStatus, after whatever Cache-Status the stored response carried.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SHARD_CACHE_NAME, ShardCall } from "../../../durable/shard-call";
import { renderCacheStatus } from "../../../src/rfc9111/cache-status";
import { renderOutcome, type Outcome } from "../../../src/serve/outcome";
import { respondFromStored, bodyFromBytes } from "../../../src/serve/stored-response";
import { shardSettings } from "../../helpers/shard-settings";
import { storedMeta, T0 } from "../../helpers/stored-meta";

const ttl = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e16, -1e16, Number.POSITIVE_INFINITY, Number.NaN));
const servedOutcome: fc.Arbitrary<Outcome> = fc.oneof(
  ttl.map((ttlSeconds) => ({ kind: "hit", ttlSeconds }) as const),
  ttl.map((ttlSeconds) => ({ kind: "refresh-ahead", ttlSeconds }) as const),
  fc.tuple(fc.constantFrom("refresh-time", "stale-while-revalidate", "max-stale" as const), ttl).map(([why, ttlSeconds]) => ({ kind: "stale", why, ttlSeconds }) as const),
  fc.constantFrom("grace", "stale-if-error" as const).map((why) => ({ kind: "stale-on-error", why }) as const),
);
/** A Cache-Status the origin sent and the shard stored (kept, with the shard's member after it). */
const upstream = fc.option(fc.constantFrom("origin-cache;hit", "a;fwd=uri-miss, b;hit;ttl=3", ""), { nil: undefined });

function call(method: "GET" | "HEAD", verbose: boolean): ShardCall {
  return new ShardCall(new Request("https://example.test/a", { method }), { key: "k", shard: "shard-1", origin: "https://origin.test", settings: shardSettings({ verbose }) }, null);
}

describe("a stored copy's answer, dressed in place", () => {
  it("carries the general path's Cache-Status, X-Cache-Info and trace, on the very response respondFromStored built", () => {
    fc.assert(
      fc.property(servedOutcome, upstream, fc.constantFrom("GET", "HEAD" as const), fc.boolean(), (outcome, earlier, method, verbose) => {
        const headers: [string, string][] = [["content-type", "text/plain"]];
        if (earlier !== undefined) headers.push(["cache-status", earlier]);
        const meta = storedMeta("https://example.test/a", { headers, bodyBytes: 2 });
        const c = call(method, verbose);
        const response = respondFromStored(meta, bodyFromBytes(new TextEncoder().encode("ok")), c.req, T0 + 1000);
        const result = c.served(response, outcome, meta);

        const rendered = renderOutcome("shard", outcome);
        const mine = renderCacheStatus([{ cache: SHARD_CACHE_NAME, ...rendered.member }]);
        expect(result.response).toBe(response);
        expect(result.response.headers.get("cache-status")).toBe(earlier ? `${earlier}, ${mine}` : mine);
        expect(result.response.headers.get("x-cache-info")).toBe(verbose ? rendered.info : null);
        expect([result.trace, result.member, result.outcome, result.origin]).toEqual([`shard-1->${rendered.word}`, rendered.member, rendered.label, null]);
        expect(result.edgeCopy).toBe(method === "GET" && outcome.kind !== "stale-on-error" ? meta : undefined);
      }),
    );
  });
});
