/**
 * EventLog: the cluster's bounded event log (node down/up, pool died, SLM state changes, config
 * changes, purges). Events are kept in a ring persisted in the object's storage, readable over the
 * admin API, and POSTed in batches to each configured event handler whose filter wants them (levels,
 * sections, tags), each handler with its own cursor and backoff, by alarm.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { Clock } from "../src/lib/clock";
import { EventRing, nextRetryDelayMs, webhookPayload, type ClusterEvent, type ListOptions, type NewEvent } from "../src/events/events";
import { type EventHandler, handlerWants } from "../src/events/handlers";

const RING_KEY = "ring";
const DELIVERIES_KEY = "deliveries";
const RING_CAPACITY = 1000;
/** After this many failed deliveries a batch is dropped for that handler (it stays readable in the log). */
const MAX_DELIVERY_ATTEMPTS = 8;
const WEBHOOK_TIMEOUT_MS = 5_000;
const BATCH = 100;

/** One handler's delivery state: its cursor in the ring and its retry schedule, independent of the others. */
interface Delivery {
  handler: EventHandler;
  /** Id of the newest event this handler has accepted (or that it does not want). */
  deliveredId: number;
  attempts: number;
  /** Epoch ms before which a failed batch is not retried. */
  retryAt: number;
}

const sameHandler = (a: EventHandler, b: EventHandler): boolean => JSON.stringify(a) === JSON.stringify(b);

export class EventLog extends DurableObject<Env> {
  #ring = new EventRing(RING_CAPACITY);
  #deliveries = new Map<string, Delivery>();
  /**
   * Handlers with a POST in flight. An alarm awaits the webhook, which opens the input gate, so a second
   * alarm() (workerd retrying one it thinks was lost, or a test running it by hand) could read the same
   * cursor and post the same batch again: a handler is delivered to by one alarm at a time.
   */
  readonly #posting = new Set<string>();

  readonly #clock: Clock;

  constructor(ctx: DurableObjectState, env: Env, clock: Clock) {
    super(ctx, env);
    this.#clock = clock;
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get(RING_KEY);
      if (stored !== undefined) {
        const restored = EventRing.fromJSON(stored, RING_CAPACITY);
        if (restored.ok) this.#ring = restored.value;
      }
      const deliveries = await ctx.storage.get<Delivery[]>(DELIVERIES_KEY);
      if (Array.isArray(deliveries)) for (const d of deliveries) this.#deliveries.set(d.handler.name, d);
    });
  }

  /**
   * Sets the event handlers (src/events/handlers.ts). A new handler, or one whose URL or filter
   * changed, starts after the events already in the log; an unchanged one keeps its cursor and retries.
   */
  async configure(opts: { handlers: EventHandler[] }): Promise<void> {
    const next = new Map<string, Delivery>();
    for (const handler of opts.handlers) {
      const current = this.#deliveries.get(handler.name);
      next.set(handler.name, current !== undefined && sameHandler(current.handler, handler) ? current : { handler, deliveredId: this.#ring.lastId, attempts: 0, retryAt: 0 });
    }
    const changed = next.size !== this.#deliveries.size || [...next].some(([name, d]) => this.#deliveries.get(name) !== d);
    if (!changed) return;
    this.#deliveries = next;
    await this.#saveDeliveries();
  }

  async append(events: NewEvent[]): Promise<ClusterEvent[]> {
    const appended = events.map((event) => this.#ring.append(event));
    for (const event of appended) console.log(`[${event.level}] ${event.section} ${event.tag}: ${event.text}`);
    await this.ctx.storage.put(RING_KEY, this.#ring.toJSON());
    const wanted = [...this.#deliveries.values()].some((d) => appended.some((e) => handlerWants(d.handler, e)));
    if (wanted && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#clock.now());
    return appended;
  }

  async list(opts: ListOptions = {}): Promise<ClusterEvent[]> {
    return this.#ring.list(opts);
  }

  /** Each handler's cursor and retry state (for tests and operators). */
  async deliveries(): Promise<{ name: string; url: string; deliveredId: number; attempts: number }[]> {
    return [...this.#deliveries.values()].map((d) => ({ name: d.handler.name, url: d.handler.url, deliveredId: d.deliveredId, attempts: d.attempts }));
  }

  /** Delivers each handler's next batch of wanted events; a failing handler backs off without holding up the others. */
  override async alarm(): Promise<void> {
    const now = this.#clock.now();
    await Promise.all([...this.#deliveries.values()].filter((d) => d.retryAt <= now && !this.#posting.has(d.handler.name)).map((d) => this.#deliver(d, now)));
    await this.#saveDeliveries();
    let next = Number.POSITIVE_INFINITY;
    // A handler another alarm is posting to is rescheduled by that alarm once its POST is answered.
    for (const d of this.#deliveries.values()) if (!this.#posting.has(d.handler.name) && this.#pending(d).length > 0) next = Math.min(next, Math.max(d.retryAt, now));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  #pending(d: Delivery): ClusterEvent[] {
    return this.#ring
      .list({ sinceId: d.deliveredId })
      .filter((e) => handlerWants(d.handler, e))
      .slice(0, BATCH);
  }

  async #deliver(d: Delivery, now: number): Promise<void> {
    const pending = this.#pending(d);
    if (pending.length === 0) {
      d.deliveredId = this.#ring.lastId; // nothing it wants: skip past the rest
      return;
    }
    this.#posting.add(d.handler.name);
    const delivered = await postBatch(d.handler.url, pending).finally(() => this.#posting.delete(d.handler.name));
    if (delivered || d.attempts + 1 >= MAX_DELIVERY_ATTEMPTS) {
      d.deliveredId = pending[pending.length - 1]!.id;
      d.attempts = 0;
      d.retryAt = 0;
    } else {
      d.attempts += 1;
      d.retryAt = now + nextRetryDelayMs(d.attempts);
    }
  }

  #saveDeliveries(): Promise<void> {
    return this.ctx.storage.put(DELIVERIES_KEY, [...this.#deliveries.values()]);
  }
}

async function postBatch(webhook: string, events: ClusterEvent[]): Promise<boolean> {
  try {
    const response = await fetch(webhook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(webhookPayload(events)),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    void response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
