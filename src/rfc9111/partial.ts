/**
 * Owns stored partial content (RFC 9111 §3.3, §3.4; RFC 9110 §14.4, §15.3.7): which 206 responses can be
 * stored, which later requests one may answer, and combining a new part with a stored one.
 *
 * Bounded by design: a stored variant holds ONE contiguous part. A new part that overlaps or touches it
 * is combined into one (and becomes a complete 200 once it covers the whole representation); a part
 * that does not replaces the stored one. Bytes stay under the caller's maxObjectBytes.
 */
import { parseEntityTag, strongMatch } from "./entity-tags";
import { storedHeader } from "./headers";
import type { RequestLike, StoredMeta } from "./types";

/** A byte range of a representation, end inclusive; `complete` is its full length, null for `/*`. */
export interface ContentRange {
  start: number;
  end: number;
  complete: number | null;
}

/** RFC 9110 §14.4: `bytes first-last/complete` or `bytes first-last/*`; anything else (e.g. `bytes *\/N`) → null. */
export function parseContentRange(value: string | null): ContentRange | null {
  if (value === null) return null;
  const m = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)\s*$/i.exec(value);
  if (m === null) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const complete = m[3] === "*" ? null : Number(m[3]);
  if (end < start || (complete !== null && end >= complete)) return null; // §14.4: an invalid range
  return { start, end, complete };
}

/** RFC 9111 §3.3: a 206 may be stored when its Content-Range describes one valid byte range. */
export function storablePartial(headers: Headers): boolean {
  return parseContentRange(headers.get("content-range")) !== null;
}

/** The part a stored 206 holds, or null when `meta` is not a stored partial response. */
export function storedPart(meta: Pick<StoredMeta, "status" | "headers">): ContentRange | null {
  return meta.status === 206 ? parseContentRange(storedHeader(meta, "content-range")) : null;
}

/**
 * RFC 9111 §3.3: an incomplete stored response may answer a request only when "the request is partial
 * and specifies data ranges wholly within the incomplete response". One byte range (RFC 9110 §14.1.1):
 * `a-b`, `a-` (to the end: needs the complete length) and `-n` (the last n bytes: needs it too).
 * Returns the absolute range to serve, or null (the request goes to the origin).
 */
export function partialAnswer(part: ContentRange, req: RequestLike): { start: number; end: number } | null {
  if (req.method !== "GET") return null;
  const m = /^\s*bytes\s*=\s*(?:(\d{1,15})-(\d{0,15})|-(\d{1,15}))\s*$/i.exec(req.headers.get("range") ?? "");
  if (m === null || req.headers.has("if-range")) return null; // several ranges, no Range, or If-Range: the origin decides
  let start: number;
  let end: number;
  if (m[3] !== undefined) {
    if (part.complete === null || Number(m[3]) === 0) return null;
    start = Math.max(0, part.complete - Number(m[3]));
    end = part.complete - 1;
  } else {
    start = Number(m[1]);
    if (m[2] === "" || m[2] === undefined) {
      if (part.complete === null) return null;
      end = part.complete - 1;
    } else {
      end = Number(m[2]);
      if (end < start) return null;
      if (part.complete !== null) end = Math.min(end, part.complete - 1);
    }
  }
  return start >= part.start && end <= part.end ? { start, end } : null;
}

/** RFC 9111 §3.3: may this stored response answer `req`? Always for a complete one; for a part, only a range inside it. */
export function storedAnswers(meta: Pick<StoredMeta, "status" | "headers">, req: RequestLike): boolean {
  const part = storedPart(meta);
  return part === null || partialAnswer(part, req) !== null;
}

/** A stored part and its bytes. */
export interface StoredPart {
  meta: StoredMeta;
  body: Uint8Array;
}

/**
 * RFC 9111 §3.4: a new 206 may be combined with a stored partial response only when both carry the same
 * strong validator (an ETag; both weak or absent → no combining) and the same complete length. Parts that
 * overlap or touch become one; once that covers the whole representation it is stored as a complete 200
 * without Content-Range. Otherwise (no match, a gap, or beyond `maxBytes`) → null: the new part alone is kept.
 * The combined record takes the new response's metadata (its fields are the newer ones, §3.4).
 */
export function combineParts(stored: StoredPart, incoming: StoredPart, maxBytes: number): StoredPart | null {
  const a = storedPart(stored.meta);
  const b = storedPart(incoming.meta);
  if (a === null || b === null || a.complete !== b.complete) return null;
  const oldTag = parseEntityTag(stored.meta.etag);
  const newTag = parseEntityTag(incoming.meta.etag);
  if (oldTag === null || newTag === null || !strongMatch(oldTag, newTag)) return null;
  if (b.start > a.end + 1 || a.start > b.end + 1) return null; // a gap: one part per variant
  const start = Math.min(a.start, b.start);
  const end = Math.max(a.end, b.end);
  const length = end - start + 1;
  if (length > maxBytes) return null;
  const body = new Uint8Array(length);
  body.set(stored.body, a.start - start);
  body.set(incoming.body, b.start - start); // the newer bytes win where they overlap
  const whole = b.complete !== null && start === 0 && end === b.complete - 1;
  const headers = incoming.meta.headers.filter(([name]) => name !== "content-range" && name !== "content-length");
  if (!whole) headers.push(["content-range", `bytes ${start}-${end}/${b.complete ?? "*"}`]);
  return { meta: { ...incoming.meta, status: whole ? 200 : 206, headers, bodyBytes: length }, body };
}
