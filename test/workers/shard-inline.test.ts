/**
 * The shard's inline answer (ShardCall.fromStore, checkShardResult): a stored copy's answer whose body
 * is none or the whole body in the shard's memory travels in the result itself, not as a stream. Held
 * equal on workerd to the streamed answer the same shard gives a context without `inline`, for
 * arbitrary requests (GET / HEAD, ranges, If-None-Match, If-Modified-Since, Vary; verbose on and off) against stored
 * objects with and without validators: status, every field, body, trace, member, label, edge copy.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultCacheKey } from "../../src/rules/cache-key";
import { checkShardResult, type CheckedShardResult, type ShardRequestContext } from "../../src/serve/shard-protocol";
import { holdingTime } from "../helpers/clock";
import { putConfig } from "../helpers/config";
import { withQuery } from "../helpers/http";
import { originCount, originUrl, uniquePath } from "../helpers/origin";
import { shardSettings } from "../helpers/shard-settings";
import { primaryShardOf, untilIdle } from "../helpers/shards";

const BASE = "http://cache.test";
const shard = (name: string) => env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(name));

interface Answer {
  checked: CheckedShardResult;
  inline: boolean;
  status: number;
  headers: [string, string][];
  body: string;
}

async function ask(name: string, ctx: ShardRequestContext, url: string, init: RequestInit): Promise<Answer> {
  const raw: unknown = await shard(name).handle(new Request(url, init), ctx);
  const checked = checkShardResult(raw);
  if (checked === null) throw new Error("not a ShardResult");
  const { response } = checked;
  return { checked, inline: typeof raw === "object" && raw !== null && "inline" in raw, status: response.status, headers: [...response.headers], body: await response.text() };
}

const OBJECTS = [
  { query: "cc=public%2C%20max-age%3D600&size=40&etag=%22v1%22&lm=Tue%2C%2001%20Jan%202030%2000%3A00%3A00%20GMT", validators: true },
  { query: "cc=public%2C%20max-age%3D600&size=7", validators: false },
  { query: "cc=public%2C%20max-age%3D600&size=12&vary=accept", validators: false },
  { query: "cc=public%2C%20max-age%3D600&size=0", validators: false },
  // An origin's own Cache-Status (twice), X-Cache-Info and Age: the inline answer must combine, replace
  // and recompute them exactly as the streamed one does.
  { query: "cc=public%2C%20max-age%3D600&size=9&h-cache-status=forged%3Bhit&h-cache-status=other&h-x-cache-info=forged&h-age=5", validators: false },
];
// Each condition absent half the time, so plain GETs (the inline hot path) come often.
const request = fc.record({
  method: fc.constantFrom("GET", "GET", "HEAD"),
  range: fc.option(fc.constantFrom("bytes=0-3", "bytes=5-", "bytes=-2", "bytes=100-200", "bytes=0-1,3-4", "bytes=x"), { nil: undefined, freq: 2 }),
  ifNoneMatch: fc.option(fc.constantFrom('"v1"', '"other"', "*", 'W/"v1"'), { nil: undefined, freq: 2 }),
  ifModifiedSince: fc.option(fc.constantFrom("Wed, 01 Jan 2031 00:00:00 GMT", "Mon, 01 Jan 2029 00:00:00 GMT"), { nil: undefined, freq: 2 }),
  accept: fc.option(fc.constantFrom("text/plain", "application/json"), { nil: undefined }),
  verbose: fc.boolean(),
});

describe("a stored copy's inline answer", () => {
  it("equals the streamed answer for any request, and is taken for a plain GET of a body in memory", async () => {
    const name = `inline-${uniquePath("s")}`;
    const stored = await Promise.all(
      OBJECTS.map(async (o) => {
        const url = `${BASE}${uniquePath("inline")}?${o.query}`;
        const ctx: ShardRequestContext = { key: defaultCacheKey(new URL(url)), shard: name, origin: originUrl, settings: shardSettings() };
        await (await ask(name, ctx, url, {})).body; // the miss that stores it
        await untilIdle(name); // the store write follows the body
        return { url, ctx };
      }),
    );
    let wholeInline = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: OBJECTS.length - 1 }), request, async (which, r) => {
        const { url, ctx: storedWith } = stored[which]!;
        const ctx = { ...storedWith, settings: { ...storedWith.settings, verbose: r.verbose } };
        const headers: Record<string, string> = {};
        if (r.range !== undefined) headers.range = r.range;
        if (r.ifNoneMatch !== undefined) headers["if-none-match"] = r.ifNoneMatch;
        if (r.ifModifiedSince !== undefined) headers["if-modified-since"] = r.ifModifiedSince;
        if (r.accept !== undefined) headers.accept = r.accept;
        const init = { method: r.method, headers };
        // First once, so that a variant this request misses is stored before the two compared answers.
        await (await ask(name, ctx, url, init)).body;
        await untilIdle(name);
        const [streamed, inline] = await holdingTime(async () => [await ask(name, ctx, url, init), await ask(name, { ...ctx, inline: true }, url, init)] as const);
        expect(streamed.inline).toBe(false);
        expect([inline.status, inline.headers, inline.body]).toEqual([streamed.status, streamed.headers, streamed.body]);
        const { response: _a, body: _b, ...inlineFields } = inline.checked;
        const { response: _c, body: _d, ...streamedFields } = streamed.checked;
        expect(inlineFields).toEqual(streamedFields);
        // A hit with the whole body (or none) comes inline, and its body bytes with it.
        const hit = inline.checked.member.hit === true;
        const plainGet = r.method === "GET" && r.range === undefined && r.ifNoneMatch === undefined && r.ifModifiedSince === undefined;
        if (hit && (plainGet || r.method === "HEAD")) expect(inline.inline).toBe(true);
        if (inline.inline && inline.checked.body !== null) wholeInline += 1;
        if (inline.checked.body !== null) expect(new TextDecoder().decode(inline.checked.body)).toBe(inline.body);
      }),
      { numRuns: 80 },
    );
    // The whole body came inline (not only bodiless answers such as 304s).
    expect(wholeInline).toBeGreaterThan(0);
  });
});

describe("an inline shard hit at the edge", () => {
  it("answers the leader and its single-flight followers with one shard member and one edge member each, and the body", async () => {
    await putConfig({ settings: { edgeTtlCapSeconds: 0 } });
    const path = withQuery(uniquePath("inline-edge"), { cc: "public, max-age=600", size: "30" });
    const first = await SELF.fetch(`${BASE}${path}`);
    const body = await first.text();
    await untilIdle(primaryShardOf(path)); // the store write follows the body
    const answers = await Promise.all(Array.from({ length: 12 }, () => SELF.fetch(`${BASE}${path}`)));
    const statuses = await Promise.all(answers.map(async (r) => ({ cacheStatus: r.headers.get("cache-status") ?? "", length: r.headers.get("content-length"), text: await r.text() })));
    for (const a of statuses) {
      expect(a.text).toBe(body);
      expect(a.length).toBe(String(body.length));
      expect(a.cacheStatus).toMatch(/^shardcache-shard;hit;ttl=\d+, shardcache-edge;[^,]*$/);
    }
    expect(await originCount(path)).toBe(1);
  });
});
