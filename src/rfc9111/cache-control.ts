/**
 * Owns the Cache-Control grammar (RFC 9111 §5.2): parsing request and response directives into a
 * typed record that never throws, choosing which field governs this cache (RFC 9213), and formatting.
 */
import type { Seconds } from "../lib/units";
import { parseDictionary } from "structured-headers";
import { parseDeltaSeconds } from "./dates";

/** One directive as written: lower-case name and its unquoted argument (null when it had none). */
export interface Directive {
  name: string;
  value: string | null;
}

/**
 * Parsed Cache-Control. Duplicated directives resolve to the most restrictive value (RFC 9111 §4.2.1).
 * Delta-second directives that are missing their argument or carry an invalid one are listed in
 * `invalid`; for max-age, s-maxage, stale-while-revalidate and stale-if-error such a value counts as 0
 * (the response is stale / gets no window), for max-stale and min-fresh it is ignored.
 */
export interface CacheControl {
  /** Every directive in order of appearance, duplicates and unknown extensions kept. */
  directives: Directive[];
  /** Names of directives whose argument was missing or not valid delta-seconds (deduplicated). */
  invalid: string[];
  maxAge: Seconds | null;
  sMaxage: Seconds | null;
  /** Request max-stale: seconds; `Infinity` when it came without a value; null when absent. */
  maxStale: Seconds | null;
  minFresh: Seconds | null;
  staleWhileRevalidate: Seconds | null;
  staleIfError: Seconds | null;
  noStore: boolean;
  /** Unqualified no-cache (also set when the qualified form lists no usable field name). */
  noCache: boolean;
  /** Field names of qualified `no-cache="a, b"`, lower-case. */
  noCacheFields: string[];
  /** Unqualified private. */
  private: boolean;
  /** Field names of qualified `private="a, b"`, lower-case. */
  privateFields: string[];
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  mustUnderstand: boolean;
  noTransform: boolean;
  onlyIfCached: boolean;
  immutable: boolean;
}

/** Which field supplied a response's directives for this cache, spelled as in header text. */
export type CacheControlSource = "Shardcache-Cache-Control" | "CDN-Cache-Control" | "Cache-Control";

/** RFC 9110 §5.6.2 token. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function emptyCacheControl(): CacheControl {
  return {
    directives: [],
    invalid: [],
    maxAge: null,
    sMaxage: null,
    maxStale: null,
    minFresh: null,
    staleWhileRevalidate: null,
    staleIfError: null,
    noStore: false,
    noCache: false,
    noCacheFields: [],
    private: false,
    privateFields: [],
    public: false,
    mustRevalidate: false,
    proxyRevalidate: false,
    mustUnderstand: false,
    noTransform: false,
    onlyIfCached: false,
    immutable: false,
  };
}

/** RFC 9111 §5.2: parse a Cache-Control field value; malformed members are skipped, never thrown on. */
export function parseCacheControl(value: string | null): CacheControl {
  const cc = emptyCacheControl();
  if (value === null) return cc;
  for (const directive of scanDirectives(value)) applyDirective(cc, directive);
  return cc;
}

/** Splits a field value into directives, honouring quoted-string arguments (commas inside quotes). */
export function scanDirectives(input: string): Directive[] {
  const out: Directive[] = [];
  let pos = 0;
  while (pos < input.length) {
    let i = pos;
    while (i < input.length && input[i] !== "=" && input[i] !== ",") i++;
    const rawName = input.slice(pos, i).trim();
    let value: string | null = null;
    if (input[i] === "=") {
      const read = readArgument(input, i + 1);
      value = read.value;
      i = read.next;
    }
    while (i < input.length && input[i] !== ",") i++; // garbage after a quoted argument is dropped
    // A member whose name is not a token is not a directive (e.g. stray text); it is skipped.
    if (TOKEN.test(rawName)) out.push({ name: rawName.toLowerCase(), value });
    pos = i + 1;
  }
  return out;
}

/** RFC 9111 §5.2: arguments may be a token or a quoted-string; recipients accept both forms. */
function readArgument(input: string, start: number): { value: string; next: number } {
  let i = start;
  while (input[i] === " " || input[i] === "\t") i++;
  if (input[i] === '"') return readQuoted(input, i + 1);
  let end = i;
  while (end < input.length && input[end] !== ",") end++;
  return { value: input.slice(i, end).trim(), next: end };
}

/** RFC 9110 §5.6.4 quoted-string with backslash escapes; an unterminated one runs to the end. */
function readQuoted(input: string, start: number): { value: string; next: number } {
  let out = "";
  let i = start;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === "\\" && i + 1 < input.length) {
      out += input[i + 1];
      i += 2;
    } else if (c === '"') {
      return { value: out, next: i + 1 };
    } else {
      out += c;
      i += 1;
    }
  }
  return { value: out, next: i };
}

function applyDirective(cc: CacheControl, d: Directive): void {
  cc.directives.push(d);
  switch (d.name) {
    case "max-age":
      cc.maxAge = smaller(cc.maxAge, stalenessSafeSeconds(cc, d));
      return;
    case "s-maxage":
      cc.sMaxage = smaller(cc.sMaxage, stalenessSafeSeconds(cc, d));
      return;
    case "stale-while-revalidate":
      cc.staleWhileRevalidate = smaller(cc.staleWhileRevalidate, stalenessSafeSeconds(cc, d));
      return;
    case "stale-if-error":
      cc.staleIfError = smaller(cc.staleIfError, stalenessSafeSeconds(cc, d));
      return;
    case "max-stale":
      applyMaxStale(cc, d);
      return;
    case "min-fresh":
      applyMinFresh(cc, d);
      return;
    case "no-cache":
      applyQualified(cc, d, "noCache", "noCacheFields");
      return;
    case "private":
      applyQualified(cc, d, "private", "privateFields");
      return;
    default:
      applyFlag(cc, d.name);
  }
}

const FLAGS: Record<string, keyof CacheControl> = {
  "no-store": "noStore",
  public: "public",
  "must-revalidate": "mustRevalidate",
  "proxy-revalidate": "proxyRevalidate",
  "must-understand": "mustUnderstand",
  "no-transform": "noTransform",
  "only-if-cached": "onlyIfCached",
  immutable: "immutable",
};

function applyFlag(cc: CacheControl, name: string): void {
  const key = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
  if (key !== undefined) (cc as unknown as Record<string, unknown>)[key] = true; // unknown extensions stay only in `directives`
}

/** RFC 9111 §4.2.1: invalid freshness information makes the response stale, so it counts as 0. */
function stalenessSafeSeconds(cc: CacheControl, d: Directive): Seconds {
  const seconds = d.value === null ? null : parseDeltaSeconds(d.value);
  if (seconds !== null) return seconds;
  markInvalid(cc, d.name);
  return 0;
}

/** RFC 9111 §5.2.1.2: max-stale with no value accepts any staleness; duplicates keep the smallest. */
function applyMaxStale(cc: CacheControl, d: Directive): void {
  if (d.value === null) {
    cc.maxStale = smaller(cc.maxStale, Number.POSITIVE_INFINITY);
    return;
  }
  const seconds = parseDeltaSeconds(d.value);
  if (seconds === null)
    markInvalid(cc, d.name); // deviation: an invalid max-stale accepts no staleness at all
  else cc.maxStale = smaller(cc.maxStale, seconds);
}

/** RFC 9111 §5.2.1.3: min-fresh; duplicates keep the largest (most restrictive); invalid is ignored. */
function applyMinFresh(cc: CacheControl, d: Directive): void {
  const seconds = d.value === null ? null : parseDeltaSeconds(d.value);
  if (seconds === null) markInvalid(cc, d.name);
  else cc.minFresh = cc.minFresh === null ? seconds : Math.max(cc.minFresh, seconds);
}

/** RFC 9111 §5.2.2.4 / §5.2.2.7: unqualified form, or a quoted list of field names. */
function applyQualified(cc: CacheControl, d: Directive, flag: "noCache" | "private", fields: "noCacheFields" | "privateFields"): void {
  const names = d.value === null ? [] : parseFieldNames(d.value);
  if (names.length === 0) {
    cc[flag] = true; // deviation: an empty qualified list is read as the (more restrictive) unqualified form
    return;
  }
  for (const name of names) if (!cc[fields].includes(name)) cc[fields].push(name);
}

/** A comma-separated list of field names, lower-case, non-tokens dropped. */
export function parseFieldNames(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => TOKEN.test(s))
    .map((s) => s.toLowerCase());
}

function markInvalid(cc: CacheControl, name: string): void {
  if (!cc.invalid.includes(name)) cc.invalid.push(name);
}

function smaller(current: Seconds | null, next: Seconds): Seconds {
  return current === null ? next : Math.min(current, next);
}

/** Formats directives back into a field value; token arguments stay bare, others are quoted. */
export function formatCacheControl(cc: Pick<CacheControl, "directives">): string {
  return cc.directives.map(formatDirective).join(", ");
}

export function formatDirective(d: Directive): string {
  if (d.value === null) return d.name;
  return TOKEN.test(d.value) ? `${d.name}=${d.value}` : `${d.name}="${d.value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * RFC 9213 §2.1: a targeted field, when present with a valid non-empty value, replaces Cache-Control
 * (and Expires) for the caches it targets. Ours: Shardcache-Cache-Control, then CDN-Cache-Control.
 * A targeted field is a Structured Fields Dictionary (RFC 9213 §2.1): one that fails to parse, or whose
 * delta-seconds directives are not non-negative Integers (e.g. `max-age="60"`), is ignored as if absent.
 * deviation: directive names are case-insensitive here as in Cache-Control (the value is lower-cased
 * before the sf-dictionary check), and a valid field's directives are read with the lenient parser.
 */
export function cacheControlSource(headers: Headers): CacheControlSource {
  if (validTargeted(headers.get("shardcache-cache-control"))) return "Shardcache-Cache-Control";
  if (validTargeted(headers.get("cdn-cache-control"))) return "CDN-Cache-Control";
  return "Cache-Control";
}

/** Directives whose value must be an Integer (delta-seconds) in a targeted field. */
const TARGETED_INTEGERS = ["max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"];

/** RFC 9213 §2.1: non-empty, a valid sf-dictionary, and delta-seconds directives are non-negative Integers. */
function validTargeted(value: string | null): boolean {
  if (value === null || value.trim() === "") return false;
  try {
    const dictionary = parseDictionary(value.toLowerCase());
    return TARGETED_INTEGERS.every((name) => {
      const member = dictionary.get(name);
      if (member === undefined) return true;
      const [item] = member;
      return typeof item === "number" && Number.isInteger(item) && item >= 0;
    });
  } catch {
    return false;
  }
}

/** The response directives that govern THIS cache (see `cacheControlSource`). */
export function effectiveCacheControl(headers: Headers): CacheControl {
  return parseCacheControl(headers.get(cacheControlSource(headers).toLowerCase()));
}

/** Header text of one directive as it governed this cache, e.g. `CDN-Cache-Control: max-age=0`. */
export function directiveHeaderText(source: CacheControlSource, cc: CacheControl, name: string, pick: (d: Directive) => boolean = () => true): string {
  const found = cc.directives.find((d) => d.name === name && pick(d)) ?? cc.directives.find((d) => d.name === name);
  return `${source}: ${found === undefined ? name : formatDirective(found)}`;
}
