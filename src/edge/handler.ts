/**
 * The edge request path: clean the request, build the cache key, answer from the edge tier when the
 * copy there is fresh, otherwise ask the key's primary shard (then the next shards in HRW order, then
 * the origin itself), and keep a bounded copy of what the shard stored. Unsafe methods go straight to
 * the origin and invalidate what they change.
 */
import type { CacheShard } from "../../durable/cache-shard";
import { checkShardResult, type ShardRequestContext, type ShardSettings } from "../serve/shard-protocol";
import type { ConfigDocument } from "../config/document";
import type { Settings } from "../config/settings";
import type { EpochMillis } from "../lib/units";
import { failpoolChain, type Pool } from "../config/pools";
import type { SlmStateName } from "../rules/schema";
import { tooManyRequests, type RateGate } from "./rate-gate";
import { ok, type Result } from "../lib/result";
import { buildOriginRequest, fetchOrigin, originUrlFor, type OriginFailure } from "../origin/fetch-origin";
import type { PoolFetcher } from "../origin/pool-fetch";
import { failureResponse } from "../serve/origin-failure";
import { withErrorPage } from "../serve/error-pages";
import { declaredLength, evaluateReuse, forwardReasonFor, invalidationTargets, postResponseStorableAsGet, refreshAheadStartsAt, renderCacheStatus, selectVariant } from "../rfc9111";
import type { ForwardReason, RequestLike, StoredMeta } from "../rfc9111/types";
import type { Hrw } from "../routing/hrw";
import { cacheKeyFor, cacheKeyOfGet } from "../rules/cache-key";
import { parseCookies } from "../rules/cookies";
import { nodeToken } from "../origin/select";
import type { RuleRequest, RuleResult } from "../rules/match";
import { policyOverridesFrom } from "../rules/overrides";
import { CACHE_INFO_HEADER, TARGETED_CACHE_CONTROL, TRACE_HEADER, withoutInternalHeaders } from "../serve/internal-headers";
import { withKnownLength } from "../serve/known-length";
import { asksForWholeStored, respondFromStored } from "../serve/stored-response";
import type { EdgeEntry, EdgeTier } from "./edge-tier";
import { EDGE_CACHE_NAME } from "./hit-template";
import { attemptOrder, callShards, type ShardAttempt, type ShardGate } from "./shard-client";
import type { EdgeObserver } from "./edge-observer";
import type { SlmReports } from "./slm-reporter";
import { copyWhole, followerResponse, mayShareFlight, shareableLength, type SharedMiss } from "./shared-miss";
import type { Led, SingleFlight } from "./single-flight";
import { teeForEdge } from "./tee";
import { applyRequestActions } from "./request-actions";
import { keyedHeaderNames, requestForUpstream } from "./forwarding";
import { EdgeRuleRequest } from "./rule-request";
import type { TargetMemo } from "./target-memo";
import { ruleLabel } from "../observe/outcomes";
import { HIT_INFO, HIT_WORD, hitMemberText, renderOutcome, type Outcome } from "../serve/outcome";
import type { EdgeAnswer, RequestScope, Upstream } from "./request-scope";

export type { EdgeAnswer, RequestScope, Upstream };

const NO_UPSTREAM: Upstream = { shard: null, shardName: null, origin: null };
const originOnly = (origin: string): Upstream => ({ shard: null, shardName: null, origin });

export { EDGE_CACHE_NAME };

/**
 * What the edge path needs that is the same for every request under one config version in one
 * isolate: built once per version (src/index.ts memoises it on the loaded config), never per request.
 */
export interface EdgeDeps {
  config: ConfigDocument;
  settings: Settings;
  /** The rule result and cache key by method and target, for this config version (src/edge/target-memo.ts). */
  targets: TargetMemo;
  hrw: Hrw;
  shards: DurableObjectNamespace<CacheShard>;
  edgeTier: EdgeTier;
  /** This isolate's single-flight of shard calls, by cache key. */
  flights: SingleFlight<SharedMiss>;
  /** Origin base URL used when no pool applies. */
  origin: string;
  /** Name of this data centre, for the trace (an isolate runs in one). */
  colo: string;
  /** This isolate's node choice and passive health for origin pools (direct fetches from the edge). */
  pools: PoolFetcher;
  /** The cluster-wide rate-class check: this isolate's leases, then the RateLimiter objects. */
  rateGate: Pick<RateGate, "admit" | "admitFromLease">;
  /** An SLM class's state as this isolate last saw it, for rules that match on it (`match.slm`). */
  slmState?: (className: string) => SlmStateName;
  /** Counts each response's time to first byte for its SLM class and sends the counts in batches. */
  slm: Pick<SlmReports, "report">;
  /** This isolate's shard health: failing shards are skipped for a while (src/edge/shard-gate.ts). */
  shardGate: ShardGate;
  /** Told every answer of this edge once (counters, the access log: src/edge/edge-observer.ts). */
  observer: Pick<EdgeObserver, "observe">;
  now(): EpochMillis;
}

/** How long the shard waits for origin headers: the edge waits a little longer for the shard. */
const ORIGIN_TIMEOUT_MARGIN_MS = 1_000;

/**
 * `scope.incoming` is already in its normal form, client X-Cluster-* fields removed (src/edge/incoming.ts).
 * A hit from the edge's memory is answered synchronously, without a promise (issue 15: the bare
 * worker the hit is measured against returns its Response so too); everything that waits returns one.
 */
export function handleEdgeRequest(deps: EdgeDeps, scope: RequestScope): Response | Promise<Response> {
  const { incoming } = scope;
  const matched = new EdgeRuleRequest(incoming, scope.country, deps.slmState);
  const { rule, key } = deps.targets.decide(matched);
  // Redirect / deny answer here; rewrite and request header edits change what everything below sees.
  const acted = applyRequestActions(incoming, matched, rule);
  if (acted !== null && "answer" in acted) return finish(acted.answer, deps, scope, rule, acted.outcome);
  // Unchanged, the request's parts are those incoming.ts read once; a changed one is read from its new Request.
  const { request, ruleRequest } = acted ?? { request: incoming.request, ruleRequest: matched };
  const req: RequestLike = acted === null ? incoming : { method: request.method, url: request.url, headers: ruleRequest.headers };
  // The remembered key holds only for the request as it came (request actions change what it is built from).
  const admitted: Admitted = { request, req, ruleRequest, rule, knownKey: acted === null ? key : null };
  const rateRef = rule.actions.rateClass;
  const rateClass = rateRef === undefined ? undefined : deps.config.rateClasses[rateRef.name];
  if (rateRef !== undefined && rateClass !== undefined && !deps.rateGate.admitFromLease(rateRef.name, rateClass, rateRef, ruleRequest, scope.waitUntil)) return checkedThenServed(admitted, deps, scope);
  return served(admitted, deps, scope);
}

/** A request past its rules' request actions: what `served` needs of it. */
interface Admitted {
  request: Request;
  /** The method, target and fields of `request`, already read. */
  req: RequestLike;
  ruleRequest: RuleRequest;
  rule: RuleResult;
  /** The key the target memo holds, if any. */
  knownKey: string | null;
}

/** The rate class's verdict from its limiter (this isolate's lease had no token left), then the answer. */
async function checkedThenServed(admitted: Admitted, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  const refused = await checkRateClass(admitted.rule, admitted.ruleRequest, deps, scope);
  return refused ?? served(admitted, deps, scope);
}

/** The answer, and its time to first byte for the rule's SLM class when it has one. */
function served(admitted: Admitted, deps: EdgeDeps, scope: RequestScope): Response | Promise<Response> {
  const { request, req, rule } = admitted;
  if (isWebSocketUpgrade(req)) return passWebSocket(request, rule, deps, scope);
  const response = serve(admitted, deps, scope);
  const slmClass = rule.actions.slmClass;
  if (slmClass === undefined) return response;
  const report = (answer: Response): Response => {
    deps.slm.report(slmClass, deps.now() - scope.receivedAt, deps.config, scope.waitUntil);
    return answer;
  };
  return response instanceof Response ? report(response) : response.then(report);
}

/** The request as shards and the origin see it: unkeyed headers removed, forwarding fields the edge's own. */
function upstream(request: Request, rule: RuleResult, deps: EdgeDeps, scope: RequestScope): Request {
  return requestForUpstream(request, { unkeyed: deps.settings.unkeyedRequestHeaders, keyed: keyedHeaderNames(rule.actions.cacheKey), clientIp: scope.incoming.clientIp, trusted: scope.incoming.headers.trusted });
}

/** A GET or HEAD: from the edge's memory (synchronously), else caches.default, else the shards. */
function serve(admitted: Admitted, deps: EdgeDeps, scope: RequestScope): Response | Promise<Response> {
  const { request, req, ruleRequest, rule } = admitted;
  if (req.method !== "GET" && req.method !== "HEAD") return passUnsafeMethod(upstream(request, rule, deps, scope), ruleRequest, rule, deps, scope);
  if (rule.actions.pass === true) return passByRule(upstream(request, rule, deps, scope), rule, deps, scope);
  const key = admitted.knownKey ?? cacheKeyFor(ruleRequest, rule.actions.cacheKey);
  // The arrival time: workerd's clock does not move while a request runs without waiting.
  const now = scope.receivedAt;
  const inMemory = deps.edgeTier.lookupMemory(key, now);
  if (inMemory !== null) return fromCopy(inMemory, key, now, admitted, deps, scope);
  // An edge that keeps no copies (edgeTtlCapSeconds or the rule's edgeTtl 0) does not ask caches.default
  // either (a cache round trip per request): what it may hold is from an earlier config, never needed.
  const keepsCopies = deps.settings.edgeTtlCapSeconds > 0 && rule.actions.edgeTtl !== 0;
  return keepsCopies ? fromSharedTier(key, now, admitted, deps, scope) : fromCopy(null, key, now, admitted, deps, scope);
}

async function fromSharedTier(key: string, now: EpochMillis, admitted: Admitted, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  // Memory again after the shared tier's await: a single-flight that closed meanwhile left its copy there.
  const copy = (await deps.edgeTier.lookupShared(key, now)) ?? deps.edgeTier.lookupMemory(key, deps.now());
  return fromCopy(copy, key, now, admitted, deps, scope);
}

/** The answer from the edge's copy when it is fresh (and no purge refuses it), else from the shards or the origin. */
function fromCopy(found: EdgeEntry | null, key: string, now: EpochMillis, admitted: Admitted, deps: EdgeDeps, scope: RequestScope): Response | Promise<Response> {
  const { request, req, rule } = admitted;
  let copy = found;
  if (copy !== null && scope.purges.purges({ key, tags: copy.meta.tags, storedAt: copy.storedAt })) {
    scope.waitUntil(deps.edgeTier.delete(key).catch(() => {}));
    copy = null;
  }
  let fwd: ForwardReason = "uri-miss";
  if (copy !== null) {
    const variant = selectVariant([copy], req);
    const decision = variant === undefined ? undefined : evaluateReuse(copy.meta, req, now);
    if (decision?.kind === "fresh") return answerFreshCopy(copy, req, now, rule, deps, scope);
    fwd = decision === undefined ? "vary-miss" : forwardReasonFor(decision);
  }
  if (rule.actions.skipSharding === true) return viaOriginDirectly(upstream(request, rule, deps, scope), fwd, [], rule, deps, scope, "skip-sharding");
  return viaShards(upstream(request, rule, deps, scope), key, fwd, rule, deps, scope);
}

/**
 * The answer from a fresh edge copy: its prepared template when the request asks for the whole stored
 * response (the hot path of issue 15: no per-hit header list, one Response), else `respondFromStored`
 * and `finish`. Both render the same answer and tell the observer the same (test/workers/edge-hit-template.test.ts).
 */
export function answerFreshCopy(copy: EdgeEntry, req: RequestLike, now: EpochMillis, rule: RuleResult, deps: Pick<EdgeDeps, "settings" | "colo" | "observer">, scope: RequestScope): Response {
  const ttlSeconds = Math.floor((Math.min(copy.edgeExpireAt, copy.meta.staleAt) - now) / 1000);
  const template = copy.template;
  if (template === null || !asksForWholeStored(req)) {
    // Built here, so its headers are ours to change: finish it in place.
    return finish(respondFromStored(copy.meta, copy.body, req, now), deps, scope, rule, { kind: "hit", ttlSeconds }, "", NO_UPSTREAM, true);
  }
  const { settings } = deps;
  const response = template.respond(copy.meta, now, ttlSeconds, settings.verbose ? HIT_INFO : null, settings.trace ? `edge:${deps.colo}->${HIT_WORD}` : null);
  deps.observer.observe({ rule: ruleLabel(rule.matched), outcome: "hit", status: template.status, bytes: template.bytes, upstream: NO_UPSTREAM }, scope);
  return response;
}

/** The rule's rate class, checked before anything else (edge hits count too): null when admitted, else the 429. */
async function checkRateClass(rule: RuleResult, ruleRequest: RuleRequest, deps: EdgeDeps, scope: RequestScope): Promise<Response | null> {
  const ref = rule.actions.rateClass;
  const cls = ref === undefined ? undefined : deps.config.rateClasses[ref.name];
  if (ref === undefined || cls === undefined) return null;
  const verdict = await deps.rateGate.admit(ref.name, cls, ref, ruleRequest, scope.waitUntil);
  if (verdict.admitted) return null;
  return finish(withErrorPage(tooManyRequests(ref.name, verdict.retryAfterMs), deps.settings.errorPages, null), deps, scope, rule, { kind: "rate-limited", rateClass: ref.name });
}

/**
 * A miss goes to the key's shard once per isolate: concurrent misses for the key follow the first
 * one's call (src/edge/single-flight.ts) and answer from what it shares; a follower the shared copy
 * does not answer, or whose leader shared nothing, failed or was too slow, makes its own call.
 */
async function viaShards(request: Request, key: string, fwd: ForwardReason, rule: RuleResult, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  if (!mayShareFlight(request.headers)) return (await callShardsFor(request, key, fwd, rule, deps, scope, false)).result;
  return deps.flights.run(
    key,
    deps.settings.collapseTimeoutMs,
    () => callShardsFor(request, key, fwd, rule, deps, scope, true),
    async (shared) => {
      const follower = shared === null ? null : followerResponse(shared, { method: request.method, url: request.url, headers: request.headers }, deps.now());
      if (follower !== null) return finish(follower, deps, scope, rule, { kind: "collapsed", fwd, onto: "shared-copy" }, `, ${shared!.trace}`, NO_UPSTREAM, true);
      return (await callShardsFor(request, key, fwd, rule, deps, scope, false)).result;
    },
  );
}

/** One call into the shards (primary, then fallbacks, then the origin directly); with `share`, what followers may use. */
async function callShardsFor(request: Request, key: string, fwd: ForwardReason, rule: RuleResult, deps: EdgeDeps, scope: RequestScope, share: boolean): Promise<Led<Response, SharedMiss>> {
  const { settings } = deps;
  const ranked = deps.hrw.rank(key, settings.primaries + settings.fallback);
  const order = attemptOrder(ranked, settings.primaries, Math.random() * settings.primaries);
  // The edge copy's store time is when it was asked for: a purge finishing after this refuses it.
  const requestedAt = deps.now();
  const result = await callShards(
    order,
    (shard) => {
      // A GET or HEAD carries no body (src/edge/incoming.ts drops one), so the same Request goes to each shard tried.
      return deps.shards.get(deps.shards.idFromName(shard.name)).handle(request.body === null ? request : new Request(request), shardContext(key, shard.name, rule, deps));
    },
    checkShardResult,
    settings.shardTimeoutMs,
    deps.shardGate,
    scope.waitUntil,
  );
  if (!result.ok) return { result: await viaOriginDirectly(request, fwd, result.attempts, rule, deps, scope, "shards-unavailable"), shared: NOTHING_SHARED };

  const { trace: shardTrace, edgeCopy: meta, member, body: whole } = result.value;
  let response = result.value.response;
  // A shard's own failure answer (origin unreachable, pool down) gets the configured error page; the origin's own 5xx passes as it came.
  const ownFailure = member.detail?.startsWith("origin-") === true && response.status >= 500;
  if (ownFailure) response = withErrorPage(response, settings.errorPages, member.detail === "origin-pool-down" ? "pool-down" : null);
  // Cache-Status `stored` only when the edge will keep it: a copy is kept, and the size is known to fit (see storedParam in the shard).
  let storedAtEdge: boolean | undefined = false;
  let shared: Promise<SharedMiss | null> = NOTHING_SHARED;
  if (meta !== null && response.body !== null) {
    const ttlSeconds = edgeTtlSeconds(meta, settings, rule.actions.edgeTtl, deps.now());
    const sharing = share && shareableLength(response, meta, settings.maxObjectBytes) !== null;
    if (sharing || ttlSeconds > 0) {
      const headers = response.headers;
      let copy: Promise<Uint8Array | null>;
      if (whole !== null) {
        // The body came inline, whole: the copy is those bytes, and the client's Response keeps them (no tee).
        copy = Promise.resolve(whole.byteLength <= settings.maxObjectBytes ? whole : null);
      } else {
        // Followers need the copy however slowly this client reads (copyWhole); the edge tier alone can wait for it (teeForEdge).
        const [toClient, streamed] = sharing ? copyWhole(response.body, settings.maxObjectBytes) : teeForEdge(response.body, settings.maxObjectBytes);
        copy = streamed;
        response = new Response(toClient, response);
      }
      if (ttlSeconds > 0) {
        scope.waitUntil(copy.then((body) => (body === null ? undefined : deps.edgeTier.store(key, meta, body, ttlSeconds, deps.now(), requestedAt))).catch(() => {}));
        const length = declaredLength(response.headers);
        storedAtEdge = length === null ? undefined : length <= settings.maxObjectBytes;
      }
      if (sharing) {
        // Read now: finish below adds the edge's own member to these very headers when the answer came inline.
        const cacheStatus = headers.get("cache-status");
        const cacheInfo = headers.get(CACHE_INFO_HEADER);
        shared = copy.then((body) => (body === null ? null : { meta, body, cacheStatus, cacheInfo, trace: shardTrace }));
      }
    }
  }
  const trail = traceTrail(result.attempts, shardTrace);
  // A streamed body: frame it with the stored Content-Length again (RFC 9110 §8.6). An inline one is
  // bytes in a Response checkShardResult built, of known length and ours to finish in place.
  const inline = whole !== null && !ownFailure;
  return {
    result: finish(
      inline ? response : withKnownLength(response),
      deps,
      scope,
      rule,
      { kind: "from-shard", fwd, storedAtEdge },
      trail,
      {
        shard: result.value.outcome,
        shardName: result.shard,
        origin: result.value.origin,
      },
      inline,
    ),
    shared,
  };
}

/** What the edge tells a shard about one request for `key`: its settings and the matching rule's decisions. */
function shardContext(key: string, shard: string, rule: RuleResult, deps: EdgeDeps): ShardRequestContext {
  const { settings } = deps;
  const refreshTime = rule.actions.refreshTime;
  const shardSettings = refreshTime === undefined ? shardSettingsOf(settings) : { ...shardSettingsOf(settings), refreshTimeSeconds: refreshTime };
  // `inline`: this edge reads inline answers (checkShardResult), so a small body in the shard's memory comes in the result itself.
  const ctx: ShardRequestContext = { key, shard, origin: deps.origin, settings: shardSettings, inline: true, ...ruleContext(rule, settings) };
  const pool = poolFor(rule, deps.config);
  if (pool !== undefined) ctx.pool = pool;
  return ctx;
}

const NOTHING_SHARED: Promise<null> = Promise.resolve(null);

/** Every shard failed (or a rule skips sharding): the origin answers directly, uncached. */
async function viaOriginDirectly(request: Request, fwd: ForwardReason, attempts: ShardAttempt[], rule: RuleResult, deps: EdgeDeps, scope: RequestScope, detail: "shards-unavailable" | "skip-sharding"): Promise<Response> {
  const { result, host } = await fetchDirect(request, rule, deps, scope, false);
  const trail = traceTrail(attempts, `origin:${host}`);
  const route = { why: detail } as const;
  if (!result.ok) return finish(directFailure(result.error, deps), deps, scope, rule, { kind: "origin-failed", fwd, failure: result.error, route }, trail);
  return finish(result.value, deps, scope, rule, { kind: "passed", fwd, fwdStatus: result.value.status, ...route }, trail, originOnly(host));
}

/** RFC 9111 §4.4: unsafe methods reach the origin untouched, then invalidate the URIs they changed. */
async function passUnsafeMethod(request: Request, ruleRequest: RuleRequest, rule: RuleResult, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  const req = { method: request.method, url: request.url, headers: request.headers };
  const requestTime = deps.now();
  const { result, host } = await fetchDirect(request, rule, deps, scope, true);
  const trail = `, origin:${host}`;
  const route = { why: "method", method: request.method } as const;
  if (!result.ok) return finish(directFailure(result.error, deps), deps, scope, rule, { kind: "origin-failed", fwd: "method", failure: result.error, route }, trail);
  const keys = invalidationTargets(req, result.value).map((url) => cacheKeyOfGet(url, ruleRequest, deps.config.compiledRules).key);
  const adoption = adoptionFor(req, result.value, ruleRequest, deps, { requestTime, responseTime: deps.now() });
  const response = adoption === null ? result.value : adoption.response;
  // Invalidate first, then store the POST's response as the URI's new representation (RFC 9110 §9.3.3).
  const invalidated = keys.length > 0 ? invalidate(keys, deps) : Promise.resolve();
  scope.waitUntil(invalidated.then(() => adoption?.store()).catch(() => {}));
  return finish(response, deps, scope, rule, { kind: "passed", fwd: "method", fwdStatus: result.value.status, ...route }, trail, originOnly(host));
}

/**
 * RFC 9110 §9.3.3: a POST response with explicit freshness and Content-Location equal to the target URI
 * may answer a later GET of that URI. When it qualifies (and the GET's own rule does not pass), its body
 * is copied (bounded by maxObjectBytes) while it streams to the client, and `store` hands it to the
 * GET key's primary shards, which decide with `canStore` exactly as for a GET miss.
 */
function adoptionFor(req: RequestLike & { headers: Headers }, response: Response, like: RuleRequest, deps: EdgeDeps, timing: { requestTime: EpochMillis; responseTime: EpochMillis }): { response: Response; store(): Promise<void> } | null {
  const asGet = postResponseStorableAsGet(req, response);
  if (asGet === null || response.body === null) return null;
  const { key, rule: getRule } = cacheKeyOfGet(asGet.url, like, deps.config.compiledRules);
  if (getRule.actions.pass === true || getRule.actions.skipSharding === true) return null;
  const [toClient, copy] = teeForEdge(response.body, deps.settings.maxObjectBytes);
  const store = async () => {
    const body = await copy;
    if (body === null) return;
    const owners = deps.hrw.rank(key, deps.settings.primaries);
    await Promise.all(
      owners.map((shard) => {
        const stored = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
        return deps.shards.get(deps.shards.idFromName(shard.name)).adopt(new Request(asGet.url, { headers: asGet.headers }), stored, { ctx: shardContext(key, shard.name, getRule, deps), timing });
      }),
    );
  };
  return { response: withKnownLength(new Response(toClient, response)), store };
}

/** RFC 6455 §4.1: a WebSocket opening handshake is a GET with `Upgrade: websocket` (token compared case-insensitively). */
export function isWebSocketUpgrade(request: RequestLike): boolean {
  const upgrade = request.headers.get("upgrade");
  return request.method === "GET" && upgrade !== null && upgrade.split(",").some((t) => t.trim().toLowerCase() === "websocket");
}

/**
 * A WebSocket upgrade goes to the origin (or the rule's pool) with its handshake fields intact and
 * is never cached or sharded. A 101 answer is returned as it came: it carries the socket, which a
 * copied Response would drop. An origin that refuses the upgrade is answered like any pass.
 */
async function passWebSocket(request: Request, rule: RuleResult, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  const clientUrl = new URL(request.url);
  const build = (origin: string) => {
    // Not buildOriginRequest: it drops hop-by-hop fields, and Upgrade / Connection are the handshake.
    const headers = new Headers(withoutInternalHeaders(request.headers));
    headers.set("x-forwarded-host", clientUrl.host);
    headers.set("x-forwarded-proto", clientUrl.protocol.replace(":", ""));
    return new Request(originUrlFor(clientUrl, origin), { method: "GET", headers, redirect: "manual" });
  };
  const pool = poolFor(rule, deps.config);
  const host = pool === undefined ? new URL(deps.origin).host : `pool:${pool.name}`;
  const result =
    pool === undefined
      ? await fetchOrigin(build(deps.origin), deps.settings.shardTimeoutMs)
      : await deps.pools.fetch(pool.name, pool.config, "GET", build, { idempotent: true, now: deps.now, waitUntil: scope.waitUntil, failpools: pool.failpools, session: { cookie: null, clientIp: scope.incoming.clientIp } });
  const trail = `, origin:${host}`;
  if (!result.ok) return finish(directFailure(result.error, deps), deps, scope, rule, { kind: "origin-failed", fwd: "bypass", failure: result.error, route: { why: "websocket" } }, trail);
  if (result.value.status === 101) return result.value;
  return finish(result.value, deps, scope, rule, { kind: "passed", fwd: "bypass", fwdStatus: result.value.status, why: "websocket" }, trail);
}

/** A rule says pass: the origin answers, nothing is stored, no shard is involved. */
async function passByRule(request: Request, rule: RuleResult, deps: EdgeDeps, scope: RequestScope): Promise<Response> {
  const { result, host } = await fetchDirect(request, rule, deps, scope, false);
  const trail = `, origin:${host}`;
  const route = { why: "rule", rules: rule.matched } as const;
  if (!result.ok) return finish(directFailure(result.error, deps), deps, scope, rule, { kind: "origin-failed", fwd: "bypass", failure: result.error, route }, trail);
  return finish(result.value, deps, scope, rule, { kind: "passed", fwd: "bypass", fwdStatus: result.value.status, ...route }, trail, originOnly(host));
}

/** Sends the request from the edge itself to the rule's pool (or the default origin), bypassing the shards. */
async function fetchDirect(request: Request, rule: RuleResult, deps: EdgeDeps, scope: RequestScope, forwardBody: boolean): Promise<{ result: Result<Response, OriginFailure>; host: string }> {
  const options = { firstByteTimeoutMs: deps.settings.shardTimeoutMs, forwardBody };
  const pool = poolFor(rule, deps.config);
  if (pool === undefined) {
    const originRequest = buildOriginRequest(request, { ...options, origin: deps.origin });
    return { result: await fetchOrigin(originRequest, options.firstByteTimeoutMs, { bodyIdleMs: deps.settings.originBodyIdleMs }), host: new URL(originRequest.url).host };
  }
  let host = `pool:${pool.name}`;
  const build = (origin: string) => {
    const originRequest = buildOriginRequest(request, { ...options, origin });
    host = new URL(originRequest.url).host;
    return originRequest;
  };
  const idempotent = !forwardBody || request.body === null;
  const persistence = pool.config.sessionPersistence;
  const sessionCookie = persistence?.mode === "cookie" ? (parseCookies(request.headers.get("cookie")).get(persistence.cookieName) ?? null) : null;
  let served: string | null = null;
  const result = await deps.pools.fetch(pool.name, pool.config, request.method, build, {
    idempotent,
    now: deps.now,
    waitUntil: scope.waitUntil,
    failpools: pool.failpools,
    bodyIdleMs: deps.settings.originBodyIdleMs,
    session: { cookie: sessionCookie, clientIp: scope.incoming.clientIp },
    onNode: (_pool, node) => (served = node),
  });
  if (!result.ok || persistence?.mode !== "cookie" || served === null || nodeToken(served) === sessionCookie) return { result, host };
  // A new or moved session: name its node in the cookie (an opaque token, see nodeToken).
  const pinned = new Response(result.value.body, result.value);
  pinned.headers.append("set-cookie", sessionCookieField(persistence.cookieName, nodeToken(served), new URL(request.url).protocol === "https:"));
  return { result: ok(pinned), host };
}

/** The session cookie: whole site, not readable by scripts, sent on top-level navigation; Secure over HTTPS. */
function sessionCookieField(name: string, token: string, secure: boolean): string {
  return `${name}=${token}; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

/** The edge's own answer when the origin it asked directly failed: the failure response with the configured error page. */
function directFailure(failure: OriginFailure, deps: EdgeDeps): Response {
  return withErrorPage(failureResponse(failure), deps.settings.errorPages, failure.kind === "pool-down" ? "pool-down" : null);
}

/** The pool a rule names, else `settings.defaultPool`, with its failpool chain; none means the plain origin URL. */
export function poolFor(rule: RuleResult, config: ConfigDocument): { name: string; config: Pool; failpools: { name: string; config: Pool }[] } | undefined {
  const name = rule.actions.pool ?? config.settings.defaultPool;
  const pool = name === undefined ? undefined : config.pools[name];
  if (name === undefined || pool === undefined) return undefined;
  const failpools = pool.failpool === undefined ? [] : (failpoolChain(name, config.pools) ?? []).map((n) => ({ name: n, config: config.pools[n]! }));
  return { name, config: pool, failpools };
}

/** What a matched rule tells the shard: policy overrides, extra tags, response header edits. */
function ruleContext(rule: RuleResult, settings: Pick<Settings, "storeSetCookie">): Pick<ShardRequestContext, "overrides" | "tags" | "responseHeaders" | "responseRules"> {
  const { actions } = rule;
  const context: Pick<ShardRequestContext, "overrides" | "tags" | "responseHeaders" | "responseRules"> = { overrides: policyOverridesFrom(actions, settings.storeSetCookie) };
  if (rule.responseRules !== undefined) context.responseRules = [...rule.responseRules];
  if (actions.tags !== undefined) context.tags = [...actions.tags];
  if (actions.setResponseHeaders !== undefined || actions.removeResponseHeaders !== undefined) {
    context.responseHeaders = { ...(actions.setResponseHeaders ? { set: { ...actions.setResponseHeaders } } : {}), ...(actions.removeResponseHeaders ? { remove: [...actions.removeResponseHeaders] } : {}) };
  }
  return context;
}

/** Deletes `keys` from their primary shards and from this data centre's edge tier. */
export async function invalidate(keys: readonly string[], deps: Pick<EdgeDeps, "hrw" | "shards" | "edgeTier" | "settings">): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      await deps.edgeTier.delete(key);
      const owners = deps.hrw.rank(key, deps.settings.primaries);
      await Promise.all(owners.map((shard) => deps.shards.get(deps.shards.idFromName(shard.name)).invalidate([key])));
    }),
  );
}

/**
 * The edge keeps a copy no longer than the cap (and a rule's edgeTtl), and never past the object's
 * own freshness; with refresh-ahead, only until its last part begins, so those requests reach the
 * shard, which refreshes the object ahead of expiry.
 */
export function edgeTtlSeconds(meta: StoredMeta, settings: Pick<Settings, "edgeTtlCapSeconds" | "refreshAheadRatio">, ruleEdgeTtl: number | undefined, now: EpochMillis): number {
  if (meta.alwaysRevalidate) return 0;
  const freshSeconds = Math.floor((refreshAheadStartsAt(meta, settings.refreshAheadRatio) - now) / 1000);
  return Math.max(0, Math.min(settings.edgeTtlCapSeconds, ruleEdgeTtl ?? Number.POSITIVE_INFINITY, freshSeconds));
}

/** The trace after the edge's own word: each shard that failed or was skipped, then who answered (`last`). */
function traceTrail(attempts: readonly ShardAttempt[], last: string): string {
  let trail = "";
  for (const a of attempts) if (a.error !== undefined) trail += a.error === "unhealthy" ? `, ${a.shard}->SKIP(unhealthy)` : `, ${a.shard}->FAIL(${a.error})`;
  return `${trail}, ${last}`;
}

/** The shard's part of each config version's settings, built once per version (settings objects are per version, never changed). */
const shardSettingsMemo = new WeakMap<Settings, Readonly<ShardSettings>>();

/** The settings every shard call under `settings` carries (a rule's refreshTime replaces refreshTimeSeconds, in shardContext). */
function shardSettingsOf(settings: Settings): Readonly<ShardSettings> {
  let picked = shardSettingsMemo.get(settings);
  if (picked === undefined) shardSettingsMemo.set(settings, (picked = Object.freeze(pickShardSettings(settings))));
  return picked;
}

function pickShardSettings(settings: Settings): ShardSettings {
  const { maxObjectBytes, memoryBudgetBytes, storageBudgetBytes, maxTtlSeconds, refreshTimeSeconds, refreshAheadRatio, maxVariants, collapseTimeoutMs, hitForPassSeconds, verbose, graceSeconds, originBodyIdleMs } = settings;
  // The shard waits for origin headers a little less than the edge waits for the shard.
  const originTimeoutMs = Math.max(100, settings.shardTimeoutMs - ORIGIN_TIMEOUT_MARGIN_MS);
  return { maxObjectBytes, memoryBudgetBytes, storageBudgetBytes, maxTtlSeconds, refreshTimeSeconds, refreshAheadRatio, maxVariants, collapseTimeoutMs, hitForPassSeconds, verbose, graceSeconds, originBodyIdleMs, originTimeoutMs };
}

/**
 * Adds the edge's Cache-Status member, X-Cache-Info (verbose) and X-Cluster-Trace (trace), all rendered
 * from `outcome` (src/serve/outcome.ts). `trail`: the trace after the edge's own word (", shard-2->MISS, origin:…").
 */
function finish(response: Response, deps: Pick<EdgeDeps, "settings" | "colo" | "observer">, scope: RequestScope, rule: RuleResult, outcome: Outcome, trail = "", upstream: Upstream = NO_UPSTREAM, headersAreOurs = false): Response {
  const out = headersAreOurs ? response : new Response(response.body, response);
  // The edge hit is the hot path: its member, line, word and label without the general renderer's objects.
  const rendered = outcome.kind === "hit" ? null : renderOutcome("edge", outcome);
  // The one place every edge answer passes: observed once (declared body length; a HEAD sends none).
  deps.observer.observe({ rule: ruleLabel(rule.matched), outcome: rendered?.label ?? "hit", status: out.status, bytes: out.body === null ? 0 : Number(out.headers.get("content-length")) || 0, upstream }, scope);
  const mine = outcome.kind === "hit" ? hitMemberText(EDGE_CACHE_NAME, outcome.ttlSeconds) : renderCacheStatus([{ cache: EDGE_CACHE_NAME, ...rendered!.member }]);
  const info = rendered === null ? HIT_INFO : rendered.info;
  const earlier = out.headers.get("cache-status");
  out.headers.set("cache-status", earlier ? `${earlier}, ${mine}` : mine);
  // RFC 9213 §2: Shardcache-Cache-Control targets this cache alone and is consumed here (the stored copy
  // keeps it for revalidation); CDN-Cache-Control may target CDNs further downstream, so it is forwarded.
  out.headers.delete(TARGETED_CACHE_CONTROL);
  if (deps.settings.verbose && info !== null) out.headers.set(CACHE_INFO_HEADER, info);
  if (deps.settings.trace) out.headers.set(TRACE_HEADER, `edge:${deps.colo}->${rendered?.word ?? HIT_WORD}${trail}`);
  return out;
}
