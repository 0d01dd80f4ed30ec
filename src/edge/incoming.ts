/**
 * The request as every later step sees it: its target in the one normal form (src/lib/request-target.ts),
 * no body on GET or HEAD, and its fields behind the gate that hides a client's X-Cluster-* fields
 * (src/edge/request-fields.ts). Built once per request, before the admin check and the edge path, so
 * rules, rate contexts, the admin prefix, the cache key, the shards and the origin all read the same
 * request. The method, target and fields are read from the `Request` once: each of its getters is a
 * call into the runtime, and this runs on every hit (issue 15). No field names are iterated here.
 */
import { normaliseRequestUrl } from "../lib/request-target";
import { withoutClientInternalHeaders } from "../serve/internal-headers";
import { RequestFields } from "./request-fields";

/** Framing fields that describe a body; they go with it. */
const BODY_FIELDS = ["content-length", "transfer-encoding"];

/** A request in its normal form, with the parts the edge path reads already read. */
export class Incoming {
  #clientIp: string | null | undefined = undefined;

  constructor(
    /** What goes on to the shards and the origin (through src/edge/forwarding.ts, which removes the client's internal fields). */
    readonly request: Request,
    /** `request.method`, `request.url` (normalised) and its fields behind the gate, each read once. */
    readonly method: string,
    readonly url: string,
    readonly headers: RequestFields,
  ) {}

  /** The client's address as the platform reports it (CF-Connecting-IP), read when first asked for. */
  get clientIp(): string | null {
    if (this.#clientIp === undefined) this.#clientIp = this.headers.get("cf-connecting-ip");
    return this.#clientIp;
  }

  /** The request for the admin API: the client's internal fields removed (the same rule as every other exit). */
  forAdmin(): Request {
    const { headers } = this.request;
    const cleaned = withoutClientInternalHeaders(headers, this.headers.trusted);
    return cleaned === headers ? this.request : new Request(this.request, { headers: cleaned });
  }
}

/**
 * `request` with a normalised target and without a GET/HEAD body; its fields read through the gate,
 * which trusts X-Cluster-* fields only with `clusterToken` (none given: no client is trusted);
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
  const bodiless = method === "GET" || method === "HEAD";
  // The body alone tells: workerd gives a request that came with framing (Content-Length, even 0, or
  // Transfer-Encoding) a body, and drops those fields from a bodiless one handed over by a binding
  // (test/e2e/hostile-raw-http.test.ts, test/workers/hostile-client.test.ts). Reading the two fields
  // as well cost each hit about 1 µs (issue 15).
  if (bodiless && request.body !== null) {
    void request.body.cancel().catch(() => {});
    const fields = new Headers(headers);
    for (const name of BODY_FIELDS) fields.delete(name);
    const rebuilt = new Request(url, { method, headers: fields, redirect: request.redirect });
    return new Incoming(rebuilt, method, url, new RequestFields(rebuilt.headers, clusterToken));
  }
  const target = url === raw ? request : new Request(url, request);
  return new Incoming(target, method, url, new RequestFields(target.headers, clusterToken));
}
