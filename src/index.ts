/**
 * Composition root: the only module that reads `env`. It builds the per-isolate pieces (config
 * loader, HRW ranking, edge tier) once, wires them into the edge request path, and exports the
 * Durable Object classes for wrangler, each given the clock.
 */
import { defaultConfigDocument, parseConfig, type ConfigDocument } from "./config/document";
import { ConfigLoader } from "./config/load";
import { readLastGood, recordLastGood } from "./config/last-good";
import type { NewEvent } from "./events/events";
import type { Settings } from "./config/settings";
import { handleEdgeRequest } from "./edge/handler";
import { EdgeTier } from "./edge/edge-tier";
import type { SharedMiss } from "./edge/shared-miss";
import { SingleFlight } from "./edge/single-flight";
import { CONFIG_KV_KEY, DEFAULT_CONFIG_MEMO_MS, DEFAULT_SLM_STATES_MEMO_MS, type Env } from "./env";
import { SlmStates } from "./edge/slm-states";
import { createHrw, type Hrw } from "./routing/hrw";
import { cachedSnapshot, PoolFetcher } from "./origin/pool-fetch";
import { RateGate } from "./edge/rate-gate";
import { FLUSH_EVERY_MS, SlmReporter, type FlushStep } from "./edge/slm-reporter";
import { cachedValue } from "./lib/cached-value";
import { runScheduledJobs, scheduledJobs } from "./scheduled";
import { handleAdminRequest, isAdminPath } from "./admin/router";
import { LoginThrottle } from "./admin/login-throttle";
import { PurgeLogLoader, readPurgeIndex, writePurgeRecord } from "./edge/purge-log";
import { zonePurgerFrom } from "./edge/zone-purge";
import { normaliseIncoming } from "./edge/incoming";
import { pathOf } from "./lib/request-target";
import { ShardHealth } from "./health/shard-health";
import type { ShardGate } from "./edge/shard-client";
import { EdgeCounter } from "./edge/edge-counter";
import { accessLogEntry } from "./edge/access-log";
import { accessLogLine } from "./observe/access-log";
import { OffsetClock, type Clock } from "./lib/clock";
import type { EpochMillis } from "./lib/units";
import { CacheShard as CacheShardObject } from "../durable/cache-shard";
import { EventLog as EventLogObject } from "../durable/event-log";
import { HealthMonitor as HealthMonitorObject } from "../durable/health-monitor";
import { RateLimiter as RateLimiterObject } from "../durable/rate-limiter";
import { SlmMonitor as SlmMonitorObject } from "../durable/slm-monitor";

/** How stale an isolate's copy of the rate shaping factors may be. */
const SLM_FACTORS_TTL_MS = 5_000;
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

/** Appends one event to the cluster event log; never fails the caller (the log is best effort). */
function raiseEvent(env: Env, event: Omit<NewEvent, "time">): Promise<void> {
  return env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events"))
    .append([{ ...event, time: clockFor(env).now() }])
    .then(
      () => {},
      () => {},
    );
}

interface Isolate {
  /** This isolate's clock (clockFor), as a plain function for the flows. */
  now: () => EpochMillis;
  loader: ConfigLoader<ConfigDocument>;
  edgeTier: EdgeTier;
  /** Concurrent misses for one key in this isolate: one shard call (src/edge/single-flight.ts). */
  flights: SingleFlight<SharedMiss>;
  pools: PoolFetcher;
  rateGate: RateGate;
  slm: SlmReporter;
  /** The SLM states rules match on, refreshed in the background (src/edge/slm-states.ts). */
  slmStates: SlmStates;
  /** This isolate's edge-tier counters, flushed in batches to the MetricsCollector. */
  counter: EdgeCounter;
  /** EDGE_COUNTING=off (the bench's reference run only): no edge counting at all. */
  countingOff: boolean;
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
}

let isolate: Isolate | null = null;

function isolateFor(env: Env): Isolate {
  const clock = clockFor(env);
  const now = () => clock.now();
  isolate ??= {
    now,
    loader: new ConfigLoader({
      read: () => env.CONFIG.get(CONFIG_KV_KEY),
      readLastGood: () => readLastGood(env.CONFIG),
      writeLastGood: (text) => recordLastGood(env.CONFIG, text).then(() => {}),
      parse: parseConfig,
      fallback: defaultConfigDocument,
      memoMs: env.CONFIG_MEMO_MS === undefined ? DEFAULT_CONFIG_MEMO_MS : Number(env.CONFIG_MEMO_MS),
      report: (problem, level) => {
        console.error(problem);
        return raiseEvent(env, { level, section: "config", tag: "confbad", text: problem });
      },
    }),
    edgeTier: new EdgeTier(defaultConfigDocument.settings.edgeMemoryBudgetBytes, typeof caches === "undefined" ? null : caches.default),
    flights: new SingleFlight<SharedMiss>(),
    pools: new PoolFetcher(
      cachedSnapshot(() => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health")).snapshot(), HEALTH_SNAPSHOT_TTL_MS, now),
      (reports) =>
        env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"))
          .report(reports)
          .catch(() => {}),
    ),
    rateGate: new RateGate({
      limiter: (name) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)),
      factors: cachedValue(async () => (await slmMonitor(env).snapshot()).factors, SLM_FACTORS_TTL_MS, now),
      now,
      onLimiterError: (name, error) => console.error(`rate class ${name}: limiter unavailable, admitting (${error instanceof Error ? error.message : String(error)})`),
    }),
    slm: new SlmReporter(),
    slmStates: new SlmStates(() => slmMonitor(env).snapshot(), env.SLM_STATES_MEMO_MS === undefined ? DEFAULT_SLM_STATES_MEMO_MS : Number(env.SLM_STATES_MEMO_MS)),
    loginThrottle: new LoginThrottle(),
    shardHealth: new ShardHealth(),
    counter: new EdgeCounter((rows) => metricsCollector(env).add(rows)),
    countingOff: env.EDGE_COUNTING === "off",
    hrw: null,
    budgetVersion: null,
    healthPlan: null,
    purges: new PurgeLogLoader(
      () => readPurgeIndex(env.CONFIG),
      env.CONFIG_MEMO_MS === undefined ? DEFAULT_CONFIG_MEMO_MS : Number(env.CONFIG_MEMO_MS),
      (problem) => {
        console.error(problem);
        void raiseEvent(env, { level: "WARNING", section: "purge", tag: "purgelog", text: problem });
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
  const health = env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));
  ctx.waitUntil(
    health.configure(config.pools, config.monitors, { verbose: config.settings.verbose }).catch((error: unknown) => {
      state.healthPlan = null; // try again with the next request's config
      console.error(`health monitor could not be configured: ${error instanceof Error ? error.message : String(error)}`);
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends this isolate's SLM counts when the reporter says so: at once for a full batch, after
 * FLUSH_EVERY_MS for the first sample of a new one (so the last samples of a burst are sent even if
 * no request follows). A failed send puts the batch back and tries again a period later.
 */
function flushSlm(step: FlushStep, state: Isolate, config: ConfigDocument, env: Env, ctx: ExecutionContext): void {
  if (step === "none") return;
  const send = async (): Promise<void> => {
    const batch = state.slm.take();
    if (batch.length === 0) return;
    const sentAt = state.now();
    try {
      await slmMonitor(env).record(config.slmClasses, batch, config.rateClasses);
    } catch {
      if (state.slm.restore(batch, sentAt, state.now()) !== "none") await sleep(FLUSH_EVERY_MS).then(send);
    }
  };
  ctx.waitUntil(step === "flush-now" ? send() : sleep(FLUSH_EVERY_MS).then(send));
}

/** The isolate's shard health for one request: skip decisions and outcomes; a state change becomes an event. */
function shardGateFor(state: Isolate, settings: Settings, env: Env, ctx: ExecutionContext): ShardGate {
  const policy = { failuresToSkip: settings.shardFailuresToSkip, skipSeconds: settings.shardSkipSeconds };
  return {
    admit: (shard) => state.shardHealth.admit(shard, state.now(), policy),
    record: (shard, outcome) => {
      const change = state.shardHealth.record(shard, outcome, state.now(), policy);
      if (change === null) return;
      const text = change.to === "unhealthy" ? `Shard ${shard} skipped by this edge isolate for ${policy.skipSeconds} s after ${change.failures} consecutive failures` : `Shard ${shard} answers again`;
      console.error(text);
      ctx.waitUntil(raiseEvent(env, { level: change.to === "unhealthy" ? "WARNING" : "INFO", section: `shards/${shard}`, tag: change.to === "unhealthy" ? "shardfail" : "shardok", text }));
    },
  };
}

function hrwFor(state: Isolate, version: string, settings: Settings): Hrw {
  if (state.hrw?.version !== version) state.hrw = { version, hrw: createHrw(settings.shards) };
  return state.hrw.hrw;
}

export default {
  async fetch(incoming, env, ctx): Promise<Response> {
    const state = isolateFor(env);
    // One normal form of the request for everything below: the admin check, the rules, the key, the origin.
    const request = normaliseIncoming(incoming);
    const now = state.now();
    // Within the memo period both are plain values: no promise, no await on the hot path.
    const memoLoaded = state.loader.fresh(now);
    const memoPurges = state.purges.fresh(now);
    const [loaded, purges] = memoLoaded !== null && memoPurges !== null ? [memoLoaded, memoPurges] : await Promise.all([memoLoaded ?? state.loader.get(now), memoPurges ?? state.purges.get(now)]);
    const config = loaded.config;
    const settings = config.settings;
    if (state.budgetVersion !== loaded.version) {
      state.edgeTier.setMemoryBudget(settings.edgeMemoryBudgetBytes);
      state.budgetVersion = loaded.version;
      // The built-in default (no document, or KV unreadable at cold start) never overrides the monitors; the cron decides then.
      if (loaded.source !== "default") replanHealth(state, config, env, ctx);
    }
    if (isAdminPath(pathOf(request.url), settings.adminPrefix)) {
      const shard = (name: string) => env.CACHE_SHARD.get(env.CACHE_SHARD.idFromName(name));
      return handleAdminRequest(request, settings.adminPrefix, {
        adminToken: env.ADMIN_TOKEN,
        localDev: env.SHARDCACHE_LOCAL_DEV === "true",
        timingSafeEqual: (a, b) => crypto.subtle.timingSafeEqual(a, b),
        clientAddress: request.headers.get("cf-connecting-ip") ?? "unknown",
        loginThrottle: state.loginThrottle,
        config,
        configVersion: loaded.version,
        configSource: loaded.source,
        hrw: hrwFor(state, loaded.version, settings),
        shard: (name) => ({ purge: (target, soft) => shard(name).purge(target, soft), stats: () => shard(name).stats(), minutes: (since) => shard(name).minutes(since) }),
        readStoredConfig: () => env.CONFIG.get(CONFIG_KV_KEY),
        writeStoredConfig: (text) => env.CONFIG.put(CONFIG_KV_KEY, text),
        history: env.CONFIG,
        writePurgeRecord: (record) => writePurgeRecord(env.CONFIG, record),
        notePurge: (record) => state.purges.note(record),
        deleteLocalEdgeCopy: (key) => state.edgeTier.delete(key),
        zone: zonePurgerFrom(env),
        now: state.now,
        events: env.EVENT_LOG.get(env.EVENT_LOG.idFromName("events")),
        rateStatus: (name) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)).status(),
        slmSnapshot: () => slmMonitor(env).snapshot(config.slmClasses),
        shardHealth: () => state.shardHealth.snapshot(state.now()),
        edgeCounters: async (since) => {
          await state.counter.flush();
          return metricsCollector(env).read(since);
        },
        healthSnapshot: () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health")).snapshot(),
        healthDetails: () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health")).details(),
      });
    }
    if (config.compiledRules.usesSlm) {
      const refreshing = state.slmStates.refresh(now);
      if (refreshing !== null) ctx.waitUntil(refreshing);
    }
    return handleEdgeRequest(request, {
      purges,
      slmState: (name) => state.slmStates.stateOf(name),
      config,
      settings,
      hrw: hrwFor(state, loaded.version, settings),
      shards: env.CACHE_SHARD,
      shardGate: shardGateFor(state, settings, env, ctx),
      edgeTier: state.edgeTier,
      flights: state.flights,
      origin: settings.origin ?? env.ORIGIN_URL,
      colo: (incoming.cf?.colo as string | undefined) ?? "local",
      clientIp: request.headers.get("cf-connecting-ip"),
      country: (incoming.cf?.country as string | undefined) ?? null,
      clusterToken: env.CLUSTER_TOKEN,
      pools: state.pools,
      admitRate: (name, cls, ref, req) => state.rateGate.admit(name, cls, ref, req),
      admitRateFromLease: (ref, req) => {
        const cls = config.rateClasses[ref.name];
        return cls !== undefined && state.rateGate.admitFromLease(ref.name, cls, ref, req);
      },
      reportTtfb: (slmClass, ttfbMs) => {
        const cls = config.slmClasses[slmClass];
        if (cls !== undefined) flushSlm(state.slm.record(slmClass, ttfbMs, cls.targetMs), state, config, env, ctx);
      },
      observe: (answer) => {
        if (settings.accessLog) console.log(accessLogLine(accessLogEntry(request, answer, now, state.now())));
        if (state.countingOff) return;
        state.counter.count(answer.rule, answer.outcome, answer.bytes, now, (promise) => ctx.waitUntil(promise));
        // Workers Analytics Engine, when bound: one data point per request, queryable with SQL.
        env.ANALYTICS?.writeDataPoint({ indexes: [answer.rule], blobs: [answer.outcome, answer.rule, answer.upstream.shard ?? "", answer.upstream.shardName ?? ""], doubles: [1, answer.bytes] });
      },
      waitUntil: (promise) => ctx.waitUntil(promise),
      now: state.now,
    });
  },

  async scheduled(_controller, env, ctx): Promise<void> {
    const state = isolateFor(env);
    const loaded = await state.loader.get(state.now());
    ctx.waitUntil(runScheduledJobs(scheduledJobs(loaded.config, env)));
  },
} satisfies ExportedHandler<Env>;
