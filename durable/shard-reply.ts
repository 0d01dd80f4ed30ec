/**
 * A shard's answer to the edge: the response dressed with its Cache-Status member and X-Cache-Info
 * (when verbose), inside the typed `ShardResult` with its part of the trace and (for a stored, full
 * response) the record the edge tier needs to keep a copy. The caller says what happened (an
 * `Outcome`); `renderOutcome` derives every header, the trace word and the counters' label from it,
 * so they always agree with each other and with what the shard did.
 */
import { failureResponse } from "../src/serve/origin-failure";
import { renderCacheStatus } from "../src/rfc9111/cache-status";
import type { RequestLike, StoredMeta } from "../src/rfc9111/types";
import { CACHE_INFO_HEADER } from "../src/serve/internal-headers";
import type { ShardOutcome } from "../src/observe/outcomes";
import { renderOutcome, type Outcome } from "../src/serve/outcome";
import { SHARD_RESULT_VERSION, type ShardRequestContext, type ShardResult } from "../src/serve/shard-protocol";

export const SHARD_CACHE_NAME = "shardcache-shard";

/** The outcomes a shard answers with its own response (no origin response to relay). */
export type ShardFailure = Extract<Outcome, { kind: "origin-failed" | "only-if-cached-miss" }>;

export class ShardReply {
  #originHost: string | null = null;

  constructor(
    private readonly ctx: ShardRequestContext,
    private readonly req: RequestLike,
    /** Told the outcome of every reply once (the shard's request counters); null for background work. */
    private readonly onOutcome: ((outcome: ShardOutcome) => void) | null = null,
  ) {}

  /** Records that this reply involved the origin, for the trace. */
  fromOrigin(host: string): this {
    this.#originHost = host;
    return this;
  }

  /** A response built from a stored (or being-stored) object. */
  served(response: Response, outcome: Outcome, meta: StoredMeta): ShardResult {
    const result = this.#dress(response, outcome);
    // The edge may keep a copy only of a complete GET representation, never of a 304, 206 or HEAD answer,
    // and never of a copy served only because the origin failed (its own freshness says it is stale).
    if (this.req.method === "GET" && result.response.status === meta.status && meta.status !== 206 && outcome.kind !== "stale-on-error") result.edgeCopy = meta;
    return result;
  }

  /** An origin response relayed as it came (not stored, or passed). */
  relayed(response: Response, outcome: Outcome): ShardResult {
    return this.#dress(this.#forClient(response), outcome);
  }

  /** The shard's own error answer: the origin failed (502/503/504), or only-if-cached found nothing (504). */
  failed(outcome: ShardFailure): ShardResult {
    return this.#dress(outcome.kind === "origin-failed" ? failureResponse(outcome.failure) : onlyIfCachedResponse(), outcome);
  }

  /** A HEAD that was fetched as GET, or a null-body status, must not carry the body on to the client. */
  #forClient(response: Response): Response {
    if (this.req.method !== "HEAD" || response.body === null) return response;
    void response.body.cancel();
    return new Response(null, response);
  }

  #dress(response: Response, outcome: Outcome): ShardResult {
    const { member, info, word, label } = renderOutcome("shard", outcome);
    this.onOutcome?.(label);
    const out = new Response(response.body, response);
    const mine = renderCacheStatus([{ cache: SHARD_CACHE_NAME, ...member }]);
    const upstream = out.headers.get("cache-status");
    out.headers.set("cache-status", upstream ? `${upstream}, ${mine}` : mine);
    if (this.ctx.settings.verbose && info !== null) out.headers.set(CACHE_INFO_HEADER, info);
    const trace = this.#originHost === null ? `${this.ctx.shard}->${word}` : `${this.ctx.shard}->${word}, origin:${this.#originHost}`;
    return { v: SHARD_RESULT_VERSION, response: out, trace, member, outcome: label, origin: this.#originHost };
  }
}

/** RFC 9111 §5.2.1.7: only-if-cached with nothing usable stored → 504, itself never stored. */
function onlyIfCachedResponse(): Response {
  return new Response("shardcache: not in cache (only-if-cached)\n", { status: 504, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}
