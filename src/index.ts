/**
 * Composition root: the only module that reads `env` or the wall clock. It builds the per-isolate
 * pieces (config loader, edge tier, rate gate, SLM reports, counters, shard health) once, the edge
 * path's dependencies once per config version, routes each request to the admin API or the edge path
 * with only what that request knows, and exports the Durable Object classes for wrangler, each given
 * the clock. The domain work lives in the modules it wires (src/edge, src/admin, src/scheduled).
 */
import { defaultConfigDocument, parseConfig, type ConfigDocument } from "./config/document";
import { ConfigLoader, type LoadedConfig } from "./config/load";
import { readLastGood, recordLastGood } from "./config/last-good";
import type { Settings } from "./config/settings";
import { handleEdgeRequest, type EdgeDeps } from "./edge/handler";
import { EdgeTier } from "./edge/edge-tier";
import type { SharedMiss } from "./edge/shared-miss";
import { SingleFlight } from "./edge/single-flight";
import { CONFIG_KV_KEY, DEFAULT_CONFIG_MEMO_MS, DEFAULT_SLM_STATES_MEMO_MS, type Env } from "./env";
import { SlmStates } from "./edge/slm-states";
import { createHrw, type Hrw } from "./routing/hrw";
import { cachedSnapshot, PoolFetcher } from "./origin/pool-fetch";
import { RateGate } from "./edge/rate-gate";
import { SlmReports } from "./edge/slm-reporter";
import { runScheduledJobs, scheduledJobs } from "./scheduled";
import { handleAdminRequest, isAdminPath, type AdminDeps } from "./admin/router";
import { LoginThrottle } from "./admin/login-throttle";
import { PurgeLogLoader, readPurgeIndex, writePurgeRecord, type PurgeIndex } from "./edge/purge-log";
import { zonePurgerFrom } from "./edge/zone-purge";
import { normaliseIncoming, type Incoming } from "./edge/incoming";
import { TargetMemo } from "./edge/target-memo";
import { pathOf } from "./lib/request-target";
import { ShardHealth } from "./health/shard-health";
import { EdgeShardGate } from "./edge/shard-gate";
import { EdgeCounter } from "./edge/edge-counter";
import { EdgeObserver, type EdgeObserverParts } from "./edge/edge-observer";
import { eventRaiser, type RaiseEvent } from "./edge/event-raiser";
import { OffsetClock, type Clock } from "./lib/clock";
import type { EpochMillis } from "./lib/units";
import { CacheShard as CacheShardObject } from "../durable/cache-shard";
import { EventLog as EventLogObject } from "../durable/event-log";
import { HealthMonitor as HealthMonitorObject } from "../durable/health-monitor";
import { RateLimiter as RateLimiterObject } from "../durable/rate-limiter";
import { SlmMonitor as SlmMonitorObject } from "../durable/slm-monitor";

const slmMonitor = (env: Env) => env.SLM_MONITOR.get(env.SLM_MONITOR.idFromName("slm"));

/** How stale an isolate's copy of the cluster health may be. */
const HEALTH_SNAPSHOT_TTL_MS = 2_000;

export { MetricsCollector } from "../durable/metrics-collector";

/** The one wall clock: every Durable Object and flow below is handed it (time is a parameter). */
const systemClock: Clock = { now: () => Date.now() };

/**
 * The test suite's clock: the wall clock plus an offset that tests move forward instead of sleeping
 * (test/helpers/clock.ts imports this very object: the tests, SELF and the Durable Objects share one
 * isolate and module graph). Chosen only when the TEST_CLOCK binding is "movable", which only
 * vitest.config.ts sets; no request can reach it.
 */
export const testClock = new OffsetClock(systemClock);

/** The clock for this worker: the wall clock, or in the test suite the movable one. */
const clockFor = (env: Env): Clock => (env.TEST_CLOCK === "movable" ? testClock : systemClock);

// The Durable Object classes wrangler.toml names, each given the clock here, where the parts are composed.
export class CacheShard extends CacheShardObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, clockFor(env));
  }
}
export class EventLog extends EventLogObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, clockFor(env));
  }
}
export class HealthMonitor extends HealthMonitorObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, clockFor(env));
  }
}
export class RateLimiter extends RateLimiterObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, clockFor(env));
  }
}
export class SlmMonitor extends SlmMonitorObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, clockFor(env));
  }
}

const metricsCollector = (env: Env) => env.METRICS_COLLECTOR.get(env.METRICS_COLLECTOR.idFromName("metrics"));
const healthMonitor = (env: Env) => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));
const eventLog = (env: Env) => env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events"));

/** The pieces one isolate keeps across requests; the edge path's are rebuilt only when the config version changes. */
interface Isolate {
  clock: Clock;
  /** `clock.now` as a plain function, for the flows that take one. */
  now: () => EpochMillis;
  raise: RaiseEvent;
  loader: ConfigLoader<ConfigDocument>;
  edgeTier: EdgeTier;
  /** Concurrent misses for one key in this isolate: one shard call (src/edge/single-flight.ts). */
  flights: SingleFlight<SharedMiss>;
  pools: PoolFetcher;
  rateGate: RateGate;
  slm: SlmReports;
  /** The SLM states rules match on, refreshed in the background (src/edge/slm-states.ts). */
  slmStates: SlmStates;
  /** This isolate's edge-tier counters, flushed in batches to the MetricsCollector. */
  counter: EdgeCounter;
  /** What every edge answer is told to (EDGE_COUNTING=off, the bench's reference run only: no counter). */
  observed: EdgeObserverParts;
  hrw: { version: string; hrw: Hrw } | null;
  /** Recent purges from KV, memoised like the config: the edge refuses copies older than a matching purge. */
  purges: PurgeLogLoader;
  /** Failed admin logins per client address (bounded). */
  loginThrottle: LoginThrottle;
  /** Which shards this isolate skips for now, and per-shard call counters. */
  shardHealth: ShardHealth;
  /** Config version whose memory budget the edge tier has; resized only when it changes. */
  budgetVersion: string | null;
  /** Pools and monitors last handed to the HealthMonitor from this isolate (a fingerprint). */
  healthPlan: string | null;
  /** The edge path's dependencies for the loaded config they were built from (and this isolate's colo). */
  edge: { loaded: LoadedConfig<ConfigDocument>; colo: string; deps: EdgeDeps } | null;
}

let isolate: Isolate | null = null;

function isolateFor(env: Env): Isolate {
  if (isolate !== null) return isolate;
  const clock = clockFor(env);
  const now = () => clock.now();
  const raise = eventRaiser(() => eventLog(env), clock);
  const memoMs = env.CONFIG_MEMO_MS === undefined ? DEFAULT_CONFIG_MEMO_MS : Number(env.CONFIG_MEMO_MS);
  const counter = new EdgeCounter((rows) => metricsCollector(env).add(rows));
  isolate = {
    clock,
    now,
    raise,
    loader: new ConfigLoader({
      read: () => env.CONFIG.get(CONFIG_KV_KEY),
      readLastGood: () => readLastGood(env.CONFIG),
      writeLastGood: (text) => recordLastGood(env.CONFIG, text).then(() => {}),
      parse: parseConfig,
      fallback: defaultConfigDocument,
      memoMs,
      report: (problem, level) => {
        console.error(problem);
        return raise({ level, section: "config", tag: "confbad", text: problem });
      },
    }),
    edgeTier: new EdgeTier(defaultConfigDocument.settings.edgeMemoryBudgetBytes, typeof caches === "undefined" ? null : caches.default),
    flights: new SingleFlight<SharedMiss>(),
    pools: new PoolFetcher(
      cachedSnapshot(() => healthMonitor(env).snapshot(), HEALTH_SNAPSHOT_TTL_MS, now),
      (reports) =>
        healthMonitor(env)
          .report(reports)
          .catch(() => {}),
    ),
    rateGate: new RateGate({
      limiter: (name) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)),
      factors: async () => (await slmMonitor(env).snapshot()).factors,
      now,
      onLimiterError: (name, error) => console.error(`rate class ${name}: limiter unavailable, admitting (${error instanceof Error ? error.message : String(error)})`),
    }),
    slm: new SlmReports((batch, config) => slmMonitor(env).record(config.slmClasses, batch, config.rateClasses), clock),
    slmStates: new SlmStates(() => slmMonitor(env).snapshot(), env.SLM_STATES_MEMO_MS === undefined ? DEFAULT_SLM_STATES_MEMO_MS : Number(env.SLM_STATES_MEMO_MS)),
    loginThrottle: new LoginThrottle(),
    shardHealth: new ShardHealth(),
    counter,
    observed: { counter: env.EDGE_COUNTING === "off" ? null : counter, analytics: env.ANALYTICS, clock },
    hrw: null,
    budgetVersion: null,
    healthPlan: null,
    edge: null,
    purges: new PurgeLogLoader(
      () => readPurgeIndex(env.CONFIG),
      memoMs,
      (problem) => {
        console.error(problem);
        void raise({ level: "WARNING", section: "purge", tag: "purgelog", text: problem });
      },
    ),
  };
  return isolate;
}

/**
 * A config version whose pools or monitors differ from what this isolate last sent starts (or
 * re-plans) the active monitors at once, rather than at the next cron tick. Compared by content,
 * so a change elsewhere in the document costs no call.
 */
function replanHealth(state: Isolate, config: ConfigDocument, env: Env, ctx: ExecutionContext): void {
  const plan = JSON.stringify([config.pools, config.monitors, config.settings.verbose]);
  if (plan === state.healthPlan) return;
  state.healthPlan = plan;
  ctx.waitUntil(
    healthMonitor(env)
      .configure(config.pools, config.monitors, { verbose: config.settings.verbose })
      .catch((error: unknown) => {
        state.healthPlan = null; // try again with the next request's config
        console.error(`health monitor could not be configured: ${error instanceof Error ? error.message : String(error)}`);
      }),
  );
}

function hrwFor(state: Isolate, version: string, settings: Settings): Hrw {
  if (state.hrw?.version !== version) state.hrw = { version, hrw: createHrw(settings.shards) };
  return state.hrw.hrw;
}

/**
 * The edge path's dependencies for the loaded config: built when the config (or, in principle, the
 * colo) changes and reused by every request until then, so a request costs no dependency object.
 */
function edgeDepsFor(state: Isolate, loaded: LoadedConfig<ConfigDocument>, colo: string, env: Env): EdgeDeps {
  if (state.edge !== null && state.edge.loaded === loaded && state.edge.colo === colo) return state.edge.deps;
  const { config } = loaded;
  const { settings } = config;
  const deps: EdgeDeps = {
    config,
    settings,
    targets: new TargetMemo(config.compiledRules),
    hrw: hrwFor(state, loaded.version, settings),
    shards: env.CACHE_SHARD,
    edgeTier: state.edgeTier,
    flights: state.flights,
    origin: settings.origin ?? env.ORIGIN_URL,
    colo,
    pools: state.pools,
    rateGate: state.rateGate,
    slm: state.slm,
    slmState: (name) => state.slmStates.stateOf(name),
    shardGate: new EdgeShardGate(state.shardHealth, settings, state.clock, state.raise),
    observer: new EdgeObserver(state.observed, settings.accessLog),
    now: state.now,
  };
  state.edge = { loaded, colo, deps };
  return deps;
}

/** What the admin API is given for one request (not the hot path: built per admin request). */
function adminDeps(state: Isolate, loaded: LoadedConfig<ConfigDocument>, request: Request, env: Env): AdminDeps {
  const { config } = loaded;
  const shard = (name: string) => env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(name));
  return {
    adminToken: env.ADMIN_TOKEN,
    localDev: env.SHARDCACHE_LOCAL_DEV === "true",
    timingSafeEqual: (a, b) => crypto.subtle.timingSafeEqual(a, b),
    clientAddress: request.headers.get("cf-connecting-ip") ?? "unknown",
    loginThrottle: state.loginThrottle,
    config,
    configVersion: loaded.version,
    configSource: loaded.source,
    hrw: hrwFor(state, loaded.version, config.settings),
    shard: (name) => ({ purge: (target, soft) => shard(name).purge(target, soft), stats: () => shard(name).stats(), minutes: (since) => shard(name).minutes(since) }),
    readStoredConfig: () => env.CONFIG.get(CONFIG_KV_KEY),
    writeStoredConfig: (text) => env.CONFIG.put(CONFIG_KV_KEY, text),
    history: env.CONFIG,
    writePurgeRecord: (record) => writePurgeRecord(env.CONFIG, record),
    notePurge: (record) => state.purges.note(record),
    deleteLocalEdgeCopy: (key) => state.edgeTier.delete(key),
    zone: zonePurgerFrom(env),
    now: state.now,
    events: eventLog(env),
    rateStatus: (name) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)).status(),
    slmSnapshot: () => slmMonitor(env).snapshot(config.slmClasses),
    shardHealth: () => state.shardHealth.snapshot(state.now()),
    edgeCounters: async (since) => {
      await state.counter.flush();
      return metricsCollector(env).read(since);
    },
    healthSnapshot: () => healthMonitor(env).snapshot(),
    healthDetails: () => healthMonitor(env).details(),
  };
}

/** The admin API or the edge path, under the config and purge log this request is served with. */
function route(state: Isolate, incoming: Request, arrived: Incoming, loaded: LoadedConfig<ConfigDocument>, purges: PurgeIndex, now: EpochMillis, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
  const config = loaded.config;
  const settings = config.settings;
  if (state.budgetVersion !== loaded.version) {
    state.edgeTier.setMemoryBudget(settings.edgeMemoryBudgetBytes);
    state.budgetVersion = loaded.version;
    // The built-in default (no document, or KV unreadable at cold start) never overrides the monitors; the cron decides then.
    if (loaded.source !== "default") replanHealth(state, config, env, ctx);
  }
  if (isAdminPath(pathOf(arrived.url), settings.adminPrefix)) {
    const request = arrived.forAdmin();
    return handleAdminRequest(request, settings.adminPrefix, adminDeps(state, loaded, request, env));
  }
  if (config.compiledRules.usesSlm) {
    const refreshing = state.slmStates.refresh(now);
    if (refreshing !== null) ctx.waitUntil(refreshing);
  }
  // Per request, only what this request knows; everything else was built for the config version.
  const cf = incoming.cf;
  return handleEdgeRequest(edgeDepsFor(state, loaded, (cf?.colo as string | undefined) ?? "local", env), {
    incoming: arrived,
    receivedAt: now,
    country: (cf?.country as string | undefined) ?? null,
    purges,
    waitUntil: (promise) => ctx.waitUntil(promise),
  });
}

export default {
  fetch(incoming, env, ctx): Response | Promise<Response> {
    const state = isolateFor(env);
    // One normal form of the request for everything below: the admin check, the rules, the key, the origin.
    const arrived = normaliseIncoming(incoming, env.CLUSTER_TOKEN);
    const now = state.now();
    // Within the memo period both are plain values: no promise on the hot path, and a hit from the
    // edge's memory is answered synchronously (issue 15).
    const memoLoaded = state.loader.fresh(now);
    const memoPurges = state.purges.fresh(now);
    if (memoLoaded !== null && memoPurges !== null) return route(state, incoming, arrived, memoLoaded, memoPurges, now, env, ctx);
    return Promise.all([memoLoaded ?? state.loader.get(now), memoPurges ?? state.purges.get(now)]).then(([loaded, purges]) => route(state, incoming, arrived, loaded, purges, now, env, ctx));
  },

  async scheduled(_controller, env, ctx): Promise<void> {
    const state = isolateFor(env);
    const loaded = await state.loader.get(state.now());
    ctx.waitUntil(runScheduledJobs(scheduledJobs(loaded.config, env)));
  },
} satisfies ExportedHandler<Env>;
