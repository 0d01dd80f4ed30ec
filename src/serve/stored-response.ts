/**
 * Turning a stored object into the response a client asked for: 304 for a matching conditional,
 * 206/416 for a byte range, no body for HEAD, and a correct Age. The shard and the edge tier both
 * call this one function, so the two tiers can never answer the same request differently.
 */
import { clientConditionalMatches, headersForServe, notModifiedHeaders, partialAnswer, planRange, storedPart } from "../rfc9111";
import { currentAgeSeconds } from "../rfc9111/age";
import { headersFromList } from "../rfc9111/headers";
import type { RequestLike, StoredMeta } from "../rfc9111/types";
import type { EpochMillis } from "../lib/units";

/** A stored body: its length (null while still arriving without Content-Length) and a way to stream it. */
export interface StoredBody {
  bytes: number | null;
  /** The whole body in memory, when it is: a full response is built from it directly (no JS stream per hit). */
  raw?: Uint8Array;
  stream(): ReadableStream<Uint8Array>;
}

export function bodyFromBytes(bytes: Uint8Array): StoredBody {
  return {
    bytes: bytes.byteLength,
    raw: bytes,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      }),
  };
}

/** Yields bytes [start, endInclusive] of `source`, cancelling it once the range is done. */
export function sliceStream(source: ReadableStream<Uint8Array>, start: number, endInclusive: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || offset > endInclusive) {
          controller.close();
          if (!done) void reader.cancel().catch(() => {});
          return;
        }
        const chunkStart = offset;
        offset += value.byteLength;
        if (offset <= start) continue;
        const from = Math.max(0, start - chunkStart);
        const to = Math.min(value.byteLength, endInclusive - chunkStart + 1);
        controller.enqueue(value.subarray(from, to));
        return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** The response for `req` from a stored object, before any Cache-Status is added. */
export function respondFromStored(meta: StoredMeta, body: StoredBody, req: RequestLike, now: EpochMillis): Response {
  if (clientConditionalMatches(meta, req)) return new Response(null, { status: 304, headers: notModifiedHeaders(meta, now) });
  const headers = headersForServe(meta, now);
  const isHead = req.method === "HEAD";
  const size = body.bytes;
  const part = storedPart(meta);
  const inPart = part === null || size === null ? null : partialAnswer(part, req);
  if (part !== null && inPart !== null) {
    // RFC 9111 §3.3: a range wholly inside a stored part; offsets are relative to the part's first byte.
    headers.set("content-range", `bytes ${inPart.start}-${inPart.end}/${part.complete ?? "*"}`);
    headers.set("content-length", String(inPart.end - inPart.start + 1));
    return new Response(sliceStream(body.stream(), inPart.start - part.start, inPart.end - part.start), { status: 206, headers });
  }
  const rangeable = req.method === "GET" && meta.status === 200 && size !== null;
  const range = rangeable ? planRange(req.headers.get("range"), size, meta, req) : { kind: "full" as const };
  switch (range.kind) {
    case "unsatisfiable":
      headers.set("content-range", `bytes */${size}`);
      headers.set("content-length", "0");
      return new Response(null, { status: 416, headers });
    case "partial":
      headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
      headers.set("content-length", String(range.end - range.start + 1));
      return new Response(sliceStream(body.stream(), range.start, range.end), { status: 206, headers });
    case "full":
    case "pass":
      setWholeLength(headers, size);
      return new Response(isHead || nullBodyStatus(meta.status) ? null : (body.raw ?? body.stream()), { status: meta.status, headers });
  }
}

/** RFC 9110 §8.6: a whole body's Content-Length is its own length; none while the length is unknown. */
function setWholeLength(headers: Headers, size: number | null): void {
  if (size !== null) headers.set("content-length", String(size));
  else headers.delete("content-length");
}

/**
 * Does `req` ask for a stored response as it is? A GET with neither condition a cache evaluates
 * (If-None-Match, If-Modified-Since: RFC 9111 §4.3.2) nor a Range (RFC 9110 §14.2; If-Range only
 * qualifies a Range). `respondFromStored` answers it with the stored status and fields, Age, the
 * body's Content-Length and the whole body, for every stored object but a partial one (206): what a
 * prepared answer (src/edge/hit-template.ts) may stand in for.
 */
export function asksForWholeStored(req: RequestLike): boolean {
  const { headers } = req;
  return req.method === "GET" && !headers.has("if-none-match") && !headers.has("if-modified-since") && !headers.has("range");
}

/** The fields of the whole-body answer from a stored full response of `size` bytes, all but Age (`respondFromStored`'s "full" case). */
export function fullResponseHeaders(meta: StoredMeta, size: number): Headers {
  const headers = headersFromList(meta.headers);
  setWholeLength(headers, size);
  return headers;
}

/**
 * The same fields as `fullResponseHeaders` plus Age, as a list: what `respondFromStored` answers a
 * request that `asksForWholeStored`, for a stored full response of `size` bytes. The shard's inline
 * answer crosses RPC as a list (durable/shard-call.ts), and building a Headers (and a Response around
 * it) only to list its fields again took 16 % of the shard isolate's sampled time per hit (issue 15,
 * durable/shard-call.ts `#wholeInline`). `new Headers`
 * of this list holds the same fields as that answer (test/unit/serve/stored-response.test.ts).
 * `meta.headers` has lower-case names and no Age (src/rfc9111/headers.ts `storableHeaderList`).
 */
export function wholeStoredFields(meta: StoredMeta, size: number, now: EpochMillis): (readonly [string, string])[] {
  // The record's own pairs, not copies: nothing changes a pair, and RPC copies what it sends.
  const fields: (readonly [string, string])[] = [];
  for (const field of meta.headers) if (field[0] !== "content-length" && field[0] !== "age") fields.push(field);
  fields.push(["age", String(currentAgeSeconds(meta, now))], ["content-length", String(size)]);
  return fields;
}

/** Statuses that must not carry a body (the Response constructor rejects one). */
export function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304 || (status >= 100 && status < 200);
}
