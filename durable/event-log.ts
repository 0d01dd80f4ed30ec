/**
 * EventLog: the cluster's bounded event log (node down/up, pool died, SLM state changes, config
 * changes, purges). Events are kept in a ring persisted in the object's storage, readable over the
 * admin API, and — when a webhook is configured — POSTed in batches, retried with backoff by alarm.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import { EventRing, nextRetryDelayMs, webhookPayload, type ClusterEvent, type ListOptions, type NewEvent } from "../src/events/events";

const RING_KEY = "ring";
const DELIVERY_KEY = "delivery";
const RING_CAPACITY = 1000;
/** After this many failed deliveries a batch is dropped (it stays readable in the log). */
const MAX_DELIVERY_ATTEMPTS = 8;
const WEBHOOK_TIMEOUT_MS = 5_000;

interface Delivery {
  webhook: string | null;
  /** Id of the newest event the webhook has accepted. */
  deliveredId: number;
  attempts: number;
}

export class EventLog extends DurableObject<Env> {
  #ring = new EventRing(RING_CAPACITY);
  #delivery: Delivery = { webhook: null, deliveredId: 0, attempts: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get(RING_KEY);
      if (stored !== undefined) {
        const restored = EventRing.fromJSON(stored, RING_CAPACITY);
        if (restored.ok) this.#ring = restored.value;
      }
      this.#delivery = (await ctx.storage.get<Delivery>(DELIVERY_KEY)) ?? this.#delivery;
    });
  }

  /** Sets (or clears) the webhook; events already in the log before it was set are not sent. */
  async configure(opts: { webhook: string | null }): Promise<void> {
    if (opts.webhook === this.#delivery.webhook) return;
    this.#delivery = { webhook: opts.webhook, deliveredId: this.#ring.lastId, attempts: 0 };
    await this.ctx.storage.put(DELIVERY_KEY, this.#delivery);
  }

  async append(events: NewEvent[]): Promise<ClusterEvent[]> {
    const appended = events.map((event) => this.#ring.append(event));
    for (const event of appended) console.log(`[${event.level}] ${event.section} ${event.tag}: ${event.text}`);
    await this.ctx.storage.put(RING_KEY, this.#ring.toJSON());
    if (this.#delivery.webhook !== null && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return appended;
  }

  async list(opts: ListOptions = {}): Promise<ClusterEvent[]> {
    return this.#ring.list(opts);
  }

  override async alarm(): Promise<void> {
    const { webhook, deliveredId } = this.#delivery;
    if (webhook === null) return;
    const pending = this.#ring.list({ sinceId: deliveredId, limit: 100 });
    if (pending.length === 0) return;
    const delivered = await postBatch(webhook, pending);
    if (delivered || this.#delivery.attempts + 1 >= MAX_DELIVERY_ATTEMPTS) {
      this.#delivery = { webhook, deliveredId: pending[pending.length - 1]!.id, attempts: 0 };
    } else {
      this.#delivery = { ...this.#delivery, attempts: this.#delivery.attempts + 1 };
    }
    await this.ctx.storage.put(DELIVERY_KEY, this.#delivery);
    const more = this.#ring.list({ sinceId: this.#delivery.deliveredId, limit: 1 }).length > 0;
    if (more) await this.ctx.storage.setAlarm(Date.now() + (delivered ? 0 : nextRetryDelayMs(this.#delivery.attempts)));
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
