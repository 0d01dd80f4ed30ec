/**
 * Owns Vary (RFC 9111 §4.1): the selecting header fields a response names, the normalised values a
 * request sent for them, the secondary cache key built from those values, and variant selection.
 */
import { TOKEN } from "./cache-control";
import type { RequestLike, StoredMeta } from "./types";

/** RFC 9110 §12.5.5: Vary field names, lower-case, deduplicated, in order; `*` kept as "*". */
export function parseVary(value: string | null): string[] {
  if (value === null) return [];
  const names: string[] = [];
  for (const raw of value.split(",")) {
    const name = raw.trim().toLowerCase();
    if ((name === "*" || TOKEN.test(name)) && !names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * RFC 9111 §4.1 lets a cache normalise values with identical semantics. We keep it simple:
 * trim, collapse runs of whitespace, and write every list separator as ", ". An absent field stays
 * null, which is different from an empty one ("").
 */
export function normaliseSelectingValue(value: string | null): string | null {
  if (value === null) return null;
  return value.trim().replace(/[ \t]+/g, " ").replace(/ ?, ?/g, ", ");
}

/** The normalised values the request sends for each selecting field. */
export function captureVary(names: readonly string[], reqHeaders: Headers): (string | null)[] {
  return names.map((name) => normaliseSelectingValue(reqHeaders.get(name)));
}

/** Bytes of names plus captured values (UTF-8), compared with `StoreLimits.maxVaryBytes`. */
export function varyBytes(names: readonly string[], reqHeaders: Headers): number {
  const encoder = new TextEncoder();
  let bytes = 0;
  for (const [i, value] of captureVary(names, reqHeaders).entries()) {
    bytes += encoder.encode(names[i]).byteLength + (value === null ? 0 : encoder.encode(value).byteLength);
  }
  return bytes;
}

/**
 * Deterministic secondary key: selecting fields sorted by lower-case name, each as `name` when the
 * request lacks it or `name=<percent-encoded value>` when present (so absent ≠ empty); "" without names.
 */
export function variantKeyFor(varyNames: readonly string[], reqHeaders: Headers): string {
  const names = [...new Set(varyNames.map((n) => n.trim().toLowerCase()))].filter((n) => n !== "").sort();
  return names
    .map((name) => {
      const value = normaliseSelectingValue(reqHeaders.get(name));
      return value === null ? name : `${name}=${encodeURIComponent(value)}`;
    })
    .join("&");
}

/** RFC 9111 §4.1: does a stored response's Vary match this request? `Vary: *` never matches. */
export function varyMatches(meta: Pick<StoredMeta, "vary">, reqHeaders: Headers): boolean {
  if (meta.vary === null) return true;
  const { names, values } = meta.vary;
  if (names.includes("*")) return false;
  return names.every((name, i) => normaliseSelectingValue(reqHeaders.get(name)) === (values[i] ?? null));
}

/** RFC 9111 §4.1: the first stored variant that matches (callers pass the most recent first). */
export function selectVariant<T extends { meta: StoredMeta }>(variants: readonly T[], req: RequestLike): T | undefined {
  return variants.find((variant) => varyMatches(variant.meta, req.headers));
}
