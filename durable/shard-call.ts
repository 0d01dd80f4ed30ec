/**
 * One request inside the shard, from arrival to answer: the per-request object the read path and the
 * write path hand each other (like undici's cache handler). It holds the request as the edge sent it,
 * its RequestLike view, the edge's context, and what the read path learned on the way (why it goes
 * forward, the stored copy a revalidation or an origin failure falls back on). It also dresses its own
 * answer: the caller says what happened (an `Outcome`) and `renderOutcome` derives the Cache-Status
 * member, X-Cache-Info, the trace word and the counters' label, so they always agree with each other
 * and with what the shard did.
 */
import { defaultSettings } from "../src/config/settings";
import type { ShardOutcome } from "../src/observe/outcomes";
import { renderCacheStatus } from "../src/rfc9111/cache-status";
import type { ForwardReason, RequestLike, StoredMeta } from "../src/rfc9111/types";
import { CACHE_INFO_HEADER } from "../src/serve/internal-headers";
import { failureResponse } from "../src/serve/origin-failure";
import { hitMemberText, renderOutcome, type Outcome } from "../src/serve/outcome";
import { INLINE_BODY_MAX_BYTES, SHARD_RESULT_VERSION, type InlineShardResult, type ShardRequestContext, type ShardResult } from "../src/serve/shard-protocol";
import { asksForWholeStored, nullBodyStatus, respondFromStored, wholeStoredFields } from "../src/serve/stored-response";
import type { EpochMillis } from "../src/lib/units";
import { originHost } from "./shard-policy";
import type { StoredObject } from "./object-store";

export const SHARD_CACHE_NAME = "shardcache-shard";

/** The outcomes a shard answers with its own response (no origin response to relay). */
export type ShardFailure = Extract<Outcome, { kind: "origin-failed" | "only-if-cached-miss" }>;

/** Where a call's answer is counted: the shard's request counters, or nothing (a background revalidation is no request). */
export interface CallCounter {
  count(name: `requests.${ShardOutcome}`): void;
}

export class ShardCall {
  readonly req: RequestLike;
  /** Why the request goes forward to the origin (Cache-Status `fwd`); the read path sets it. */
  fwd: ForwardReason = "uri-miss";
  /** The stored copy the request may revalidate, or serve when the origin fails. */
  stale: StoredObject | undefined = undefined;
  /** The origin host, once the call asked the origin (for the trace). */
  #originHost: string | null = null;

  constructor(
    readonly request: Request,
    readonly ctx: ShardRequestContext,
    private readonly counter: CallCounter | null,
  ) {
    this.req = { method: request.method, url: request.url, headers: request.headers };
  }

  /** The same request again, in the background, for revalidating `stored`: its answer reaches no client and counts no request. */
  inBackground(stored: StoredObject): ShardCall {
    const call = new ShardCall(this.request, this.ctx, null);
    call.fwd = "stale";
    call.stale = stored;
    return call;
  }

  /** An edge from before grace existed sends no graceSeconds: the default applies. */
  get graceSeconds(): number {
    return this.ctx.settings.graceSeconds ?? defaultSettings.graceSeconds;
  }

  /** Records that this call asked the origin, for the trace. */
  askedOrigin(): void {
    this.#originHost = originHost(this.ctx.origin);
  }

  /**
   * A response respondFromStored built for this call from a stored (or being-stored) object: its headers
   * are the call's own, so it is dressed in place (one Response per hit, no copy).
   */
  served(response: Response, outcome: Outcome, meta: StoredMeta): ShardResult {
    const result = this.#dress(response, outcome);
    // The edge may keep a copy only of a complete GET representation, never of a 304, 206 or HEAD answer,
    // and never of a copy served only because the origin failed (its own freshness says it is stale).
    if (this.req.method === "GET" && result.response.status === meta.status && meta.status !== 206 && outcome.kind !== "stale-on-error") result.edgeCopy = meta;
    return result;
  }

  /**
   * A stored copy's answer at `now` (a reuse the read path decided). When the edge takes inline answers
   * and this one's body is none, or the whole stored body held in memory (a GET asking for the stored
   * response as it is, of a complete object), it travels inline: the fields and bytes in the result
   * itself, no stream across the RPC boundary. Anything else is `served`.
   */
  fromStore(stored: StoredObject, outcome: Outcome, now: EpochMillis): ShardResult | InlineShardResult {
    const { meta, body } = stored;
    const inline = this.ctx.inline === true;
    if (inline && body.raw !== undefined && body.raw.byteLength <= INLINE_BODY_MAX_BYTES && meta.status !== 206 && asksForWholeStored(this.req)) return this.#wholeInline({ meta, raw: body.raw }, outcome, now);
    const result = this.served(respondFromStored(meta, body, this.req, now), outcome, meta);
    if (!inline || result.response.body !== null) return result;
    // No body (a 304, a HEAD, a null-body status): the fields alone travel.
    const { response, ...fields } = result;
    return { ...fields, inline: { status: response.status, headers: [...response.headers], body: null } };
  }

  /**
   * The whole stored response, inline, straight from the record: respondFromStored's full answer
   * (wholeStoredFields) dressed like `#dress` dresses a Response, as a field list. No Headers or
   * Response is built only to be listed again (issue 15: building them, cancelling the body and
   * listing the fields took 16 % of the shard isolate's sampled time per hit, 40 % → 28 % for `handle`).
   * test/workers/shard-inline.test.ts holds it equal to the streamed answer.
   */
  #wholeInline({ meta, raw }: { meta: StoredMeta; raw: Uint8Array }, outcome: Outcome, now: EpochMillis): InlineShardResult {
    const dressing = this.#dressing(outcome);
    const headers: (readonly [string, string])[] = [];
    // Several stored Cache-Status fields read as one list (what Headers.get gives #dress).
    let upstream: string | null = null;
    for (const field of wholeStoredFields(meta, raw.byteLength, now)) {
      if (field[0] === "cache-status") upstream = upstream === null ? field[1] : `${upstream}, ${field[1]}`;
      else if (dressing.info === null || field[0] !== CACHE_INFO_HEADER) headers.push(field);
    }
    headers.push(["cache-status", upstream ? `${upstream}, ${dressing.mine}` : dressing.mine]);
    if (dressing.info !== null) headers.push([CACHE_INFO_HEADER, dressing.info]);
    const result: InlineShardResult = { ...dressing.fields, inline: { status: meta.status, headers, body: nullBodyStatus(meta.status) ? null : raw } };
    // As `served`: a GET of the whole representation at its stored status, so only stale-on-error keeps no edge copy.
    if (outcome.kind !== "stale-on-error") result.edgeCopy = meta;
    return result;
  }

  /** An origin response relayed as it came (not stored, or passed). */
  relayed(response: Response, outcome: Outcome): ShardResult {
    // A copy: an origin's (fetch's) headers are immutable, and they are not ours to change.
    return this.#dress(new Response(this.#bodyForClient(response), response), outcome);
  }

  /** The shard's own error answer: the origin failed (502/503/504), or only-if-cached found nothing (504). */
  failed(outcome: ShardFailure): ShardResult {
    return this.#dress(outcome.kind === "origin-failed" ? failureResponse(outcome.failure) : onlyIfCachedResponse(), outcome);
  }

  /** A HEAD that was fetched as GET, or a null-body status, must not carry the body on to the client. */
  #bodyForClient(response: Response): ReadableStream | null {
    if (this.req.method !== "HEAD" || response.body === null) return response.body;
    void response.body.cancel();
    return null;
  }

  /** Writes the shard's fields on `out`, a Response whose headers are this call's own (never an origin's). */
  #dress(out: Response, outcome: Outcome): ShardResult {
    const { mine, info, fields } = this.#dressing(outcome);
    const upstream = out.headers.get("cache-status");
    out.headers.set("cache-status", upstream ? `${upstream}, ${mine}` : mine);
    if (info !== null) out.headers.set(CACHE_INFO_HEADER, info);
    return { ...fields, response: out };
  }

  /**
   * What the shard says of `outcome` (counted once here): its Cache-Status member text, the X-Cache-Info
   * line when verbose (else null), and the result's fields.
   */
  #dressing(outcome: Outcome): { mine: string; info: string | null; fields: Omit<ShardResult, "response"> } {
    const { member, info, word, label } = renderOutcome("shard", outcome);
    this.counter?.count(`requests.${label}`);
    // The fresh hit is the hot path: its member without the serializer (held equal to it by a property test).
    const mine = outcome.kind === "hit" ? hitMemberText(SHARD_CACHE_NAME, outcome.ttlSeconds) : renderCacheStatus([{ cache: SHARD_CACHE_NAME, ...member }]);
    const trace = this.#originHost === null ? `${this.ctx.shard}->${word}` : `${this.ctx.shard}->${word}, origin:${this.#originHost}`;
    return { mine, info: this.ctx.settings.verbose ? info : null, fields: { v: SHARD_RESULT_VERSION, trace, member, outcome: label, origin: this.#originHost } };
  }
}

/** RFC 9111 §5.2.1.7: only-if-cached with nothing usable stored → 504, itself never stored. */
function onlyIfCachedResponse(): Response {
  return new Response("shardcache: not in cache (only-if-cached)\n", { status: 504, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}
