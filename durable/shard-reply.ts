/**
 * A shard's answer to the edge: the response dressed with its Cache-Status member and X-Cache-Info
 * (when verbose), inside the typed `ShardResult` with its part of the trace and (for a stored, full
 * response) the record the edge tier needs to keep a copy. One place renders every outcome, so the
 * headers and the result always agree with what the shard did.
 */
import type { OriginFailure } from "../src/origin/fetch-origin";
import { cacheInfo, renderCacheStatus, type CacheInfo } from "../src/rfc9111";
import type { CacheOutcome, ForwardReason, NotStorableReason, RequestLike, StoredMeta } from "../src/rfc9111/types";
import { CACHE_INFO_HEADER } from "../src/serve/internal-headers";
import { describeFailure, failureResponse } from "../src/serve/origin-failure";
import type { ShardOutcome } from "../src/observe/outcomes";
import { SHARD_RESULT_VERSION, type ShardRequestContext, type ShardResult } from "../src/serve/shard-protocol";

export const SHARD_CACHE_NAME = "shardcache-shard";

/** What happened in the shard, as a word in X-Cluster-Trace. */
export type Served = "HIT" | "MISS" | "STALE" | "REVALIDATED" | "COLLAPSED" | "PASS" | "ERROR";

/** The same word as the counters' outcome label (src/observe/outcomes.ts). */
export const OUTCOME_OF: Record<Served, ShardOutcome> = { HIT: "hit", MISS: "miss", STALE: "stale", REVALIDATED: "revalidated", COLLAPSED: "coalesced", PASS: "pass", ERROR: "error" };

type Member = Omit<CacheOutcome, "cache">;

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
  served(response: Response, member: Member, meta: StoredMeta, word: Served, info: CacheInfo = { kind: "hit" }): ShardResult {
    const result = this.#dress(response, member, word, cacheInfo(info));
    // The edge may keep a copy only of a complete GET representation, never of a 304, 206 or HEAD answer.
    // Never a stored part (206): the edge tier holds complete representations only.
    if (this.req.method === "GET" && result.response.status === meta.status && meta.status !== 206 && member.detail !== "stale-if-error" && member.detail !== "grace") result.edgeCopy = meta;
    return result;
  }

  notStored(response: Response, reason: NotStorableReason, fwd: ForwardReason): ShardResult {
    return this.#dress(this.#forClient(response), { hit: false, fwd, fwdStatus: response.status, stored: false, detail: reason.code }, "PASS", cacheInfo({ kind: "not-stored", reason }));
  }

  passed(response: Response, fwd: ForwardReason, detail: string): ShardResult {
    const info = detail === "hit-for-pass" ? cacheInfo({ kind: "hit-for-pass" }) : `not cached; ${detail}`;
    return this.#dress(this.#forClient(response), { hit: false, fwd, fwdStatus: response.status, stored: false, detail }, "PASS", info);
  }

  originFailed(failure: OriginFailure | { kind: "status"; status: number }, fwd: ForwardReason): ShardResult {
    const { text } = describeFailure(failure);
    return this.#dress(failureResponse(failure), { hit: false, fwd, detail: `origin-${failure.kind}` }, "ERROR", `not cached; ${text}`);
  }

  /** RFC 9111 §5.2.1.7: only-if-cached with nothing usable stored → 504. */
  onlyIfCachedMiss(): ShardResult {
    const response = new Response("shardcache: not in cache (only-if-cached)\n", { status: 504, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
    return this.#dress(response, { hit: false, fwd: "miss", detail: "only-if-cached" }, "ERROR", cacheInfo({ kind: "only-if-cached-miss" }));
  }

  /** A HEAD that was fetched as GET, or a null-body status, must not carry the body on to the client. */
  #forClient(response: Response): Response {
    if (this.req.method !== "HEAD" || response.body === null) return response;
    void response.body.cancel();
    return new Response(null, response);
  }

  #dress(response: Response, member: Member, word: Served, info: string): ShardResult {
    const outcome = OUTCOME_OF[word];
    this.onOutcome?.(outcome);
    const out = new Response(response.body, response);
    const mine = renderCacheStatus([{ cache: SHARD_CACHE_NAME, ...member }]);
    const upstream = out.headers.get("cache-status");
    out.headers.set("cache-status", upstream ? `${upstream}, ${mine}` : mine);
    if (this.ctx.settings.verbose) out.headers.set(CACHE_INFO_HEADER, info);
    const trace = this.#originHost === null ? `${this.ctx.shard}->${word}` : `${this.ctx.shard}->${word}, origin:${this.#originHost}`;
    return { v: SHARD_RESULT_VERSION, response: out, trace, member, outcome, origin: this.#originHost };
  }
}
