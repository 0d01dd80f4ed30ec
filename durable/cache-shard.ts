/**
 * CacheShard: the Durable Object that is the primary for the cache keys HRW maps to it. It answers
 * from its store when it may, and otherwise makes ONE origin fetch per key that every concurrent
 * request shares (streamed while it is stored), revalidates stale copies, serves stale when the origin
 * fails, and keeps its objects in SQLite so a restarted object still has its cache.
 */
import { DurableObject } from "cloudflare:workers";
import { defaultSettings } from "../src/config/settings";
import type { Env } from "../src/env";
import type { Clock } from "../src/lib/clock";
import type { Result } from "../src/lib/result";
import type { EpochMillis } from "../src/lib/units";
import { buildOriginRequest, fetchOrigin, type OriginFailure } from "../src/origin/fetch-origin";
import { cachedSnapshot, PoolFetcher } from "../src/origin/pool-fetch";
import {
  canStore,
  combineParts,
  conditionalHeadersFor,
  declaredLength,
  evaluateReuse,
  refreshDecision,
  forwardReasonFor,
  freshenWithNotModified,
  isRequestOnlyIfCached,
  selectVariant,
  storedAnswers,
  storedPart,
  staleOnOriginFailure,
} from "../src/rfc9111";
import type { ForwardReason, RequestLike, StoredMeta } from "../src/rfc9111/types";
import { bodyFromBytes, respondFromStored } from "../src/serve/stored-response";
import { BodyBroadcast } from "./body-broadcast";
import { awaitFlight, Flights, type Flight } from "./coalesce";
import { buildMeta, limitsFor, originHost, withResponseHeaderEdits, isResponseCaused } from "./shard-policy";
import { withResponseRules } from "../src/rules/response-rules";
import { ShardReply } from "./shard-reply";
import type { Outcome } from "../src/serve/outcome";
import type { ShardFault, ShardRequestContext, ShardResult } from "../src/serve/shard-protocol";
import type { PurgeTarget, ShardPurgeResult } from "./shard-purge";
import { ShardCounters, type ShardMinute } from "./shard-counters";
import type { ShardStatsReply } from "./shard-stats";
import { RecentInstants } from "./recent-instants";
import type { StoredObject } from "./object-store";
import { ShardStore } from "./shard-store";

/** Client validators and ranges are answered by the cache itself; the cache fetches full objects. */
const CLIENT_ONLY_FIELDS = ["range", "if-range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since"];
const SWEEP_INTERVAL_MS = 5 * 60 * 1000;
/** Keys whose last origin request the shard remembers; beyond it the oldest is forgotten (worst case: one early refresh). */
const MAX_TRACKED_REFRESHES = 10_000;
const HANG_MS = 120_000;
/** How stale a shard's copy of the cluster health may be. */
const HEALTH_SNAPSHOT_TTL_MS = 1_000;

/** `purgeEpoch`: the shard's purge count when the origin request left; a purge since then voids the store. */
type Timing = { requestTime: EpochMillis; responseTime: EpochMillis; purgeEpoch: number };

export class CacheShard extends DurableObject<Env> {
  readonly #store: ShardStore;
  readonly #flights = new Flights();
  /** Keys whose last response was not storable, until when: they skip coalescing (hit-for-pass). */
  readonly #hitForPass = new Map<string, EpochMillis>();
  /** Counters in SQLite: they survive eviction (they used to read 0 after an idle object was evicted). */
  readonly #counters: ShardCounters;
  /** Contexts of background revalidations: their replies reach no client, so they count no request. */
  readonly #background = new WeakSet<ShardRequestContext>();
  /** When each key's latest background refresh started: refresh time and refresh-ahead start at most one per interval. */
  readonly #refreshes = new RecentInstants(MAX_TRACKED_REFRESHES);
  #fault: ShardFault = { mode: "none" };
  /** Purges run so far; an origin response that left before the latest purge is not stored. */
  #purgeEpoch = 0;
  /** Node choice, retries and passive health for origin pools; cluster health comes from the HealthMonitor. */
  readonly #pools: PoolFetcher;
  readonly #clock: Clock;

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    this.#clock = clock;
    this.#store = new ShardStore(ctx.storage.sql, { memoryBytes: defaultSettings.memoryBudgetBytes, storageBytes: defaultSettings.storageBudgetBytes });
    this.#counters = new ShardCounters(ctx.storage.sql, () => clock.now());
    const health = () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));
    this.#pools = new PoolFetcher(
      cachedSnapshot(
        () => health().snapshot(),
        HEALTH_SNAPSHOT_TTL_MS,
        () => clock.now(),
      ),
      (reports) =>
        ctx.waitUntil(
          health()
            .report(reports)
            .catch(() => {}),
        ),
    );
  }

  /** The request path inside the shard: stored copy, coalesced origin fetch, or pass-through. */
  async handle(request: Request, ctx: ShardRequestContext): Promise<ShardResult> {
    this.#counters.count("calls");
    await this.#injectFault();
    this.#store.setBudgets(ctx.settings.memoryBudgetBytes, ctx.settings.storageBudgetBytes);
    this.#store.setGraceSeconds(graceOf(ctx));
    const now = this.#clock.now();
    const req = requestLike(request);
    const variants = this.#store.variants(ctx.key, now);
    const selected = variants.length > 0 ? selectVariant(variants, req) : undefined;
    // RFC 9111 §3.3: a stored part answers only a range wholly inside it; anything else is fetched in full.
    const partialMiss = selected !== undefined && !storedAnswers(selected.meta, req);
    const stored = partialMiss ? undefined : selected;
    if (stored !== undefined) {
      const decision = evaluateReuse(stored.meta, req, now);
      const refresh = refreshDecision(stored.meta, decision, now, ctx.settings, this.#refreshes.get(ctx.key) ?? null);
      if (refresh.kind === "refresh-time") {
        if (refresh.refresh) this.#refreshInBackground(request, ctx, stored, now);
        this.#counters.count("hits");
        return this.#reply(ctx, req).served(respondFromStored(stored.meta, stored.body, req, now), { kind: "stale", why: "refresh-time", ttlSeconds: decision.ttlSeconds }, stored.meta);
      }
      if (refresh.kind === "refresh-ahead") {
        this.#refreshInBackground(request, ctx, stored, now);
        this.#counters.count("hits");
        return this.#reply(ctx, req).served(respondFromStored(stored.meta, stored.body, req, now), { kind: "refresh-ahead", ttlSeconds: decision.ttlSeconds }, stored.meta);
      }
      if (decision.kind !== "revalidate") {
        const swr = decision.kind === "stale-while-revalidate";
        if (swr) this.#revalidateInBackground(request, ctx, stored);
        this.#counters.count("hits");
        const { ttlSeconds } = decision;
        const outcome: Outcome = swr ? { kind: "stale", why: "stale-while-revalidate", ttlSeconds } : decision.kind === "stale-allowed" ? { kind: "stale", why: "max-stale", ttlSeconds } : { kind: "hit", ttlSeconds };
        return this.#reply(ctx, req).served(respondFromStored(stored.meta, stored.body, req, now), outcome, stored.meta);
      }
      // RFC 9111 §5.2.1.7: only-if-cached never contacts the origin, not even to revalidate.
      if (isRequestOnlyIfCached(req)) return this.#reply(ctx, req).failed({ kind: "only-if-cached-miss" });
      return this.#viaOrigin(request, req, ctx, forwardReasonFor(decision), stored);
    }
    if (isRequestOnlyIfCached(req)) return this.#reply(ctx, req).failed({ kind: "only-if-cached-miss" });
    return this.#viaOrigin(request, req, ctx, partialMiss ? "partial" : variants.length > 0 ? "vary-miss" : "uri-miss", undefined);
  }

  /**
   * Stores a response the edge received for a POST that a later GET may reuse (RFC 9110 §9.3.3: explicit
   * freshness and Content-Location equal to the target URI; `postResponseStorableAsGet`). `request` is
   * the GET of that URI with the POST's header fields (for Vary); the rule's header edits, `canStore` and
   * the stored record are exactly those of a GET miss. Call after the POST's invalidation finished, so the
   * new representation replaces the old one. Returns whether it was stored.
   */
  async adopt(request: Request, response: Response, sent: ShardRequestContext, timing: { requestTime: EpochMillis; responseTime: EpochMillis }): Promise<boolean> {
    const ctx = withResponseRules(sent, response);
    this.#store.setBudgets(ctx.settings.memoryBudgetBytes, ctx.settings.storageBudgetBytes);
    const req = requestLike(request);
    const edited = withResponseHeaderEdits(response, ctx.responseHeaders);
    const body = new Uint8Array(await edited.arrayBuffer());
    const limits = limitsFor(ctx.settings);
    const verdict = canStore(req, edited, { limits, requestHasBody: false, contentLength: body.byteLength, ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
    if (!verdict.store) return false;
    const meta = buildMeta(req, edited, timing, verdict, limits, ctx, body.byteLength);
    if (!this.#putSafely(ctx, meta, [body])) return false;
    this.#hitForPass.delete(ctx.key);
    this.#counters.count("stores");
    void this.#scheduleSweep();
    return true;
  }

  /** Deletes every variant of each key (unsafe-method invalidation, purge by URL). */
  async invalidate(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      deleted += this.#store.delete(key);
      this.#hitForPass.delete(key);
    }
    return deleted;
  }

  /**
   * Purge (admin API): hard deletes the selected variants, soft marks them stale so they revalidate.
   * Responses already on their way from the origin are served but not stored (see `Timing`).
   */
  async purge(target: PurgeTarget, soft: boolean): Promise<ShardPurgeResult> {
    this.#purgeEpoch += 1;
    const purged = this.#store.purge(target, soft);
    if ("all" in target) this.#hitForPass.clear();
    else if ("keys" in target) for (const key of target.keys) this.#hitForPass.delete(key);
    return { purged };
  }

  async stats(): Promise<ShardStatsReply & { inFlight: number }> {
    return {
      ...this.#counters.totals(),
      ...this.#store.evictions,
      objects: this.#store.objectCount(),
      storedBytes: this.#store.storedBytes(),
      storageBudgetBytes: this.#store.storageBudgetBytes,
      memoryEvictions: this.#store.memoryEvictions,
      inFlight: this.#flights.size,
    };
  }

  /** Per-minute request outcomes and origin fetches since `sinceMinute` (the dashboard's load per shard). */
  async minutes(sinceMinute: number): Promise<ShardMinute[]> {
    return this.#counters.minutes(sinceMinute);
  }

  /** Fault injection for tests and simulations: makes `handle` throw or hang, to exercise the edge's fallback. */
  async setFault(fault: ShardFault): Promise<void> {
    this.#fault = fault;
  }

  override async alarm(): Promise<void> {
    const { next } = this.#store.sweep(this.#clock.now());
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, this.#clock.now() + SWEEP_INTERVAL_MS));
  }

  async #viaOrigin(request: Request, req: RequestLike, ctx: ShardRequestContext, fwd: ForwardReason, stale: StoredObject | undefined): Promise<ShardResult> {
    const until = this.#hitForPass.get(ctx.key);
    if (until !== undefined && until > this.#clock.now()) return this.#passThrough(request, req, ctx, fwd, "hit-for-pass");
    const flight = this.#flights.join(ctx.key);
    if (flight !== undefined) return this.#asWaiter(flight, request, req, ctx, fwd, stale);
    return this.#asLeader(request, req, ctx, fwd, stale);
  }

  async #asWaiter(flight: Flight, request: Request, req: RequestLike, ctx: ShardRequestContext, fwd: ForwardReason, stale: StoredObject | undefined): Promise<ShardResult> {
    this.#counters.count("coalesced");
    const outcome = await awaitFlight(flight, ctx.settings.collapseTimeoutMs);
    const reply = this.#reply(ctx, req);
    const now = this.#clock.now();
    if (outcome === "timeout") return this.#passThrough(request, req, ctx, fwd, "collapse-timeout");
    switch (outcome.kind) {
      case "streaming": {
        const { meta, broadcast, bodyBytes } = outcome;
        if (!broadcast.canJoin || selectVariant([outcome], req) === undefined || !storedAnswers(meta, req)) return this.#passThrough(request, req, ctx, fwd, "collapse-released");
        const response = respondFromStored(meta, { bytes: bodyBytes, stream: () => broadcast.reader() }, req, now);
        return reply.served(response, { kind: "collapsed", fwd, onto: "fetch", sizeKnown: bodyBytes !== null }, meta);
      }
      case "revalidated":
        return reply.served(respondFromStored(outcome.object.meta, outcome.object.body, req, now), { kind: "collapsed", fwd, onto: "revalidation" }, outcome.object.meta);
      case "not-shared":
        return this.#passThrough(request, req, ctx, fwd, "collapse-released");
      case "failed":
        return this.#failure(reply, outcome.failure, req, stale ?? outcome.stale ?? undefined, fwd, graceOf(ctx));
    }
  }

  async #asLeader(request: Request, req: RequestLike, ctx: ShardRequestContext, fwd: ForwardReason, stale: StoredObject | undefined): Promise<ShardResult> {
    const flight = this.#flights.open(ctx.key);
    const reply = this.#reply(ctx, req).fromOrigin(originHost(ctx.origin));
    let fetched = false;
    try {
      const conditional = stale !== undefined && (stale.meta.etag !== null || stale.meta.lastModified !== null) ? stale : undefined;
      const buildRequest = (origin: string) =>
        buildOriginRequest(request, {
          origin,
          firstByteTimeoutMs: ctx.settings.originTimeoutMs,
          method: "GET",
          removeHeaders: CLIENT_ONLY_FIELDS,
          ...(conditional !== undefined ? { setHeaders: conditionalHeadersFor(conditional.meta) } : {}),
        });
      const requestTime = this.#clock.now();
      const purgeEpoch = this.#purgeEpoch;
      fetched = true;
      const result = await this.#fetchOrigin(buildRequest, "GET", ctx);
      const timing = { requestTime, responseTime: this.#clock.now(), purgeEpoch };
      if (!result.ok) return this.#leaderFailed(flight, ctx, reply, result.error, req, stale, fwd);
      const response = result.value;
      if (conditional !== undefined && response.status === 304) return this.#revalidated(flight, ctx, reply, conditional, response, req, timing, fwd);
      // Within grace or stale-if-error a 5xx never replaces (nor is served instead of) the usable stored copy.
      if (response.status >= 500 && stale !== undefined && staleOnOriginFailure(stale.meta, req, timing.responseTime, graceOf(ctx)).serve) {
        void response.body?.cancel();
        return this.#leaderFailed(flight, ctx, reply, { kind: "status", status: response.status }, req, stale, fwd);
      }
      // Response rules decide on the origin's response as sent, right before the store decision.
      const decided = withResponseRules(ctx, response);
      return this.#storeAndServe(flight, withResponseHeaderEdits(response, decided.responseHeaders), req, decided, reply, fwd, timing);
    } catch (error) {
      this.#flights.settle(flight, { kind: "not-shared" });
      this.#flights.close(ctx.key, flight);
      // Once the origin was asked, a throw here is about what it sent: answer 502 rather than let the
      // edge retry on the next shard, which would ask the origin again (one origin fetch per request).
      if (fetched) return reply.failed({ kind: "origin-failed", fwd, failure: unhandledResponse(error) });
      throw error;
    }
  }

  #storeAndServe(flight: Flight, response: Response, req: RequestLike, ctx: ShardRequestContext, reply: ShardReply, fwd: ForwardReason, timing: Timing): ShardResult {
    const policyReq = req.method === "HEAD" ? { ...req, method: "GET" } : req;
    const limits = limitsFor(ctx.settings);
    const contentLength = declaredLength(response.headers);
    const verdict = canStore(policyReq, response, { limits, requestHasBody: false, contentLength, ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
    if (!verdict.store) {
      if (isResponseCaused(verdict.reason)) this.#hitForPass.set(ctx.key, this.#clock.now() + ctx.settings.hitForPassSeconds * 1000);
      this.#flights.settle(flight, { kind: "not-shared" });
      this.#flights.close(ctx.key, flight);
      this.#counters.count("passes");
      return reply.relayed(response, { kind: "not-stored", fwd, fwdStatus: response.status, reason: verdict.reason });
    }
    this.#counters.count("misses");
    const meta = buildMeta(policyReq, response, timing, verdict, limits, ctx, contentLength);
    // A null body (204, 205, HEAD-like) must still END: a stream that never closes would keep the flight
    // open forever, so every later request joined it and reused the 204 past its freshness (RFC 9111 §4.2).
    const broadcast = new BodyBroadcast(response.body ?? bodyFromBytes(new Uint8Array(0)).stream(), ctx.settings.maxObjectBytes);
    this.#flights.settle(flight, { kind: "streaming", meta, broadcast, bodyBytes: contentLength });
    void broadcast.result.then((result) => {
      this.#flights.close(ctx.key, flight);
      // A purge while the body was on its way means this response may predate it: serve it, do not keep it.
      if (result.stored && timing.purgeEpoch === this.#purgeEpoch) {
        const part = this.#withStoredPart(ctx, { meta: { ...meta, bodyBytes: result.bytes }, chunks: result.chunks });
        if (part === null || !this.#putSafely(ctx, part.meta, part.chunks)) return;
        this.#counters.count("stores");
        void this.#scheduleSweep();
      } else if (!result.stored && result.reason === "too-large") {
        this.#hitForPass.set(ctx.key, this.#clock.now() + ctx.settings.hitForPassSeconds * 1000);
      }
    });
    const served = respondFromStored(meta, { bytes: contentLength, stream: () => broadcast.reader() }, req, timing.responseTime);
    const ttlSeconds = Math.round((meta.staleAt - timing.responseTime) / 1000);
    return reply.served(served, { kind: "stored", fwd, fwdStatus: response.status, ttlSeconds, sizeKnown: contentLength !== null }, meta);
  }

  /** A store that fails (storage full, a broken database) costs the copy, never the response already served. */
  /**
   * RFC 9111 §3.4: a new part (206) is combined with the variant's stored part when they share a strong
   * validator and touch; otherwise (and for complete responses) the new response is stored as it is.
   * null: the part does not match its own Content-Range and is not stored.
   */
  #withStoredPart(ctx: ShardRequestContext, incoming: { meta: StoredMeta; chunks: readonly Uint8Array[] }): { meta: StoredMeta; chunks: readonly Uint8Array[] } | null {
    const range = storedPart(incoming.meta);
    if (range === null) return incoming;
    // A body that is not exactly the range its Content-Range names (a broken or hostile origin) is not kept.
    if (incoming.meta.bodyBytes !== range.end - range.start + 1) return null;
    const previous = this.#store.variants(ctx.key, this.#clock.now()).find((o) => o.meta.variantKey === incoming.meta.variantKey);
    if (previous?.body.raw === undefined) return incoming;
    const body = new Uint8Array(incoming.meta.bodyBytes);
    let offset = 0;
    for (const chunk of incoming.chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const combined = combineParts({ meta: previous.meta, body: previous.body.raw }, { meta: incoming.meta, body }, ctx.settings.maxObjectBytes);
    return combined === null ? incoming : { meta: combined.meta, chunks: [combined.body] };
  }

  #putSafely(ctx: ShardRequestContext, meta: StoredMeta, chunks: readonly Uint8Array[]): boolean {
    try {
      return this.#store.put(ctx.key, { meta, chunks }, { maxVariants: ctx.settings.maxVariants, now: this.#clock.now() });
    } catch {
      this.#counters.count("storeFailures");
      return false;
    }
  }

  #revalidated(flight: Flight, ctx: ShardRequestContext, reply: ShardReply, stale: StoredObject, response: Response, req: RequestLike, timing: Timing, fwd: ForwardReason): ShardResult {
    const meta = freshenWithNotModified(stale.meta, response, timing, { limits: limitsFor(ctx.settings), ...(ctx.overrides ? { overrides: ctx.overrides } : {}) });
    const object: StoredObject = { meta, body: stale.body };
    if (timing.purgeEpoch === this.#purgeEpoch) this.#store.updateMeta(ctx.key, meta);
    this.#counters.count("revalidations");
    this.#flights.settle(flight, { kind: "revalidated", object });
    this.#flights.close(ctx.key, flight);
    return reply.served(respondFromStored(meta, stale.body, req, timing.responseTime), { kind: "revalidated", fwd }, meta);
  }

  #leaderFailed(flight: Flight, ctx: ShardRequestContext, reply: ShardReply, failure: OriginFailure | { kind: "status"; status: number }, req: RequestLike, stale: StoredObject | undefined, fwd: ForwardReason): ShardResult {
    this.#flights.settle(flight, { kind: "failed", failure, stale: stale ?? null });
    this.#flights.close(ctx.key, flight);
    return this.#failure(reply, failure, req, stale, fwd, graceOf(ctx));
  }

  #failure(reply: ShardReply, failure: OriginFailure | { kind: "status"; status: number }, req: RequestLike, stale: StoredObject | undefined, fwd: ForwardReason, graceSeconds: number): ShardResult {
    const now = this.#clock.now();
    const verdict = stale === undefined ? { serve: false as const } : staleOnOriginFailure(stale.meta, req, now, graceSeconds);
    if (stale !== undefined && (verdict.serve || staleAllowedWhenPoolDown(failure, stale))) {
      this.#counters.count("staleServed");
      // A dead pool serves any copy (staleAllowedWhenPoolDown); otherwise say which grant applied.
      const why = verdict.serve && verdict.why === "grace" && failure.kind !== "pool-down" ? "grace" : "stale-if-error";
      return reply.served(respondFromStored(stale.meta, stale.body, req, now), { kind: "stale-on-error", why }, stale.meta);
    }
    return reply.failed({ kind: "origin-failed", fwd, failure });
  }

  /** Forwards the client's request as it is (validators and Range included) and stores nothing. */
  async #passThrough(request: Request, req: RequestLike, ctx: ShardRequestContext, fwd: ForwardReason, why: "hit-for-pass" | "collapse-timeout" | "collapse-released"): Promise<ShardResult> {
    const reply = this.#reply(ctx, req).fromOrigin(originHost(ctx.origin));
    this.#counters.count("passes");
    const result = await this.#fetchOrigin((origin) => buildOriginRequest(request, { origin, firstByteTimeoutMs: ctx.settings.originTimeoutMs }), request.method, ctx);
    if (!result.ok) return reply.failed({ kind: "origin-failed", fwd, failure: result.error });
    try {
      return reply.relayed(withResponseHeaderEdits(result.value, withResponseRules(ctx, result.value).responseHeaders), { kind: "passed", fwd, fwdStatus: result.value.status, why });
    } catch (error) {
      return reply.failed({ kind: "origin-failed", fwd, failure: unhandledResponse(error) });
    }
  }

  /** Every origin fetch the shard makes goes through here (the one place pools and health plug in). */
  async #fetchOrigin(build: (origin: string) => Request, method: string, ctx: ShardRequestContext): Promise<Result<Response, OriginFailure>> {
    this.#counters.count("originFetches");
    const bodyIdleMs = ctx.settings.originBodyIdleMs ?? defaultSettings.originBodyIdleMs;
    if (ctx.pool === undefined) return fetchOrigin(build(ctx.origin), ctx.settings.originTimeoutMs, { bodyIdleMs });
    return this.#pools.fetch(ctx.pool.name, ctx.pool.config, method, build, { idempotent: true, now: () => this.#clock.now(), failpools: ctx.pool.failpools ?? [], bodyIdleMs });
  }

  /** RFC 5861: serve stale now and refresh once in the background; a flight already open means one is running. */
  #revalidateInBackground(request: Request, ctx: ShardRequestContext, stored: StoredObject): void {
    if (this.#flights.has(ctx.key)) return;
    const backgroundCtx = { ...ctx };
    this.#background.add(backgroundCtx);
    const background = this.#asLeader(request, requestLike(request), backgroundCtx, "stale", stored).then((result) => result.response.body?.cancel());
    this.ctx.waitUntil(background.catch(() => {}));
  }

  /** Refresh time / refresh-ahead: one background revalidation, remembered so the next waits its interval. */
  #refreshInBackground(request: Request, ctx: ShardRequestContext, stored: StoredObject, now: EpochMillis): void {
    if (this.#flights.has(ctx.key)) return;
    this.#refreshes.set(ctx.key, now);
    this.#revalidateInBackground(request, ctx, stored);
  }

  async #scheduleSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#clock.now() + SWEEP_INTERVAL_MS);
  }

  async #injectFault(): Promise<void> {
    if (this.#fault.mode === "throw") throw new Error("shard fault injected: throw");
    if (this.#fault.mode === "hang") await new Promise((resolve) => setTimeout(resolve, HANG_MS));
  }

  #reply(ctx: ShardRequestContext, req: RequestLike): ShardReply {
    return new ShardReply(ctx, req, this.#background.has(ctx) ? null : (outcome) => this.#counters.count(`requests.${outcome}`));
  }
}

/**
 * With every node of the pool down, any stored copy beats an error page, however old, unless the
 * response forbade serving it stale (must-revalidate, no-cache). Deviation: RFC 5861 would bound this
 * by the stale-if-error window; a dead pool is the case users keep stale copies for.
 */
function staleAllowedWhenPoolDown(failure: OriginFailure | { kind: "status"; status: number }, stale: StoredObject): boolean {
  return failure.kind === "pool-down" && !stale.meta.mustRevalidate && !stale.meta.alwaysRevalidate;
}

/** A response the shard could not handle after the origin sent it: a 502 with the reason, not a throw. */
function unhandledResponse(error: unknown): OriginFailure {
  return { kind: "invalid", reason: `the response could not be handled (${error instanceof Error ? error.message : String(error)})` };
}

/** An edge from before grace existed sends no graceSeconds: the default applies. */
function graceOf(ctx: ShardRequestContext): number {
  return ctx.settings.graceSeconds ?? defaultSettings.graceSeconds;
}

function requestLike(request: Request): RequestLike {
  return { method: request.method, url: request.url, headers: request.headers };
}
