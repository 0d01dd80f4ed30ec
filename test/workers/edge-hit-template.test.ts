/**
 * The edge hit's fast path (src/edge/hit-template.ts) against the general path (`respondFromStored`
 * + `finish`), on workerd's own Headers and Response: for arbitrary stored objects, a run of hits
 * with arbitrary requests, times and settings, both answer the same status, the same fields (every
 * one, Age and Cache-Status included, at the same instant), the same body, and tell the observer the
 * same. The template shares one Headers between hits, so every answer is also checked again after
 * the later hits: a Response must keep the fields it was built with.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultSettings } from "../../src/config/settings";
import type { EdgeEntry } from "../../src/edge/edge-tier";
import { answerFreshCopy } from "../../src/edge/handler";
import { HitTemplate } from "../../src/edge/hit-template";
import { normaliseIncoming } from "../../src/edge/incoming";
import { PurgeIndex } from "../../src/edge/purge-log";
import type { EdgeAnswer, RequestScope } from "../../src/edge/request-scope";
import type { RuleResult } from "../../src/rules/match";
import type { StoredMeta } from "../../src/rfc9111/types";
import { asksForWholeStored, bodyFromBytes } from "../../src/serve/stored-response";
import { storedMeta, T0 } from "../helpers/stored-meta";

const DATES = ["Tue, 14 Nov 2023 22:13:20 GMT", "Tue, 14 Nov 2023 22:14:20 GMT", "Mon, 13 Nov 2023 10:00:00 GMT"];
const value = fc.stringMatching(/^[A-Za-z0-9 ,;=/:"-]{0,12}$/);

/** Stored fields, the edge's own among them (an origin may send any of them). */
const storedField = fc.oneof(
  fc.tuple(fc.constantFrom("content-type", "x-custom", "set-cookie", "vary", "cache-status", "x-cache-info", "shardcache-cache-control", "cdn-cache-control"), value),
  fc.tuple(fc.constant("cache-control"), fc.constantFrom("public, max-age=60", "max-age=0, must-revalidate", "no-cache")),
  fc.tuple(fc.constantFrom("date", "last-modified", "expires"), fc.constantFrom(...DATES)),
  fc.tuple(fc.constant("etag"), fc.constantFrom('"a"', 'W/"a"', '"b"')),
  fc.tuple(fc.constant("content-length"), fc.constantFrom("0", "3", "999")),
  fc.tuple(fc.constant("content-range"), fc.constantFrom("bytes 0-3/10", "bytes 2-5/*", "garbage")),
  fc.tuple(fc.constant("age"), fc.constantFrom("0", "1000")),
);

const stored = fc.record({
  status: fc.constantFrom(200, 200, 200, 203, 204, 206, 300, 301, 404, 410, 500),
  headers: fc.array(storedField, { maxLength: 8 }),
  etag: fc.constantFrom(null, '"a"', 'W/"a"'),
  lastModified: fc.constantFrom(null, ...DATES),
  initialAgeSeconds: fc.constantFrom(0, 0.25, 3, 100.5),
  body: fc.uint8Array({ maxLength: 40 }),
});

/** Request fields, the ones that take the general path among them. */
const requestField = fc.oneof(
  fc.tuple(fc.constant("if-none-match"), fc.constantFrom('"a"', '"b"', "*", 'W/"a"', "garbage")),
  fc.tuple(fc.constant("if-modified-since"), fc.constantFrom(...DATES, "garbage")),
  fc.tuple(fc.constant("range"), fc.constantFrom("bytes=0-3", "bytes=-2", "bytes=5-", "bytes=0-1,3-4", "items=1-2", "bytes=9-2", "bytes=100-")),
  fc.tuple(fc.constant("if-range"), fc.constantFrom('"a"', ...DATES)),
  fc.tuple(fc.constantFrom("if-match", "if-unmodified-since", "accept", "cache-control", "x-custom"), value),
);

const hit = fc.record({
  method: fc.constantFrom("GET", "GET", "GET", "HEAD"),
  headers: fc.array(requestField, { maxLength: 3 }),
  afterMs: fc.integer({ min: 0, max: 3_000 }),
  verbose: fc.boolean(),
  trace: fc.boolean(),
  matched: fc.constantFrom<string[]>([], ["static"], ["a", "b"]),
});

/** What a test can compare of a response: status, every field (as Headers lists them), body. */
async function seen(response: Response): Promise<{ status: number; headers: [string, string][]; body: number[] | null }> {
  const fields = [...response.headers];
  return { status: response.status, headers: fields, body: response.body === null ? null : [...new Uint8Array(await response.arrayBuffer())] };
}

function entry(meta: StoredMeta, bytes: Uint8Array, template: HitTemplate | null): EdgeEntry {
  return { meta, body: bodyFromBytes(bytes), edgeExpireAt: T0 + 3_600_000, storedAt: T0, template };
}

describe("the edge hit's prepared template", () => {
  it("answers exactly what the general path answers, hit after hit", async () => {
    let fastAnswers = 0;
    await fc.assert(
      fc.asyncProperty(stored, fc.array(hit, { minLength: 1, maxLength: 6 }), async (object, hits) => {
        const meta = storedMeta("http://cache.test/x", {
          status: object.status,
          headers: object.headers,
          etag: object.etag,
          lastModified: object.lastModified,
          initialAgeSeconds: object.initialAgeSeconds,
          bodyBytes: object.body.byteLength,
        });
        const template = HitTemplate.for(meta, object.body);
        const fast = entry(meta, object.body, template);
        const general = entry(meta, object.body, null);
        const kept: { response: Response; fields: [string, string][] }[] = [];
        let now = T0;
        for (const h of hits) {
          now += h.afterMs;
          // As the edge reads a request (src/edge/incoming.ts): its parts once, absent fields from the record.
          const req = normaliseIncoming(new Request("http://cache.test/x", { method: h.method, headers: h.headers }));
          const rule: RuleResult = { actions: {}, matched: h.matched };
          const deps = (observed: EdgeAnswer[]) => ({ settings: { ...defaultSettings, verbose: h.verbose, trace: h.trace }, colo: "TST", observer: { observe: (answer: EdgeAnswer) => void observed.push(answer) } });
          const scope: RequestScope = { incoming: req, receivedAt: now, country: null, purges: PurgeIndex.empty, waitUntil: () => {} };
          const fastObserved: EdgeAnswer[] = [];
          const generalObserved: EdgeAnswer[] = [];
          const fromTemplate = answerFreshCopy(fast, req, now, rule, deps(fastObserved), scope);
          const fromGeneral = answerFreshCopy(general, req, now, rule, deps(generalObserved), scope);
          if (template !== null && asksForWholeStored(req)) fastAnswers++;
          kept.push({ response: fromTemplate, fields: [...fromTemplate.headers] });
          expect(await seen(fromTemplate)).toEqual(await seen(fromGeneral));
          expect(fastObserved).toEqual(generalObserved);
        }
        // Later hits changed the shared Headers: the answers already built keep their own fields.
        for (const { response, fields } of kept) expect([...response.headers]).toEqual(fields);
      }),
      { numRuns: 300 },
    );
    // The property must have exercised the fast path, not only the general one.
    expect(fastAnswers).toBeGreaterThan(100);
  });

  it("is not built for a partial object (206: only the general path answers ranges of a part)", () => {
    expect(HitTemplate.for(storedMeta("http://cache.test/p", { status: 206, headers: [["content-range", "bytes 0-3/10"]] }), new Uint8Array(4))).toBeNull();
  });

  it("takes only a GET without conditionals or Range", () => {
    const ask = (method: string, headers: Record<string, string> = {}) => asksForWholeStored({ method, url: "http://cache.test/x", headers: new Headers(headers) });
    expect(ask("GET")).toBe(true);
    expect(ask("GET", { "if-match": '"a"', "if-range": '"a"', "cache-control": "no-cache" })).toBe(true);
    expect([ask("HEAD"), ask("GET", { "if-none-match": "*" }), ask("GET", { "if-modified-since": DATES[0]! }), ask("GET", { range: "bytes=0-1" })]).toEqual([false, false, false, false]);
  });
});
