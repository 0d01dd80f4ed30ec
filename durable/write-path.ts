/**
 * The shard's write path: everything that asks the origin and may store its answer. A key has at most
 * one origin fetch in flight (its leader); requests that arrive meanwhile wait for it (durable/coalesce.ts)
 * and stream the same body (durable/body-broadcast.ts). A stored copy with validators is revalidated
 * conditionally (RFC 9111 §4.3); `decideStore` is the one store decision (canStore with the rule's
 * overrides); hit-for-pass, the purge-epoch guard and stored-part combining (RFC 9111 §3.4) live here.
 */
import { defaultSettings } from "../src/config/settings";
import type { Result } from "../src/lib/result";
import type { EpochMillis } from "../src/lib/units";
import { buildOriginRequest, fetchOrigin, type OriginFailure } from "../src/origin/fetch-origin";
import type { PoolFetcher } from "../src/origin/pool-fetch";
import { canStore, combineParts, conditionalHeadersFor, declaredLength, freshenWithNotModified, selectVariant, staleOnOriginFailure, storedAnswers, storedPart } from "../src/rfc9111";
import type { StoredMeta, StoreVerdict } from "../src/rfc9111/types";
import type { OriginProblem } from "../src/serve/outcome";
import type { ShardResult } from "../src/serve/shard-protocol";
import { bodyFromBytes, respondFromStored } from "../src/serve/stored-response";
import { BodyBroadcast } from "./body-broadcast";
import { awaitFlight, type Flight, type OpenFlight } from "./coalesce";
import type { ShardCall } from "./shard-call";
import { withResponseRules } from "../src/rules/response-rules";
import { buildMeta, isResponseCaused, limitsFor, type StoreTarget, withResponseHeaderEdits } from "./shard-policy";
import type { ShardState } from "./shard-state";
import type { StoredObject } from "./object-store";

/** Client validators and ranges are answered by the cache itself; the cache fetches full objects. */
const CLIENT_ONLY_FIELDS = ["range", "if-range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since"];

/** `purgeEpoch`: the shard's purge count when the origin request left; a purge since then voids the store. */
type Timing = { requestTime: EpochMillis; responseTime: EpochMillis; purgeEpoch: number };

/** The leader's part of a call: its flight (which its waiters follow) and when its origin request went and came back. */
interface Lead {
  flight: OpenFlight;
  timing: Timing;
}

/** A body ready to store: the record and its chunks. */
interface Storable {
  meta: StoredMeta;
  chunks: readonly Uint8Array[];
}

/**
 * The store decision for one origin response: RFC 9111 §3 (canStore) with the rule's policy overrides,
 * as the policy sees the request (a HEAD is fetched, and so decided, as a GET). `contentLength`: the
 * declared body length, null when unknown. Both a miss and an adopted POST response are decided here.
 */
export function decideStore(target: StoreTarget, response: Response, contentLength: number | null): StoreVerdict {
  const { ctx } = target;
  return canStore(target.req, response, { limits: limitsFor(ctx.settings), requestHasBody: false, contentLength, ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
}

export class WritePath {
  constructor(
    private readonly shard: ShardState,
    /** Node choice, retries and passive health for origin pools. */
    private readonly pools: PoolFetcher,
  ) {}

  /** A request the store cannot answer: hit-for-pass, a join of the key's fetch in flight, or the fetch itself. */
  viaOrigin(call: ShardCall): Promise<ShardResult> {
    const until = this.shard.hitForPass.get(call.ctx.key);
    if (until !== undefined && until > this.shard.clock.now()) return this.#passThrough(call, "hit-for-pass");
    const flight = this.shard.flights.join(call.ctx.key);
    if (flight !== undefined) return this.#asWaiter(call, flight);
    return this.lead(call);
  }

  /**
   * The one origin fetch for the call's key (also how a background revalidation starts). Conditional
   * when the call has a stale copy with a validator; waiters follow its flight.
   */
  async lead(call: ShardCall): Promise<ShardResult> {
    const { shard } = this;
    const { ctx, stale } = call;
    const flight = shard.flights.open(ctx.key);
    call.askedOrigin();
    let fetched = false;
    try {
      const conditional = stale !== undefined && (stale.meta.etag !== null || stale.meta.lastModified !== null) ? stale : undefined;
      const buildRequest = (origin: string) =>
        buildOriginRequest(call.request, {
          origin,
          firstByteTimeoutMs: ctx.settings.originTimeoutMs,
          method: "GET",
          removeHeaders: CLIENT_ONLY_FIELDS,
          ...(conditional !== undefined ? { setHeaders: conditionalHeadersFor(conditional.meta) } : {}),
        });
      const requestTime = shard.clock.now();
      const purgeEpoch = shard.purgeEpoch;
      fetched = true;
      const result = await this.#fetchOrigin(call, buildRequest, "GET");
      const lead: Lead = { flight, timing: { requestTime, responseTime: shard.clock.now(), purgeEpoch } };
      if (!result.ok) return this.#leaderFailed(call, flight, result.error);
      const response = result.value;
      if (conditional !== undefined && response.status === 304) return this.#revalidated(call, lead, { response, stored: conditional });
      // Within grace or stale-if-error a 5xx never replaces (nor is served instead of) the usable stored copy.
      if (response.status >= 500 && stale !== undefined && staleOnOriginFailure(stale.meta, call.req, lead.timing.responseTime, call.graceSeconds).serve) {
        void response.body?.cancel();
        return this.#leaderFailed(call, flight, { kind: "status", status: response.status });
      }
      return this.#storeAndServe(call, lead, response);
    } catch (error) {
      shard.flights.settle(flight, { kind: "not-shared" });
      shard.flights.close(ctx.key, flight);
      // Once the origin was asked, a throw here is about what it sent: answer 502 rather than let the
      // edge retry on the next shard, which would ask the origin again (one origin fetch per request).
      if (fetched) return call.failed({ kind: "origin-failed", fwd: call.fwd, failure: unhandledResponse(error) });
      throw error;
    }
  }

  /**
   * Stores a response the edge received for a POST that a later GET may reuse (`CacheShard.adopt`):
   * the rule's header edits, the store decision and the record are exactly those of a GET miss.
   */
  async adopt(call: ShardCall, response: Response, timing: { requestTime: EpochMillis; responseTime: EpochMillis }): Promise<boolean> {
    const target: StoreTarget = { req: call.req, ctx: withResponseRules(call.ctx, response) };
    const edited = withResponseHeaderEdits(response, target.ctx.responseHeaders);
    const body = new Uint8Array(await edited.arrayBuffer());
    const verdict = decideStore(target, edited, body.byteLength);
    if (!verdict.store) return false;
    const meta = buildMeta(target, edited, { timing, verdict, contentLength: body.byteLength });
    if (!this.#putSafely(call, { meta, chunks: [body] })) return false;
    this.shard.hitForPass.delete(call.ctx.key);
    this.shard.counters.count("stores");
    this.shard.scheduleSweep();
    return true;
  }

  async #asWaiter(call: ShardCall, flight: Flight): Promise<ShardResult> {
    const { shard } = this;
    const { req, fwd } = call;
    shard.counters.count("coalesced");
    const outcome = await awaitFlight(flight, call.ctx.settings.collapseTimeoutMs);
    const now = shard.clock.now();
    if (outcome === "timeout") return this.#passThrough(call, "collapse-timeout");
    switch (outcome.kind) {
      case "streaming": {
        const { meta, broadcast, bodyBytes } = outcome;
        if (!broadcast.canJoin || selectVariant([outcome], req) === undefined || !storedAnswers(meta, req)) return this.#passThrough(call, "collapse-released");
        const response = respondFromStored(meta, { bytes: bodyBytes, stream: () => broadcast.reader() }, req, now);
        return call.served(response, { kind: "collapsed", fwd, onto: "fetch", sizeKnown: bodyBytes !== null }, meta);
      }
      case "revalidated":
        return call.served(respondFromStored(outcome.object.meta, outcome.object.body, req, now), { kind: "collapsed", fwd, onto: "revalidation" }, outcome.object.meta);
      case "not-shared":
        return this.#passThrough(call, "collapse-released");
      case "failed":
        return this.#failure(call, outcome.failure, call.stale ?? outcome.stale ?? undefined);
    }
  }

  /** The origin's full answer: the response rules and the rule's header edits, then the store decision, then store while serving. */
  #storeAndServe(call: ShardCall, lead: Lead, fromOrigin: Response): ShardResult {
    const { shard } = this;
    const { fwd } = call;
    const { flight, timing } = lead;
    // Response rules decide on the origin's response as sent, right before the store decision.
    const ctx = withResponseRules(call.ctx, fromOrigin);
    const response = withResponseHeaderEdits(fromOrigin, ctx.responseHeaders);
    const target: StoreTarget = { req: call.req.method === "HEAD" ? { ...call.req, method: "GET" } : call.req, ctx };
    const contentLength = declaredLength(response.headers);
    const verdict = decideStore(target, response, contentLength);
    if (!verdict.store) {
      if (isResponseCaused(verdict.reason)) shard.hitForPass.set(ctx.key, shard.clock.now() + ctx.settings.hitForPassSeconds * 1000);
      shard.flights.settle(flight, { kind: "not-shared" });
      shard.flights.close(ctx.key, flight);
      shard.counters.count("passes");
      return call.relayed(response, { kind: "not-stored", fwd, fwdStatus: response.status, reason: verdict.reason });
    }
    shard.counters.count("misses");
    const meta = buildMeta(target, response, { timing, verdict, contentLength });
    // A null body (204, 205, HEAD-like) must still END: a stream that never closes would keep the flight
    // open forever, so every later request joined it and reused the 204 past its freshness (RFC 9111 §4.2).
    const broadcast = new BodyBroadcast(response.body ?? bodyFromBytes(new Uint8Array(0)).stream(), ctx.settings.maxObjectBytes);
    shard.flights.settle(flight, { kind: "streaming", meta, broadcast, bodyBytes: contentLength });
    void broadcast.result.then((result) => {
      shard.flights.close(ctx.key, flight);
      // A purge while the body was on its way means this response may predate it: serve it, do not keep it.
      if (result.stored && timing.purgeEpoch === shard.purgeEpoch) {
        const part = this.#withStoredPart(call, { meta: { ...meta, bodyBytes: result.bytes }, chunks: result.chunks });
        if (part === null || !this.#putSafely(call, part)) return;
        shard.counters.count("stores");
        shard.scheduleSweep();
      } else if (!result.stored && result.reason === "too-large") {
        shard.hitForPass.set(ctx.key, shard.clock.now() + ctx.settings.hitForPassSeconds * 1000);
      }
    });
    const served = respondFromStored(meta, { bytes: contentLength, stream: () => broadcast.reader() }, call.req, timing.responseTime);
    const ttlSeconds = Math.round((meta.staleAt - timing.responseTime) / 1000);
    return call.served(served, { kind: "stored", fwd, fwdStatus: response.status, ttlSeconds, sizeKnown: contentLength !== null }, meta);
  }

  /**
   * RFC 9111 §3.4: a new part (206) is combined with the variant's stored part when they share a strong
   * validator and touch; otherwise (and for complete responses) the new response is stored as it is.
   * null: the part does not match its own Content-Range and is not stored.
   */
  #withStoredPart(call: ShardCall, incoming: Storable): Storable | null {
    const range = storedPart(incoming.meta);
    if (range === null) return incoming;
    // A body that is not exactly the range its Content-Range names (a broken or hostile origin) is not kept.
    if (incoming.meta.bodyBytes !== range.end - range.start + 1) return null;
    const previous = this.shard.store.variants(call.ctx.key, this.shard.clock.now()).find((o) => o.meta.variantKey === incoming.meta.variantKey);
    if (previous?.body.raw === undefined) return incoming;
    const body = new Uint8Array(incoming.meta.bodyBytes);
    let offset = 0;
    for (const chunk of incoming.chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const combined = combineParts({ meta: previous.meta, body: previous.body.raw }, { meta: incoming.meta, body }, call.ctx.settings.maxObjectBytes);
    return combined === null ? incoming : { meta: combined.meta, chunks: [combined.body] };
  }

  /** A store that fails (storage full, a broken database) costs the copy, never the response already served. */
  #putSafely(call: ShardCall, object: Storable): boolean {
    const { ctx } = call;
    try {
      return this.shard.store.put(ctx.key, object, { maxVariants: ctx.settings.maxVariants, now: this.shard.clock.now() });
    } catch {
      this.shard.counters.count("storeFailures");
      return false;
    }
  }

  #revalidated(call: ShardCall, lead: Lead, answer: { response: Response; stored: StoredObject }): ShardResult {
    const { shard } = this;
    const { ctx } = call;
    const { flight, timing } = lead;
    const meta = freshenWithNotModified(answer.stored.meta, answer.response, timing, { limits: limitsFor(ctx.settings), ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
    const object: StoredObject = { meta, body: answer.stored.body };
    if (timing.purgeEpoch === shard.purgeEpoch) shard.store.updateMeta(ctx.key, meta);
    shard.counters.count("revalidations");
    shard.flights.settle(flight, { kind: "revalidated", object });
    shard.flights.close(ctx.key, flight);
    return call.served(respondFromStored(meta, object.body, call.req, timing.responseTime), { kind: "revalidated", fwd: call.fwd }, meta);
  }

  #leaderFailed(call: ShardCall, flight: OpenFlight, failure: OriginProblem): ShardResult {
    this.shard.flights.settle(flight, { kind: "failed", failure, stale: call.stale ?? null });
    this.shard.flights.close(call.ctx.key, flight);
    return this.#failure(call, failure, call.stale);
  }

  /** The origin failed: a stored copy that may stand in is served stale (RFC 5861 §4, grace), else the error. */
  #failure(call: ShardCall, failure: OriginProblem, stale: StoredObject | undefined): ShardResult {
    const now = this.shard.clock.now();
    const verdict = stale === undefined ? { serve: false as const } : staleOnOriginFailure(stale.meta, call.req, now, call.graceSeconds);
    if (stale !== undefined && (verdict.serve || staleAllowedWhenPoolDown(failure, stale))) {
      this.shard.counters.count("staleServed");
      // A dead pool serves any copy (staleAllowedWhenPoolDown); otherwise say which grant applied.
      const why = verdict.serve && verdict.why === "grace" && failure.kind !== "pool-down" ? "grace" : "stale-if-error";
      return call.served(respondFromStored(stale.meta, stale.body, call.req, now), { kind: "stale-on-error", why }, stale.meta);
    }
    return call.failed({ kind: "origin-failed", fwd: call.fwd, failure });
  }

  /** Forwards the client's request as it is (validators and Range included) and stores nothing. */
  async #passThrough(call: ShardCall, why: "hit-for-pass" | "collapse-timeout" | "collapse-released"): Promise<ShardResult> {
    const { ctx, fwd } = call;
    call.askedOrigin();
    this.shard.counters.count("passes");
    const result = await this.#fetchOrigin(call, (origin) => buildOriginRequest(call.request, { origin, firstByteTimeoutMs: ctx.settings.originTimeoutMs }), call.request.method);
    if (!result.ok) return call.failed({ kind: "origin-failed", fwd, failure: result.error });
    try {
      return call.relayed(withResponseHeaderEdits(result.value, withResponseRules(ctx, result.value).responseHeaders), { kind: "passed", fwd, fwdStatus: result.value.status, why });
    } catch (error) {
      return call.failed({ kind: "origin-failed", fwd, failure: unhandledResponse(error) });
    }
  }

  /** Every origin fetch the shard makes goes through here (the one place pools and health plug in). */
  async #fetchOrigin(call: ShardCall, build: (origin: string) => Request, method: string): Promise<Result<Response, OriginFailure>> {
    const { ctx } = call;
    this.shard.counters.count("originFetches");
    const bodyIdleMs = ctx.settings.originBodyIdleMs ?? defaultSettings.originBodyIdleMs;
    if (ctx.pool === undefined) return fetchOrigin(build(ctx.origin), ctx.settings.originTimeoutMs, { bodyIdleMs });
    return this.pools.fetch(ctx.pool.name, ctx.pool.config, method, build, { idempotent: true, now: () => this.shard.clock.now(), failpools: ctx.pool.failpools ?? [], bodyIdleMs });
  }
}

/**
 * With every node of the pool down, any stored copy beats an error page, however old, unless the
 * response forbade serving it stale (must-revalidate, no-cache). Deviation: RFC 5861 would bound this
 * by the stale-if-error window; a dead pool is the case users keep stale copies for.
 */
function staleAllowedWhenPoolDown(failure: OriginProblem, stale: StoredObject): boolean {
  return failure.kind === "pool-down" && !stale.meta.mustRevalidate && !stale.meta.alwaysRevalidate;
}

/** A response the shard could not handle after the origin sent it: a 502 with the reason, not a throw. */
function unhandledResponse(error: unknown): OriginFailure {
  return { kind: "invalid", reason: `the response could not be handled (${error instanceof Error ? error.message : String(error)})` };
}
