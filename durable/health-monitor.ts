/**
 * HealthMonitor: the one Durable Object that holds the cluster's authoritative view of origin health.
 * Shards report passive outcomes to it; its alarm loop runs the active monitors (the cron only starts
 * and checks the loop, because monitors may run more often than once a minute); every state change
 * becomes exactly one event in the EventLog. Shards and edges read its snapshot through a short cache.
 */
import { DurableObject } from "cloudflare:workers";
import type { Monitor, Pool, Pools, Monitors } from "../src/config/pools";
import type { Env } from "../src/env";
import type { Clock } from "../src/lib/clock";
import { healthChangeEvent, poolStateEvent, type NewEvent } from "../src/events/events";
import { evaluateProbe, initialActiveState, nextProbeAt, nodeHealthy, probeDue, recordProbe, type ActiveState } from "../src/health/active";
import { initialPassiveState, recordOutcome, type PassiveState } from "../src/health/passive";
import type { EpochMillis } from "../src/lib/units";
import { nodeKey, type HealthSnapshot, type OutcomeReport } from "../src/origin/pool-fetch";
import { runProbe } from "./health-probe";

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
  /** `settings.verbose`: every probe's result also goes to the event log. */
  verbose?: boolean;
}

export interface HealthOptions {
  verbose: boolean;
}

const STATE_KEY = "state";

export class HealthMonitor extends DurableObject<Env> {
  #state: State = { pools: {}, monitors: {}, nodes: {}, poolDown: {} };
  readonly #now: () => EpochMillis;

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    this.#now = () => clock.now();
    void ctx.blockConcurrencyWhile(async () => {
      this.#state = (await ctx.storage.get<State>(STATE_KEY)) ?? this.#state;
    });
  }

  /**
   * Takes the current pools and monitors and (re)plans the probe loop. Every edge isolate calls it
   * when it first sees a new config version, and the cron once a minute. A monitor that is new to
   * a node, or whose definition (or its pool's connect timeout) changed, is due at once, so a new
   * config is probed within the alarm's minimum delay, not at the next cron tick; its up/down state
   * is kept, so editing a monitor does not send traffic to a node it holds down.
   */
  async configure(pools: Pools, monitors: Monitors, options: HealthOptions = { verbose: false }): Promise<void> {
    const nodes: Record<string, NodeHealth> = {};
    for (const [poolName, pool] of Object.entries(pools)) {
      for (const node of pool.nodes) {
        const key = nodeKey(poolName, node.url);
        const health = this.#state.nodes[key] ?? { passive: initialPassiveState, active: {}, lastProbeAt: {}, reason: "no data yet" };
        for (const name of pool.monitors) {
          if (probePlan(this.#state.pools[poolName], this.#state.monitors[name]) !== probePlan(pool, monitors[name])) delete health.lastProbeAt[name];
        }
        nodes[key] = health;
      }
    }
    this.#state = { pools, monitors, nodes, poolDown: this.#state.poolDown, verbose: options.verbose };
    await this.#save();
    await this.#scheduleNextProbe();
  }

  async snapshot(): Promise<HealthSnapshot> {
    const now = this.#now();
    const nodes: HealthSnapshot["nodes"] = {};
    for (const [key, health] of Object.entries(this.#state.nodes)) nodes[key] = { healthy: nodeHealthy(health.passive, Object.values(health.active), now), reason: health.reason };
    return { at: now, nodes };
  }

  /** Every node's health with its reason and the last probe of any monitor (the dashboard's node table). */
  async details(): Promise<{ key: string; healthy: boolean; reason: string; lastProbeAt: EpochMillis | null }[]> {
    const now = this.#now();
    return Object.entries(this.#state.nodes).map(([key, health]) => {
      const probes = Object.values(health.lastProbeAt);
      return { key, healthy: nodeHealthy(health.passive, Object.values(health.active), now), reason: health.reason, lastProbeAt: probes.length === 0 ? null : Math.max(...probes) };
    });
  }

  /** Passive outcomes from shards and edges. */
  async report(reports: OutcomeReport[]): Promise<void> {
    const now = this.#now();
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
    const now = this.#now();
    const due: { poolName: string; pool: Pool; node: string; monitorName: string; monitor: Monitor }[] = [];
    for (const [poolName, pool] of Object.entries(this.#state.pools)) {
      for (const node of pool.nodes) {
        if (node.state === "disabled") continue;
        for (const monitorName of pool.monitors) {
          const monitor = this.#state.monitors[monitorName];
          const health = this.#state.nodes[nodeKey(poolName, node.url)];
          if (monitor === undefined || health === undefined) continue;
          if (probeDue(health.lastProbeAt[monitorName] ?? null, monitor.intervalSeconds, now)) due.push({ poolName, pool, node: node.url, monitorName, monitor });
        }
      }
    }
    const results = await Promise.all(
      due.map(async (d) => {
        const started = this.#now();
        const result = await runProbe(d.node, d.monitor, d.pool);
        return { ...d, result, tookMs: this.#now() - started };
      }),
    );
    const events: NewEvent[] = [];
    for (const { poolName, node, monitorName, monitor, result, tookMs } of results) {
      const health = this.#state.nodes[nodeKey(poolName, node)]!;
      const verdict = evaluateProbe(result, monitor);
      if (this.#state.verbose === true) events.push(probeLogEvent({ pool: poolName, node, monitorName, type: monitor.type }, verdict, { tookMs, now }));
      const next = recordProbe(health.active[monitorName] ?? initialActiveState, verdict.ok, monitor);
      health.active[monitorName] = next.state;
      health.lastProbeAt[monitorName] = now;
      if (next.change !== null) {
        health.reason = `monitor ${monitorName}: ${verdict.reason}`;
        events.push(healthChangeEvent(poolName, node, next.change, health.reason, now));
      }
    }
    events.push(...this.#poolChanges(this.#now()));
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
    const now = this.#now();
    let next = Number.POSITIVE_INFINITY;
    for (const [poolName, pool] of Object.entries(this.#state.pools)) {
      for (const node of pool.nodes) {
        for (const monitorName of pool.monitors) {
          const monitor = this.#state.monitors[monitorName];
          if (monitor === undefined || node.state === "disabled") continue;
          const last = this.#state.nodes[nodeKey(poolName, node.url)]?.lastProbeAt[monitorName] ?? null;
          // Due by probeDue (a clock that stepped back included) means now, not at a last probe time still ahead.
          next = Math.min(next, probeDue(last, monitor.intervalSeconds, now) ? now : nextProbeAt(last, monitor.intervalSeconds));
        }
      }
    }
    // Nothing to probe (no monitors, every node disabled) is the one reason to delete the alarm.
    if (next < Number.POSITIVE_INFINITY) await this.ctx.storage.setAlarm(Math.max(next, now + 100));
    else await this.ctx.storage.deleteAlarm();
  }

  async #emit(events: NewEvent[]): Promise<void> {
    await this.env.EVENT_LOG.get(this.env.EVENT_LOG.idFromName("events")).append(events);
  }

  async #save(): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, this.#state);
  }
}

/**
 * What decides when and how a monitor probes a pool's nodes; a change of it re-plans the probes.
 * `undefined` when the monitor is missing (a reference the config document refuses anyway).
 */
function probePlan(pool: Pool | undefined, monitor: Monitor | undefined): string | undefined {
  return monitor === undefined ? undefined : JSON.stringify([monitor, pool?.connectTimeoutMs ?? null]);
}

/** Verbose mode's record of one probe, whatever its outcome (state changes get their own event as well). */
function probeLogEvent(probe: { pool: string; node: string; monitorName: string; type: Monitor["type"] }, verdict: { ok: boolean; reason: string }, timing: { tookMs: number; now: EpochMillis }): NewEvent {
  const { pool, node, monitorName, type } = probe;
  return { time: timing.now, level: "INFO", section: `pools/${pool}`, tag: "probe", text: `Probe ${monitorName} (${type}) of ${node}: ${verdict.ok ? "ok" : "failed"} in ${Math.max(0, timing.tookMs)} ms: ${verdict.reason}` };
}
