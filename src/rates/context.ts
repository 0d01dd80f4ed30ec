/**
 * Which limit a request counts against: its rate-class context key (client IP, path, header or
 * cookie value) and the limiter Durable Object that owns that key.
 */
import type { FieldReader } from "../lib/field-reader";
import type { RateContext } from "../config/rates";

export interface ContextRequest {
  readonly url: URL;
  readonly headers: FieldReader;
  readonly clientIp: string | null;
}

/** The key of a class without a context: every request shares one limit. */
export const CLASS_WIDE = "*";
/** The key for a request that lacks the context value: such requests share one limit. */
export const MISSING = "-";
/** Longer values are replaced by their hash, so a client cannot make the limiter hold kilobytes per key. */
const MAX_KEY_CHARS = 256;

/** The context key of a request for a class's `context` setting. */
export function contextKey(rateClass: { readonly context?: RateContext | undefined }, req: ContextRequest): string {
  const context = rateClass.context;
  if (context === undefined) return CLASS_WIDE;
  const value = context === "ip" ? req.clientIp : context === "path" ? req.url.pathname : "header" in context ? req.headers.get(context.header) : cookieValue(req.headers.get("cookie"), context.cookie);
  if (value === null || value === "") return MISSING;
  // Hashing long keys may merge two contexts into one limit; that only ever limits harder.
  return value.length > MAX_KEY_CHARS ? `#${fnv1a32(value).toString(16)}:${value.length}` : value;
}

/** The first value of cookie `name` in a Cookie header (RFC 6265 §5.4 pairs), or null. */
function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}

/**
 * The Durable Object name for a class and context: contexts hash onto `spread` objects per class
 * (`rate:api:3`), and the context key selects the limiter inside that object. The hash is stable
 * across isolates and releases, so every edge reaches the same object for the same context.
 */
export function limiterObjectName(className: string, contextKey: string, spread: number): string {
  const shards = Math.max(1, Math.floor(spread));
  return limiterObjectNameAt(className, mix32(fnv1a32(contextKey)) % shards);
}

/** Every limiter object a class is spread over (for reading its status). */
export function limiterObjectNames(className: string, spread: number): string[] {
  return Array.from({ length: Math.max(1, Math.floor(spread)) }, (_, i) => limiterObjectNameAt(className, i));
}

function limiterObjectNameAt(className: string, index: number): string {
  return `rate:${className}:${index}`;
}

/**
 * MurmurHash3's fmix32 finaliser. FNV's low bits depend only on the low bits of the input, so
 * `% spread` on a raw FNV hash would cluster keys that differ in high bits (IP addresses do).
 */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a over UTF-16 code units: tiny, stable, and well spread for short keys. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
