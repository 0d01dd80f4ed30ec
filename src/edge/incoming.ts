/**
 * The request as every later step sees it: its target in the one normal form (src/lib/request-target.ts),
 * no body on GET or HEAD, and no X-Cluster-* field a client may not send. Built once per request,
 * before the admin check and the edge path, so rules, rate contexts, the admin prefix, the cache key,
 * the shards and the origin all read the same request. One pass over the field names finds the body
 * framing, the internal fields and the fields the hit path asks about (src/edge/request-fields.ts),
 * and the method, target and fields are read from the `Request` once: each of its getters is a call
 * into the runtime, and this runs on every hit (issue 15).
 */
import { normaliseRequestUrl } from "../lib/request-target";
import { INTERNAL_PREFIX, stripClientInternalHeaders } from "../serve/internal-headers";
import { recordedBit, RequestFields } from "./request-fields";

/** Framing fields that describe a body; they go with it. */
const BODY_FIELDS = ["content-length", "transfer-encoding"];

/** A request in its normal form, with the parts the edge path reads already read. */
export class Incoming {
  #clientIp: string | null | undefined = undefined;

  constructor(
    /** What goes on to the admin API, the shards and the origin. */
    readonly request: Request,
    /** `request.method`, `request.url` (normalised) and its fields, each read once. */
    readonly method: string,
    readonly url: string,
    readonly headers: RequestFields,
  ) {}

  /** The client's address as the platform reports it (CF-Connecting-IP), read when first asked for. */
  get clientIp(): string | null {
    if (this.#clientIp === undefined) this.#clientIp = this.headers.get("cf-connecting-ip");
    return this.#clientIp;
  }
}

/**
 * `request` with a normalised target, without a GET/HEAD body, and without the client's X-Cluster-*
 * fields unless it carried `clusterToken` (none given: no client is trusted; src/serve/internal-headers.ts);
 * `request` itself when nothing changes.
 *
 * RFC 9110 §9.3.1: content in a GET (or HEAD) has no generally defined semantics. shardcache drops it
 * and serves the request like any other GET, through the cache: a body must not let a client bypass
 * caching and coalescing (the cache key could never include it anyway).
 */
export function normaliseIncoming(request: Request, clusterToken?: string): Incoming {
  const raw = request.url;
  const url = normaliseRequestUrl(raw);
  const headers = request.headers;
  const method = request.method;
  let internal: string[] | null = null;
  let framing = false;
  let present = 0;
  for (const name of headers.keys()) {
    if (name.startsWith(INTERNAL_PREFIX)) (internal ??= []).push(name);
    else if (name === "content-length" || name === "transfer-encoding") framing = true;
    else present |= recordedBit(name);
  }
  const dropBody = (method === "GET" || method === "HEAD") && (framing || request.body !== null);
  // Neither the internal nor the framing fields are recorded names: `present` holds for the cleaned fields too.
  const cleaned = internal === null ? headers : stripClientInternalHeaders(headers, clusterToken, internal);
  if (dropBody) {
    void request.body?.cancel().catch(() => {});
    const bodiless = new Headers(cleaned);
    for (const name of BODY_FIELDS) bodiless.delete(name);
    const rebuilt = new Request(url, { method, headers: bodiless, redirect: request.redirect });
    return new Incoming(rebuilt, method, url, new RequestFields(rebuilt.headers, present));
  }
  if (url === raw && cleaned === headers) return new Incoming(request, method, url, new RequestFields(headers, present));
  const target = url === raw ? request : new Request(url, request);
  const rebuilt = cleaned === headers ? target : new Request(target, { headers: cleaned });
  return new Incoming(rebuilt, method, url, new RequestFields(rebuilt.headers, present));
}
