/**
 * Fetching from an origin pool: picks a node with the pool's algorithm among the nodes that are
 * active and healthy (cluster health from the HealthMonitor plus this caller's own passive view),
 * retries idempotent requests on another node, and reports every outcome for passive health.
 * One instance lives per isolate or Durable Object; its connection counts and response-time
 * averages are local to it, which is what least-connections and fastest-response-time need.
 */
import { headersDeadlineMs, type Pool } from "../config/pools";
import { classifyOriginOutcome, initialPassiveState, isUsable, mayRetry, recordOutcome, type OriginOutcome, type PassiveState } from "../health/passive";
import { cachedValue } from "../lib/cached-value";
import { err, ok, type Result } from "../lib/result";
import type { EpochMillis } from "../lib/units";
import { fetchOrigin, type OriginFailure } from "./fetch-origin";
import { createSelector, ewma, nodeForClient, pinnedNode, priorityCandidates, type NodeView, type Selector } from "./select";
import { watchBody } from "./watched-body";

/** What the HealthMonitor says about each node, keyed by `nodeKey(pool, url)`. */
export interface HealthSnapshot {
  at: EpochMillis;
  nodes: Record<string, { healthy: boolean; reason: string }>;
}

export interface OutcomeReport {
  pool: string;
  node: string;
  outcome: "success" | "failure";
  reason: string;
}

export type PoolFailure = OriginFailure;

export const nodeKey = (pool: string, url: string): string => `${pool}|${url}`;

interface NodeLocal {
  passive: PassiveState;
  connections: number;
  ewmaMs: number | null;
}

export interface PoolFetchOptions {
  /** False when the request carries a body that was already sent: such a request is never repeated. */
  idempotent: boolean;
  now(): EpochMillis;
  /**
   * Keeps a report alive past the response: a body is judged when it ends, often after the
   * response was handed on, and the request's context may close at that moment.
   */
  waitUntil?(promise: Promise<unknown>): void;
  /** Pools to try in order when this one has no working node (its failpool chain, resolved by the caller). */
  failpools?: readonly { name: string; config: Pool }[];
  /** Session persistence input (pass-through traffic only): the pool's cookie value or the client address. */
  session?: { cookie: string | null; clientIp: string | null };
  /** Told which pool and node took the request (for the session cookie). */
  onNode?(pool: string, nodeUrl: string): void;
  /** A body silent this long mid-stream is aborted (settings.originBodyIdleMs). */
  bodyIdleMs?: number;
}

export class PoolFetcher {
  readonly #nodes = new Map<string, NodeLocal>();
  readonly #selectors = new Map<string, Selector>();

  constructor(
    private readonly health: () => Promise<HealthSnapshot | null>,
    /** Sends outcomes to the HealthMonitor; a returned promise goes to the request's `waitUntil`, if it has one. */
    private readonly report: (reports: OutcomeReport[]) => Promise<unknown> | void,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Sends `build(nodeUrl)` to a node of `pool`, retrying on another node when that is safe. The
   * node comes from the highest working priority group, unless session persistence names a node;
   * with no working node at all, the failpool chain takes the request.
   */
  async fetch(poolName: string, pool: Pool, method: string, build: (nodeUrl: string) => Request, opts: PoolFetchOptions): Promise<Result<Response, PoolFailure>> {
    const snapshot = await this.health().catch(() => null);
    const tried = new Set<string>();
    const attempts = 1 + (mayRetry(method, !opts.idempotent) ? pool.retries : 0);
    let last: Result<Response, PoolFailure> = err({ kind: "pool-down", pool: poolName, retryAfterSeconds: pool.nodeFailTimeSeconds });
    for (let attempt = 0; attempt < attempts; attempt++) {
      const views = this.#views(poolName, pool, snapshot, opts.now());
      const candidates = priorityCandidates(views, pool.priorityMinNodes, tried);
      const node = (attempt === 0 ? this.#persistent(pool, views, candidates, opts) : null) ?? this.#selector(poolName, pool).pick(candidates, tried);
      if (node === null) {
        const [next, ...rest] = opts.failpools ?? [];
        if (attempt === 0 && next !== undefined) return this.fetch(next.name, next.config, method, build, { ...opts, failpools: rest });
        break;
      }
      tried.add(node.id);
      opts.onNode?.(poolName, node.id);
      last = await this.#attempt(poolName, pool, node.id, build, opts);
      if (last.ok && last.value.status !== 503) return last;
      // The node answered, badly: another node would only be asked the same thing again.
      if (!last.ok && last.error.kind === "invalid") return last;
      if (last.ok && attempt + 1 < attempts) void last.value.body?.cancel();
    }
    return last;
  }

  /** The node session persistence asks for, if it works; null lets the algorithm choose. */
  #persistent(pool: Pool, views: NodeView[], candidates: NodeView[], opts: PoolFetchOptions): NodeView | null {
    const mode = pool.sessionPersistence?.mode;
    if (mode === undefined || opts.session === undefined) return null;
    if (mode === "cookie") return pinnedNode(views, opts.session.cookie);
    return opts.session.clientIp === null ? null : nodeForClient(candidates, opts.session.clientIp);
  }

  async #attempt(poolName: string, pool: Pool, url: string, build: (nodeUrl: string) => Request, opts: PoolFetchOptions): Promise<Result<Response, PoolFailure>> {
    const local = this.#local(poolName, url);
    const started = opts.now();
    local.connections += 1;
    const deadlineMs = headersDeadlineMs(pool);
    const result = await fetchOrigin(build(url), deadlineMs, opts.bodyIdleMs === undefined ? {} : { bodyIdleMs: opts.bodyIdleMs });
    local.connections -= 1;
    const outcome: OriginOutcome = result.ok ? { kind: "response", status: result.value.status } : result.error.kind === "timeout" ? { kind: "timeout" } : { kind: "network" };
    const verdict = classifyOriginOutcome(outcome);
    if (result.ok) local.ewmaMs = ewma(local.ewmaMs, opts.now() - started);
    const reason = result.ok
      ? `status ${result.value.status}`
      : result.error.kind === "timeout"
        ? `no response within ${deadlineMs} ms (connect ${pool.connectTimeoutMs} + first byte ${pool.firstByteTimeoutMs})`
        : result.error.kind === "invalid"
          ? `invalid response: ${result.error.reason}`
          : `connection failed: ${result.error.kind === "network" ? result.error.message : result.error.kind}`;
    if (!result.ok || verdict === "failure" || result.value.body === null) {
      this.#record(poolName, pool, url, verdict, reason, opts);
      return result;
    }
    // Good headers are not yet a success: the exchange succeeds when the body is complete, and a
    // body that breaks off is a failure of the node (classifyOriginOutcome's premature-close).
    // Judging at the headers would reset the failure count on every cut response, so a node that
    // always cuts its bodies would never be failed. A client that leaves early decides nothing.
    return ok(
      watchBody(result.value, (end) => {
        if (end.kind === "complete") this.#record(poolName, pool, url, "success", reason, opts);
        else this.#record(poolName, pool, url, classifyOriginOutcome({ kind: "premature-close" }), end.reason, opts);
      }),
    );
  }

  #record(poolName: string, pool: Pool, url: string, verdict: "success" | "failure", reason: string, opts: PoolFetchOptions): void {
    const local = this.#local(poolName, url);
    local.passive = recordOutcome(local.passive, verdict, opts.now(), { failuresToFail: pool.failuresToFail, nodeFailTimeSeconds: pool.nodeFailTimeSeconds }).state;
    const sent = this.report([{ pool: poolName, node: url, outcome: verdict, reason }]);
    if (sent !== undefined) opts.waitUntil?.(sent);
  }

  #views(poolName: string, pool: Pool, snapshot: HealthSnapshot | null, now: EpochMillis): NodeView[] {
    return pool.nodes.map((node) => {
      const local = this.#local(poolName, node.url);
      const cluster = snapshot?.nodes[nodeKey(poolName, node.url)];
      return {
        id: node.url,
        weight: node.weight,
        state: node.state,
        healthy: isUsable(local.passive, now) && (cluster === undefined || cluster.healthy),
        activeConnections: local.connections,
        ewmaResponseMs: local.ewmaMs,
        priority: node.priority,
      };
    });
  }

  #selector(poolName: string, pool: Pool): Selector {
    let selector = this.#selectors.get(poolName);
    if (selector === undefined || selector.algorithm !== pool.algorithm) {
      selector = createSelector(pool.algorithm, this.random);
      this.#selectors.set(poolName, selector);
    }
    return selector;
  }

  #local(poolName: string, url: string): NodeLocal {
    const key = nodeKey(poolName, url);
    let local = this.#nodes.get(key);
    if (local === undefined) {
      local = { passive: initialPassiveState, connections: 0, ewmaMs: null };
      this.#nodes.set(key, local);
    }
    return local;
  }
}

/**
 * Caches a snapshot getter for `ttlMs`, so a busy shard or edge isolate asks the HealthMonitor at most
 * once per period; no snapshot (null, held for the period) when it cannot answer. No caller awaits a
 * call another request made (src/lib/cached-value.ts): the one that starts a refresh awaits it, the
 * others use the snapshot held.
 */
export function cachedSnapshot(load: () => Promise<HealthSnapshot>, ttlMs: number, now: () => EpochMillis): () => Promise<HealthSnapshot | null> {
  return cachedValue(() => load().catch(() => null), ttlMs, now);
}
