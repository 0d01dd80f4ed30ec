/**
 * The edge tier's prepared answer for the hot case of issue 15: a plain GET of a stored full response
 * (no If-None-Match, If-Modified-Since or Range; see `asksForWholeStored`). Built once when the edge
 * keeps the copy in memory: the stored fields, Content-Length and the edge's own removals, in one
 * `Headers`. Per hit only the fields that change are set again (Age, the edge's Cache-Status member,
 * X-Cache-Info / X-Cluster-Trace when the settings turn them on), and only when their value changed
 * since the last hit, so a hot object's hit is one `new Response` from the stored bytes.
 *
 * It renders exactly what the general path renders (handler.ts `finish` around `respondFromStored`):
 * test/workers/edge-hit-template.test.ts holds the two equal for arbitrary stored objects, requests
 * and settings. Everything else (conditionals, ranges, HEAD, partial objects, a copy from
 * caches.default) takes the general path.
 *
 * Each hit's `Response` is made from a bodiless one built once (`new Response(bytes, prepared)`): workerd
 * takes a `Response` as the init and copies its status and fields in the runtime, where an init
 * object costs a property read per init member from JavaScript (`npm run bench:costs`: 7.2 µs against
 * 8.3 µs for an init with a `Headers`, the bare worker's one-field init 7.1 µs). The prepared
 * response's fields are changed before each hit, and the new `Response` copies them; nothing awaits
 * in between, so no two hits see each other's values.
 */
import type { EpochMillis } from "../lib/units";
import { currentAgeSeconds } from "../rfc9111/age";
import type { StoredMeta } from "../rfc9111/types";
import { CACHE_INFO_HEADER, TARGETED_CACHE_CONTROL, TRACE_HEADER } from "../serve/internal-headers";
import { hitMemberText } from "../serve/outcome";
import { fullResponseHeaders, nullBodyStatus } from "../serve/stored-response";

/** The Cache-Status member name the edge writes (RFC 9211). */
export const EDGE_CACHE_NAME = "shardcache-edge";

export class HitTemplate {
  /** Status of every answer from this template. */
  readonly status: number;
  /** The body length the edge counts (0 when the status carries no body). */
  readonly bytes: number;
  /** The bodiless answer every hit's Response copies its status and fields from. */
  readonly #prepared: Response;
  /** Its fields (the ones the next hit copies). */
  readonly #headers: Headers;
  readonly #body: Uint8Array | null;
  /** The stored Cache-Status members the edge's member follows ("" when none). */
  readonly #earlier: string;
  /** X-Cache-Info and X-Cluster-Trace as stored: they stand when the settings turn the edge's own off. */
  readonly #storedInfo: string | null;
  readonly #storedTrace: string | null;
  // What #headers holds now: a field is set again only when its value changes.
  #age = -1;
  #ttlSeconds = Number.NaN;
  #info: string | null;
  #trace: string | null;

  private constructor(meta: StoredMeta, bytes: Uint8Array) {
    const headers = fullResponseHeaders(meta, bytes.byteLength);
    // RFC 9213 §2: consumed by this cache (handler.ts `finish` removes it from every answer).
    headers.delete(TARGETED_CACHE_CONTROL);
    const earlier = headers.get("cache-status");
    this.#earlier = earlier ? `${earlier}, ` : "";
    this.#storedInfo = this.#info = headers.get(CACHE_INFO_HEADER);
    // A stored record never carries an x-cluster-* field (stored-record.ts); kept alike all the same.
    this.#storedTrace = this.#trace = headers.get(TRACE_HEADER);
    this.#prepared = new Response(null, { status: meta.status, headers });
    this.#headers = this.#prepared.headers;
    this.status = meta.status;
    this.#body = nullBodyStatus(meta.status) ? null : bytes;
    this.bytes = this.#body === null ? 0 : bytes.byteLength;
  }

  /** The template for a stored copy, or null for a partial object (206: ranges decide, the general path answers). */
  static for(meta: StoredMeta, bytes: Uint8Array): HitTemplate | null {
    return meta.status === 206 ? null : new HitTemplate(meta, bytes);
  }

  /**
   * The answer at `now`: `ttlSeconds` for the Cache-Status member, `info` the X-Cache-Info line when
   * `verbose` is on (null: the stored field stands), `trace` the X-Cluster-Trace value when on.
   */
  respond(meta: StoredMeta, now: EpochMillis, ttlSeconds: number, info: string | null, trace: string | null): Response {
    const headers = this.#headers;
    const age = currentAgeSeconds(meta, now);
    if (age !== this.#age) {
      headers.set("age", String(age));
      this.#age = age;
    }
    if (ttlSeconds !== this.#ttlSeconds) {
      headers.set("cache-status", this.#earlier + hitMemberText(EDGE_CACHE_NAME, ttlSeconds));
      this.#ttlSeconds = ttlSeconds;
    }
    const wantedInfo = info ?? this.#storedInfo;
    if (wantedInfo !== this.#info) this.#info = put(headers, CACHE_INFO_HEADER, wantedInfo);
    const wantedTrace = trace ?? this.#storedTrace;
    if (wantedTrace !== this.#trace) this.#trace = put(headers, TRACE_HEADER, wantedTrace);
    return new Response(this.#body, this.#prepared);
  }
}

/** Sets `name` to `value` (removes it for null); returns `value`. */
function put(headers: Headers, name: string, value: string | null): string | null {
  if (value === null) headers.delete(name);
  else headers.set(name, value);
  return value;
}
