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
import type { EpochMillis } from "../src/lib/units";
import { cachedSnapshot, PoolFetcher } from "../src/origin/pool-fetch";
import type { ShardAnswer, ShardFault, ShardRequestContext } from "../src/serve/shard-protocol";
import { Flights } from "./coalesce";
import { ReadPath } from "./read-path";
import { RecentInstants } from "./recent-instants";
import { ShardCall } from "./shard-call";
import { ShardCounters, type ShardMinute } from "./shard-counters";
import type { PurgeTarget, ShardPurgeResult } from "./shard-purge";
import type { ShardState } from "./shard-state";
import type { ShardStatsReply } from "./shard-stats";
import { ShardStore } from "./shard-store";
import { WritePath } from "./write-path";

const SWEEP_INTERVAL_MS = 5 * 60 * 1000;
/** Keys whose last origin request the shard remembers; beyond it the oldest is forgotten (worst case: one early refresh). */
const MAX_TRACKED_REFRESHES = 10_000;
/** Keys on hit-for-pass the shard remembers; beyond it the oldest is forgotten (worst case: one more coalesced wait). */
const MAX_HIT_FOR_PASS_KEYS = 10_000;
const HANG_MS = 120_000;
/** How stale a shard's copy of the cluster health may be. */
const HEALTH_SNAPSHOT_TTL_MS = 1_000;

/**
 * The Durable Object's RPC surface. The request path itself is the read path (durable/read-path.ts:
 * lookup, reuse, serve) and the write path (durable/write-path.ts: origin fetch, revalidation, store),
 * which share the shard's state (durable/shard-state.ts) and pass each request as one ShardCall.
 */
export class CacheShard extends DurableObject<Env> {
  readonly #state: ShardState;
  readonly #read: ReadPath;
  readonly #write: WritePath;
  #fault: ShardFault = { mode: "none" };

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    const health = () => env.HEALTH_MONITOR.get(env.HEALTH_MONITOR.idFromName("health"));
    // Node choice, retries and passive health for origin pools; cluster health comes from the HealthMonitor.
    // The snapshot is held like the edge's (src/lib/cached-value.ts). Here, unlike in an edge isolate,
    // sharing one load would be safe: a Durable Object's requests share the object's IoContext, so no
    // request can be left awaiting I/O that another request's end cancelled.
    const pools = new PoolFetcher(
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
    this.#state = {
      store: new ShardStore(ctx.storage.sql, { memoryBytes: defaultSettings.memoryBudgetBytes, storageBytes: defaultSettings.storageBudgetBytes }),
      flights: new Flights(),
      hitForPass: new RecentInstants(MAX_HIT_FOR_PASS_KEYS),
      refreshes: new RecentInstants(MAX_TRACKED_REFRESHES),
      counters: new ShardCounters(ctx.storage.sql, () => clock.now()),
      clock,
      purgeEpoch: 0,
      waitUntil: (promise) => ctx.waitUntil(promise),
      scheduleSweep: () => void this.#scheduleSweep(),
    };
    this.#write = new WritePath(this.#state, pools);
    this.#read = new ReadPath(this.#state, this.#write);
  }

  /** The request path inside the shard: stored copy, coalesced origin fetch, or pass-through. */
  async handle<C extends ShardRequestContext>(request: Request, ctx: C): Promise<ShardAnswer<C>> {
    const { store, counters } = this.#state;
    counters.count("calls");
    // Only a test's fault costs an await: on every other call this stays synchronous (issue 15).
    if (this.#fault.mode !== "none") await this.#injectFault();
    store.setBudgets(ctx.settings.memoryBudgetBytes, ctx.settings.storageBudgetBytes);
    const call = new ShardCall(request, ctx, counters);
    store.setGraceSeconds(call.graceSeconds);
    // Inline answers only when ctx.inline asks for them (ShardCall.fromStore), which is what ShardAnswer<C> says.
    return this.#read.handle(call) as ShardAnswer<C>;
  }

  /**
   * Stores a response the edge received for a POST that a later GET may reuse (RFC 9110 §9.3.3: explicit
   * freshness and Content-Location equal to the target URI; `postResponseStorableAsGet`). `request` is
   * the GET of that URI with the POST's header fields (for Vary); the rule's header edits, the store
   * decision and the stored record are exactly those of a GET miss. Call after the POST's invalidation
   * finished, so the new representation replaces the old one. Returns whether it was stored.
   */
  async adopt(request: Request, response: Response, adoption: { ctx: ShardRequestContext; timing: { requestTime: EpochMillis; responseTime: EpochMillis } }): Promise<boolean> {
    const { ctx, timing } = adoption;
    this.#state.store.setBudgets(ctx.settings.memoryBudgetBytes, ctx.settings.storageBudgetBytes);
    return this.#write.adopt(new ShardCall(request, ctx, null), response, timing);
  }

  /** Deletes every variant of each key (unsafe-method invalidation, purge by URL). */
  async invalidate(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      deleted += this.#state.store.delete(key);
      this.#state.hitForPass.delete(key);
    }
    return deleted;
  }

  /**
   * Purge (admin API): hard deletes the selected variants, soft marks them stale so they revalidate.
   * Responses already on their way from the origin are served but not stored (the purge epoch, durable/write-path.ts).
   */
  async purge(target: PurgeTarget, soft: boolean): Promise<ShardPurgeResult> {
    const { store, hitForPass } = this.#state;
    this.#state.purgeEpoch += 1;
    const purged = store.purge(target, soft);
    if ("all" in target) hitForPass.clear();
    else if ("keys" in target) for (const key of target.keys) hitForPass.delete(key);
    return { purged };
  }

  async stats(): Promise<ShardStatsReply & { inFlight: number }> {
    const { store, counters, flights } = this.#state;
    return {
      ...counters.totals(),
      ...store.evictions,
      objects: store.objectCount(),
      storedBytes: store.storedBytes(),
      storageBudgetBytes: store.storageBudgetBytes,
      memoryEvictions: store.memoryEvictions,
      inFlight: flights.size,
    };
  }

  /** Per-minute request outcomes and origin fetches since `sinceMinute` (the dashboard's load per shard). */
  async minutes(sinceMinute: number): Promise<ShardMinute[]> {
    return this.#state.counters.minutes(sinceMinute);
  }

  /** Fault injection for tests and simulations: makes `handle` throw or hang, to exercise the edge's fallback. */
  async setFault(fault: ShardFault): Promise<void> {
    this.#fault = fault;
  }

  override async alarm(): Promise<void> {
    const { clock } = this.#state;
    const { next } = this.#state.store.sweep(clock.now());
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, clock.now() + SWEEP_INTERVAL_MS));
  }

  async #scheduleSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#state.clock.now() + SWEEP_INTERVAL_MS);
  }

  async #injectFault(): Promise<void> {
    if (this.#fault.mode === "throw") throw new Error("shard fault injected: throw");
    if (this.#fault.mode === "hang") await new Promise((resolve) => setTimeout(resolve, HANG_MS));
  }
}
