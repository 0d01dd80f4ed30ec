/**
 * Owns Vary (RFC 9111 §4.1): the selecting header fields a response names, the normalised values a
 * request sent for them, the secondary cache key built from those values, and variant selection.
 */
import type { FieldReader } from "../lib/field-reader";
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
 * RFC 9111 §4.1 lets a cache normalise values with identical semantics. Every field: trim, collapse runs
 * of whitespace, and write every list separator as ", ". The fields in `SEMANTIC_NORMALISERS` go further.
 * An absent field stays null, which is different from an empty one ("").
 */
export function normaliseSelectingValue(value: string | null, name?: string): string | null {
  if (value === null) return null;
  const generic = value
    .trim()
    .replace(/[ \t]+/g, " ")
    .replace(/ ?, ?/g, ", ");
  const semantic = name === undefined ? undefined : SEMANTIC_NORMALISERS[name.toLowerCase()];
  return semantic === undefined ? generic : semantic(generic);
}

/** RFC 9110 §12.4.2 qvalue: 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * A weighted list of case-insensitive tokens (RFC 9110 §12.4.2, §12.5.3 Accept-Encoding, §12.5.4
 * Accept-Language): members lower-cased (content-codings, §8.4.1, and language ranges, RFC 4647 §2, are
 * case-insensitive), whitespace around ";" and "=" dropped, `q=1` (the default weight) left out and other
 * weights written as numbers (`q=0.50` → `q=0.5`), duplicates dropped, and the members sorted by weight,
 * then by name. The sort is the one judgement call: members of equal weight are read as a set (§12.4.2
 * gives no meaning to their order for a cache's purpose), so `en, fr` and `fr, en` share a variant.
 * A member whose weight is not a valid qvalue is kept as written (lower-cased), never merged.
 */
function weightedTokenList(value: string): string {
  const members = value
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "")
    .map(weightedMember);
  const unique = [...new Map(members.map((m) => [m.text, m])).values()];
  unique.sort((a, b) => b.weight - a.weight || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return unique.map((m) => m.text).join(", ");
}

function weightedMember(member: string): { text: string; weight: number } {
  const [range = "", ...params] = member
    .toLowerCase()
    .split(";")
    .map((p) => p.trim().replace(/\s*=\s*/, "="));
  let weight = 1;
  const kept: string[] = [];
  for (const param of params) {
    const q = /^q=(.*)$/.exec(param);
    if (q !== null && QVALUE.test(q[1] ?? "")) weight = Number(q[1]);
    else if (param !== "") kept.push(param);
  }
  const text = [range, ...kept, ...(weight === 1 ? [] : [`q=${weight}`])].join(";");
  return { text, weight };
}

/**
 * The documented table of selecting fields normalised by meaning, not only by whitespace (RFC 9111 §4.1:
 * "by combining multiple header fields ... or normalizing both header field values in a way that is known
 * to have identical semantics"). Fields not listed compare by the generic normalisation only.
 */
export const SEMANTIC_NORMALISERS: Readonly<Record<string, (value: string) => string>> = {
  "accept-language": weightedTokenList,
  "accept-encoding": weightedTokenList,
};

/** The normalised values the request sends for each selecting field. */
export function captureVary(names: readonly string[], reqHeaders: FieldReader): (string | null)[] {
  return names.map((name) => normaliseSelectingValue(reqHeaders.get(name), name));
}

/** Bytes of names plus captured values (UTF-8), compared with `StoreLimits.maxVaryBytes`. */
export function varyBytes(names: readonly string[], reqHeaders: FieldReader): number {
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
export function variantKeyFor(varyNames: readonly string[], reqHeaders: FieldReader): string {
  const names = [...new Set(varyNames.map((n) => n.trim().toLowerCase()))].filter((n) => n !== "").sort();
  return names
    .map((name) => {
      const value = normaliseSelectingValue(reqHeaders.get(name), name);
      return value === null ? name : `${name}=${encodeURIComponent(value)}`;
    })
    .join("&");
}

/** RFC 9111 §4.1: does a stored response's Vary match this request? `Vary: *` never matches. */
export function varyMatches(meta: Pick<StoredMeta, "vary">, reqHeaders: FieldReader): boolean {
  if (meta.vary === null) return true;
  const { names, values } = meta.vary;
  if (names.includes("*")) return false;
  return names.every((name, i) => normaliseSelectingValue(reqHeaders.get(name), name) === (values[i] ?? null));
}

/** RFC 9111 §4.1: the first stored variant that matches (callers pass the most recent first). */
export function selectVariant<T extends { meta: StoredMeta }>(variants: readonly T[], req: RequestLike): T | undefined {
  return variants.find((variant) => varyMatches(variant.meta, req.headers));
}
