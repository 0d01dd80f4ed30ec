/**
 * The admin API, mounted under `settings.adminPrefix` (default `/_shardcache`): itty-router with one
 * `before` stage (bearer token, compared in constant time; failed logins throttled per address) and one `catch` (JSON 500). Every answer
 * is JSON; a known path with the wrong method answers 405 with `Allow`. Endpoints: GET /health,
 * GET|PUT /config, POST /config/validate, GET /config/versions, POST /config/rollback, POST /config/diff,
 * POST /pools/:pool/nodes/:node/(drain|disable|enable), POST /rules, DELETE /rules/:name, POST /purge,
 * GET /stats, GET /events, POST /events/test, GET /rates.
 * See docs/admin-and-cli.md.
 */
import { Router, type IRequest, type RouterType } from "itty-router";
import type { PurgeTarget, ShardPurgeResult } from "../../durable/shard-purge";
import { configDocumentSchema, parseConfig, type ConfigDocument } from "../config/document";
import type { ConfigError } from "../config/errors";
import type { HistoryKv } from "../config/history";
import { versionOf, type ConfigSource } from "../config/load";
import type { PurgeRecord } from "../edge/purge-log";
import type { ZonePurger } from "../edge/zone-purge";
import type { EpochMillis } from "../lib/units";
import type { Hrw } from "../routing/hrw";
import type { ClusterEvent, ListOptions, NewEvent } from "../events/events";
import * as z from "zod";
import { zodIssuesToErrors } from "../config/errors";
import { eventLevels } from "../events/events";
import { checkAdminAuth, type TimingSafeEqual } from "./auth";
import { acceptConfig, actorOf } from "./config-change";
import { configRoutes } from "./config-routes";
import type { LoginThrottle } from "./login-throttle";
import { eventListOptions, rateClassesView, type ContextStatus, type SlmView } from "./observe";
import { parsePurgeRequest, runPurge } from "./purge";
import type { ShardStatsReply } from "./stats";
import type { ShardMinute } from "../../durable/shard-counters";
import type { EdgeMinuteRow, EdgeTotalRow } from "../../durable/metrics-collector";
import type { HealthSnapshot } from "../origin/pool-fetch";
import type { Minute } from "../observe/minute";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../observe/prometheus";
import { clusterSeriesFor, clusterStats, type ObservedDeps } from "./cluster-stats";
import { metricFamilies } from "./metrics";
import { dashboardResponse } from "./ui";
import { poolsView, type NodeHealthDetail } from "./pools";

export interface AdminShard {
  purge(target: PurgeTarget, soft: boolean): Promise<ShardPurgeResult>;
  stats(): Promise<ShardStatsReply>;
  minutes(since: Minute): Promise<ShardMinute[]>;
}

/** What the composition root hands the admin API for one request. */
export interface AdminDeps {
  adminToken: string | undefined;
  /** Local development (`SHARDCACHE_LOCAL_DEV`): the only place a weak or published token is accepted. */
  localDev: boolean;
  /** The platform's constant-time compare (`crypto.subtle.timingSafeEqual`). */
  timingSafeEqual: TimingSafeEqual;
  /** The client's address as the platform reports it (failed logins are throttled per address). */
  clientAddress: string;
  loginThrottle: LoginThrottle;
  /** The config in use (memoised loader) and its version. */
  config: ConfigDocument;
  configVersion: string;
  configSource: ConfigSource;
  hrw: Hrw;
  shard(name: string): AdminShard;
  readStoredConfig(): Promise<string | null>;
  /** Writes `config`; the change is then recorded as a numbered version, which also makes it last good (src/config/history.ts). */
  writeStoredConfig(text: string): Promise<void>;
  /** The KV namespace holding the config history (`config:version:<n>`, `config:versions`, `config:last-good`). */
  history: HistoryKv;
  writePurgeRecord(record: PurgeRecord): Promise<void>;
  notePurge(record: PurgeRecord): void;
  deleteLocalEdgeCopy(key: string): Promise<void>;
  zone: ZonePurger | null;
  now(): EpochMillis;
  /** The cluster event log (EventLog object). */
  events: { list(options: ListOptions): Promise<ClusterEvent[]>; append(events: NewEvent[]): Promise<unknown> };
  /** A rate limiter object's per-context status, and the SLM monitor's snapshot. */
  rateStatus(objectName: string): Promise<ContextStatus[]>;
  slmSnapshot(): Promise<SlmView>;
  /** This isolate's view of shard health (state and counters per shard it has called). */
  shardHealth?(): Record<string, unknown>;
  /** Flushes this isolate's pending edge counts, then reads the MetricsCollector. */
  edgeCounters(since: Minute): Promise<{ totals: EdgeTotalRow[]; minutes: EdgeMinuteRow[] }>;
  /** The HealthMonitor's view of every origin pool node, and the same with reasons and last probes. */
  healthSnapshot(): Promise<HealthSnapshot>;
  healthDetails(): Promise<NodeHealthDetail[]>;
}

function observed(deps: AdminDeps): ObservedDeps {
  return {
    shardNames: deps.config.settings.shards.map((s) => s.name),
    shardStats: (name) => deps.shard(name).stats(),
    shardMinutes: (name, since) => deps.shard(name).minutes(since),
    edgeCounters: (since) => deps.edgeCounters(since),
    now: () => deps.now(),
  };
}

/**
 * True for the admin prefix itself and every path under it, in any letter case: `pathname` is the
 * normalised path (src/lib/request-target.ts), so `//_shardcache/`, `/%5Fshardcache/` and
 * `/_SHARDCACHE/` all land here, and none of them (nor its Authorization) is forwarded to the origin.
 */
export function isAdminPath(pathname: string, prefix: string): boolean {
  if (pathname.length < prefix.length) return false;
  const head = pathname.slice(0, prefix.length);
  if (head !== prefix && head.toLowerCase() !== prefix.toLowerCase()) return false;
  return pathname.length === prefix.length || pathname.charCodeAt(prefix.length) === 47;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers } });
}

const badRequest = (errors: ConfigError[]) => json({ ok: false, errors }, 400);

/** Parses a request body as JSON; a body that is not JSON is one error at the root. */
async function jsonBody(request: IRequest): Promise<{ ok: true; value: unknown; text: string } | { ok: false; errors: ConfigError[] }> {
  const text = await request.text();
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

/** Validates a config body; every error is listed, with its JSON path. */
async function validatedConfig(request: IRequest): Promise<{ ok: true; text: string } | { ok: false; errors: ConfigError[] }> {
  const body = await jsonBody(request);
  if (!body.ok) return body;
  const parsed = parseConfig(body.value);
  return parsed.ok ? { ok: true, text: body.text } : { ok: false, errors: parsed.error };
}

type AdminRouter = RouterType<IRequest, [AdminDeps]>;

const testEventSchema = z.strictObject({
  level: z.enum(eventLevels).default("INFO"),
  section: z.string().min(1).max(100).default("events"),
  tag: z.string().min(1).max(50).default("test"),
  text: z.string().min(1).max(500).optional(),
});

/**
 * The methods some route serves at `pathname`, read from the router's own route table so the
 * `Allow` header of a 405 (RFC 9110 §15.5.6) can never disagree with what is routed.
 */
function allowedMethods(router: AdminRouter, pathname: string): string[] {
  const methods = new Set<string>();
  for (const [method, pattern] of router.routes) if (method !== "ALL" && pattern.test(pathname)) methods.add(method);
  return [...methods].sort();
}

function createAdminRouter(prefix: string): AdminRouter {
  const router: AdminRouter = Router<IRequest, [AdminDeps]>({
    base: prefix,
    before: [
      async (request: IRequest, deps: AdminDeps) => {
        const waitMs = deps.loginThrottle.retryAfterMs(deps.clientAddress, deps.now());
        if (waitMs > 0) return json({ ok: false, error: "too many failed logins from this address; try again later" }, 429, { "retry-after": String(Math.ceil(waitMs / 1000)) });
        const verdict = await checkAdminAuth(request.headers.get("authorization"), { configuredToken: deps.adminToken, localDev: deps.localDev, timingSafeEqual: deps.timingSafeEqual });
        if (verdict.ok) {
          deps.loginThrottle.recordSuccess(deps.clientAddress);
          return undefined;
        }
        if (verdict.status === 401) deps.loginThrottle.recordFailure(deps.clientAddress, deps.now());
        return json({ ok: false, error: verdict.message }, verdict.status, verdict.status === 401 ? { "www-authenticate": 'Bearer realm="shardcache-admin"' } : {});
      },
    ],
    catch: (error: unknown) => json({ ok: false, error: "internal error", message: error instanceof Error ? error.message : String(error) }, 500),
  });

  router.get("/health", (_request: IRequest, deps: AdminDeps) => json({ ok: true, configVersion: deps.configVersion, configSource: deps.configSource, shards: deps.config.settings.shards.length, shardHealth: deps.shardHealth?.() ?? {} }));

  router.get("/config", async (_request: IRequest, deps: AdminDeps) => {
    const text = await deps.readStoredConfig();
    if (text === null) return json({ source: "default", version: "default", config: configDocumentSchema.parse({}) });
    const version = versionOf(text);
    try {
      return json({ source: "kv", version, inUse: version === deps.configVersion, config: JSON.parse(text) as unknown });
    } catch {
      return json({ source: "kv", version, inUse: false, config: null, error: "the stored config is not valid JSON (the cache keeps running on the last good one)", raw: text });
    }
  });

  router.put("/config", async (request: IRequest, deps: AdminDeps) => {
    const body = await jsonBody(request);
    if (!body.ok) return badRequest(body.errors);
    const accepted = await acceptConfig(deps, body.text, actorOf(request as unknown as Request));
    if (!accepted.ok) return badRequest(accepted.errors);
    return json({ ok: true, version: accepted.entry.hash, number: accepted.entry.version, summary: accepted.entry.summary });
  });

  const config = configRoutes({ json, jsonBody });
  router.get("/config/versions", config.versions);
  router.post("/config/rollback", config.rollback);
  router.post("/config/diff", config.diff);
  router.post("/pools/:pool/nodes/:node/drain", config.drainNode);
  router.post("/pools/:pool/nodes/:node/disable", config.disableNode);
  router.post("/pools/:pool/nodes/:node/enable", config.enableNode);
  router.post("/rules", config.addRule);
  router.delete("/rules/:name", config.removeRule);

  router.post("/config/validate", async (request: IRequest) => {
    const checked = await validatedConfig(request);
    return checked.ok ? json({ ok: true, version: versionOf(checked.text) }) : badRequest(checked.errors);
  });

  router.post("/purge", async (request: IRequest, deps: AdminDeps) => {
    const body = await jsonBody(request);
    if (!body.ok) return badRequest(body.errors);
    const parsed = parsePurgeRequest(body.value);
    if (!parsed.ok) return badRequest(parsed.error);
    const result = await runPurge(parsed.value, {
      config: deps.config,
      hrw: deps.hrw,
      shard: (name) => deps.shard(name),
      writeRecord: (record) => deps.writePurgeRecord(record),
      noteLocally: (record) => deps.notePurge(record),
      deleteLocalEdgeCopy: (key) => deps.deleteLocalEdgeCopy(key),
      zone: deps.zone,
      now: () => deps.now(),
    });
    const what = Object.entries(parsed.value.selector)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(" ");
    await deps.events.append([{ time: deps.now(), level: result.ok ? "INFO" : "WARNING", section: "purge", tag: "purge", text: `${parsed.value.soft ? "Soft" : "Hard"} purge of ${what}${result.ok ? "" : " (incomplete)"}` }]).catch(() => {});
    return json(result, result.ok ? 200 : 502);
  });

  router.get("/events", async (request: IRequest, deps: AdminDeps) => json({ events: await deps.events.list(eventListOptions(new URL(request.url))) }));

  // A test event, to check that the event handlers' filters and webhooks do what is meant.
  router.post("/events/test", async (request: IRequest, deps: AdminDeps) => {
    const body = await jsonBody(request);
    if (!body.ok) return badRequest(body.errors);
    const parsed = testEventSchema.safeParse(body.value ?? {});
    if (!parsed.success) return badRequest(zodIssuesToErrors(parsed.error.issues));
    const { level, section, tag } = parsed.data;
    const text = parsed.data.text ?? `Test event from ${actorOf(request as unknown as Request)}`;
    const [event] = (await deps.events.append([{ time: deps.now(), level, section, tag, text }])) as unknown[];
    return json({ ok: true, event });
  });

  router.get("/rates", async (_request: IRequest, deps: AdminDeps) => {
    const slm = await deps.slmSnapshot().catch(() => ({ states: {}, factors: {} }));
    return json({ rateClasses: await rateClassesView(deps.config, (name) => deps.rateStatus(name), slm), slmClasses: slm.states });
  });

  router.get("/pools", async (_request: IRequest, deps: AdminDeps) => json({ pools: poolsView(deps.config.pools, await deps.healthDetails().catch(() => [])) }));

  router.get("/stats", async (_request: IRequest, deps: AdminDeps) => json(await clusterStats(observed(deps))));

  router.get("/series", async (request: IRequest, deps: AdminDeps) => {
    const minutes = Number(new URL(request.url).searchParams.get("minutes") ?? 60);
    return json(await clusterSeriesFor(observed(deps), Number.isFinite(minutes) ? minutes : 60));
  });

  router.get("/metrics", async (_request: IRequest, deps: AdminDeps) => {
    const [stats, health, slm] = await Promise.all([clusterStats(observed(deps)), deps.healthSnapshot().catch(() => null), deps.slmSnapshot().catch(() => ({ states: {}, factors: {} }))]);
    const rates = await rateClassesView(deps.config, (name) => deps.rateStatus(name), slm).catch(() => ({}));
    const text = renderExposition(metricFamilies({ cluster: stats.cluster, edgeTotals: stats.edge.byRule, shards: stats.shards, health, slm, rates, config: deps.config, configVersion: deps.configVersion, configSource: deps.configSource }));
    return new Response(text, { headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" } });
  });

  router.all("*", (request: IRequest) => {
    const pathname = new URL(request.url).pathname;
    const allowed = allowedMethods(router, pathname);
    if (allowed.length > 0) return json({ ok: false, error: `${request.method} is not allowed on ${pathname} (allowed: ${allowed.join(", ")})` }, 405, { allow: allowed.join(", ") });
    return json({ ok: false, error: `no admin endpoint ${request.method} ${pathname}` }, 404);
  });
  return router;
}

/** One router per prefix (the prefix is a setting, so it may change with the config). */
const routers = new Map<string, AdminRouter>();

export async function handleAdminRequest(request: Request, prefix: string, deps: AdminDeps): Promise<Response> {
  const asset = dashboardResponse(new URL(request.url).pathname, prefix, request.method);
  if (asset !== null) return asset;
  let router = routers.get(prefix);
  if (router === undefined) {
    if (routers.size > 4) routers.clear();
    router = createAdminRouter(prefix);
    routers.set(prefix, router);
  }
  // A path under the prefix in another letter case matches no route: answered here, never by the origin.
  const answer = (await router.fetch(request, deps)) as Response | undefined;
  return answer ?? json({ ok: false, error: `no admin endpoint ${request.method} ${new URL(request.url).pathname}` }, 404);
}
