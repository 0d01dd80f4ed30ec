/**
 * Owns answering Range requests from a stored full response (RFC 9110 §14): parsing a single byte
 * range, If-Range (§13.1.5), and the choice between full, partial, unsatisfiable (416) and pass.
 */
import { parseHttpDate } from "./dates";
import { parseEntityTag, strongMatch } from "./entity-tags";
import { storedHeader } from "./headers";
import type { RequestLike, StoredMeta } from "./types";

export type RangePlan = { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" } | { kind: "pass" };

/**
 * RFC 9110 §14.2: Range applies to GET on a stored 200; an invalid or non-bytes Range is ignored (full).
 * One range → partial (end inclusive, clipped to the size) or unsatisfiable when it starts past the end.
 * deviation: several ranges are passed to the origin (no multipart/byteranges from cache).
 */
export function planRange(rangeHeader: string | null, bodyBytes: number, meta: StoredMeta, req: RequestLike): RangePlan {
  if (rangeHeader === null || req.method !== "GET" || meta.status !== 200) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(rangeHeader);
  if (m === null) return { kind: "full" };
  const specs = (m[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length === 0) return { kind: "full" };
  if (!ifRangeAllows(meta, req.headers.get("if-range"))) return { kind: "full" };
  if (specs.length > 1) return specs.every((s) => RANGE_SPEC.test(s)) ? { kind: "pass" } : { kind: "full" };
  return planSingle(specs[0] as string, bodyBytes);
}

const RANGE_SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/** RFC 9110 §14.1.1 int-range / suffix-range; §14.1.1 satisfiable iff first-pos < length (suffix > 0). */
function planSingle(spec: string, size: number): RangePlan {
  const m = RANGE_SPEC.exec(spec);
  if (m === null) return { kind: "full" };
  if (m[3] !== undefined) {
    const suffix = Number(m[3]);
    return suffix === 0 || size === 0 ? { kind: "unsatisfiable" } : { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" || m[2] === undefined ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (last < start) return { kind: "full" }; // invalid range-spec: the whole header is ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: Math.min(last, size - 1) };
}

/**
 * RFC 9110 §13.1.5 If-Range: an entity-tag must strongly match the stored ETag; an HTTP-date must equal
 * Last-Modified exactly and Last-Modified must be strong (at least a second before Date, §8.8.2.2).
 * Anything else (mismatch, weak, unparseable) → the full representation.
 */
function ifRangeAllows(meta: StoredMeta, ifRange: string | null): boolean {
  if (ifRange === null) return true;
  const text = ifRange.trim();
  if (text.startsWith('"') || text.startsWith("W/")) {
    const theirs = parseEntityTag(text);
    const ours = parseEntityTag(meta.etag);
    return theirs !== null && ours !== null && strongMatch(theirs, ours);
  }
  const since = parseHttpDate(text);
  const lastModified = parseHttpDate(meta.lastModified);
  const date = parseHttpDate(storedHeader(meta, "date"));
  return since !== null && lastModified !== null && date !== null && since === lastModified && date - lastModified >= 1000;
}
