/**
 * HealthMonitor: the one Durable Object that holds the cluster's authoritative view of origin health.
 * Shards report passive outcomes to it; its alarm loop runs the active monitors (the cron only starts
 * and checks the loop, because monitors may run more often than once a minute); every state change
 * becomes exactly one event in the EventLog. Shards and edges read its snapshot through a short cache.
 */
import { DurableObject } from "cloudflare:workers";
import type { Monitor, Pool, Pools, Monitors } from "../src/config/pools";
import type { Env } from "../src/env";
import { healthChangeEvent, poolStateEvent, type NewEvent } from "../src/events/events";
import { evaluateProbe, initialActiveState, nextProbeAt, nodeHealthy, recordProbe, type ActiveState, type ProbeResult } from "../src/health/active";
import { initialPassiveState, recordOutcome, type PassiveState } from "../src/health/passive";
import type { EpochMillis } from "../src/lib/units";
import { nodeKey, type HealthSnapshot, type OutcomeReport } from "../src/origin/pool-fetch";

interface NodeHealth {
  passive: PassiveState;
  active: Record<string, ActiveState>;
  lastProbeAt: Record<string, EpochMillis>;
  reason: string;
}

interface State {
  pools: Pools;
  monitors: Monitors;
  nodes: Record<string, NodeHealth>;
  poolDown: Record<string, boolean>;
}

const STATE_KEY = "state";
/** How long a probe's response body may be for the body regex (bigger bodies are cut). */
const PROBE_BODY_LIMIT = 64 * 1024;

export class HealthMonitor extends DurableObject<Env> {
  #state: State = { pools: {}, monitors: {}, nodes: {}, poolDown: {} };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#state = (await ctx.storage.get<State>(STATE_KEY)) ?? this.#state;
    });
  }

  /** Takes the current pools and monitors (the cron and config changes call this) and (re)starts the probe loop. */
  async configure(pools: Pools, monitors: Monitors): Promise<void> {
    const nodes: Record<string, NodeHealth> = {};
    for (const [poolName, pool] of Object.entries(pools)) {
      for (const node of pool.nodes) {
        const key = nodeKey(poolName, node.url);
        nodes[key] = this.#state.nodes[key] ?? { passive: initialPassiveState, active: {}, lastProbeAt: {}, reason: "no data yet" };
      }
    }
    this.#state = { pools, monitors, nodes, poolDown: this.#state.poolDown };
    await this.#save();
    await this.#scheduleNextProbe();
  }

  async snapshot(): Promise<HealthSnapshot> {
    const now = Date.now();
    const nodes: HealthSnapshot["nodes"] = {};
    for (const [key, health] of Object.entries(this.#state.nodes)) nodes[key] = { healthy: nodeHealthy(health.passive, Object.values(health.active), now), reason: health.reason };
    return { at: now, nodes };
  }

  /** Passive outcomes from shards and edges. */
  async report(reports: OutcomeReport[]): Promise<void> {
    const now = Date.now();
    const events: NewEvent[] = [];
    for (const r of reports) {
      const pool = this.#state.pools[r.pool];
      const health = this.#state.nodes[nodeKey(r.pool, r.node)];
      if (pool === undefined || health === undefined) continue;
      const next = recordOutcome(health.passive, r.outcome, now, { failuresToFail: pool.failuresToFail, nodeFailTimeSeconds: pool.nodeFailTimeSeconds });
      health.passive = next.state;
      if (next.change !== null) {
        health.reason = r.reason;
        events.push(healthChangeEvent(r.pool, r.node, next.change, r.reason, now));
      }
    }
    events.push(...this.#poolChanges(now));
    if (events.length > 0) await Promise.all([this.#save(), this.#emit(events)]);
  }

  /** Runs every probe that is due now; the alarm and the cron both call it. */
  async probeDue(): Promise<number> {
    const now = Date.now();
    const due: { poolName: string; node: string; monitorName: string; monitor: Monitor }[] = [];
    for (const [poolName, pool] of Object.entries(this.#state.pools)) {
      for (const node of pool.nodes) {
        if (node.state === "disabled") continue;
        for (const monitorName of pool.monitors) {
          const monitor = this.#state.monitors[monitorName];
          const health = this.#state.nodes[nodeKey(poolName, node.url)];
          if (monitor === undefined || health === undefined) continue;
          if (nextProbeAt(health.lastProbeAt[monitorName] ?? null, monitor.intervalSeconds) <= now) due.push({ poolName, node: node.url, monitorName, monitor });
        }
      }
    }
    const results = await Promise.all(due.map(async (d) => ({ ...d, result: await probe(d.node, d.monitor) })));
    const events: NewEvent[] = [];
    for (const { poolName, node, monitorName, monitor, result } of results) {
      const health = this.#state.nodes[nodeKey(poolName, node)]!;
      const verdict = evaluateProbe(result, monitor);
      const next = recordProbe(health.active[monitorName] ?? initialActiveState, verdict.ok, monitor);
      health.active[monitorName] = next.state;
      health.lastProbeAt[monitorName] = now;
      if (next.change !== null) {
        health.reason = `monitor ${monitorName}: ${verdict.reason}`;
        events.push(healthChangeEvent(poolName, node, next.change, health.reason, now));
      }
    }
    events.push(...this.#poolChanges(Date.now()));
    await this.#save();
    if (events.length > 0) await this.#emit(events);
    return due.length;
  }

  override async alarm(): Promise<void> {
    await this.probeDue();
    await this.#scheduleNextProbe();
  }

  /** Pools that lost their last healthy node, or got one back: one event per change. */
  #poolChanges(now: EpochMillis): NewEvent[] {
    const events: NewEvent[] = [];
    for (const [poolName, pool] of Object.entries(this.#state.pools)) {
      const down = !this.#anyHealthy(poolName, pool, now);
      if (down !== (this.#state.poolDown[poolName] ?? false)) {
        this.#state.poolDown[poolName] = down;
        events.push(poolStateEvent(poolName, down, now));
      }
    }
    return events;
  }

  #anyHealthy(poolName: string, pool: Pool, now: EpochMillis): boolean {
    return pool.nodes.some((node) => {
      const health = this.#state.nodes[nodeKey(poolName, node.url)];
      return node.state !== "disabled" && (health === undefined || nodeHealthy(health.passive, Object.values(health.active), now));
    });
  }

  async #scheduleNextProbe(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const [poolName, pool] of Object.entries(this.#state.pools)) {
      for (const node of pool.nodes) {
        for (const monitorName of pool.monitors) {
          const monitor = this.#state.monitors[monitorName];
          if (monitor === undefined || node.state === "disabled") continue;
          next = Math.min(next, nextProbeAt(this.#state.nodes[nodeKey(poolName, node.url)]?.lastProbeAt[monitorName] ?? null, monitor.intervalSeconds));
        }
      }
    }
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 100));
    else await this.ctx.storage.deleteAlarm();
  }

  async #emit(events: NewEvent[]): Promise<void> {
    await this.env.EVENT_LOG.get(this.env.EVENT_LOG.idFromName("events")).append(events);
  }

  async #save(): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, this.#state);
  }
}

/** One active probe: the monitor's method and path against the node, bounded by its timeout and a body limit. */
async function probe(nodeUrl: string, monitor: Monitor): Promise<ProbeResult> {
  const url = new URL(monitor.path, nodeUrl.endsWith("/") ? nodeUrl : `${nodeUrl}/`);
  url.pathname = new URL(nodeUrl).pathname.replace(/\/$/, "") + monitor.path;
  const headers = monitor.host === undefined ? undefined : { host: monitor.host };
  try {
    const response = await fetch(url, { method: monitor.method, ...(headers ? { headers } : {}), redirect: "manual", signal: AbortSignal.timeout(monitor.timeoutMs) });
    const body = monitor.bodyRegex === undefined ? "" : (await response.text()).slice(0, PROBE_BODY_LIMIT);
    if (monitor.bodyRegex === undefined) void response.body?.cancel();
    return { kind: "response", status: response.status, body };
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return { kind: "timeout" };
    return { kind: "network", message: error instanceof Error ? error.message : String(error) };
  }
}
